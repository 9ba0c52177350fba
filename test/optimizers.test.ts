/**
 * Optimizers declared by the graph (`g.optimizer(sgd() | momentum() | adam())`): five train
 * steps of the generated JS module and of the WebGPU model agree with TensorFlow.js's own
 * optimizers (tf.train.sgd, tf.train.momentum, tf.train.adam) run on the same graph, to 1e-4
 * and 1e-3; the state is the caller's on the CPU and the GPU's on the GPU, and moves between
 * them; bad state and bad options are rejected with the error at the right place.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { adam, affine, graph, momentum, relu, sgd, softmax, softmaxCrossEntropy, squaredLoss, tanh, type GraphDef, type OptimizerDef } from '../compiler/index.ts';
import { compile } from '../compiler/compile.ts';
import { worstError } from './support/finite-differences.ts';
import { buildBoth, gpuDevice, type GpuHostModule } from './support/gpu.ts';
import { randomArray, randomInputs, type Arrays, type GeneratedModule } from './support/module.ts';
import { tfjsTrain } from './support/tfjs-reference.ts';
import type { OptimizerState } from '../runtime/module.ts';
import { evaluate, train } from '../runtime/cpu/index.ts';

const B = 12;
/** A classifier: tanh and relu layers, softmax cross-entropy on one-hot labels. */
function classifier(name: string, optimizer?: OptimizerDef): GraphDef {
  return graph(name, (g) => {
    const x = g.input('x', [B, 5]);
    const h = tanh(affine(x, g.param('W1', [5, 7]), g.param('b1', [7])));
    const k = relu(affine(h, g.param('W2', [7, 6]), g.param('b2', [6])));
    const z = affine(k, g.param('W3', [6, 3]), g.param('b3', [3]));
    g.output('probs', softmax(z));
    g.loss(softmaxCrossEntropy(z, g.input('y', [B, 3])));
    if (optimizer) g.optimizer(optimizer);
  });
}

/** A regression net with the squared loss. */
function regression(name: string, optimizer: OptimizerDef): GraphDef {
  return graph(name, (g) => {
    const x = g.input('x', [B, 4]);
    const o = affine(tanh(affine(x, g.param('W1', [4, 5]), g.param('b1', [5]))), g.param('W2', [5, 2]), g.param('b2', [2]));
    g.output('o', o);
    g.loss(squaredLoss(o, g.input('y', [B, 2])));
    g.optimizer(optimizer);
  });
}

const OPTIMIZERS: [string, () => OptimizerDef, number][] = [
  ['sgd', () => sgd(), 0.1],
  ['momentum 0.9', () => momentum({ momentum: 0.9 }), 0.05],
  ['momentum 0.5', () => momentum({ momentum: 0.5 }), 0.1],
  ['adam (defaults)', () => adam(), 0.01],
  ['adam β1 0.8, β2 0.99, ε 1e-4', () => adam({ beta1: 0.8, beta2: 0.99, epsilon: 1e-4 }), 0.02],
];

const copy = (p: Arrays): Arrays => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.slice()]));
/** Params with every element nonzero, and inputs with one-hot labels. */
const paramsOf = (js: GeneratedModule): Arrays => Object.fromEntries(Object.entries(js.initParams(5)).map(([k, v], i) => [k, randomArray(v.length, i + 3, 0.6)]));
function inputsOf(js: GeneratedModule, seed: number): Arrays {
  const inputs = randomInputs(js.meta, seed);
  const [, classes] = js.meta.inputs.y as [number, number];
  if (js.meta.outputs.probs) {
    inputs.y = new Float32Array(inputs.y.length);
    for (let r = 0; r < B; r++) inputs.y[r * classes + ((r * 7 + seed) % classes)] = 1;
  }
  return inputs;
}

function expectAgree(got: Arrays, want: Arrays, tolerance: number, what: string): void {
  for (const name of Object.keys(want)) expect(worstError(got[name], want[name], tolerance, tolerance), `${what} ${name}`).toBeLessThanOrEqual(1);
}

