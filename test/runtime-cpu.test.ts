import { describe, expect, it } from 'vitest';
import {
  BatchIterator,
  Rng,
  accuracy,
  argmax,
  assertModel,
  batchLayout,
  checkDataset,
  columnStats,
  evaluate,
  minibatchSgd,
  oneHot,
  permutation,
  predict,
  sgd,
  shuffle,
  splitHoldout,
  standardizeColumns,
  takeRows,
  train,
  type Dataset,
  type EpochReport,
  type Model,
  type Tensors,
} from '../runtime/cpu/index.ts';
import housingGraph from '../samples/housing/housing.graph.ts';
import { housingData } from '../samples/housing/data.ts';
import kinkGraph from '../samples/kink/kink.graph.ts';
import { KINK_TRUTH, kinkData, toOriginalUnits } from '../samples/kink/data.ts';
import { buildModule } from './support/module.ts';

// Compile time only (npm run typecheck): a generated module's typed declarations satisfy
// `Model` as they are, with its own Params interface inferred.
type TypedHousing = typeof import('./golden/housing.js');
export const typedModuleFits = (m: TypedHousing): Model<ReturnType<TypedHousing['initParams']>> => m;

// ---------------------------------------------------------------------------------------
// A tiny hand-written model implementing the generated-module ABI: a linear regression
// ŷ = x·W + b on x [B, d], y [B, 1], loss J = (1/B) Σ ½(ŷ − y)², everything in float64
// internally. `seen` records the first feature of every row passed to trainStep.
// ---------------------------------------------------------------------------------------
interface LinearModel extends Model {
  readonly seen: number[][];
}

function linearModel(B: number, d = 2): LinearModel {
  const seen: number[][] = [];
  const check = (inputs: Tensors, needY: boolean) => {
    if (!(inputs.x instanceof Float32Array) || inputs.x.length !== B * d) throw new Error('bad x');
    if (needY && (!(inputs.y instanceof Float32Array) || inputs.y.length !== B)) throw new Error('bad y');
  };
  const predictRow = (p: Tensors, x: Float32Array, r: number) => {
    let s = p.b[0];
    for (let k = 0; k < d; k++) s += x[r * d + k] * p.W[k];
    return s;
  };
  const gradient = (p: Tensors, inputs: Tensors) => {
    check(inputs, true);
    const gW = new Float32Array(d);
    const gb = new Float32Array(1);
    const grads: Tensors = { W: gW, b: gb };
    let loss = 0;
    for (let r = 0; r < B; r++) {
      const e = predictRow(p, inputs.x, r) - inputs.y[r];
      loss += 0.5 * e * e;
      for (let k = 0; k < d; k++) gW[k] += (e * inputs.x[r * d + k]) / B;
      gb[0] += e / B;
    }
    return { loss: loss / B, grads };
  };
  return {
    seen,
    meta: { name: 'linear', inputs: { x: [B, d], y: [B, 1] }, params: { W: [d, 1], b: [1] }, outputs: { yhat: [B, 1] } },
    initParams: () => ({ W: new Float32Array(d), b: new Float32Array(1) }),
    forward(p: Tensors, inputs: Tensors) {
      check(inputs, false);
      const yhat = new Float32Array(B);
      for (let r = 0; r < B; r++) yhat[r] = predictRow(p, inputs.x, r);
      return { yhat };
    },
    loss: (p: Tensors, inputs: Tensors) => gradient(p, inputs).loss,
    gradient,
    trainStep(p: Tensors, inputs: Tensors, lr: number) {
      seen.push(Array.from({ length: B }, (_, r) => inputs.x[r * d]));
      const { loss, grads } = gradient(p, inputs);
      for (const k of ['W', 'b']) for (let i = 0; i < p[k].length; i++) p[k][i] -= lr * grads[k][i];
      return loss;
    },
  };
}

/**
 * n rows of y = 2·x0 − 3·x1 + 0.5 + noise. x0 = row id / 1000 + small jitter is unique per
 * row, so batches can be traced back to rows through `seen`.
 */
function linearData(n: number, seed = 5, noise = 0.01): Dataset {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = i / 1000 + 0.5;
    x[2 * i + 1] = rng.normal();
    y[i] = 2 * x[2 * i] - 3 * x[2 * i + 1] + 0.5 + noise * rng.normal();
  }
  return { inputs: { x, y }, count: n };
}

