/**
 * A dynamic batch (`g.batch(max)`): one module takes any number of rows from 1 to max. At
 * every row count its forward, loss, gradient and train step equal those of a module built
 * for exactly that many rows (JS), the float64 reference and TensorFlow.js at those rows
 * (`atRows`), and the WGSL module; the loss is the mean over the rows given; bad row counts
 * and misuse of the batch dimension are clear errors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  adam, add, affine, BatchDim, matmul, graph, mean, relu, softmax, softmaxCrossEntropy, squaredLoss, tanh, type GraphDef, type GraphContext,
} from '../compiler/index.ts';
import { atRows } from '../compiler/ir/batch.ts';
import { worstError } from './support/finite-differences.ts';
import { buildBoth, gpuDevice, type GpuHostModule } from './support/gpu.ts';
import { buildModule, randomArray, type Arrays, type GeneratedModule } from './support/module.ts';
import { reference64 } from './support/reference64.ts';
import { tfjsGradient } from './support/tfjs-reference.ts';
import { evaluate, minibatchSgd, predict } from '../runtime/cpu/index.ts';

const MAX = 37;
/** The same network with a dynamic batch of at most MAX rows (`null`) or a fixed one. */
function classifier(rows: number | null): GraphDef {
  return graph('dyn', (g) => {
    const B = rows ?? g.batch(MAX);
    const x = g.input('x', [B, 5]);
    const h = relu(affine(x, g.param('W1', [5, 9]), g.param('b1', [9])));
    const z = affine(tanh(affine(h, g.param('W2', [9, 6]), g.param('b2', [6]))), g.param('W3', [6, 3]), g.param('b3', [3]));
    g.output('probs', softmax(z));
    g.loss(softmaxCrossEntropy(z, g.input('y', [B, 3])));
  });
}

function inputs(def: GraphDef, rows: number, seed: number): Arrays {
  const out: Arrays = {};
  def.ir.inputs.forEach((r, i) => {
    const width = def.ir.nodes[r.id].shape[1];
    out[r.name] = randomArray(rows * width, seed * 13 + i);
  });
  // One-hot labels (TensorFlow.js's softmax cross-entropy gradient assumes rows of labels sum to 1).
  if (out.y && def.name === 'dyn') out.y = out.y.map((_, i) => (i % 3 === (Math.floor(i / 3) * 7 + seed) % 3 ? 1 : 0));
  return out;
}

const ROWS = [1, 2, 3, 4, 5, 7, 8, 17, MAX - 1, MAX];