describe.each(OPTIMIZERS)('%s', (label, make, lr) => {
  const defs = [classifier(`c_${label.replace(/\W/g, '_')}`, make()), regression(`r_${label.replace(/\W/g, '_')}`, make())];
  const built: { js: GeneratedModule; gpu: GpuHostModule }[] = [];
  beforeAll(async () => {
    for (const def of defs) built.push(await buildBoth(def));
  });

  it('5 JS train steps agree with TensorFlow.js to 1e-4, and state.step counts them', async () => {
    for (const [i, def] of defs.entries()) {
      const { js } = built[i];
      const params = paramsOf(js);
      const inputs = inputsOf(js, 2);
      const want = await tfjsTrain(def.ir, { ...params, ...inputs }, def.optimizer!.choice, lr, 5);
      const state = js.initOptimizerState?.();
      expect(state === undefined, 'only an optimizer with state has initOptimizerState').toBe(def.optimizer!.slots.length === 0);
      const losses = Array.from({ length: 5 }, () => js.trainStep(params, inputs, lr, state));
      expectAgree(params, want.params, 1e-4, def.name);
      losses.forEach((l, s) => expect(Math.abs(l - want.losses[s]), `loss before step ${s + 1}`).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(l))));
      if (state) expect(state.step).toBe(5);
    }
  });

  it('5 WebGPU train steps agree with TensorFlow.js to 1e-3; the state can be read back', async () => {
    for (const [i, def] of defs.entries()) {
      const { js, gpu } = built[i];
      const params = paramsOf(js);
      const inputs = inputsOf(js, 3);
      const want = await tfjsTrain(def.ir, { ...params, ...inputs }, def.optimizer!.choice, lr, 5);
      const model = await gpu.createModel(await gpuDevice());
      try {
        await model.setParams(params);
        for (let s = 0; s < 5; s++) await model.trainStep(inputs, lr);
        expectAgree(await model.getParams(), want.params, 1e-3, def.name);
        const state = await model.getOptimizerState();
        expect(state.step).toBe(5);
        expect(Object.keys(state).sort()).toEqual(['step', ...def.optimizer!.slots].sort());
      } finally {
        model.destroy();
      }
    }
  });
});

describe('optimizer state', () => {
  let js: GeneratedModule;
  let gpu: GpuHostModule;
  const def = classifier('adam_state', adam());
  beforeAll(async () => {
    ({ js, gpu } = await buildBoth(def));
  });

  it('initOptimizerState gives step 0 and zero arrays of every param\'s shape for m and v', () => {
    const state = js.initOptimizerState!();
    expect(state.step).toBe(0);
    for (const slot of ['m', 'v']) {
      const arrays = state[slot] as Arrays;
      expect(Object.keys(arrays)).toEqual(Object.keys(js.meta.params));
      for (const [name, shape] of Object.entries(js.meta.params)) {
        expect(arrays[name]).toEqual(new Float32Array(shape.reduce((a, b) => a * b, 1)));
      }
    }
    expect(js.meta.optimizer).toEqual({ name: 'adam', slots: ['m', 'v'] });
  });

  it('training moves from JS to the GPU and back with its state: 2 steps on one, 3 on the other, as 5 on one', async () => {
    const inputs = inputsOf(js, 4);
    const start = paramsOf(js);
    const straight = copy(start);
    const straightState = js.initOptimizerState!();
    for (let s = 0; s < 5; s++) js.trainStep(straight, inputs, 0.01, straightState);

    const params = copy(start);
    const state = js.initOptimizerState!();
    for (let s = 0; s < 2; s++) js.trainStep(params, inputs, 0.01, state);
    const model = await gpu.createModel(await gpuDevice());
    try {
      await model.setParams(params);
      await model.setOptimizerState(state);
      for (let s = 0; s < 3; s++) await model.trainStep(inputs, 0.01);
      expectAgree(await model.getParams(), straight, 1e-4, 'params');
      const back = await model.getOptimizerState();
      expect(back.step).toBe(5);
      for (const slot of ['m', 'v']) expectAgree(back[slot] as Arrays, straightState[slot] as Arrays, 1e-4, slot);
      // And back: one more step on the CPU from the GPU's state equals one more on the straight run.
      const onCpu = await model.getParams();
      js.trainStep(onCpu, inputs, 0.01, back);
      js.trainStep(straight, inputs, 0.01, straightState);
      expectAgree(onCpu, straight, 1e-4, 'after the 6th step');
    } finally {
      model.destroy();
    }
  });

  const bad: [string, (s: OptimizerState<Arrays>) => unknown, RegExp][] = [
    ['no state', () => undefined, /^trainStep: state must be an optimizer state \{ step, m, v \} \(see initOptimizerState\), got undefined$/],
    ['a missing slot', (s) => ({ step: 0, m: s.m }), /^trainStep: state\.v must be an object of Float32Arrays, got undefined$/],
    ['a slot array of the wrong shape', (s) => ({ ...s, v: { ...(s.v as Arrays), W2: new Float32Array(3) } }), /^trainStep: state\.v\.W2 must have shape \[7,6\] \(42 values\), got 3 values$/],
    ['NaN in the state', (s) => ({ ...s, m: { ...(s.m as Arrays), b3: new Float32Array([0, NaN, 0]) } }), /^trainStep: state\.m\.b3\[1\] is NaN; state must be finite/],
    ['a step count that is not a whole number', (s) => ({ ...s, step: 1.5 }), /^trainStep: state\.step must be a whole number ≥ 0, got 1\.5$/],
    ['an unknown array in a slot', (s) => ({ ...s, m: { ...(s.m as Arrays), W9: new Float32Array(1) } }), /^trainStep: unknown state\.m "W9"; expected W1, b1, W2, b2, W3, b3$/],
  ];
  it.each(bad)('%s: trainStep throws before anything runs, and changes nothing', (_, mutate, message) => {
    const params = paramsOf(js);
    const before = copy(params);
    const arg = mutate(js.initOptimizerState!() as OptimizerState<Arrays>);
    expect(() => js.trainStep(params, inputsOf(js, 1), 0.01, arg as never)).toThrow(message);
    expect(params).toEqual(before);
  });

  it('setOptimizerState checks what it is given as trainStep does', async () => {
    const model = await gpu.createModel(await gpuDevice());
    try {
      await expect(model.setOptimizerState({ step: -1 } as never)).rejects.toThrow(/^setOptimizerState: state\.step must be a whole number ≥ 0, got -1$/);
      const s = js.initOptimizerState!();
      (s.v as Arrays).W1[3] = Infinity;
      await expect(model.setOptimizerState(s)).rejects.toThrow(/^setOptimizerState: state\.v\.W1\[3\] is Infinity/);
    } finally {
      model.destroy();
    }
  });
});

