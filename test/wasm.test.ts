/**
 * The wasm target: its module agrees with float64 central differences of the reference
 * interpreter and with the JS module, on the samples and on graphs of every op, including
 * pre-activations of ±1e3 and beyond (where exp saturates); its `.wat` assembles (wabt,
 * independently) to exactly the embedded bytes, which every engine validates; and it has the
 * JS module's API, argument checks and messages.
 */
import { describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { compile } from '../compiler/compile.ts';
import { dimMax } from '../compiler/ir/graph.ts';
import { WIDTH } from '../compiler/backends/common/text.ts';
import {
  adam, affine, graph, momentum, relu, sigmoid, softmax, softmaxCrossEntropy, squaredLoss, tanh, type GraphDef, type OptimizerDef,
} from '../compiler/index.ts';
import { finiteDifferenceGradient, worstError } from './support/finite-differences.ts';
import { reference64 } from './support/reference64.ts';
import { buildModule, randomArray, randomInputs, type Arrays, type GeneratedModule } from './support/module.ts';
import { buildWasmModule, embeddedBytes } from './support/wasm.ts';
import { opGraphs } from './support/op-graphs.ts';
import { lossGraphs, withLabels } from './support/loss-graphs.ts';
import kink from '../samples/kink/kink.graph.ts';
import housing from '../samples/housing/housing.graph.ts';
import iris from '../samples/iris/iris.graph.ts';

/**
 * Every op's graph (support/op-graphs.ts) at 7 rows (a full tile and 3) and widths 4n + 1
 * (13 = a panel of 8, a vector block of 4 and a scalar column; 17, 9, 5), and the samples.
 */
const cases: Record<string, GraphDef> = {
  ...opGraphs(7, (n) => 4 * n + 1),
  ...lossGraphs(7),
  kink, housing, iris,
};

function data(def: GraphDef, seed: number, inputScale = 1): { params: Arrays; inputs: Arrays } {
  const params: Arrays = {};
  for (const p of def.ir.params) {
    const shape = def.ir.nodes[p.id].shape;
    params[p.name] = randomArray(shape.reduce((a, b) => a * b, 1), seed * 13 + p.id, shape.length === 2 ? 1 / Math.sqrt(shape[0]) : 0.3);
  }
  const meta = { name: def.name, params: {}, outputs: {}, inputs: Object.fromEntries(def.ir.inputs.map((r) => [r.name, def.ir.nodes[r.id].shape.map(dimMax)])) };
  return { params, inputs: withLabels(def, randomInputs(meta, seed, inputScale)) };
}

const copy = (a: Arrays): Arrays => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.slice()]));

describe('the wasm module', () => {
  for (const [name, def] of Object.entries(cases)) {
    it(`${name}: loss, gradient and outputs agree with float64 references, and with the JS module`, async () => {
      const wasm = await buildWasmModule(def);
      const js = await buildModule(def);
      const { params, inputs } = data(def, 3);
      const leaves = { ...params, ...inputs };
      const { loss, grads } = wasm.gradient(params, inputs);
      const ref = reference64(def.ir, leaves);
      expect(Math.abs(loss - ref.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(loss)));
      const fd = finiteDifferenceGradient(def.ir, leaves);
      for (const p of def.ir.params) expect(worstError(grads[p.name], fd[p.name], 1e-4, 1e-3), `d${p.name}`).toBeLessThanOrEqual(1);
      const outs = wasm.forward(params, inputs);
      const want = ref.outputs;
      for (const o of def.ir.outputs) expect(worstError(outs[o.name], want[o.name], 1e-5, 1e-4), o.name).toBeLessThanOrEqual(1);
      // The JS module: the same loss returned by every entry, the same step.
      expect(wasm.loss(params, inputs)).toBe(loss);
      const jsGrad = js.gradient(params, inputs);
      for (const p of def.ir.params) expect(worstError(grads[p.name], jsGrad.grads[p.name], 1e-6, 1e-4), `d${p.name} vs JS`).toBeLessThanOrEqual(1);
      const [pw, pj] = [copy(params), copy(params)];
      expect(wasm.trainStep(pw, inputs, 0.1)).toBe(loss);
      js.trainStep(pj, inputs, 0.1);
      for (const p of def.ir.params) expect(worstError(pw[p.name], pj[p.name], 1e-6, 1e-5), `${p.name} after a step`).toBeLessThanOrEqual(1);
    });
  }

  it('pre-activations of ±1e3 and beyond saturate exactly as in the JS module (exp is 0 or ∞, never NaN)', async () => {
    const def = graph('saturated', (g) => {
      const x = g.input('x', [9, 4]);
      const h = tanh(affine(x, g.param('W', [4, 8]), g.param('b', [8])));
      const o = sigmoid(affine(h, g.param('V', [8, 5]), g.param('c', [5])));
      g.output('o', o);
      g.loss(squaredLoss(o, g.input('y', [9, 5])));
    });
    const wasm = await buildWasmModule(def);
    const js = await buildModule(def);
    for (const scale of [1e3, 1e4, 1e30]) {
      const { params, inputs } = data(def, 5);
      params.V = params.V.map((v) => v * scale);
      inputs.x = inputs.x.map((v) => v * scale);
      const [w, j] = [wasm.gradient(params, inputs), js.gradient(params, inputs)];
      expect(w.loss).toBeCloseTo(j.loss, 5);
      for (const p of def.ir.params) {
        expect(w.grads[p.name].every(Number.isFinite), `d${p.name} finite at scale ${scale}`).toBe(true);
        expect(worstError(w.grads[p.name], j.grads[p.name], 1e-6, 1e-4), `d${p.name} at scale ${scale}`).toBeLessThanOrEqual(1);
      }
      const [ow, oj] = [wasm.forward(params, inputs).o, js.forward(params, inputs).o];
      // Saturated units are exactly 0 or 1 in both.
      expect([...ow].filter((v) => v === 0 || v === 1).length).toBeGreaterThan(ow.length / 2);
      expect(worstError(ow, oj, 1e-7, 1e-5)).toBeLessThanOrEqual(1);
    }
  });
});