const rowOf = (x0: number) => Math.round((x0 - 0.5) * 1000);

/** Per-row squared loss computed directly, for comparison with the runtime's results. */
function directMeanLoss(p: Tensors, data: Dataset): number {
  let total = 0;
  for (let i = 0; i < data.count; i++) {
    const e = p.W[0] * data.inputs.x[2 * i] + p.W[1] * data.inputs.x[2 * i + 1] + p.b[0] - data.inputs.y[i];
    total += 0.5 * e * e;
  }
  return total / data.count;
}

const someParams = (): Tensors => ({ W: Float32Array.of(0.7, -1.3), b: Float32Array.of(0.25) });

// ---------------------------------------------------------------------------------------

describe('Rng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const draw = (seed: number) => {
      const r = new Rng(seed);
      return [r.next(), r.next(), r.normal(), r.int(1000), r.uint32(), r.normal(), r.normal()];
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(0)).not.toEqual(draw(2 ** 32)); // high bits of the seed matter
    expect(draw(-1)).toEqual(draw(-1));
  });

  it('next() is uniform on [0, 1)', () => {
    const r = new Rng(1);
    const n = 100_000;
    let sum = 0;
    let sumSq = 0;
    const bins = new Array(10).fill(0);
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      sumSq += u * u;
      bins[Math.floor(u * 10)]++;
    }
    expect(outside).toBe(0);
    const mean = sum / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(sumSq / n - mean * mean - 1 / 12)).toBeLessThan(0.002);
    for (const b of bins) expect(Math.abs(b - n / 10)).toBeLessThan(5 * Math.sqrt((n / 10) * 0.9));
  });

  it('normal() has mean 0, variance 1 and the 68–95 shape; normal(m, s) scales it', () => {
    const r = new Rng(2);
    const n = 100_000;
    let sum = 0;
    let sumSq = 0;
    let within1 = 0;
    let within2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      sum += z;
      sumSq += z * z;
      if (Math.abs(z) < 1) within1++;
      if (Math.abs(z) < 2) within2++;
    }
    expect(Math.abs(sum / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(0.02);
    expect(Math.abs(within1 / n - 0.6827)).toBeLessThan(0.006);
    expect(Math.abs(within2 / n - 0.9545)).toBeLessThan(0.004);
    const a = new Rng(9);
    const b = new Rng(9);
    for (let i = 0; i < 5; i++) expect(a.normal(5, 2)).toBeCloseTo(5 + 2 * b.normal(), 12);
  });

  it('int(n) covers 0 … n − 1 evenly and rejects bad n', () => {
    const r = new Rng(3);
    const counts = new Array(7).fill(0);
    const n = 70_000;
    for (let i = 0; i < n; i++) counts[r.int(7)]++;
    expect(counts.reduce((a, b) => a + b)).toBe(n); // every draw was an integer in range
    for (const c of counts) expect(Math.abs(c - n / 7)).toBeLessThan(5 * Math.sqrt((n / 7) * (6 / 7)));
    expect(r.int(1)).toBe(0);
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 33]) expect(() => r.int(bad)).toThrow(/Rng\.int/);
    expect(() => new Rng(0.5)).toThrow(/seed/);
  });
});

describe('shuffle and permutation', () => {
  it('permutation(n) is a permutation, deterministic per seed', () => {
    const p = permutation(50, new Rng(4));
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(p)).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(permutation(50, new Rng(4))).toEqual(p);
    expect(permutation(50, new Rng(5))).not.toEqual(p);
  });

  it('shuffle keeps the elements and reaches every ordering about equally often', () => {
    const words = ['a', 'b', 'c', 'd', 'e'];
    const shuffled = shuffle([...words], new Rng(6));
    expect([...shuffled].sort()).toEqual(words);
    const r = new Rng(7);
    const counts = new Map<string, number>();
    const n = 6000;
    for (let i = 0; i < n; i++) {
      const key = shuffle([0, 1, 2], r).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c - n / 6)).toBeLessThan(5 * Math.sqrt((n / 6) * (5 / 6)));
  });
});