describe('arguments that share memory', () => {
  let js: GeneratedModule;
  const def = classifier('aliased', momentum());
  beforeAll(async () => {
    ({ js } = await buildBoth(def));
  });
  const cases: [string, (p: Arrays, i: Arrays, s: OptimizerState<Arrays>) => void, RegExp][] = [
    ['one array as two params', (p) => { p.b2 = p.b1.subarray(0, 6); }, /params\.b1 and params\.b2 share memory/],
    ['a param inside an input', (p, i) => { p.W1 = new Float32Array(i.x.buffer, 20, 35); }, /params\.W1 and inputs\.x share memory/],
    ['a state array that is its param', (p, _, s) => { (s.velocity as Arrays).W3 = p.W3; }, /params\.W3 and state\.velocity\.W3 share memory|state\.velocity\.W3 and params\.W3 share memory/],
    ['overlapping views of one buffer', (p) => {
      const block = new Float32Array(p.W1.length + p.b1.length - 1);
      p.W1 = block.subarray(0, p.W1.length);
      p.b1 = block.subarray(p.W1.length - 1);
    }, /params\.W1 and params\.b1 share memory/],
  ];
  it.each(cases)('%s: trainStep throws a TypeError and changes nothing', (_, alias, message) => {
    const params = paramsOf(js);
    const inputs = inputsOf(js, 2);
    const state = js.initOptimizerState!() as OptimizerState<Arrays>;
    alias(params, inputs, state);
    const before = copy(params);
    expect(() => js.trainStep(params, inputs, 0.1, state)).toThrow(TypeError);
    expect(() => js.trainStep(params, inputs, 0.1, state)).toThrow(message);
    expect(params).toEqual(before);
    expect(state.step).toBe(0);
  });

  it('inputs may share memory with each other (an autoencoder\'s target is its input): they are only read', () => {
    const params = paramsOf(js);
    const inputs = inputsOf(js, 2);
    // The labels, a view into x, must be label rows (each summing to 1): x holds thirds.
    inputs.x.fill(1 / 3);
    const shared = { x: inputs.x, y: new Float32Array(inputs.x.buffer, 4, inputs.y.length) };
    const plain = copy(params);
    const state = js.initOptimizerState!();
    const want = js.trainStep(plain, { x: shared.x.slice(), y: shared.y.slice() }, 0.1, js.initOptimizerState!());
    expect(js.trainStep(params, shared, 0.1, state)).toBe(want);
    expect(params).toEqual(plain);
  });

  it('adjacent views of one buffer are fine', () => {
    const params = paramsOf(js);
    const block = new Float32Array(params.W1.length + params.b1.length);
    block.set(params.W1);
    block.set(params.b1, params.W1.length);
    params.W1 = block.subarray(0, params.W1.length);
    params.b1 = block.subarray(params.W1.length);
    expect(Number.isFinite(js.trainStep(params, inputsOf(js, 2), 0.1, js.initOptimizerState!()))).toBe(true);
  });
});

