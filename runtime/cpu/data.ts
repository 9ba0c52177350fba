/**
 * Datasets in rows, and batching them for a model whose batch size B is fixed at build
 * time: shuffling, gathering rows into preallocated batch arrays, held-out splits, and the
 * batch iterator the training and evaluation loops use.
 */
import type { Tensors } from './model.ts';
import type { Rng } from './rng.ts';

/**
 * `count` examples. Each named array holds `count` rows of equal width, row-major: row i
 * of `inputs[name]` is elements [i·w, (i+1)·w) with w = length / count. Names match the
 * model's inputs (features and targets alike); extra names are allowed and ignored.
 */
export interface Dataset {
  readonly inputs: Tensors;
  readonly count: number;
}

/** Throws unless `count` is a positive integer and every array holds `count` whole rows. */
export function checkDataset(dataset: Dataset, label = 'dataset'): void {
  if (typeof dataset !== 'object' || dataset === null || typeof dataset.inputs !== 'object' || dataset.inputs === null) {
    throw new TypeError(`${label}: expected { inputs: Record<string, Float32Array>, count: number }`);
  }
  const { count } = dataset;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`${label}: count must be an integer ≥ 1, got ${String(count)}`);
  for (const [name, values] of Object.entries(dataset.inputs)) {
    if (!(values instanceof Float32Array)) throw new TypeError(`${label}: '${name}' must be a Float32Array`);
    if (values.length === 0 || values.length % count !== 0) {
      throw new RangeError(`${label}: '${name}' has ${values.length} elements, which is not ${count} rows of a positive width`);
    }
  }
}

/** Elements per row of `dataset.inputs[name]`. */
export function rowWidth(dataset: Dataset, name: string): number {
  const values = dataset.inputs[name];
  if (values === undefined) throw new Error(`dataset has no array named '${name}' (it has ${listNames(dataset.inputs)})`);
  return values.length / dataset.count;
}

/** Shuffles `array` in place by Fisher–Yates with `rng`, and returns it. */
export function shuffle<T extends { length: number; [i: number]: unknown }>(array: T, rng: Rng): T {
  for (let i = array.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = array[i];
    array[i] = array[j];
    array[j] = t;
  }
  return array;
}

/** A uniformly random permutation of 0 … n − 1. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return shuffle(p, rng);
}

/**
 * Gathers rows `indices[start … start + length)` of `dataset` into a batch: row k of each
 * output array is row `indices[start + k]` of the same-named dataset array.
 *
 * With `into`, exactly the names in `into` are gathered into its arrays (each must have
 * room for `length` rows), so a training loop can reuse one set of batch buffers; without
 * it, fresh arrays are allocated for every name in the dataset. Returns the batch.
 */
export function takeRows(
  dataset: Dataset,
  indices: ArrayLike<number>,
  into?: Tensors,
  start = 0,
  length: number = indices.length - start,
): Tensors {
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > indices.length) {
    throw new RangeError(`takeRows: rows [${start}, ${start + length}) are outside the ${indices.length} indices given`);
  }
  const { count } = dataset;
  for (let k = start; k < start + length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= count) throw new RangeError(`takeRows: index ${String(i)} is not a row of a dataset of ${count}`);
  }
  let out = into;
  if (out === undefined) {
    out = {};
    for (const name of Object.keys(dataset.inputs)) out[name] = new Float32Array(length * rowWidth(dataset, name));
  }
  for (const name of Object.keys(out)) {
    const width = rowWidth(dataset, name);
    const dst = out[name];
    if (dst.length !== length * width) {
      throw new RangeError(`takeRows: the buffer for '${name}' has ${dst.length} elements but ${length} rows of ${width} need ${length * width}`);
    }
    gatherRows(dataset.inputs[name], dst, width, indices, start, length);
  }
  return out;
}

/**
 * dst row k := src row indices[start + k], for k < length, rows being `width` wide. No
 * checks and no allocation: for loops that checked their arguments once up front.
 */