describe('takeRows', () => {
  // x row i = [10i, 10i + 1, 10i + 2]; y row i = [−i]
  const n = 5;
  const data: Dataset = {
    inputs: {
      x: Float32Array.from({ length: n * 3 }, (_, k) => 10 * Math.floor(k / 3) + (k % 3)),
      y: Float32Array.from({ length: n }, (_, i) => -i),
    },
    count: n,
  };

  it('gathers the named rows, repeats included', () => {
    const out = takeRows(data, [4, 0, 4, 2]);
    expect(Array.from(out.x)).toEqual([40, 41, 42, 0, 1, 2, 40, 41, 42, 20, 21, 22]);
    expect(Array.from(out.y)).toEqual([-4, -0, -4, -2]);
  });

  it('fills given buffers in place, only the names they have, over a sub-range of indices', () => {
    const into = { x: new Float32Array(6) };
    const out = takeRows(data, Int32Array.of(9, 3, 1, 9), into, 1, 2);
    expect(out).toBe(into);
    expect(out.x).toBe(into.x);
    expect(Array.from(into.x)).toEqual([30, 31, 32, 10, 11, 12]);
    expect(Object.keys(out)).toEqual(['x']);
  });

  it('rejects bad indices, ranges and buffers', () => {
    expect(() => takeRows(data, [5])).toThrow(/index 5/);
    expect(() => takeRows(data, [-1])).toThrow(/index -1/);
    expect(() => takeRows(data, [1.5])).toThrow(/index 1.5/);
    expect(() => takeRows(data, [0, 1], undefined, 1, 2)).toThrow(/outside/);
    expect(() => takeRows(data, [0, 1], { x: new Float32Array(3) })).toThrow(/'x' has 3 elements/);
    expect(() => takeRows(data, [0], { z: new Float32Array(1) })).toThrow(/no array named 'z'/);
  });

  it('checkDataset rejects ragged arrays and bad counts', () => {
    expect(() => checkDataset({ inputs: { x: new Float32Array(7) }, count: 2 })).toThrow(/'x' has 7 elements/);
    expect(() => checkDataset({ inputs: { x: new Float32Array(4) }, count: 0 })).toThrow(/count/);
    expect(() => checkDataset({ inputs: { x: [1, 2] as unknown as Float32Array }, count: 2 })).toThrow(/Float32Array/);
  });
});

describe('splitHoldout', () => {
  const n = 40;
  const ids: Dataset = {
    inputs: { id: Float32Array.from({ length: n }, (_, i) => i), twice: Float32Array.from({ length: 2 * n }, (_, k) => Math.floor(k / 2)) },
    count: n,
  };

  it('partitions the rows, keeps row order and keeps each row intact', () => {
    const { train, holdout } = splitHoldout(ids, 0.25, new Rng(8));
    expect(holdout.count).toBe(10);
    expect(train.count).toBe(30);
    const all = [...train.inputs.id, ...holdout.inputs.id].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
    for (const part of [train, holdout]) {
      const list = Array.from(part.inputs.id);
      expect(list).toEqual([...list].sort((a, b) => a - b));
      expect(Array.from(part.inputs.twice)).toEqual(list.flatMap((i) => [i, i]));
    }
  });

  it('is deterministic per seed and rejects fractions that leave a part empty', () => {
    const a = splitHoldout(ids, 0.25, new Rng(8)).holdout.inputs.id;
    expect(splitHoldout(ids, 0.25, new Rng(8)).holdout.inputs.id).toEqual(a);
    expect(splitHoldout(ids, 0.25, new Rng(9)).holdout.inputs.id).not.toEqual(a);
    for (const bad of [0, 1, -0.1, 1.2, Number.NaN, 0.001, 0.999]) expect(() => splitHoldout(ids, bad, new Rng(1))).toThrow(/splitHoldout/);
  });
});

