/**
 * The WGSL backend, run for real on WebGPU (Dawn; SwiftShader on CPU-only machines) and
 * checked against the JS backend: forward, loss, gradients and SGD steps agree within the
 * stated bound for the samples and for random graphs of awkward sizes.
 */
import { describe, expect, it } from 'vitest';
import { affine, graph, relu, sigmoid, squaredLoss, tanh } from '../compiler/index.ts';
import { compile } from '../compiler/compile.ts';
import type { GraphDef } from '../compiler/index.ts';
import { worstError } from './support/finite-differences.ts';
import { buildBoth, gpuDevice, wgslErrors } from './support/gpu.ts';
import { requestDevice } from '../runtime/webgpu/index.ts';
import { foldedGrid } from '../compiler/lowering/element-loop.ts';
import { WGSL_LOWERING } from '../compiler/backends/wgsl/module.ts';
import { randomArray, randomInputs, type Arrays, type GeneratedModule } from './support/module.ts';
import type { GpuForwardModel } from '../runtime/module.ts';
import { buildGraph, randomSpec } from './support/random-graph.ts';
import { lossGraphs, withLabels } from './support/loss-graphs.ts';
import { opGraphs } from './support/op-graphs.ts';
import kink from '../samples/kink/kink.graph.ts';
import housing from '../samples/housing/housing.graph.ts';
import iris from '../samples/iris/iris.graph.ts';

/**
 * f32 on the GPU vs float64-accumulated f32 in JS: both round every stored value to f32,
 * and sums run in different orders. |gpu − js| ≤ ATOL + RTOL·|js|, elementwise.
 */
const ATOL = 1e-5;
const RTOL = 1e-3;

function expectClose(gpu: Arrays, js: Arrays, what: string): void {
  for (const name of Object.keys(js)) {
    const scale = js[name].reduce((m, v) => Math.max(m, Math.abs(v)), 1e-3);
    expect(worstError(gpu[name], js[name], ATOL * scale, RTOL), `${what} ${name}`).toBeLessThanOrEqual(1);
  }
}

async function crossCheck(def: GraphDef, seed: number, inputScale = 1): Promise<void> {
  const { js, gpu } = await buildBoth(def);
  const device = await gpuDevice();
  const model = await gpu.createModel(device);
  try {
    const params = js.initParams(seed);
    const inputs = withLabels(def, randomInputs(js.meta, seed, inputScale));
    await model.setParams(params);
    const forwardInputs = Object.fromEntries(Object.keys(js.meta.inputs).filter((n) => n !== 'y').map((n) => [n, inputs[n]]));
    expectClose(await model.forward(forwardInputs), js.forward(params, forwardInputs), 'forward');
    const g = await model.gradient(inputs);
    const ref = js.gradient(params, inputs);
    expect(Math.abs(g.loss - ref.loss)).toBeLessThanOrEqual(ATOL + RTOL * Math.abs(ref.loss));
    expectClose(g.grads, ref.grads, 'gradient');
    const lossBefore = await model.trainStep(inputs, 0.05);
    const jsLossBefore = js.trainStep(params, inputs, 0.05);
    expect(Math.abs(lossBefore - jsLossBefore)).toBeLessThanOrEqual(ATOL + RTOL * Math.abs(jsLossBefore));
    expectClose(await model.getParams(), params, 'params after a train step');
  } finally {
    model.destroy();
  }
}

describe('WGSL agrees with JS', () => {
  it.each([['kink', kink], ['housing', housing], ['iris', iris]] as const)('sample %s', async (_, def) => {
    await crossCheck(def, 7);
  });

  it.each(Array.from({ length: 12 }, (_, i) => i + 1))('random graph #%i', async (seed) => {
    const spec = randomSpec(seed);
    await crossCheck(buildGraph(spec, `random${seed}`), seed);
  });

  it.each(Object.entries(lossGraphs(37)))('%s', async (_, def) => {
    await crossCheck(def, 5);
  });

  it('softsign (an op added by spec/kernels.md\'s steps alone, no backend code)', async () => {
    await crossCheck(opGraphs(37).softsign, 5);
  });
});