export function gatherRows(src: Float32Array, dst: Float32Array, width: number, indices: ArrayLike<number>, start: number, length: number): void {
  if (width === 1) {
    for (let k = 0; k < length; k++) dst[k] = src[indices[start + k]];
    return;
  }
  for (let k = 0, o = 0; k < length; k++) {
    const s = indices[start + k] * width;
    for (let j = 0; j < width; j++, o++) dst[o] = src[s + j];
  }
}

export interface HoldoutSplit {
  readonly train: Dataset;
  readonly holdout: Dataset;
  /** The dataset rows of `train`, ascending: `train` row k is dataset row `trainIndices[k]`. */
  readonly trainIndices: Int32Array;
  /** The dataset rows of `holdout`, ascending. */
  readonly holdoutIndices: Int32Array;
}

/**
 * Splits off round(fraction · count) rows chosen uniformly at random with `rng` as a
 * held-out set; the rest is the training set. Both keep the dataset's row order, and the
 * split says which dataset rows went where (to split other arrays, or to look rows up).
 */
export function splitHoldout(dataset: Dataset, fraction: number, rng: Rng): HoldoutSplit {
  checkDataset(dataset);
  if (!Number.isFinite(fraction) || fraction <= 0 || fraction >= 1) {
    throw new RangeError(`splitHoldout: fraction must be a number in (0, 1), got ${String(fraction)}`);
  }
  const held = Math.round(fraction * dataset.count);
  if (held < 1 || held > dataset.count - 1) {
    throw new RangeError(`splitHoldout: a fraction of ${fraction} of ${dataset.count} rows leaves ${held} held out; both parts need at least one row`);
  }
  const p = permutation(dataset.count, rng);
  const holdIdx = p.slice(0, held).sort();
  const trainIdx = p.slice(held).sort();
  return {
    train: { inputs: takeRows(dataset, trainIdx), count: trainIdx.length },
    holdout: { inputs: takeRows(dataset, holdIdx), count: holdIdx.length },
    trainIndices: trainIdx,
    holdoutIndices: holdIdx,
  };
}

/**
 * What to do with the last n mod B examples of an epoch, B being the batch size:
 * - `drop`: skip them; every batch holds B distinct examples and each example appears at
 *   most once per epoch (exactly once for all but n mod B of them). With shuffling, the
 *   dropped ones differ from epoch to epoch. The default.
 * - `wrap`: fill the last batch up with examples from the start of this epoch's order
 *   (cyclically, if n < B); every example appears at least once per epoch, and B − (n mod B)
 *   of them twice.
 * - `pad`: fill the last batch up with copies of its last example; for evaluation, where
 *   the copies are discounted (see `BatchIterator.fresh`). Not for training.
 * - `keep`: the last batch is just the n mod B examples left: for a module built with a
 *   dynamic batch (`g.batch(max)`), which takes any rows up to B. Every example once.
 */
export type PartialBatchPolicy = 'drop' | 'wrap' | 'pad' | 'keep';

export interface BatchIteratorOptions {
  /** Rows per batch: the model's static B. */
  readonly batchSize: number;
  /** Default `drop`. */
  readonly partial?: PartialBatchPolicy;
  /** The arrays to gather, default all of the dataset's. */
  readonly names?: readonly string[];
}

const POLICIES: readonly PartialBatchPolicy[] = ['drop', 'wrap', 'pad', 'keep'];

/**
 * Steps through a dataset one fixed-size batch at a time, gathering into buffers allocated
 * once (`batch`), so that the loop itself allocates nothing:
 *
 *   const it = new BatchIterator(data, { batchSize: 64 });
 *   it.startEpoch(rng);                       // shuffled order; without rng: row order
 *   while (it.next()) model.trainStep(params, it.batch, lr);
 *
 * A fresh iterator is ready for one epoch in row order.
 */