describe('BatchIterator', () => {
  const n = 23;
  const B = 5;
  const data: Dataset = {
    inputs: { id: Float32Array.from({ length: n }, (_, i) => i), pair: Float32Array.from({ length: 2 * n }, (_, k) => 100 * Math.floor(k / 2) + (k % 2)) },
    count: n,
  };

  /** Runs one epoch; returns the batches' indices and fresh counts, checking buffers match indices. */
  function epoch(it: BatchIterator, rng?: Rng) {
    it.startEpoch(rng);
    const batches: { indices: number[]; fresh: number; offset: number }[] = [];
    const buffer = it.batch.id;
    while (it.next()) {
      expect(it.batch.id).toBe(buffer); // reused, not reallocated
      const indices = Array.from(it.indices);
      expect(Array.from(it.batch.id)).toEqual(indices);
      expect(Array.from(it.batch.pair)).toEqual(indices.flatMap((i) => [100 * i, 100 * i + 1]));
      batches.push({ indices, fresh: it.fresh, offset: it.offset });
    }
    expect(it.next()).toBe(false);
    return batches;
  }

  it("'drop' yields ⌊n/B⌋ full batches of distinct rows, each row at most once per epoch", () => {
    const it = new BatchIterator(data, { batchSize: B, partial: 'drop' });
    expect(it.batchesPerEpoch).toBe(Math.floor(n / B));
    const dropped = new Set<string>();
    const rng = new Rng(10);
    for (let e = 0; e < 5; e++) {
      const batches = epoch(it, rng);
      expect(batches.length).toBe(Math.floor(n / B));
      const rows = batches.flatMap((b) => b.indices);
      expect(batches.every((b) => b.fresh === B)).toBe(true);
      expect(new Set(rows).size).toBe(Math.floor(n / B) * B);
      dropped.add(Array.from({ length: n }, (_, i) => i).filter((i) => !rows.includes(i)).join(','));
    }
    expect(dropped.size).toBeGreaterThan(1); // reshuffled: different rows dropped in different epochs
  });

  it("'wrap' yields ⌈n/B⌉ batches covering every row exactly once as fresh rows, topped up from the epoch's start", () => {
    const it = new BatchIterator(data, { batchSize: B, partial: 'wrap' });
    const batches = epoch(it, new Rng(11));
    expect(batches.length).toBe(Math.ceil(n / B));
    const fresh = batches.flatMap((b) => b.indices.slice(0, b.fresh));
    expect([...fresh].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    const last = batches[batches.length - 1];
    expect(last.fresh).toBe(n % B);
    expect(last.indices.slice(n % B)).toEqual(batches[0].indices.slice(0, B - (n % B)));
    expect(new Set(last.indices).size).toBe(B);
  });

  it("'pad' pads the last batch with copies of its last row; without rng the order is row order", () => {
    const it = new BatchIterator(data, { batchSize: B, partial: 'pad' });
    const batches = epoch(it);
    expect(batches.flatMap((b) => b.indices.slice(0, b.fresh))).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(batches.map((b) => b.offset)).toEqual(batches.map((_, k) => k * B));
    const last = batches[batches.length - 1];
    expect(last.indices).toEqual([20, 21, 22, 22, 22]);
  });

  it("'wrap' cycles when the dataset is smaller than a batch; names restrict the buffers", () => {
    const small: Dataset = { inputs: { id: Float32Array.of(0, 1, 2), other: new Float32Array(3) }, count: 3 };
    const it = new BatchIterator(small, { batchSize: 8, partial: 'wrap', names: ['id'] });
    expect(Object.keys(it.batch)).toEqual(['id']);
    expect(it.next()).toBe(true);
    expect(Array.from(it.indices)).toEqual([0, 1, 2, 0, 1, 2, 0, 1]);
    expect(it.next()).toBe(false);
    expect(new BatchIterator(small, { batchSize: 8 }).next()).toBe(false); // drop: no full batch
  });

  it('rejects bad options', () => {
    expect(() => new BatchIterator(data, { batchSize: 0 })).toThrow(/batchSize/);
    expect(() => new BatchIterator(data, { batchSize: 2.5 })).toThrow(/batchSize/);
    expect(() => new BatchIterator(data, { batchSize: 2, partial: 'cycle' as 'drop' })).toThrow(/partial/);
    expect(() => new BatchIterator(data, { batchSize: 2, names: ['nope'] })).toThrow(/'nope'/);
  });
});

describe('evaluate and predict', () => {
  for (const [n, B] of [[10, 4], [3, 4], [12, 4], [7, 1]] as const) {
    it(`evaluate weighs every row once (n = ${n}, B = ${B})`, () => {
      const data = linearData(n, 12, 0.5);
      const p = someParams();
      const expected = directMeanLoss(p, data);
      expect(evaluate(linearModel(B), p, data)).toBeCloseTo(expected, 5);
    });

    it(`predict returns one output row per example in order (n = ${n}, B = ${B})`, () => {
      const data = linearData(n, 13, 0.5);
      const p = someParams();
      const out = predict(linearModel(B), p, { inputs: { x: data.inputs.x }, count: n }, 'yhat');
      expect(out.length).toBe(n);
      for (let i = 0; i < n; i++) {
        expect(out[i]).toBeCloseTo(p.W[0] * data.inputs.x[2 * i] + p.W[1] * data.inputs.x[2 * i + 1] + p.b[0], 5);
      }
    });
  }

  it('reject unknown outputs, missing inputs and mismatched widths', () => {
    const data = linearData(6);
    const model = linearModel(4);
    expect(() => predict(model, someParams(), data, 'nope')).toThrow(/no output 'nope'.*'yhat'/);
    expect(() => evaluate(model, someParams(), { inputs: { x: data.inputs.x }, count: 6 })).toThrow(/needs input 'y'/);
    expect(() => evaluate(model, someParams(), { inputs: { x: new Float32Array(18), y: data.inputs.y }, count: 6 })).toThrow(/'x'.*2 value.*3/);
    expect(() => evaluate(model, { W: new Float32Array(2) }, data)).toThrow(/params has no Float32Array 'b'/);
  });
});

describe('minibatchSgd', () => {
  it('reduces the loss and recovers the generating weights', () => {
    const data = linearData(200, 14);
    const model = linearModel(10);
    const p = model.initParams();
    const before = evaluate(model, p, data);
    const result = minibatchSgd(model, p, data, { learningRate: 0.2, epochs: 60, seed: 1 });
    const after = evaluate(model, p, data);
    expect(after).toBeLessThan(before / 100);
    expect(p.W[1]).toBeCloseTo(-3, 1);
    expect(result.epochs).toBe(60);
    expect(result.steps).toBe(60 * 20);
    expect(result.epochLosses[59]).toBeLessThan(result.epochLosses[0] / 10);
  });

  it('each epoch steps over a fresh shuffle, B distinct rows per batch, each row at most once', () => {
    const n = 23;
    const B = 5;
    const data = linearData(n, 15);
    for (const partial of ['drop', 'wrap'] as const) {
      const model = linearModel(B);
      const epochs: number[] = [];
      const result = minibatchSgd(model, model.initParams(), data, { learningRate: 0.01, epochs: 3, seed: 2, partial, onEpoch: (e) => void epochs.push(e) });
      const perEpoch = partial === 'drop' ? Math.floor(n / B) : Math.ceil(n / B);
      expect(epochs).toEqual([1, 2, 3]);
      expect(result.steps).toBe(3 * perEpoch);
      expect(model.seen.length).toBe(3 * perEpoch);
      const orders: string[] = [];
      for (let e = 0; e < 3; e++) {
        const batches = model.seen.slice(e * perEpoch, (e + 1) * perEpoch).map((b) => b.map(rowOf));
        for (const b of batches) expect(new Set(b).size).toBe(B);
        const rows = batches.flat();
        const distinct = new Set(rows);
        expect(distinct.size).toBe(partial === 'drop' ? perEpoch * B : n);
        orders.push(rows.join(','));
      }
      expect(new Set(orders).size).toBe(3);
    }
  });

  it('is deterministic per seed, and stops when onEpoch returns false', () => {
    const data = linearData(50, 16);
    const run = (seed: number) => {
      const model = linearModel(5);
      const p = model.initParams();
      minibatchSgd(model, p, data, { learningRate: 0.05, epochs: 2, seed });
      return [...p.W, ...p.b];
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
    const model = linearModel(5);
    const result = minibatchSgd(model, model.initParams(), data, { learningRate: 0.05, epochs: 10, onEpoch: (e) => e < 4 });
    expect(result.epochs).toBe(4);
    expect(result.epochLosses.length).toBe(4);
  });

  it('rejects bad options with clear errors', () => {
    const data = linearData(20);
    const model = linearModel(5);
    const p = model.initParams();
    const go = (options: Record<string, unknown>) => () => minibatchSgd(model, p, data, { learningRate: 0.1, epochs: 1, ...options } as never);
    for (const lr of [0, -0.1, Number.NaN, Number.POSITIVE_INFINITY, '0.1']) expect(go({ learningRate: lr })).toThrow(/learningRate must be a finite number > 0/);
    for (const epochs of [0, -1, 1.5, Number.NaN, '2']) expect(go({ epochs })).toThrow(/epochs must be an integer ≥ 1/);
    expect(go({ seed: 0.5 })).toThrow(/seed/);
    expect(go({ partial: 'pad' })).toThrow(/partial must be 'drop', 'wrap' or 'keep'/);
    expect(go({ partial: 'keep' })).toThrow(/partial 'keep' needs a model built with a dynamic batch \(g\.batch\(max\)\)/);
    expect(go({ onEpoch: 3 })).toThrow(/onEpoch must be a function/);
    expect(() => minibatchSgd(model, p, data, undefined as never)).toThrow(/options/);
    expect(() => minibatchSgd(linearModel(30), p, data, { learningRate: 0.1, epochs: 1 })).toThrow(/20 examples.*batches of 30/);
    expect(() => minibatchSgd(model, p, { inputs: { x: data.inputs.x }, count: 20 }, { learningRate: 0.1, epochs: 1 })).toThrow(/needs input 'y'/);
  });

  it('stops with an error when the loss diverges', () => {
    const model = linearModel(5);
    expect(() => minibatchSgd(model, model.initParams(), linearData(20), { learningRate: 1e6, epochs: 50 })).toThrow(/diverged/);
  });
});

describe('minibatchSgd onStep', () => {
  it('reports every step with its loss and epoch, and stops at once when it returns false', () => {
    const data = linearData(20, 17);
    const model = linearModel(5);
    const seen: [number, number, number][] = [];
    const epochs: number[] = [];
    const result = minibatchSgd(model, model.initParams(), data, {
      learningRate: 0.05, epochs: 10,
      onStep: (step, loss, epoch) => {
        seen.push([step, loss, epoch]);
        return step < 6;
      },
      onEpoch: (e) => void epochs.push(e),
    });
    // 4 steps per epoch; step 6 is the second of epoch 2, and the run ends there.
    expect(seen.map(([step, , epoch]) => [step, epoch])).toEqual([[1, 1], [2, 1], [3, 1], [4, 1], [5, 2], [6, 2]]);
    expect(result).toMatchObject({ epochs: 2, steps: 6, stopped: true });
    expect(epochs).toEqual([1]);
    expect(result.epochLosses[0]).toBeCloseTo((seen[0][1] + seen[1][1] + seen[2][1] + seen[3][1]) / 4, 12);
    expect(result.epochLosses[1]).toBeCloseTo((seen[4][1] + seen[5][1]) / 2, 12);
    expect(model.seen.length).toBe(6);
  });

  it('runs to the end when no callback stops it, and rejects an onStep that is not a function', () => {
    const model = linearModel(5);
    const result = minibatchSgd(model, model.initParams(), linearData(20), { learningRate: 0.05, epochs: 3, onStep: () => undefined });
    expect(result).toMatchObject({ epochs: 3, steps: 12, stopped: false });
    expect(() => minibatchSgd(model, model.initParams(), linearData(20), { learningRate: 0.05, epochs: 1, onStep: 1 as never })).toThrow(/onStep must be a function/);
  });
});

describe('train', () => {
  it('reports each epoch with the held-out loss after it, and stops when onEpoch returns false', () => {
    const data = linearData(40, 18);
    const holdout = linearData(9, 19);
    const model = linearModel(5);
    const params = model.initParams();
    const measured: number[] = [];
    const reports: EpochReport[] = [];
    const result = train(model, params, data, {
      learningRate: 0.1, epochs: 50, seed: 4, validation: holdout,
      onEpoch: (report) => {
        reports.push(report);
        measured.push(directMeanLoss(params, holdout));
        return report.epoch < 3;
      },
    });
    expect(result).toMatchObject({ epochs: 3, steps: 24, stopped: true });
    expect(result.history).toEqual(reports);
    expect(reports.map((r) => [r.epoch, r.steps])).toEqual([[1, 8], [2, 16], [3, 24]]);
    reports.forEach((r, i) => {
      expect(r.validationLoss).toBeCloseTo(measured[i], 5);
      expect(r.loss).toBe(result.epochLosses[i]);
    });
    expect(reports[2].validationLoss!).toBeLessThan(reports[0].validationLoss!);
  });

  it('passes step reports, stops on onStep, and without validation reports no validation loss', () => {
    const model = linearModel(5);
    const steps: string[] = [];
    const result = train(model, model.initParams(), linearData(20), {
      learningRate: 0.05, epochs: 4,
      onStep: ({ step, epoch, loss }) => {
        steps.push(`${step}/${epoch}`);
        expect(Number.isFinite(loss)).toBe(true);
        return step !== 7;
      },
    });
    expect(steps).toEqual(['1/1', '2/1', '3/1', '4/1', '5/2', '6/2', '7/2']);
    expect(result).toMatchObject({ epochs: 2, steps: 7, stopped: true });
    expect(result.history).toHaveLength(1);
    expect('validationLoss' in result.history[0]).toBe(false);
  });

  it('gives the same params as minibatchSgd with the same options', () => {
    const data = linearData(30, 20);
    const a = linearModel(5);
    const b = linearModel(5);
    const pa = a.initParams();
    const pb = b.initParams();
    train(a, pa, data, { learningRate: 0.05, epochs: 3, seed: 9, partial: 'wrap' });
    minibatchSgd(b, pb, data, { learningRate: 0.05, epochs: 3, seed: 9, partial: 'wrap' });
    expect([...pa.W, ...pa.b]).toEqual([...pb.W, ...pb.b]);
    expect(() => train(a, pa, data, undefined as never)).toThrow(/train: options/);
    expect(() => train(a, pa, data, { learningRate: 0.05, epochs: 1, onEpoch: 'x' as never })).toThrow(/train: onEpoch must be a function/);
  });
});

describe('oneHot, argmax, accuracy', () => {
  it('oneHot puts a 1 in each row at its label', () => {
    expect([...oneHot([2, 0, 1], 3)]).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0]);
    expect([...oneHot(Int32Array.of(0), 1)]).toEqual([1]);
    expect(oneHot([], 4).length).toBe(0);
    for (const bad of [3, -1, 1.5, Number.NaN]) expect(() => oneHot([0, bad], 3)).toThrow(new RegExp(`oneHot: labels\\[1\\] is ${bad}, not a class index in \\[0, 3\\)`));
    expect(() => oneHot([0], 0)).toThrow(/oneHot: classes must be an integer ≥ 1, got 0/);
  });

  it('argmax takes the first largest value of each row; NaN never wins', () => {
    expect([...argmax(Float32Array.of(0.1, 0.7, 0.2, 5, 5, -1, -2, -3, -1), 3)]).toEqual([1, 0, 2]);
    expect([...argmax([Number.NaN, 1, 0, -Infinity, -Infinity, Number.NaN, Number.NaN, Number.NaN, Number.NaN], 3)]).toEqual([1, 0, -1]);
    expect([...argmax([4, 2], 1)]).toEqual([0, 0]);
    expect(() => argmax(new Float32Array(5), 2)).toThrow(/argmax: 5 values are not whole rows of width 2/);
    expect(() => argmax(new Float32Array(4), 0)).toThrow(/argmax: width must be an integer ≥ 1/);
  });

  it('accuracy is the fraction of predictions equal to their labels', () => {
    expect(accuracy([0, 1, 2, 2], Int32Array.of(0, 1, 1, 2))).toBe(0.75);
    expect(accuracy(argmax(oneHot([1, 2, 0], 3), 3), [1, 2, 0])).toBe(1);
    expect(() => accuracy([0, 1], [0])).toThrow(/accuracy: 2 predictions but 1 labels/);
    expect(() => accuracy([], [])).toThrow(/accuracy: no predictions/);
  });
});

