/**
 * Labels and shapes that are wrong but would fit: each call refuses them with one line that
 * names the argument, what was expected and what was got, the same line on the JS, wasm and
 * WebGPU modules, and changes nothing. Cross-entropy labels outside [0, 1] (labels counted
 * from 1, class ids where one-hot rows are expected) and softmax label rows that do not sum
 * to 1; one-hot labels given to a one-output model (a width, not a row count); more rows than
 * the batch's maximum (in rows, not values).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { affine, graph, sigmoid, sigmoidCrossEntropy, softmax, softmaxCrossEntropy, tanh, type GraphDef } from '../compiler/index.ts';
import type { GpuModel } from '../runtime/module.ts';
import { buildBoth, gpuDevice } from './support/gpu.ts';
import { buildModule, type Arrays, type GeneratedModule } from './support/module.ts';
import { buildWasmModule } from './support/wasm.ts';

/** A binary classifier: one sigmoid output over a fixed batch of 8 rows, or 1 to 16 rows. */
const binary = (name: string, fixed: boolean): GraphDef => graph(name, (g) => {
  const B = fixed ? 8 : g.batch(16);
  const z = affine(tanh(affine(g.input('x', [B, 2]), g.param('W1', [2, 3]), g.param('b1', [3]))), g.param('W2', [3, 1]), g.param('b2', [1]));
  g.output('p', sigmoid(z));
  g.loss(sigmoidCrossEntropy(z, g.input('y', [B, 1])));
});
/** A 4-class classifier over 1 to 64 rows. */
const classes = graph('classes', (g) => {
  const B = g.batch(64);
  const z = affine(g.input('x', [B, 3]), g.param('W', [3, 4]), g.param('b', [4]));
  g.output('probs', softmax(z));
  g.loss(softmaxCrossEntropy(z, g.input('y', [B, 4])));
});

const oneHot = (ids: readonly number[], k: number) => {
  const out = new Float32Array(ids.length * k);
  ids.forEach((c, i) => (out[i * k + c] = 1));
  return out;
};
const x = (rows: number, width: number) => Float32Array.from({ length: rows * width }, (_, i) => Math.sin(i));
const IDS_HINT = 'class ids? pass oneHot(ids, 4) from gradc/runtime/cpu';
const SIGMOID_HINT = 'class ids? give 0 or 1 per output (for more than two classes, a softmax output and oneHot(ids, classes))';

/** [what, graph, entry, inputs, the message]. */
const CASES: readonly (readonly [string, 'fixed' | 'dynamic' | 'classes', 'trainStep' | 'loss' | 'forward', Arrays, string])[] = [
  ['sigmoid labels 1 and 2 instead of 0 and 1', 'fixed', 'trainStep', { x: x(8, 2), y: Float32Array.from({ length: 8 }, (_, i) => 1 + (i % 2)) },
    `trainStep: inputs.y[1] is 2, but sigmoid cross-entropy labels are probabilities in [0, 1]; ${SIGMOID_HINT}`],
  ['sigmoid labels 1 and 2, over a dynamic batch', 'dynamic', 'loss', { x: x(5, 2), y: new Float32Array([1, 1, 2, 1, 2]) },
    `loss: inputs.y[2] is 2, but sigmoid cross-entropy labels are probabilities in [0, 1]; ${SIGMOID_HINT}`],
  ['a negative sigmoid label', 'fixed', 'loss', { x: x(8, 2), y: new Float32Array([0, 1, 0, -1, 0, 1, 0, 1]) },
    `loss: inputs.y[3] is -1, but sigmoid cross-entropy labels are probabilities in [0, 1]; ${SIGMOID_HINT}`],
  ['class ids whose count is rows × classes', 'classes', 'trainStep', { x: x(4, 3), y: new Float32Array([0, 3, 1, 2, 2, 1, 0, 0, 3, 3, 1, 0, 2, 0, 1, 1]) },
    `trainStep: inputs.y[1] is 3, but softmax cross-entropy labels are probabilities in [0, 1], each row summing to 1; ${IDS_HINT}`],
  ['class ids 0 and 1 whose count is rows × classes', 'classes', 'loss', { x: x(2, 3), y: new Float32Array([1, 0, 0, 1, 0, 1, 1, 0]) },
    `loss: inputs.y row 0 sums to 2, but softmax cross-entropy labels are one distribution per row, summing to 1; ${IDS_HINT}`],
  ['a softmax label row of zeros', 'classes', 'trainStep', { x: x(3, 3), y: new Float32Array([0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]) },
    `trainStep: inputs.y row 1 sums to 0, but softmax cross-entropy labels are one distribution per row, summing to 1; ${IDS_HINT}`],
  ['one class id a row for a softmax', 'classes', 'trainStep', { x: x(8, 3), y: new Float32Array([0, 1, 1, 0, 1, 0, 0, 0]) },
    `trainStep: inputs.y has 8 values, 1 a row for the 8 rows of inputs.x, but its shape [B≤64,4] has 4 a row; ${IDS_HINT}`],
  ['class ids that are not whole rows', 'classes', 'trainStep', { x: x(5, 3), y: new Float32Array([0, 1, 3, 2, 1]) },
    `trainStep: inputs.y must have shape [B≤64,4] (1 to 64 rows of 4 values), got 5 values, not a whole number of rows of 4; ${IDS_HINT}`],
  ['one-hot labels for a one-output model', 'dynamic', 'trainStep', { x: x(4, 2), y: oneHot([0, 1, 1, 0], 2) },
    'trainStep: inputs.y has 8 values, 2 a row for the 4 rows of inputs.x, but its shape [B≤16,1] has 1 a row'],
  ['one-hot labels for a one-output model over a fixed batch', 'fixed', 'trainStep', { x: x(8, 2), y: oneHot([0, 1, 1, 0, 0, 1, 1, 1], 2) },
    'trainStep: inputs.y must have shape [8,1] (8 values), got 16 values, 2 a row for its 8 rows where its shape has 1'],
  ['65 rows against g.batch(64)', 'classes', 'trainStep', { x: x(65, 3), y: oneHot(Array.from({ length: 65 }, (_, i) => i % 4), 4) },
    'trainStep: inputs.x has 65 rows, more than the maximum 64 of its shape [B≤64,3]; pass at most 64 rows a call (train, evaluate and predict of gradc/runtime/cpu split a dataset into batches)'],
  ['65 rows to forward', 'classes', 'forward', { x: x(65, 3) },
    'forward: inputs.x has 65 rows, more than the maximum 64 of its shape [B≤64,3]; pass at most 64 rows a call (train, evaluate and predict of gradc/runtime/cpu split a dataset into batches)'],
  ['inputs of different rows and no common width', 'dynamic', 'loss', { x: x(4, 2), y: new Float32Array(3) },
    'loss: inputs.y has 3 rows (3 values of shape [B≤16,1]) but inputs.x has 4 (8 values of shape [B≤16,2]); every batch input needs the same rows'],
];

