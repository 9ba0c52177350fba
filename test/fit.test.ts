/**
 * What a classifier or regressor needs beside the train step: metrics in `history` (against
 * hand-computed values), early stopping that restores the best params (on a scripted model
 * whose losses are known), splits that return their indices, the CSV reader and its errors,
 * and `train`, `evaluate` and `predict` on WebGPU (SwiftShader) agreeing with the CPU ones.
 */
import { describe, expect, it } from 'vitest';
import {
  Rng, accuracy, argmax, categoricalAccuracy, evaluate, meanAbsoluteError, meanSquaredError, oneHot, parseCsv, predict, r2Score,
  selectColumns, splitHoldout, train, type Dataset, type Model, type Tensors,
} from '../runtime/cpu/index.ts';
import * as gpuRuntime from '../runtime/webgpu/index.ts';
import { adam, affine, graph, softmax, softmaxCrossEntropy, tanh } from '../compiler/index.ts';
import { buildBoth, gpuDevice } from './support/gpu.ts';
import { randomArray } from './support/module.ts';

describe('metrics, by hand', () => {
  it('accuracy: the argmax of each row against the one-hot target\'s', () => {
    const probs = [0.1, 0.7, 0.2, 0.5, 0.3, 0.2, 0.2, 0.2, 0.6, 0.4, 0.5, 0.1];
    // Rows predict 1, 0, 2, 1; the targets are 1, 0, 2, 0: three of four right.
    expect(categoricalAccuracy(probs, oneHot([1, 0, 2, 0], 3), 3)).toBe(0.75);
  });

  it('accuracy of one sigmoid output: the probability at 0.5 against 0/1 labels', () => {
    // ≥ 0.5: yes, no, yes, no; labels 1, 0, 0, 1: two right.
    expect(categoricalAccuracy([0.9, 0.2, 0.5, 0.49], [1, 0, 0, 1], 1)).toBe(0.5);
  });

  it('mse, mae and r2', () => {
    expect(meanSquaredError([1, 2, 3], [2, 2, 5])).toBeCloseTo(5 / 3, 12);
    expect(meanAbsoluteError([1, 2, 3], [2, 2, 5])).toBe(1);
    // Targets 1..4 (mean 2.5, Σ(y − ȳ)² = 5), one miss by 1: 1 − 1/5.
    expect(r2Score([1, 2, 3, 5], [1, 2, 3, 4])).toBeCloseTo(0.8, 12);
    // Two columns, the second constant and predicted exactly (1): the mean of 0.8 and 1.
    expect(r2Score([1, 2, 2, 2, 3, 2, 5, 2], [1, 2, 2, 2, 3, 2, 4, 2], 2)).toBeCloseTo(0.9, 12);
  });
});

/**
 * A hand-written module (the CPU runtime drives any object of the ABI) with one param w:
 * each train step adds 1 to w, and the loss of any batch is LOSSES[w]. Its output is w
 * for every row, so its metrics are known too.
 */
function scripted(losses: readonly number[]): Model<{ w: Float32Array }> {
  const meta = { name: 'scripted', inputs: { x: [2, 1], y: [2, 1] }, params: { w: [1] }, outputs: { o: [2, 1] } };
  return {
    meta,
    initParams: () => ({ w: new Float32Array(1) }),
    forward: (params) => ({ o: new Float32Array(2).fill(params.w[0]!) }),
    loss: (params) => losses[params.w[0]!]!,
    gradient: () => { throw new Error('not used'); },
    trainStep: (params) => {
      const before = losses[params.w[0]!]!;
      params.w[0]! += 1;
      return before;
    },
  };
}
const rows4: Dataset = { inputs: { x: new Float32Array([1, 2, 3, 4]), y: new Float32Array([3, 3, 4, 4]) }, count: 4 };
const held: Dataset = { inputs: { x: new Float32Array([5, 6]), y: new Float32Array([3, 5]) }, count: 2 };