describe('the JS module over a dynamic batch', () => {
  let dyn: GeneratedModule;
  beforeAll(async () => {
    dyn = await buildModule(classifier(null));
  });

  it.each(ROWS)('%i rows: forward, loss, gradient and a train step equal a module built for exactly that many rows', async (rows) => {
    const fixed = await buildModule(classifier(rows));
    const params = dyn.initParams(3);
    const given = inputs(classifier(null), rows, rows);
    const a = dyn.forward(params, { x: given.x });
    const b = fixed.forward(params, { x: given.x });
    expect(a.probs.length).toBe(rows * 3);
    expect(worstError(a.probs, b.probs, 1e-7, 1e-6)).toBeLessThanOrEqual(1);
    const ga = dyn.gradient(params, given);
    const gb = fixed.gradient(params, given);
    expect(ga.loss).toBeCloseTo(gb.loss, 6);
    for (const name of Object.keys(gb.grads)) expect(worstError(ga.grads[name], gb.grads[name], 1e-7, 1e-5), name).toBeLessThanOrEqual(1);
    const [pa, pb] = [structuredClone(params), structuredClone(params)];
    dyn.trainStep(pa, given, 0.1);
    fixed.trainStep(pb, given, 0.1);
    for (const name of Object.keys(pb)) expect(worstError(pa[name], pb[name], 1e-7, 1e-5), name).toBeLessThanOrEqual(1);
  });

  it.each([1, 6, MAX])('%i rows: the loss and gradient are the float64 reference\'s and TensorFlow.js\'s at those rows', async (rows) => {
    const def = classifier(null);
    const params = dyn.initParams(4);
    const given = inputs(def, rows, rows + 50);
    const fixedGraph = atRows(def.ir, rows);
    const ref = reference64(fixedGraph, { ...params, ...given });
    const tf = await tfjsGradient(fixedGraph, { ...params, ...given });
    const got = dyn.gradient(params, given);
    for (const want of [ref, tf]) {
      expect(Math.abs(got.loss - want.loss)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want.loss)));
      for (const name of Object.keys(want.grads)) expect(worstError(got.grads[name], want.grads[name], 1e-5, 1e-3), name).toBeLessThanOrEqual(1);
    }
  });

  it('the loss is the mean over the rows given: rows repeated give the same loss and gradient', () => {
    const params = dyn.initParams(5);
    const once = inputs(classifier(null), 6, 9);
    const twice = { x: new Float32Array([...once.x, ...once.x]), y: new Float32Array([...once.y, ...once.y]) };
    const [a, b] = [dyn.gradient(params, once), dyn.gradient(params, twice)];
    expect(b.loss).toBeCloseTo(a.loss, 6);
    for (const name of Object.keys(a.grads)) expect(worstError(b.grads[name], a.grads[name], 1e-7, 1e-5), name).toBeLessThanOrEqual(1);
  });

  it('a mean over the batch in the loss is over the rows given too', async () => {
    const make = (rows: number | null) => graph('dynmean', (g) => {
      const B = rows ?? g.batch(9);
      const h = tanh(affine(g.input('x', [B, 3]), g.param('W', [3, 2]), g.param('b', [2])));
      g.output('h', h);
      g.loss(mean(h));
    });
    const mod = await buildModule(make(null));
    const params = mod.initParams(2);
    for (const rows of [1, 4, 9]) {
      const fixed = await buildModule(make(rows));
      const x = randomArray(rows * 3, rows);
      const [a, b] = [mod.gradient(params, { x }), fixed.gradient(params, { x })];
      expect(a.loss).toBeCloseTo(b.loss, 6);
      for (const name of Object.keys(a.grads)) expect(worstError(a.grads[name], b.grads[name], 1e-7, 1e-5), name).toBeLessThanOrEqual(1);
    }
  });

  it.each([
    ['no rows', { x: new Float32Array(0), y: new Float32Array(0) }, /trainStep: inputs\.x must have shape \[B≤37,5\] \(1 to 37 rows of 5 values\), got 0 values/],
    ['more rows than the largest batch', { x: new Float32Array(38 * 5), y: new Float32Array(38 * 3) }, /^trainStep: inputs\.x has 38 rows, more than the maximum 37 of its shape \[B≤37,5\]; pass at most 37 rows a call/],
    ['part of a row', { x: new Float32Array(12), y: new Float32Array(6) }, /inputs\.x must have shape \[B≤37,5\] \(1 to 37 rows of 5 values\), got 12 values, not a whole number of rows of 5$/],
    ['inputs of different rows', { x: new Float32Array(4 * 5), y: new Float32Array(3 * 3) }, /^trainStep: inputs\.y has 3 rows \(9 values of shape \[B≤37,3\]\) but inputs\.x has 4 \(20 values of shape \[B≤37,5\]\); every batch input needs the same rows$/],
  ])('%s: a clear error, nothing changed', (_, given, message) => {
    const params = dyn.initParams(1);
    const before = structuredClone(params);
    expect(() => dyn.trainStep(params, given, 0.1)).toThrow(message);
    expect(params).toEqual(before);
  });

  it('meta says which inputs and outputs the batch spans, and their largest shapes', () => {
    expect(dyn.meta.batch).toEqual({ max: MAX, inputs: ['x', 'y'], outputs: ['probs'] });
    expect(dyn.meta.inputs).toEqual({ x: [MAX, 5], y: [MAX, 3] });
  });

  it('the CPU runtime evaluates, predicts and trains over every row, the last partial batch as it is', () => {
    const rows = 2 * MAX + 5;
    const data = { inputs: inputs(classifier(null), rows, 77), count: rows };
    const params = dyn.initParams(6);
    const probs = predict(dyn, params, data, 'probs');
    expect(probs.length).toBe(rows * 3);
    // The last 5 rows alone, straight through forward.
    const tail = dyn.forward(params, { x: data.inputs.x.subarray((rows - 5) * 5) }).probs;
    expect(Array.from(probs.subarray((rows - 5) * 3))).toEqual(Array.from(tail));
    // The mean loss over all rows: the batches' losses weighted by their rows.
    const whole = [0, MAX, 2 * MAX].map((from) => {
      const n = Math.min(MAX, rows - from);
      return dyn.loss(params, { x: data.inputs.x.subarray(from * 5, (from + n) * 5), y: data.inputs.y.subarray(from * 3, (from + n) * 3) }) * n;
    }).reduce((a, b) => a + b) / rows;
    expect(evaluate(dyn, params, data)).toBeCloseTo(whole, 5);
    const result = minibatchSgd(dyn, params, data, { learningRate: 0.1, epochs: 2 });
    expect(result.steps).toBe(6);
  });
});