const DEFS = { fixed: binary('fixed', true), dynamic: binary('dynamic', false), classes };
type Name = keyof typeof DEFS;

/** One line, the message wanted: a RangeError. */
function expectMessage(e: unknown, message: string): void {
  expect(e).toBeInstanceOf(RangeError);
  expect((e as Error).message).toBe(message);
}

describe.each([['JS', buildModule], ['wasm', buildWasmModule]] as const)('the %s module', (_, build) => {
  const modules = {} as Record<Name, GeneratedModule>;
  beforeAll(async () => {
    for (const name of Object.keys(DEFS) as Name[]) modules[name] = await build(DEFS[name]);
  });

  it.each(CASES)('%s: one line naming the argument, what was expected and what was got; nothing changed', (_, name, entry, inputs, message) => {
    const m = modules[name];
    const params = m.initParams(1);
    const before = structuredClone(params);
    let thrown: unknown;
    try {
      if (entry === 'trainStep') m.trainStep(params, inputs, 0.1);
      else if (entry === 'loss') m.loss(params, inputs);
      else m.forward(params, inputs);
    } catch (e) {
      thrown = e;
    }
    expectMessage(thrown, message);
    expect(params).toEqual(before);
  });

  it('accepts labels that are right: 0/1 sigmoid labels, one-hot and soft softmax rows (summing to 1 up to float rounding)', () => {
    const soft = Float32Array.from({ length: 7 * 4 }, (_, i) => (i % 4 === 0 ? 0.7 : 0.1));
    const smoothed = oneHot([0, 1, 2, 3, 0, 1, 2], 4).map((v) => v * 0.9 + 0.1 / 4);
    for (const y of [soft, smoothed]) expect(Number.isFinite(modules.classes.loss(modules.classes.initParams(1), { x: x(7, 3), y }))).toBe(true);
    const p = modules.fixed.initParams(1);
    expect(Number.isFinite(modules.fixed.trainStep(p, { x: x(8, 2), y: new Float32Array([0, 1, 1, 0, 1, 0, 0, 1]) }, 0.1))).toBe(true);
  });
});

describe('the WebGPU module', () => {
  const models = {} as Record<Name, GpuModel>;
  beforeAll(async () => {
    const device = await gpuDevice();
    for (const name of Object.keys(DEFS) as Name[]) models[name] = (await (await buildBoth(DEFS[name])).gpu.createModel(device)) as GpuModel;
  });

  it.each(CASES)('%s: the same line as the JS module; the params are unchanged', async (_, name, entry, inputs, message) => {
    const model = models[name];
    const before = await model.getParams();
    const call = entry === 'trainStep' ? model.trainStep(inputs, 0.1) : entry === 'loss' ? model.loss(inputs) : model.forward(inputs);
    expectMessage(await call.then(() => undefined, (e: unknown) => e), message);
    expect(await model.getParams()).toEqual(before);
  });

  it('createDataset refuses labels outside [0, 1] alike', () => {
    const y = Float32Array.from({ length: 16 }, (_, i) => 1 + (i % 2));
    let thrown: unknown;
    try {
      models.dynamic.createDataset({ x: x(16, 2), y });
    } catch (e) {
      thrown = e;
    }
    expectMessage(thrown, `createDataset: inputs.y[1] is 2, but sigmoid cross-entropy labels are probabilities in [0, 1]; ${SIGMOID_HINT}`);
  });
});