/**
 * Optimizers with state and a dynamic batch: the wasm module's steps equal the JS module's
 * (params, state and the step count) at every row count, full tiles and edges alike.
 */
describe('the wasm module trains like the JS module', () => {
  const net = (optimizer: OptimizerDef) => graph('classifier', (g) => {
    const B = g.batch(21);
    const x = g.input('x', [B, 13]);
    const h = relu(affine(x, g.param('W1', [13, 9]), g.param('b1', [9])));
    const z = affine(h, g.param('W2', [9, 5]), g.param('b2', [5]));
    g.output('probs', softmax(z));
    g.loss(softmaxCrossEntropy(z, g.input('y', [B, 5])));
    g.optimizer(optimizer);
  });
  for (const [name, optimizer] of [['momentum', momentum({ momentum: 0.9 })], ['adam', adam()]] as const) {
    it(`${name}, at 21, 8, 5 and 1 rows`, async () => {
      const def = net(optimizer);
      const [wasm, js] = [await buildWasmModule(def), await buildModule(def)];
      const params = data(def, 7).params;
      const [pw, pj] = [copy(params), copy(params)];
      const [sw, sj] = [wasm.initOptimizerState!(), js.initOptimizerState!()];
      for (const rows of [21, 8, 5, 1]) {
        const x = randomArray(rows * 13, rows);
        // One-hot labels.
        const y = new Float32Array(rows * 5).map((_, i) => (i % 5 === (Math.floor(i / 5) * 3 + rows) % 5 ? 1 : 0));
        const [lw, lj] = [wasm.trainStep(pw, { x, y }, 0.05, sw), js.trainStep(pj, { x, y }, 0.05, sj)];
        expect(Math.abs(lw - lj), `loss at ${rows} rows`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(lj)));
        expect(wasm.forward(pw, { x }).probs.length).toBe(rows * 5);
      }
      expect(sw.step).toBe(4);
      expect(sj.step).toBe(4);
      for (const p of def.ir.params) {
        expect(worstError(pw[p.name], pj[p.name], 1e-6, 1e-5), p.name).toBeLessThanOrEqual(1);
        for (const slot of Object.keys(sj).filter((k) => k !== 'step')) {
          const [a, b] = [(sw as never)[slot][p.name] as Float32Array, (sj as never)[slot][p.name] as Float32Array];
          expect(worstError(a, b, 1e-6, 1e-5), `state.${slot}.${p.name}`).toBeLessThanOrEqual(1);
        }
      }
    });
  }
});