describe('the WebGPU model over a dynamic batch', () => {
  let js: GeneratedModule;
  let gpu: GpuHostModule;
  beforeAll(async () => {
    ({ js, gpu } = await buildBoth(classifier(null)));
  });

  it('agrees with the JS module at every row count: forward, gradient, train steps; datasets run whole batches', async () => {
    const model = await gpu.createModel(await gpuDevice());
    try {
      const params = js.initParams(7);
      await model.setParams(params);
      for (const rows of ROWS) {
        const given = inputs(classifier(null), rows, rows + 3);
        const f = await model.forward({ x: given.x });
        expect(f.probs.length).toBe(rows * 3);
        expect(worstError(f.probs, js.forward(params, { x: given.x }).probs, 1e-6, 1e-4), `forward ${rows}`).toBeLessThanOrEqual(1);
        const g = await model.gradient(given);
        const want = js.gradient(params, given);
        expect(Math.abs(g.loss - want.loss)).toBeLessThanOrEqual(1e-5 * (1 + want.loss));
        for (const name of Object.keys(want.grads)) expect(worstError(g.grads[name], want.grads[name], 1e-5, 1e-3), `${name} at ${rows}`).toBeLessThanOrEqual(1);
      }
      const given = inputs(classifier(null), 5, 1);
      const cpu = structuredClone(params);
      for (let s = 0; s < 3; s++) {
        await model.trainStep(given, 0.05);
        js.trainStep(cpu, given, 0.05);
      }
      const after = await model.getParams();
      for (const name of Object.keys(cpu)) expect(worstError(after[name], cpu[name], 1e-5, 1e-3), name).toBeLessThanOrEqual(1);
      // A dataset's steps are whole batches of MAX rows, whatever calls came before.
      const data = inputs(classifier(null), 2 * MAX, 11);
      const dataset = model.createDataset(data);
      const loss = await model.trainSteps(dataset, { firstRow: MAX, learningRate: 0.05 });
      expect(loss).toBeCloseTo(js.loss(cpu, { x: data.x.subarray(MAX * 5), y: data.y.subarray(MAX * 3) }), 4);
    } finally {
      model.destroy();
    }
  });

  it('rejects row counts it cannot take, as the JS module does', async () => {
    const model = await gpu.createModel(await gpuDevice());
    try {
      await expect(model.forward({ x: new Float32Array(38 * 5) })).rejects.toThrow(/^forward: inputs\.x has 38 rows, more than the maximum 37 of its shape \[B≤37,5\]/);
      await expect(model.gradient({ x: new Float32Array(10), y: new Float32Array(9) })).rejects.toThrow(/^gradient: inputs\.y has 3 rows \(9 values of shape \[B≤37,3\]\) but inputs\.x has 2 \(10 values of shape \[B≤37,5\]\)/);
    } finally {
      model.destroy();
    }
  });
});