describe('train: history and early stopping', () => {
  it('reports named metrics for the training and held-out rows after each epoch', () => {
    // Two steps an epoch (4 rows, B = 2): after epoch 1 w = 2, after epoch 2 w = 4.
    const model = scripted([9, 8, 7, 6, 5, 4]);
    const params = model.initParams();
    const { history } = train(model, params, rows4, { learningRate: 1, epochs: 2, validation: held, metrics: ['mse', 'mae'], target: 'y' });
    expect(history.map((h) => h.loss)).toEqual([8.5, 6.5]);
    expect(history.map((h) => h.validationLoss)).toEqual([7, 5]);
    // Epoch 1, every output 2: training targets 3, 3, 4, 4 → mse (1 + 1 + 4 + 4) / 4, mae 6 / 4; held out 3, 5 → (1 + 9) / 2, 4 / 2.
    expect(history[0]!.metrics).toEqual({ mse: 2.5, mae: 1.5 });
    expect(history[0]!.validationMetrics).toEqual({ mse: 5, mae: 2 });
    // Epoch 2, every output 4: (1 + 1 + 0 + 0) / 4, 2 / 4; held out (1 + 1) / 2, 2 / 2.
    expect(history[1]!.metrics).toEqual({ mse: 0.5, mae: 0.5 });
    expect(history[1]!.validationMetrics).toEqual({ mse: 1, mae: 1 });
  });

  it('stops after `patience` epochs without improvement and restores the best epoch\'s params', () => {
    // Held-out losses after epochs 1..6 are LOSSES[2], [4], … : 5, 3, 3.5, 3.2, 4, 1 — best at epoch 2.
    const model = scripted([9, 9, 5, 9, 3, 9, 3.5, 9, 3.2, 9, 4, 9, 1]);
    const params = model.initParams();
    const result = train(model, params, rows4, { learningRate: 1, epochs: 6, validation: held, earlyStopping: { patience: 2 } });
    expect(result.history.map((h) => h.validationLoss)).toEqual([5, 3, 3.5, 3.2]);
    expect(result.stopped).toBe(true);
    expect(result.epochs).toBe(4);
    expect(result.bestEpoch).toBe(2);
    expect(params.w[0]).toBe(4);      // epoch 2's params, not epoch 4's (8)
  });

  it('minDelta, restoreBest: false, and a metric watched upwards', () => {
    const model = scripted([9, 9, 5, 9, 4.95, 9, 4.9, 9, 1]);
    const params = model.initParams();
    // Improvements of 0.05 are not more than minDelta 0.1: best stays epoch 1, stop after epoch 3, params kept.
    const r = train(model, params, rows4, { learningRate: 1, epochs: 4, validation: held, earlyStopping: { patience: 2, minDelta: 0.1, restoreBest: false } });
    expect([r.epochs, r.bestEpoch, params.w[0]]).toEqual([3, 3, 6]);
    // r2 on the held-out rows (targets 3, 5, mean 4; outputs w): 1 − ((3−w)² + (5−w)²) / 2 rises to w = 4, then falls.
    const up = scripted(Array.from({ length: 20 }, () => 1));
    const p2 = up.initParams();
    const r2 = train(up, p2, { inputs: { x: new Float32Array(2), y: new Float32Array([4, 4]) }, count: 2 }, {
      learningRate: 1, epochs: 8, validation: held, metrics: ['r2'], earlyStopping: { patience: 2, monitor: 'r2' },
    });
    // One step an epoch (2 rows, B = 2), so w = epoch: 1 − 20/2, 1 − 10/2, 1 − 4/2, 1 − 2/2, 1 − 4/2, 1 − 10/2.
    expect(r2.history.map((h) => h.validationMetrics!.r2)).toEqual([-9, -4, -1, 0, -1, -4]);
    expect([r2.epochs, r2.bestEpoch, p2.w[0]]).toEqual([6, 4, 4]);
  });

  it('says what is wrong with metrics and early stopping, in one line', () => {
    const model = scripted([1, 1, 1, 1]);
    const bad = (options: object) => () => train(model, model.initParams(), rows4, { learningRate: 1, epochs: 1, ...options });
    expect(bad({ metrics: ['acc'] })).toThrow(/^train: unknown metric "acc"; expected one of 'accuracy', 'mse', 'mae', 'r2'$/);
    expect(bad({ metrics: ['mse'], target: 'label' })).toThrow(/^train: metrics compare 'o' with the target input 'label', which model 'scripted' lacks; pass target: one of 'x', 'y'$/);
    expect(bad({ earlyStopping: { patience: 0 } })).toThrow(/^train: earlyStopping\.patience must be an integer ≥ 1, got 0$/);
    expect(bad({ earlyStopping: { patience: 1, monitor: 'validationLoss' } })).toThrow(/^train: earlyStopping\.monitor 'validationLoss' needs validation rows; pass validation, or monitor 'loss'$/);
    expect(bad({ earlyStopping: { patience: 1, monitor: 'accuracy' } })).toThrow(/^train: earlyStopping\.monitor must be one of 'loss' \(a metric is watched only when it is in metrics\), got 'accuracy'$/);
  });
});

