/**
 * Float32Arrays over a SharedArrayBuffer given to every entry point of a WebGPU model that
 * uploads an array (Dawn on SwiftShader, as in wgsl.test.ts). `webgpu` 0.6.2's
 * `queue.writeBuffer` kills Node with a segmentation fault on a shared view, so the driver
 * must stage such arrays; each call must also compute exactly what it computes from plain
 * arrays holding the same values.
 */
import { describe, expect, it } from 'vitest';
import { adam, affine, graph, relu, squaredLoss } from '../compiler/index.ts';
import { buildBoth, gpuDevice } from './support/gpu.ts';
import { randomArray } from './support/module.ts';

const B = 8;
const net = graph('sharednet', (g) => {
  const x = g.input('x', [B, 5]);
  const h = relu(affine(x, g.param('W', [5, 6]), g.param('b', [6])));
  const o = affine(h, g.param('V', [6, 2]), g.param('c', [2]));
  g.output('o', o);
  g.loss(squaredLoss(o, g.input('y', [B, 2])));
  g.optimizer(adam());
});

/** A copy of `a` in shared memory, at a nonzero offset into a larger buffer. */
function shared(a: Float32Array): Float32Array {
  const view = new Float32Array(new SharedArrayBuffer((a.length + 3) * 4), 8, a.length);
  view.set(a);
  return view;
}
const sharedRecord = (r: Record<string, Float32Array>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, shared(v)]));

describe('a WebGPU model given arrays over a SharedArrayBuffer', async () => {
  const { js, gpu } = await buildBoth(net);
  const device = await gpuDevice();
  const params = js.initParams(3);
  const inputs = { x: randomArray(B * 5, 1), y: randomArray(B * 2, 2) };
  /** Two models, one given plain arrays and one shared copies, after the same calls. */
  async function pair() {
    const plain = await gpu.createModel(device);
    const other = await gpu.createModel(device);
    await plain.setParams(params);
    await other.setParams(sharedRecord(params));
    return { plain, other };
  }

  it('setParams and getParams: the shared values arrive', async () => {
    const { plain, other } = await pair();
    expect(await other.getParams()).toEqual(await plain.getParams());
    plain.destroy();
    other.destroy();
  });

  it('forward', async () => {
    const { plain, other } = await pair();
    expect(await other.forward({ x: shared(inputs.x) })).toEqual(await plain.forward({ x: inputs.x }));
    plain.destroy();
    other.destroy();
  });

  it('loss and gradient', async () => {
    const { plain, other } = await pair();
    expect(await other.loss(sharedRecord(inputs))).toBe(await plain.loss(inputs));
    expect(await other.gradient(sharedRecord(inputs))).toEqual(await plain.gradient(inputs));
    plain.destroy();
    other.destroy();
  });

  it('trainStep, also queued behind another call', async () => {
    const { plain, other } = await pair();
    const [a, b] = await Promise.all([other.trainStep(sharedRecord(inputs), 0.01), other.trainStep(sharedRecord(inputs), 0.01)]);
    expect([a, b]).toEqual([await plain.trainStep(inputs, 0.01), await plain.trainStep(inputs, 0.01)]);
    expect(await other.getParams()).toEqual(await plain.getParams());
    plain.destroy();
    other.destroy();
  });

  it('setOptimizerState', async () => {
    const { plain, other } = await pair();
    await plain.trainStep(inputs, 0.01);
    const state = await plain.getOptimizerState();
    const sharedState = { ...state, m: sharedRecord(state.m as Record<string, Float32Array>), v: sharedRecord(state.v as Record<string, Float32Array>) };
    await other.setParams(await plain.getParams());
    await other.setOptimizerState(sharedState as never);
    expect(await other.getOptimizerState()).toEqual(state);
    expect(await other.trainStep(sharedRecord(inputs), 0.01)).toBe(await plain.trainStep(inputs, 0.01));
    plain.destroy();
    other.destroy();
  });

  it('createDataset and trainSteps', async () => {
    const { plain, other } = await pair();
    const rows = 3 * B;
    const data = { x: randomArray(rows * 5, 4), y: randomArray(rows * 2, 5) };
    const lossPlain = await plain.trainSteps(plain.createDataset(data), { firstRow: 0, steps: 3, learningRate: 0.01 });
    const lossShared = await other.trainSteps(other.createDataset(sharedRecord(data)), { firstRow: 0, steps: 3, learningRate: 0.01 });
    expect(lossShared).toBe(lossPlain);
    expect(await other.getParams()).toEqual(await plain.getParams());
    plain.destroy();
    other.destroy();
  });
});