describe('a WebGPU model starts where the JS module starts', () => {
  /** The bits of every param, for equality bit for bit (−0 and 0 differ, as NaNs would). */
  const bits = (params: Arrays) => Object.fromEntries(Object.entries(params).map(([n, v]) => [n, [...new Uint32Array(v.buffer, v.byteOffset, v.length)]]));

  // (kink's params start at zero by its graph, which a model that uploaded nothing would match too.)
  it.each([['housing', housing], ['iris', iris]] as const)('%s: createModel(device) holds the JS initParams(0), and { seed } initParams(seed)', async (_, def) => {
    const { js, gpu } = await buildBoth(def);
    const device = await gpuDevice();
    for (const [options, seed] of [[undefined, 0], [{ seed: 9 }, 9], [{ seed: -3 }, -3]] as const) {
      const model = await gpu.createModel(device, options);
      try {
        const first = await model.getParams();
        expect(bits(first), `seed ${seed}`).toEqual(bits(js.initParams(seed)));
        // Not all zeros, so a model that uploaded nothing could not pass.
        expect(Object.values(first).some((v) => v.some((x) => x !== 0))).toBe(true);
      } finally {
        model.destroy();
      }
    }
    expect(bits(gpu.initParams(9))).toEqual(bits(js.initParams(9)));
  });

  it('setParams replaces the first params, and a bad seed is one line naming it', async () => {
    const { js, gpu } = await buildBoth(housing);
    const device = await gpuDevice();
    const model = await gpu.createModel(device);
    try {
      const other = js.initParams(4);
      await model.setParams(other);
      expect(bits(await model.getParams())).toEqual(bits(other));
    } finally {
      model.destroy();
    }
    await expect(gpu.createModel(device, { seed: 1.5 })).rejects.toThrow(/^createModel: options\.seed must be an integer, got 1\.5$/);
    await expect(gpu.createModel(device, { sed: 1 } as never)).rejects.toThrow(/^createModel: unknown option "sed"; expected seed$/);
  });
});

describe('numerics', () => {
  const extreme = graph('extreme', (g) => {
    const x = g.input('x', [9, 3]);
    const h1 = tanh(affine(x, g.param('W1', [3, 5]), g.param('b1', [5])));
    const h2 = sigmoid(affine(x, g.param('W2', [3, 5]), g.param('b2', [5])));
    const h3 = relu(affine(x, g.param('W3', [3, 5]), g.param('b3', [5])));
    const o = affine(h1, g.param('V1', [5, 1]), g.param('c', [1]));
    g.output('t', h1);
    g.output('s', h2);
    g.output('r', h3);
    g.loss(squaredLoss(o, g.input('y', [9, 1])));
  });

  it.each([1e3, 1e30])('pre-activations of magnitude %s give no NaN or Inf in either backend', async (scale) => {
    const { js, gpu } = await buildBoth(extreme);
    const model = await gpu.createModel(await gpuDevice());
    const params = js.initParams(3);
    // Weights of ±1 on inputs of ±scale: |z| reaches the scale, with both signs.
    for (const name of ['W1', 'W2', 'W3']) params[name] = randomArray(15, name.length + 1).map((v) => (v < 0 ? -1 : 1));
    const x = randomArray(27, 11, scale);
    await model.setParams(params);
    for (const [which, out] of [['js', js.forward(params, { x })], ['gpu', await model.forward({ x })]] as const) {
      for (const [name, values] of Object.entries(out)) {
        expect(values.every(Number.isFinite), `${which} ${name}`).toBe(true);
      }
      expect(Math.max(...out.t.map(Math.abs))).toBeCloseTo(1, 5);
    }
    const y = new Float32Array(9);
    const g = await model.gradient({ x, y });
    const ref = js.gradient(params, { x, y });
    for (const grads of [g.grads, ref.grads]) for (const v of Object.values(grads)) expect(v.every(Number.isFinite)).toBe(true);
    model.destroy();
  });

  // Logits of ±1e3 overflow e^z and e^−z in f32: the losses must be computed without either.
  // (The graphs whose labels are made from params have no label input: test/numeric-claims.test.ts holds both losses at ±1e3.)
  it.each(Object.entries(lossGraphs(9)).filter(([name]) => name.includes('cross-entropy') && !name.includes('made from params')))('%s of logits of magnitude 1e3 is finite in either backend', async (_, def) => {
    const { js, gpu } = await buildBoth(def);
    const model = await gpu.createModel(await gpuDevice());
    const params = js.initParams(3);
    const inputs = withLabels(def, randomInputs(js.meta, 4), true);
    for (const name of ['V', 'c']) params[name] = params[name].map((v) => v * 1e3);
    await model.setParams(params);
    const want = js.gradient(params, inputs);
    const got = await model.gradient(inputs);
    for (const result of [want, got]) {
      expect(Number.isFinite(result.loss)).toBe(true);
      expect(result.loss).toBeGreaterThan(1);
      for (const [name, v] of Object.entries(result.grads)) expect(v.every(Number.isFinite), name).toBe(true);
    }
    expect(Math.abs(got.loss - want.loss)).toBeLessThanOrEqual(RTOL * want.loss);
    model.destroy();
  });
});