describe('sgd (one example per update)', () => {
  it('reduces the loss with single-example updates and samples rows uniformly', () => {
    const data = linearData(40, 17);
    const model = linearModel(1);
    const p = model.initParams();
    const before = evaluate(model, p, data);
    const steps: number[] = [];
    const result = sgd(model, p, data, { learningRate: 0.05, iterations: 4000, seed: 5, onStep: (i) => void steps.push(i) });
    expect(evaluate(model, p, data)).toBeLessThan(before / 100);
    expect(result.iterations).toBe(4000);
    expect(steps.length).toBe(4000);
    expect(steps[0]).toBe(1);
    const counts = new Array(40).fill(0);
    for (const [x0] of model.seen) counts[rowOf(x0)]++;
    for (const c of counts) expect(Math.abs(c - 100)).toBeLessThan(5 * Math.sqrt(100 * (39 / 40)));
  });

  it('refuses a model whose static batch is not 1, pointing to minibatchSgd', () => {
    const model = linearModel(4);
    expect(() => sgd(model, model.initParams(), linearData(20), { learningRate: 0.1, iterations: 10 })).toThrow(/batch of 4.*minibatchSgd/);
  });

  it('rejects bad options', () => {
    const model = linearModel(1);
    const p = model.initParams();
    const data = linearData(10);
    expect(() => sgd(model, p, data, { learningRate: 0, iterations: 10 })).toThrow(/learningRate/);
    expect(() => sgd(model, p, data, { learningRate: 0.1, iterations: 0 })).toThrow(/iterations must be an integer ≥ 1/);
    expect(() => sgd(model, p, data, { learningRate: 0.1, iterations: 2.5 })).toThrow(/iterations/);
  });
});