describe('the wasm binary and its text', () => {
  const defs = [...Object.values(cases), graph('wide', (g) => {
    // Panels of 8 columns, packed A and B, a 4-column vector block, scalar columns, a row tail.
    const x = g.input('x', [37, 70]);
    const h = sigmoid(affine(x, g.param('W', [70, 45]), g.param('b', [45])));
    const o = affine(relu(affine(h, g.param('W2', [45, 36]), g.param('b2', [36]))), g.param('W3', [36, 3]), g.param('b3', [3]));
    g.output('o', o);
    g.loss(squaredLoss(o, g.input('y', [37, 3])));
  })];

  it('the .wat assembles (wabt, with SIMD) to exactly the embedded bytes, which validate', async () => {
    const wabt = await wabtInit();
    for (const def of defs) {
      for (const forwardOnly of [false, true]) {
        const { files } = compile(def, { targets: ['wasm'], forwardOnly });
        const text = (suffix: string) => files.find((f) => f.name === `${def.name}${suffix}`)!.contents;
        const bytes = embeddedBytes(text('.wasm.js'));
        expect(embeddedBytes(text('.wasm.ts'))).toEqual(bytes);
        expect(WebAssembly.validate(bytes), def.name).toBe(true);
        const parsed = wabt.parseWat(`${def.name}.wat`, text('.wat'), { simd: true });
        parsed.validate();
        const assembled = parsed.toBinary({}).buffer;
        parsed.destroy();
        expect(Buffer.from(assembled).equals(Buffer.from(bytes)), `${def.name}${forwardOnly ? ' (forward only)' : ''}: wabt's bytes`).toBe(true);
      }
    }
  });

  it('the .wat is folded: every instruction inside the S-expression of what it feeds, none a bare stack line', () => {
    for (const def of defs) {
      const wat = compile(def, { targets: ['wasm'] }).files.find((f) => f.name.endsWith('.wat'))!.contents;
      const bare = wat.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('(') && !l.startsWith(')') && !l.startsWith(';;'));
      expect(bare, def.name).toEqual([]);
      expect(wat).toMatch(/\(f32x?4?\.store offset=\d+ \(/);
    }
  });

  it('every generated line fits the line width', () => {
    for (const def of defs) {
      for (const f of compile(def, { targets: ['wasm'] }).files) {
        const long = f.contents.split('\n').filter((l) => l.length > WIDTH);
        expect(long, f.name).toEqual([]);
      }
    }
  });

  it('the same graph gives the same bytes', () => {
    const build = () => compile(cases.iris, { targets: ['wasm'] }).files.map((f) => f.contents).join('\n');
    expect(build()).toBe(build());
  });
});

describe('the wasm module has the JS module API', () => {
  it('the same exports, and for every mistake the same error', async () => {
    const def = cases.housing;
    const [wasm, js] = [await buildWasmModule(def), await buildModule(def)];
    // The wasm module adds its threads (test/threads.test.ts).
    expect(Object.keys(wasm).sort()).toEqual([...Object.keys(js), 'threads', 'useThreads'].sort());
    expect(wasm.meta).toEqual(js.meta);
    expect(wasm.initParams(4)).toEqual(js.initParams(4));
    const { params, inputs } = data(def, 1);
    const bad: [string, (m: GeneratedModule) => unknown][] = [
      ['missing input', (m) => m.forward(params, {})],
      ['wrong length', (m) => m.loss(params, { ...inputs, x: new Float32Array(3) })],
      ['not a Float32Array', (m) => m.gradient(params, { ...inputs, y: [1, 2] as unknown as Float32Array })],
      ['misspelt input', (m) => m.gradient(params, { ...inputs, z: new Float32Array(1) })],
      ['missing param', (m) => m.trainStep({ ...params, W1: undefined as unknown as Float32Array }, inputs, 0.1)],
      ['non-finite param', (m) => m.trainStep({ ...params, b1: Float32Array.of(0, NaN, 0) }, inputs, 0.1)],
      ['bad learning rate', (m) => m.trainStep(params, inputs, -1)],
      ['bad seed', (m) => m.initParams(0.5)],
      ['params not an object', (m) => m.forward(null as unknown as Arrays, inputs)],
    ];
    for (const [what, call] of bad) {
      const message = (m: GeneratedModule) => {
        try {
          call(m);
        } catch (e) {
          return `${(e as Error).name}: ${(e as Error).message}`;
        }
        return 'no error';
      };
      expect(message(wasm), what).toBe(message(js));
      expect(message(wasm), what).not.toBe('no error');
    }
  });

  it('a failed train step changes nothing; a good one updates the caller\'s arrays in place', async () => {
    const def = cases.iris;
    const wasm = await buildWasmModule(def);
    const { params, inputs } = data(def, 2);
    const before = copy(params);
    expect(() => wasm.trainStep(params, { ...inputs, y: new Float32Array(2) }, 0.1)).toThrow(RangeError);
    expect(params).toEqual(before);
    const arrays = Object.values(params);
    wasm.trainStep(params, inputs, 0.1);
    expect(Object.values(params).every((v, i) => v === arrays[i])).toBe(true);
    expect(params).not.toEqual(before);
  });

  it('a graph too large for one wasm memory is a build error naming it', () => {
    const huge = graph('huge', (g) => {
      const x = g.input('x', [65536, 8192]);
      g.output('o', relu(affine(x, g.param('W', [8192, 16]), g.param('b', [16]))));
    });
    expect(() => compile(huge, { targets: ['wasm'], forwardOnly: true })).toThrow(/graph 'huge'.*the wasm target needs 20\d\d\.\d MiB of memory; it allows 2048 MiB/);
  });

  it('forward-only builds export meta, initParams, forward and the threads', async () => {
    const wasm = await buildWasmModule(cases.tanh, { forwardOnly: true });
    expect(Object.keys(wasm).sort()).toEqual(['forward', 'initParams', 'meta', 'threads', 'useThreads']);
  });
});