describe('a step whose new values would not be finite is rejected whole', () => {
  let js: GeneratedModule;
  let gpu: GpuHostModule;
  const def = classifier('rejects', adam());
  beforeAll(async () => {
    ({ js, gpu } = await buildBoth(def));
  });

  it('JS: a learning rate of 1e308 overflows the update: the step throws, naming it, and params, state and step stay', () => {
    const params = paramsOf(js);
    const inputs = inputsOf(js, 2);
    const state = js.initOptimizerState!();
    js.trainStep(params, inputs, 0.01, state);
    const [before, m, v] = [copy(params), copy(state.m as Arrays), copy(state.v as Arrays)];
    expect(() => js.trainStep(params, inputs, 1e308, state)).toThrow(
      /^trainStep: step 2 was rejected, because it would make params or optimizer state NaN or ±Infinity: learningRate 1e\+308 is too large for this step\. Nothing was changed$/,
    );
    expect(params).toEqual(before);
    expect([state.m, state.v, state.step]).toEqual([m, v, 1]);
    // The next step, with a sane rate, goes on from where the last good one left off.
    expect(Number.isFinite(js.trainStep(params, inputs, 0.01, state))).toBe(true);
    expect(state.step).toBe(2);
  });

  it('JS: a gradient that overflows is named as the cause', () => {
    const params = paramsOf(js);
    params.W3.fill(3e38);
    expect(() => js.trainStep(params, inputsOf(js, 2), 0.01, js.initOptimizerState!())).toThrow(/: the gradient is not finite \(the loss overflowed/);
  });

  it('WebGPU: the rejected step and the steps after it in one submission change nothing; the read says which step', async () => {
    // Momentum with a velocity near the f32 limit: a learning rate of 10 takes the update past it.
    const { js: mjs, gpu: mgpu } = await buildBoth(classifier('rejects_momentum', momentum()));
    const params = paramsOf(mjs);
    const inputs = inputsOf(mjs, 2);
    const huge = (step: number) => ({ step, velocity: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, new Float32Array(v.length).fill(3e38)])) });
    const model = await mgpu.createModel(await gpuDevice());
    try {
      await model.setParams(params);
      await model.setOptimizerState(huge(0));
      await expect(model.trainStep(inputs, 10)).rejects.toThrow(
        /^trainStep: step 1 was rejected, because it would make params or optimizer state NaN or ±Infinity: learningRate 10 is too large for this step, or the gradient is not finite/,
      );
      expect(await model.getParams()).toEqual(params);
      expect(await model.getOptimizerState()).toEqual(huge(0));
      await model.setOptimizerState(mjs.initOptimizerState!());
      await model.trainStep(inputs, 0.01);
      expect((await model.getOptimizerState()).step).toBe(1);

      const dataset = model.createDataset(inputs);
      await model.setOptimizerState(huge(1));
      const atStep1 = await model.getParams();
      await model.trainSteps(dataset, { firstRow: 0, steps: 1, learningRate: 10, readLoss: false });
      await model.trainSteps(dataset, { firstRow: 0, steps: 1, learningRate: 1e-9, readLoss: false });
      // The error names the call that ran the rejected step, and its rate (10), not this call's 1e-9.
      await expect(model.trainSteps(dataset, { firstRow: 0, steps: 1, learningRate: 1e-9 })).rejects.toThrow(
        /^trainSteps: step 2, run by an earlier trainSteps call whose loss was not read, was rejected, because .*: learningRate 10 is too large for this step/,
      );
      expect(await model.getParams()).toEqual(atStep1);
      expect(await model.getOptimizerState()).toEqual(huge(1));
    } finally {
      model.destroy();
    }
  });

  it('WebGPU: NaN in the inputs is named; learning rates f32 cannot hold are refused before anything runs', async () => {
    const model = await gpu.createModel(await gpuDevice());
    try {
      await model.setParams(paramsOf(js));
      const inputs = inputsOf(js, 2);
      inputs.x[7] = NaN;
      await expect(model.trainStep(inputs, 0.01)).rejects.toThrow(/^trainStep: step 1 was rejected, .*: inputs\.x\[7\] is NaN\. Nothing was changed$/);
      await expect(model.trainStep(inputsOf(js, 2), 1e-50)).rejects.toThrow(/^trainStep: learningRate 1e-50 is below what the GPU's f32 holds/);
      await expect(model.trainStep(inputsOf(js, 2), 1e39)).rejects.toThrow(/^trainStep: learningRate 1e\+39 is beyond what the GPU's f32 holds/);
      expect(() => model.createDataset(inputs)).toThrow(/^createDataset: inputs\.x\[7\] is NaN/);
      expect((await model.getOptimizerState()).step).toBe(0);
    } finally {
      model.destroy();
    }
  });
});