describe('model helpers and normalization', () => {
  it('assertModel names what is missing; batchLayout checks the batch dimension', () => {
    const { trainStep: _omit, ...partial } = linearModel(2);
    expect(() => assertModel(partial, 'm.js')).toThrow(/m\.js: missing function export\(s\) trainStep/);
    expect(() => assertModel(null)).toThrow(/null/);
    expect(() => assertModel(linearModel(2))).not.toThrow();
    const meta = { name: 'm', params: {}, outputs: {} };
    expect(batchLayout({ ...meta, inputs: { x: [8, 3, 2], y: [8] } })).toEqual({ batchSize: 8, rowWidths: { x: 6, y: 1 } });
    expect(() => batchLayout({ ...meta, inputs: { x: [8, 3], y: [4, 1] } })).toThrow(/batch size/);
    expect(() => batchLayout({ ...meta, inputs: { s: [] } })).toThrow(/scalar/);
  });

  it('standardizeColumns gives each column mean 0 and standard deviation 1', () => {
    const rng = new Rng(18);
    const rows = 50;
    const values = Float32Array.from({ length: rows * 3 }, (_, k) => (k % 3) * 100 + (1 + (k % 3)) * rng.normal());
    const stats = columnStats(values, 3);
    for (let j = 0; j < 3; j++) {
      let m = 0;
      for (let i = 0; i < rows; i++) m += values[i * 3 + j] / rows;
      expect(stats.mean[j]).toBeCloseTo(m, 4);
    }
    standardizeColumns(values, stats);
    for (let j = 0; j < 3; j++) {
      let m = 0;
      let v = 0;
      for (let i = 0; i < rows; i++) m += values[i * 3 + j] / rows;
      for (let i = 0; i < rows; i++) v += (values[i * 3 + j] - m) ** 2 / rows; // population variance
      expect(m).toBeCloseTo(0, 5);
      expect(Math.sqrt(v)).toBeCloseTo(1, 5);
    }
    expect(() => columnStats(new Float32Array(5), 3)).toThrow(/width 3/);
  });
});