export class BatchIterator {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly partial: PartialBatchPolicy;
  /**
   * The current batch: one array per name, B rows each (a `keep` last batch: its rows only,
   * for a module built with a dynamic batch). Overwritten by every `next()`.
   */
  get batch(): Tensors {
    return this.fresh < this.batchSize && this.partial === 'keep' ? this.last : this.full;
  }
  private readonly full: Tensors;
  /** The `keep` policy's last batch: views of the first rows of `full`. */
  private last: Tensors = {};
  /** The dataset rows in the current batch, B of them. */
  readonly indices: Int32Array;
  /** Batches `next()` yields per epoch. */
  readonly batchesPerEpoch: number;
  /**
   * How many leading rows of the current batch are seen for the first time this epoch
   * (B except in a wrapped or padded last batch); the rest are repeats.
   */
  fresh = 0;
  /** Position in this epoch's order of the current batch's first row. */
  offset = 0;

  /** The epoch's order of dataset rows. */
  private readonly order: Int32Array;
  private cursor = 0;
  private readonly sources: Float32Array[] = [];
  private readonly targets: Float32Array[] = [];
  private readonly widths: number[] = [];

  constructor(dataset: Dataset, options: BatchIteratorOptions) {
    checkDataset(dataset);
    const { batchSize, partial = 'drop' } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`BatchIterator: batchSize must be an integer ≥ 1, got ${String(batchSize)}`);
    if (!POLICIES.includes(partial)) throw new RangeError(`BatchIterator: partial must be one of ${POLICIES.join(', ')}, got ${String(partial)}`);
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.partial = partial;
    this.indices = new Int32Array(batchSize);
    this.order = new Int32Array(dataset.count);
    this.batchesPerEpoch = partial === 'drop' ? Math.floor(dataset.count / batchSize) : Math.ceil(dataset.count / batchSize);
    const batch: Tensors = {};
    for (const name of options.names ?? Object.keys(dataset.inputs)) {
      const width = rowWidth(dataset, name);
      batch[name] = new Float32Array(batchSize * width);
      this.sources.push(dataset.inputs[name]);
      this.targets.push(batch[name]);
      this.widths.push(width);
    }
    this.full = batch;
    this.startEpoch();
  }

  /** Starts an epoch: a fresh uniformly random order drawn with `rng`, or row order without. */
  startEpoch(rng?: Rng): void {
    const { order } = this;
    for (let i = 0; i < order.length; i++) order[i] = i;
    if (rng) shuffle(order, rng);
    this.cursor = 0;
    this.fresh = 0;
    this.offset = 0;
  }

  /** Fills `batch` and `indices` with the next batch; false when the epoch is over. */
  next(): boolean {
    const { order, indices, batchSize } = this;
    const n = order.length;
    const remaining = n - this.cursor;
    if (remaining <= 0 || (remaining < batchSize && this.partial === 'drop')) {
      this.cursor = n;
      this.fresh = 0;
      return false;
    }
    const fresh = remaining < batchSize ? remaining : batchSize;
    for (let k = 0; k < fresh; k++) indices[k] = order[this.cursor + k];
    if (this.partial === 'wrap') {
      for (let k = fresh; k < batchSize; k++) indices[k] = order[(k - fresh) % n];
    } else {
      for (let k = fresh; k < batchSize; k++) indices[k] = indices[fresh - 1];
    }
    this.offset = this.cursor;
    this.cursor += fresh;
    this.fresh = fresh;
    const rows = this.partial === 'keep' ? fresh : batchSize;
    for (let a = 0; a < this.sources.length; a++) gatherRows(this.sources[a], this.targets[a], this.widths[a], indices, 0, rows);
    if (rows < batchSize) {
      const names = Object.keys(this.full);
      this.last = Object.fromEntries(names.map((name, a) => [name, this.targets[a].subarray(0, rows * this.widths[a])]));
    }
    return true;
  }
}

function listNames(record: object): string {
  const names = Object.keys(record);
  return names.length === 0 ? 'none' : names.map((n) => `'${n}'`).join(', ');
}