describe('declaring the optimizer', () => {
  const build = (body: (g: Parameters<Parameters<typeof graph>[1]>[0]) => void) => () => graph('opt', (g) => {
    const x = g.input('x', [2, 2]);
    const o = affine(x, g.param('W', [2, 1]), g.param('b', [1]));
    g.output('o', o);
    body(g);
  });
  const loss = (g: Parameters<Parameters<typeof graph>[1]>[0]) => g.loss(squaredLoss(g.param('V', [2, 1]), g.input('y', [2, 1])));

  it.each([
    ['adam β1 of 1', () => adam({ beta1: 1 }), /adam\(\) option beta1 must be a number in \[0, 1\), got 1/],
    ['a negative momentum', () => momentum({ momentum: -0.1 }), /momentum\(\) option momentum must be a number in \[0, 1\), got -0\.1/],
    ['ε of 0', () => adam({ epsilon: 0 }), /adam\(\) option epsilon must be a number in \(0, ∞\), got 0/],
    ['an option adam does not have', () => adam({ beta3: 0.5 } as never), /adam\(\) has no option 'beta3'; its options: beta1, beta2, epsilon/],
    ['a string', () => adam({ beta1: '0.9' } as never), /adam\(\) option beta1 must be a number in \[0, 1\), got "0\.9"/],
  ])('%s: an error at the call', (_, make, message) => {
    expect(make).toThrow(message);
    try {
      make();
    } catch (e) {
      expect((e as Error).message).toMatch(/optimizers\.test\.ts:\d+/);
    }
  });

  it('g.optimizer twice, with something else, or without a loss: errors at that line', () => {
    expect(build((g) => { loss(g); g.optimizer(adam()); g.optimizer(sgd()); })).toThrow(/already has an optimizer, set at .*optimizers\.test\.ts:\d+/);
    expect(build((g) => { loss(g); g.optimizer({ name: 'adam' } as never); })).toThrow(/is not an optimizer: unknown optimizer; use sgd\(\), momentum\(\) or adam\(\)/);
    expect(build((g) => { g.optimizer(adam()); })).toThrow(/an optimizer needs a loss to minimize; call g\.loss\(t\)/);
  });

  it('the optimizer is part of the graph hash; sgd() is the default', () => {
    const hash = (def: GraphDef) => compile(def).files.find((f) => f.name.endsWith('.ts'))!.contents.match(/hash ([0-9a-f]{12})/)![1];
    const [plain, withSgd, withAdam, otherAdam] = [classifier('h'), classifier('h', sgd()), classifier('h', adam()), classifier('h', adam({ beta2: 0.99 }))];
    expect(hash(plain)).toBe(hash(withSgd));
    expect(new Set([hash(plain), hash(withAdam), hash(otherAdam)]).size).toBe(3);
  });
});

describe('the CPU runtime drives optimizers with state', () => {
  it('train() starts a fresh state where the graph needs one, returns it, and continues from a given one', async () => {
    const js = (await buildBoth(classifier('runtime_adam', adam()))).js;
    const rows = 48;
    const x = randomArray(rows * 5, 9);
    const y = new Float32Array(rows * 3);
    for (let r = 0; r < rows; r++) y[r * 3 + (x[r * 5] > 0 ? 0 : x[r * 5 + 1] > 0 ? 1 : 2)] = 1;
    const data = { inputs: { x, y }, count: rows };
    const params = paramsOf(js);
    const first = train(js, params, data, { learningRate: 0.02, epochs: 3 });
    expect(first.state?.step).toBe(first.steps);
    const lossAfter3 = evaluate(js, params, data);
    const second = train(js, params, data, { learningRate: 0.02, epochs: 3, state: first.state });
    expect(second.state).toBe(first.state);
    expect(second.state!.step).toBe(first.steps + second.steps);
    expect(evaluate(js, params, data)).toBeLessThan(lossAfter3);
  });
});