describe('with modules gradc generates from the sample graphs', () => {
  it('housing: evaluate over a partial last batch agrees with per-row losses from predict', async () => {
    const model = await buildModule(housingGraph);
    const { holdout } = housingData(1280, 0.2, 2);
    const p = model.initParams(5);
    for (const n of [1, 63, 100]) {
      const rows = { inputs: takeRows(holdout, Array.from({ length: n }, (_, i) => i)), count: n };
      const price = predict(model, p, rows, 'price');
      let direct = 0;
      for (let i = 0; i < n; i++) direct += (0.5 * (price[i] - rows.inputs.y[i]) ** 2) / n;
      expect(evaluate(model, p, rows)).toBeCloseTo(direct, 5);
    }
  });

  it('housing: minibatchSgd cuts the held-out loss', async () => {
    const model = await buildModule(housingGraph);
    const { train, holdout } = housingData(1280, 0.2, 2);
    const p = model.initParams(2);
    const before = evaluate(model, p, holdout);
    minibatchSgd(model, p, train, { learningRate: 0.05, epochs: 40, seed: 1 });
    expect(evaluate(model, p, holdout)).toBeLessThan(before / 5);
  });

  it('kink: one ReLU neuron finds the kink of the synthetic prices', async () => {
    const model = await buildModule(kinkGraph);
    const data = kinkData(256, 1);
    const p = model.initParams(1);
    minibatchSgd(model, p, data.dataset, { learningRate: 0.1, epochs: 30, seed: 2 });
    const fit = toOriginalUnits(data, p.w[0], p.b[0]);
    expect(Math.abs(fit.kinkSize - KINK_TRUTH.kinkSize)).toBeLessThan(100);
    expect(Math.abs(fit.slope / KINK_TRUTH.slope - 1)).toBeLessThan(0.1);
  });
});
