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
import { foldedGrid } from '../compiler/lowering/gpu.ts';
import { WGSL_LOWERING } from '../compiler/backends/wgsl/module.ts';
import { randomArray, randomInputs, type Arrays } from './support/module.ts';
import { buildGraph, randomSpec } from './support/random-graph.ts';
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
    const scale = Math.max(1e-3, ...Array.from(js[name], Math.abs));
    expect(worstError(gpu[name], js[name], ATOL * scale, RTOL), `${what} ${name}`).toBeLessThanOrEqual(1);
  }
}

async function crossCheck(def: GraphDef, seed: number, inputScale = 1): Promise<void> {
  const { js, gpu } = await buildBoth(def);
  const device = await gpuDevice();
  const model = await gpu.createModel(device);
  try {
    const params = js.initParams(seed);
    const inputs = randomInputs(js.meta, seed, inputScale);
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

  it('rejects a buffer over the 128 MiB storage binding, with the figure', () => {
    const wide = graph('wide', (g) => {
      const x = g.input('x', [8192, 4096]);
      const o = affine(x, g.param('W', [4096, 1]), g.param('b', [1]));
      g.output('o', o);
      g.loss(squaredLoss(o, g.input('y', [8192, 1])));
    });
    expect(() => compile(wide, { targets: ['wgsl'] })).toThrow(/inputs buffer needs 1\d\d\.\d MiB.*128 MiB.*maxStorageBufferBindingSize.*largest values: x 128\.0 MiB/);
  });

  it('folds a dispatch over more than 65,535 workgroups into two dimensions', () => {
    const g = housing.ir;
    const gpu = WGSL_LOWERING.gpu!;
    expect(foldedGrid(g, 0, 10, gpu)).toEqual([10, 1, 1]);
    expect(foldedGrid(g, 0, 65_535, gpu)).toEqual([65_535, 1, 1]);
    expect(foldedGrid(g, 0, 65_666, gpu)).toEqual([65_535, 2, 1]);
    expect(() => foldedGrid(g, 0, 65_535 * 65_536, gpu)).toThrow(/65536 workgroups.*65535/);
    // Map kernels index through the fold: (wg.y · width + wg.x) · 256 + lane, multiplied out.
    const wgsl = compile(housing, { targets: ['wgsl'] }).files.find((f) => f.name.endsWith('.wgsl'))!.contents;
    expect(wgsl).toMatch(/let i = wg\.y \* \d+u \+ wg\.x \* 256u \+ lid\.x;/);
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