describe('splitHoldout', () => {
  it('returns the dataset rows each part took', () => {
    const x = Float32Array.from({ length: 20 }, (_, i) => i * 10);
    const data = { inputs: { x, y: Float32Array.from({ length: 10 }, (_, i) => -i) }, count: 10 };
    const split = splitHoldout(data, 0.3, new Rng(5));
    expect(split.holdoutIndices.length).toBe(3);
    expect([...split.trainIndices, ...split.holdoutIndices].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    split.holdoutIndices.forEach((row, k) => {
      expect([...split.holdout.inputs.x!.subarray(2 * k, 2 * k + 2)]).toEqual([row * 20, row * 20 + 10]);
      expect(split.holdout.inputs.y![k]).toBe(-row);
    });
    split.trainIndices.forEach((row, k) => expect(split.train.inputs.y![k]).toBe(-row));
  });
});

describe('parseCsv', () => {
  it('reads a header row when a field of the first line is not a number, and quoted or spaced fields', () => {
    const t = parseCsv('a, "b",c\r\n1,2.5, -3\n\n"4",5e-1,6\n');
    expect(t.columns).toEqual(['a', 'b', 'c']);
    expect(t.hasHeader).toBe(true);
    expect(t.rows).toBe(2);
    expect([...t.values]).toEqual([1, 2.5, -3, 4, 0.5, 6]);
    expect([...selectColumns(t, ['c', 0])]).toEqual([-3, 1, 6, 4]);
  });

  it('reads a table without a header, or a numeric header when told', () => {
    const t = parseCsv('1;2\n3;4', { delimiter: ';' });
    expect([t.hasHeader, t.rows, [...t.values]]).toEqual([false, 2, [1, 2, 3, 4]]);
    expect(t.columns).toEqual(['column 1', 'column 2']);
    const h = parseCsv('1990,2000\n3,4', { header: true });
    expect([h.columns, h.rows]).toEqual([['1990', '2000'], 1]);
  });

  it('names the line and column of a field that is not a number, and of a short row', () => {
    expect(() => parseCsv('x,y,label\n1,2,0\n1,abc,1')).toThrow(/^parseCsv: line 3, column 2 \("y"\): "abc" is not a number$/);
    expect(() => parseCsv('1,2\n3,')).toThrow(/^parseCsv: line 2, column 2: an empty field is not a number$/);
    expect(() => parseCsv('x,y\n1,2\n\n3')).toThrow(/^parseCsv: line 4 has 1 fields but line 1 \(the header\) has 2$/);
    expect(() => parseCsv(' \n')).toThrow(/^parseCsv: the text has no rows$/);
    expect(() => selectColumns(parseCsv('x,y\n1,2'), ['z'])).toThrow(/^selectColumns: the table has no column "z" \(2 columns, indices 0 to 1; its columns: "x", "y"\)$/);
  });
});

describe('train, evaluate and predict on WebGPU', () => {
  // A dynamic batch of at most 8 rows: 21 rows are 8 + 8 + 5.
  const classifier = graph('fitgpu', (g) => {
    const B = g.batch(8);
    const x = g.input('x', [B, 3]);
    const h = tanh(affine(x, g.param('W1', [3, 6]), g.param('b1', [6])));
    const z = affine(h, g.param('W2', [6, 3]), g.param('b2', [3]));
    g.output('probs', softmax(z));
    g.loss(softmaxCrossEntropy(z, g.input('y', [B, 3])));
    g.optimizer(adam());
  });
  const dataOf = (count: number, seed: number): Dataset => {
    const x = randomArray(count * 3, seed);
    const labels = Array.from({ length: count }, (_, i) => (x[3 * i]! + x[3 * i + 1]! > 0 ? 1 : x[3 * i + 2]! > 0 ? 2 : 0));
    return { inputs: { x, y: oneHot(labels, 3) }, count };
  };

  it('takes the CPU train\'s steps and reports, and predicts and evaluates any number of rows', async () => {
    const { js, gpu } = await buildBoth(classifier);
    const model = await gpu.createModel(await gpuDevice(), { seed: 3 });
    try {
      const data = dataOf(21, 1);
      const validation = dataOf(13, 2);
      const options = { learningRate: 0.05, epochs: 4, seed: 9, validation, metrics: ['accuracy', 'mse'] as const, earlyStopping: { patience: 3 } };
      const params = js.initParams(3);
      const cpu = train(js as Model, params, data, { ...options, metrics: [...options.metrics] });
      const onGpu = await gpuRuntime.train(model, data, { ...options, metrics: [...options.metrics] });
      expect([onGpu.epochs, onGpu.steps]).toEqual([cpu.epochs, cpu.steps]);
      expect(onGpu.steps).toBe(4 * 3);   // 8 + 8 + 5 rows an epoch
      onGpu.history.forEach((h, e) => {
        const c = cpu.history[e]!;
        expect(h.loss).toBeCloseTo(c.loss, 4);
        expect(h.validationLoss!).toBeCloseTo(c.validationLoss!, 4);
        expect(h.validationMetrics!.mse!).toBeCloseTo(c.validationMetrics!.mse!, 4);
        expect(h.validationMetrics!.accuracy).toBe(c.validationMetrics!.accuracy);
      });
      // 21 rows, more than the 8 a call takes.
      const probs = await gpuRuntime.predict(model, { inputs: { x: data.inputs.x! }, count: 21 }, 'probs');
      const reference = predict(js as Model, params, data, 'probs');
      expect(probs.length).toBe(63);
      probs.forEach((p, i) => expect(Math.abs(p - reference[i]!)).toBeLessThan(1e-4));
      // The history's held-out accuracy is the classify helpers' on predict's output.
      const last = onGpu.history.at(-1)!;
      const heldProbs = await gpuRuntime.predict(model, validation, 'probs');
      expect(last.validationMetrics!.accuracy).toBe(accuracy(argmax(heldProbs, 3), argmax(validation.inputs.y!, 3)));
      expect(await gpuRuntime.evaluate(model, validation)).toBeCloseTo(evaluate(js as Model, params, validation), 4);
    } finally {
      model.destroy();
    }
  });

  it('restores the best epoch\'s params on the GPU when it stops early', async () => {
    const { gpu } = await buildBoth(classifier);
    const model = await gpu.createModel(await gpuDevice(), { seed: 1 });
    try {
      const validation = dataOf(16, 4);
      // A learning rate far too high: the held-out loss jumps about, so the run stops early.
      const r = await gpuRuntime.train(model, dataOf(16, 3), { learningRate: 3, epochs: 30, validation, earlyStopping: { patience: 2 } });
      const losses = r.history.map((h) => h.validationLoss!);
      const best = losses.indexOf(Math.min(...losses)) + 1;
      expect(r.stopped).toBe(true);
      expect(r.epochs).toBe(best + 2);
      expect(r.bestEpoch).toBe(best);
      expect(await gpuRuntime.evaluate(model, validation)).toBe(losses[best - 1]);
    } finally {
      model.destroy();
    }
  });

  it('refuses what is not a GPU model, in one line', async () => {
    await expect(gpuRuntime.train({} as never, dataOf(8, 1), { learningRate: 1, epochs: 1 })).rejects.toThrow(/^train: expected a model from a \.gpu\.js module's createModel, got Object$/);
  });
});

/** Keeps `Tensors` in use for readers of this file's types. */
export type { Tensors };