describe('shaders', () => {
  it.each([['kink', kink], ['housing', housing], ['iris', iris]] as const)('the %s shader validates in Dawn', async (_, def) => {
    const wgsl = compile(def, { targets: ['wgsl'] }).files.find((f) => f.name.endsWith('.wgsl'))!.contents;
    expect(await wgslErrors(wgsl)).toEqual([]);
    // The built-in tanh is NaN for |x| ≳ 89 on SwiftShader: code (comments aside) never calls it.
    const code = wgsl.replace(/\/\/.*$/gm, '');
    expect(code).not.toMatch(/\btanh\s*\(/);
  });

  it('an invalid shader is reported (the validation check can fail)', async () => {
    expect((await wgslErrors('fn f() -> f32 { return undefined_name; }')).length).toBeGreaterThan(0);
  });
});

describe('device limits at build time', () => {
  it('rejects a matmul grid over 65,535 workgroups, naming the node and the limit', () => {
    const huge = graph('tall', (g) => {
      const x = g.input('x', [8_388_608, 1]);
      const o = affine(x, g.param('W', [1, 1]), g.param('b', [1]));
      g.output('o', o);
      g.loss(squaredLoss(o, g.input('y', [8_388_608, 1])));
    });
    expect(() => compile(huge, { targets: ['wgsl'] })).toThrow(/node 'o.*131072 workgroups.*65535.*maxComputeWorkgroupsPerDimension/);
    expect(() => compile(huge, { targets: ['js'] })).not.toThrow();
  });

  it("refuses a model past a device's binding limit when it is created, naming the buffer, the figure and what to do", async () => {
    const wide = graph('wide', (g) => {
      const x = g.input('x', [8200, 4096]);
      const o = affine(x, g.param('W', [4096, 1]), g.param('b', [1]));
      g.output('o', o);
      g.loss(squaredLoss(o, g.input('y', [8200, 1])));
    });
    const { gpu } = await buildBoth(wide);
    const small = await requestDevice({ limits: 'default' });
    await expect(gpu.createModel(small)).rejects.toThrow(
      /^createModel: the inputs buffer needs 128\.\d MiB but this device's maxStorageBufferBindingSize is 128\.0 MiB; request a device with the adapter's limits/,
    );
    small.destroy();
  });

  it('folds a dispatch over more than 65,535 workgroups into two dimensions', () => {
    const g = housing.ir;
    const gpu = WGSL_LOWERING.gpu!;
    expect(foldedGrid(g, 0, 10, gpu)).toEqual([10, 1, 1]);
    expect(foldedGrid(g, 0, 65_535, gpu)).toEqual([65_535, 1, 1]);
    expect(foldedGrid(g, 0, 65_666, gpu)).toEqual([65_535, 2, 1]);
    expect(() => foldedGrid(g, 0, 65_535 * 65_536, gpu)).toThrow(/65536 workgroups.*65535/);
    // Map kernels index through the fold, (wg.y · width + wg.x) · 256 + lane, only where the grid
    // was folded, and a dimension of one workgroup has no wg term: housing's maps are one
    // workgroup, so their index is the lane alone (the folded form runs in the 4096×4096 test below).
    const wgsl = compile(housing, { targets: ['wgsl'] }).files.find((f) => f.name.endsWith('.wgsl'))!.contents;
    expect(wgsl).toMatch(/let i = lid\.x;/);
    expect(wgsl).not.toMatch(/let i = wg\./);
    expect(wgsl).not.toMatch(/array<f32, 1>/);
  });
});

describe('GPU-resident datasets', () => {
  it('trainSteps over mini-batches by offset matches JS steps on the same batches', async () => {
    const { js, gpu } = await buildBoth(housing);
    const model = await gpu.createModel(await gpuDevice());
    const [B, d] = js.meta.inputs.x;
    const rows = B * 3;
    const data = { x: randomArray(rows * d, 1), y: randomArray(rows, 2) };
    const params = js.initParams(5);
    await model.setParams(params);
    const dataset = model.createDataset(data);
    expect(dataset.rows).toBe(rows);
    const gpuLoss = await model.trainSteps(dataset, { firstRow: 0, steps: 3, learningRate: 0.05 });
    let jsLoss = 0;
    for (let s = 0; s < 3; s++) {
      jsLoss = js.trainStep(params, { x: data.x.subarray(s * B * d, (s + 1) * B * d), y: data.y.subarray(s * B, (s + 1) * B) }, 0.05);
    }
    expect(Math.abs(gpuLoss - jsLoss)).toBeLessThanOrEqual(ATOL + RTOL * jsLoss);
    expectClose(await model.getParams(), params, 'params after 3 steps');
    await expect(model.trainSteps(dataset, { firstRow: B, steps: 3, learningRate: 0.05 })).rejects.toThrow(/outside the dataset's 192 rows/);
    const other = await gpu.createModel(await gpuDevice());
    await expect(other.trainSteps(dataset, { firstRow: 0, learningRate: 0.05 })).rejects.toThrow(/not created by this model/);
    other.destroy();
    dataset.destroy();
    await expect(model.trainSteps(dataset, { firstRow: 0, learningRate: 0.05 })).rejects.toThrow(/the dataset was destroyed/);
    model.destroy();
    await expect(model.loss(data)).rejects.toThrow(/destroyed/);
  });
});

describe('models past 128 MiB', () => {
  it('two 4096×4096 weights (params alone over 128 MiB) train on the GPU and agree with JS', async () => {
    const big = graph('big', (g) => {
      const x = g.input('x', [8, 4096]);
      const h = tanh(affine(x, g.param('W1', [4096, 4096]), g.param('b1', [4096])));
      const o = affine(h, g.param('W2', [4096, 4096]), g.param('b2', [4096]));
      g.output('o', o);
      g.loss(squaredLoss(o, g.input('y', [8, 4096])));
    });
    const { js, gpu } = await buildBoth(big);
    const params = js.initParams(3);
    const bytes = Object.values(params).reduce((n, p) => n + p.byteLength, 0);
    expect(bytes).toBeGreaterThan(128 * 2 ** 20);
    const inputs = { x: randomArray(8 * 4096, 1), y: randomArray(8 * 4096, 2, 0.5) };
    const model = await gpu.createModel(await gpuDevice());
    await model.setParams(params);
    const gpuLoss = await model.trainStep(inputs, 0.1);
    const jsLoss = js.trainStep(params, inputs, 0.1);
    expect(Math.abs(gpuLoss - jsLoss)).toBeLessThanOrEqual(1e-4 * Math.abs(jsLoss));
    expectClose(await model.getParams(), params, 'params after one step');
    model.destroy();
  }, 300_000);
});

describe('the WebGPU host module', () => {
  it('reads its arguments when a call is made: inputs changed right after trainStep and forward do not change their results', async () => {
    const { js, gpu } = await buildBoth(housing);
    const model = await gpu.createModel(await gpuDevice());
    const params = js.initParams(4);
    await model.setParams(params);
    const inputs = randomInputs(js.meta, 5);
    const kept = { x: inputs.x.slice(), y: inputs.y.slice() };
    const trained = model.trainStep(inputs, 0.05);
    const predicted = model.forward(inputs);
    inputs.x.fill(1e6);
    inputs.y.fill(-1e6);
    const jsParams = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.slice()]));
    expect(await trained).toBeCloseTo(js.trainStep(jsParams, kept, 0.05), 5);
    expectClose(await predicted, js.forward(jsParams, { x: kept.x }), 'forward after the step');
    model.destroy();
  });

  it('trainSteps can skip reading the loss back, and later reads see every step', async () => {
    const { js, gpu } = await buildBoth(housing);
    const model = await gpu.createModel(await gpuDevice());
    const params = js.initParams(6);
    await model.setParams(params);
    const inputs = randomInputs(js.meta, 7);
    const thrice = (a: Float32Array) => Float32Array.from({ length: 3 * a.length }, (_, i) => a[i % a.length]);
    const dataset = model.createDataset({ x: thrice(inputs.x), y: thrice(inputs.y) });
    expect(await model.trainSteps(dataset, { firstRow: 0, steps: 3, learningRate: 0.05, readLoss: false })).toBeNaN();
    for (let s = 0; s < 3; s++) js.trainStep(params, inputs, 0.05);
    expectClose(await model.getParams(), params, 'params after three unread steps');
    dataset.destroy();
    model.destroy();
  });

  it('a forward-only graph builds and runs on WebGPU, with only the forward API', async () => {
    const { files } = compile(housing, { targets: ['js', 'wgsl'], forwardOnly: true });
    expect(files.map((f) => f.name)).toContain('housing.gpu.js');
    const dts = files.find((f) => f.name === 'housing.gpu.d.ts')!.contents;
    expect(dts).toContain("export type GpuModel = import('gradc/module').GpuForwardModel<Params, ForwardInputs, Outputs>;");
    const { loadGenerated } = await import('./support/fuzz-checks.ts');
    const jsModule = loadGenerated<GeneratedModule>(files.find((f) => f.name === 'housing.js')!.contents);
    const gpuModule = loadGenerated<{ createModel(d: GPUDevice): Promise<GpuForwardModel> }>(files.find((f) => f.name === 'housing.gpu.js')!.contents);
    const model = await gpuModule.createModel(await gpuDevice());
    expect(Object.keys(model).sort()).toEqual(['destroy', 'forward', 'getParams', 'meta', 'setParams']);
    const params = jsModule.initParams(8);
    await model.setParams(params);
    const x = randomArray(64 * 4, 9);
    expectClose(await model.forward({ x }), jsModule.forward(params, { x }), 'forward-only outputs');
    model.destroy();
  });
});