describe('declaring the batch dimension', () => {
  const build = (body: (g: GraphContext) => void) => () => graph('bad', (g) => body(g));
  const tail = (g: GraphContext, x: ReturnType<GraphContext['input']>) => g.output('o', affine(x, g.param('W', [2, 1]), g.param('b', [1])));

  it.each([
    ['a largest batch of 0', (g: GraphContext) => g.batch(0), /the largest batch must be a whole number from 1 to 2\^30, got 0/],
    ['a fractional largest batch', (g: GraphContext) => g.batch(2.5), /the largest batch must be a whole number from 1 to 2\^30, got 2\.5/],
    ['two batch dimensions', (g: GraphContext) => { g.batch(4); g.batch(8); }, /already has a batch dimension, declared at .*batch\.test\.ts:\d+/],
    ['the batch in a param', (g: GraphContext) => { const B = g.batch(4); g.param('W', [B as never, 2]); }, /the batch dimension B≤4 is for inputs; a param's shape is fixed/],
    ['the batch as the second dimension', (g: GraphContext) => { const B = g.batch(4); g.input('x', [2, B]); }, /must be the first of two dimensions, \[B≤4, features\]/],
    ['a rank-1 batch input', (g: GraphContext) => { const B = g.batch(4); g.input('x', [B]); }, /must be the first of two dimensions/],
    ['a batch no input uses', (g: GraphContext) => { g.batch(4); tail(g, g.input('x', [4, 2])); }, /batch\(4\) .*no input uses the batch dimension/],
    ['a fixed 4 against the batch of at most 4', (g: GraphContext) => {
      const B = g.batch(4);
      g.output('o', add(g.input('x', [B, 2]), g.input('c', [4, 2])));
    }, /add\(g\.input\('x', \[B, 2\]\), g\.input\('c', \[4, 2\]\)\) at .*batch\.test\.ts:\d+: g\.input\('c', \[4, 2\]\) is \[4,2\] but g\.input\('x', \[B, 2\]\) is \[B≤4,2\]; shapes must match/],
  ])('%s: an error at the line', (_, body, message) => {
    expect(build(body as (g: GraphContext) => void)).toThrow(message);
  });

  it("another graph's batch dimension is refused", () => {
    let other: BatchDim | undefined;
    graph('first', (g) => {
      other = g.batch(3);
      tail(g, g.input('x', [other, 2]));
    });
    expect(build((g) => { g.batch(3); tail(g, g.input('x', [other!, 2])); })).toThrow(/B≤3 is another graph's batch dimension/);
  });

  it('a batch graph trains with Adam and agrees with the fixed module step for step', async () => {
    const make = (rows: number | null) => graph('dynadam', (g) => {
      const B = rows ?? g.batch(16);
      const z = affine(tanh(affine(g.input('x', [B, 3]), g.param('W', [3, 4]), g.param('b', [4]))), g.param('V', [4, 2]), g.param('c', [2]));
      g.output('z', z);
      g.loss(squaredLoss(z, g.input('y', [B, 2])));
      g.optimizer(adam());
    });
    const [dyn, fixed] = [await buildModule(make(null)), await buildModule(make(6))];
    const [pa, pb] = [dyn.initParams(1), dyn.initParams(1)];
    const [sa, sb] = [dyn.initOptimizerState!(), fixed.initOptimizerState!()];
    const given = { x: randomArray(18, 1), y: randomArray(12, 2) };
    for (let s = 0; s < 3; s++) {
      dyn.trainStep(pa, given, 0.01, sa);
      fixed.trainStep(pb, given, 0.01, sb);
    }
    for (const name of Object.keys(pb)) expect(worstError(pa[name], pb[name], 1e-7, 1e-5), name).toBeLessThanOrEqual(1);
  });

  it('a weight used twice, x·W·W: its gradient at 3 of 5 rows equals the fixed module\'s (a transposed product once put the batch in its columns, and its loops ran to nothing)', async () => {
    const make = (rows: number | null) => graph('twice', (g) => {
      const B = rows ?? g.batch(5);
      const W1 = g.param('W1', [3, 3]);
      const h = relu(matmul(matmul(g.input('x', [B, 3]), W1), W1));
      const o = matmul(h, g.param('W2', [3, 2]));
      g.output('o', o);
      g.loss(squaredLoss(o, g.input('y', [B, 2])));
    });
    const [dyn, fixed] = [await buildModule(make(null)), await buildModule(make(3))];
    const params = fixed.initParams(2);
    const given = { x: randomArray(9, 3), y: randomArray(6, 4) };
    const [a, b] = [dyn.gradient(params, given), fixed.gradient(params, given)];
    expect(a.loss).toBeCloseTo(b.loss, 6);
    for (const name of Object.keys(b.grads)) {
      expect(b.grads[name].some((v) => v !== 0), name).toBe(true);
      expect(worstError(a.grads[name], b.grads[name], 1e-7, 1e-5), name).toBeLessThanOrEqual(1);
    }
  });
});
