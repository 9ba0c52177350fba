/**
 * The training, evaluation and prediction loops, written once for every backend. A loop is a
 * generator that yields each call it makes to the backend (a train step, a loss, a forward
 * pass, a copy of the params) and is resumed with its result: `runSync` drives it over a
 * backend whose calls return values (the JS and wasm modules), `runAsync` over one whose
 * calls return promises (a WebGPU model). Epochs, shuffling, batching, partial batches,
 * held-out evaluation, metrics and early stopping are therefore the same on both.
 */
import { checkCallback, checkCount, checkLearningRate, checkSeed, modelBatching } from '../cpu/checks.ts';
import { BatchIterator, takeRows, type Dataset } from '../cpu/data.ts';
import { Rng } from '../cpu/rng.ts';
import { sizeOfShape, type ModelMeta, type Tensors } from '../cpu/model.ts';
import { checkMetrics, computeMetric, improved, type MetricName } from './metrics.ts';

/** A value now (CPU) or later (GPU). */
export type Maybe<T> = T | Promise<T>;

/** What a loop needs of a model: the calls it makes, each on one batch of rows. */
export interface LoopBackend {
  readonly meta: ModelMeta;
  /** One optimizer step on `batch`; the loss before it. */
  trainStep(batch: Tensors, learningRate: number): Maybe<number>;
  /** The loss on `batch`. */
  loss(batch: Tensors): Maybe<number>;
  /** The outputs for `batch`. */
  forward(batch: Tensors): Maybe<object>;
  /** A copy of the params, for `restore` (early stopping's best epoch). */
  snapshot(): Maybe<Tensors>;
  restore(params: Tensors): Maybe<void>;
}

/** A loop: yields backend calls' results-to-be, is resumed with their values. */
export type Loop<T> = Generator<unknown, T, unknown>;

/** Runs a loop whose backend answers at once. */
export function runSync<T>(loop: Loop<T>): T {
  let r = loop.next();
  while (!r.done) r = loop.next(r.value);
  return r.value;
}

/** Runs a loop whose backend answers with promises, awaiting each. */
export async function runAsync<T>(loop: Loop<T>): Promise<T> {
  let r = loop.next();
  while (!r.done) {
    let value: unknown;
    try {
      value = await r.value;
    } catch (e) {
      r = loop.throw(e);
      continue;
    }
    r = loop.next(value);
  }
  return r.value;
}

/**
 * The mean per-example loss over all `data.count` rows, walked in row order B rows at a time.
 * A model with a dynamic batch takes the last rows as they are; with a fixed batch B, the last
 * batch is padded with copies of its last row and the copies discounted: a batch of r real rows
 * and B − r copies of row p has loss L = (Σ_real ℓ_i + (B − r) ℓ_p) / B, and a batch of B
 * copies of p has loss ℓ_p, so the real rows contribute B·L − (B − r)·ℓ_p. Assumes the loss is
 * a mean over rows of a per-row term (as every gradc loss is).
 */
export function* evaluateLoop(fn: string, backend: LoopBackend, data: Dataset): Loop<number> {
  const { meta } = backend;
  const { batchSize, names } = modelBatching(fn, meta, data);
  const batches = new BatchIterator(data, { batchSize, partial: meta.batch ? 'keep' : 'pad', names });
  let total = 0;
  while (batches.next()) {
    const loss = (yield backend.loss(batches.batch)) as number;
    const fresh = batches.fresh;
    if (fresh === batchSize || meta.batch) {
      total += loss * fresh;
      continue;
    }
    // Only the last batch gets here: measure the padding row alone and take it out.
    const padding = new Int32Array(batchSize).fill(batches.indices[fresh - 1]);
    const padLoss = (yield backend.loss(takeRows(data, padding, batches.batch))) as number;
    total += batchSize * loss - (batchSize - fresh) * padLoss;
  }
  return total / data.count;
}

/**
 * Output `outputName` for every row of `data`, in chunks of at most the model's batch: a
 * Float32Array of `data.count` rows of the output's row width. Only the model inputs the
 * dataset holds are passed (targets may be left out if the output does not need them).
 */
export function* predictLoop(fn: string, backend: LoopBackend, data: Dataset, outputName: string): Loop<Float32Array> {
  const { meta } = backend;
  const shape = meta.outputs[outputName];
  if (shape === undefined) {
    const has = Object.keys(meta.outputs).map((n) => `'${n}'`).join(', ') || 'none';
    throw new Error(`${fn}: model '${meta.name}' has no output '${String(outputName)}' (its outputs: ${has})`);
  }
  const { batchSize, names } = modelBatching(fn, meta, data, true);
  if (names.length === 0) throw new Error(`${fn}: the dataset holds none of the inputs of model '${meta.name}'`);
  if (shape.length === 0 || shape[0] !== batchSize) {
    throw new Error(`${fn}: output '${outputName}' has shape [${shape.join(', ')}], not one row per example of the batch of ${batchSize}`);
  }
  const width = sizeOfShape(shape.slice(1));
  const result = new Float32Array(data.count * width);
  const keep = meta.batch !== undefined;
  const batches = new BatchIterator(data, { batchSize, partial: keep ? 'keep' : 'pad', names });
  while (batches.next()) {
    const outputs = (yield backend.forward(batches.batch)) as Record<string, unknown>;
    const out = outputs[outputName];
    const rows = keep ? batches.fresh : batchSize;
    if (!(out instanceof Float32Array) || out.length !== rows * width) {
      throw new Error(`${fn}: forward did not return a Float32Array of ${rows * width} elements for '${outputName}'`);
    }
    result.set(out.subarray(0, batches.fresh * width), batches.offset * width);
  }
  return result;
}

/** A step's report: 1-based step (over the whole run) and epoch, and the batch loss before the update. */
export interface StepReport {
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
}

export interface EpochReport {
  /** 1-based. */
  readonly epoch: number;
  /** Steps run so far in the whole run. */
  readonly steps: number;
  /** Mean of this epoch's batch losses, each taken before its update. */
  readonly loss: number;
  /** Mean loss over every row of `validation` after this epoch, when it was given. */
  readonly validationLoss?: number;
  /** Each of `metrics` over the training rows, after this epoch. */
  readonly metrics?: Readonly<Partial<Record<MetricName, number>>>;
  /** Each of `metrics` over the `validation` rows, after this epoch. */
  readonly validationMetrics?: Readonly<Partial<Record<MetricName, number>>>;
}

export interface EarlyStopping {
  /** Epochs without improvement to wait before stopping, ≥ 1. */
  readonly patience: number;
  /**
   * What is watched: 'loss', 'validationLoss' or a metric of `metrics` (watched on the
   * validation rows when given, else on the training rows). Default 'validationLoss' with
   * validation rows, else 'loss'. Losses, mse and mae improve downwards, accuracy and r2 upwards.
   */
  readonly monitor?: 'loss' | 'validationLoss' | MetricName;
  /** The least change that counts as an improvement, ≥ 0; default 0. */
  readonly minDelta?: number;
  /** Put back the params of the best epoch when the run ends (default true). */
  readonly restoreBest?: boolean;
}

/** The options every backend's `train` takes. */
export interface FitOptions {
  /** α > 0. */
  readonly learningRate: number;
  /** Passes over the data, ≥ 1. */
  readonly epochs: number;
  /** Seeds the per-epoch shuffles; default 0. */
  readonly seed?: number;
  /**
   * The last n mod B rows of an epoch: `drop` (the default for a fixed batch), `wrap`, or
   * `keep` (the default for a module with a dynamic batch); see PartialBatchPolicy.
   */
  readonly partial?: 'drop' | 'wrap' | 'keep';
  /** Held-out rows, evaluated after every epoch; never trained on. */
  readonly validation?: Dataset;
  /** Metrics to report after every epoch, on the training rows and on `validation`. */
  readonly metrics?: readonly MetricName[];
  /** The output the metrics read; default the model's only output. */
  readonly output?: string;
  /** The input holding the targets the metrics compare with; default 'y'. */
  readonly target?: string;
  /** Stop when the watched value has not improved for `patience` epochs. */
  readonly earlyStopping?: EarlyStopping;
  /** After every update; return false to stop at once. */
  readonly onStep?: (report: StepReport) => void | boolean;
  /** After every whole epoch; return false to stop. */
  readonly onEpoch?: (report: EpochReport) => void | boolean;
}

export interface FitResult {
  /** Epochs run, the last perhaps in part (fewer than asked if the run was stopped). */
  readonly epochs: number;
  /** Whether a callback or early stopping stopped the run. */
  readonly stopped: boolean;
  /** Updates made. */
  readonly steps: number;
  /** Per epoch, the mean pre-update batch loss. */
  readonly epochLosses: Float64Array;
  /** The report of every whole epoch, as passed to `onEpoch`. */
  readonly history: readonly EpochReport[];
  /** With early stopping: the epoch whose params the model holds at the end (the best, when restored). */
  readonly bestEpoch?: number;
}

/** What the metrics read: the output, the target input and its width. */
interface MetricPlan {
  readonly names: readonly MetricName[];
  readonly output: string;
  readonly target: string;
  readonly width: number;
}

function metricPlan(fn: string, meta: ModelMeta, options: FitOptions): MetricPlan | undefined {
  const names = checkMetrics(fn, options.metrics);
  if (names.length === 0) return undefined;
  const outputs = Object.keys(meta.outputs);
  const output = options.output ?? (outputs.length === 1 ? outputs[0] : undefined);
  if (output === undefined || meta.outputs[output] === undefined) {
    throw new Error(`${fn}: metrics read one output; pass output: one of ${outputs.map((n) => `'${n}'`).join(', ')}${options.output === undefined ? '' : `, got '${String(options.output)}'`}`);
  }
  const target = options.target ?? 'y';
  const targetShape = meta.inputs[target];
  if (targetShape === undefined) {
    throw new Error(`${fn}: metrics compare '${output}' with the target input '${target}', which model '${meta.name}' lacks; pass target: one of ${Object.keys(meta.inputs).map((n) => `'${n}'`).join(', ')}`);
  }
  const width = sizeOfShape(meta.outputs[output].slice(1));
  const targetWidth = sizeOfShape(targetShape.slice(1));
  if (width !== targetWidth) throw new Error(`${fn}: metrics compare output '${output}' (${width} a row) with input '${target}' (${targetWidth} a row); their widths must match`);
  return { names, output, target, width };
}

function* metricsOn(fn: string, backend: LoopBackend, plan: MetricPlan, data: Dataset): Loop<Partial<Record<MetricName, number>>> {
  const predicted = yield* predictLoop(fn, backend, data, plan.output);
  const target = data.inputs[plan.target];
  if (target === undefined) throw new Error(`${fn}: the dataset has no '${plan.target}' for the metrics to compare with`);
  return Object.fromEntries(plan.names.map((name) => [name, computeMetric(name, predicted, target, plan.width)]));
}

/**
 * Mini-batch training: each epoch draws a fresh uniformly random order of the rows (seeded)
 * and steps through it B at a time, so every batch holds distinct rows. After each epoch: the
 * held-out loss and the metrics, then early stopping's check, then `onEpoch`.
 */
export function* fitLoop(fn: string, backend: LoopBackend, data: Dataset, options: FitOptions): Loop<FitResult> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${fn}: options { learningRate, epochs } are required`);
  const { meta } = backend;
  const learningRate = checkLearningRate(fn, options.learningRate);
  const epochs = checkCount(fn, 'epochs', options.epochs);
  const rng = new Rng(checkSeed(fn, options.seed));
  const onEpoch = checkCallback(fn, 'onEpoch', options.onEpoch);
  const onStep = checkCallback(fn, 'onStep', options.onStep);
  const { validation } = options;
  const metrics = metricPlan(fn, meta, options);
  const stopping = checkEarlyStopping(fn, options, metrics);
  // A module with a dynamic batch trains on the last rows of an epoch too, as they are.
  const partial = options.partial ?? (meta.batch ? 'keep' : 'drop');
  if (partial !== 'drop' && partial !== 'wrap' && partial !== 'keep') throw new RangeError(`${fn}: partial must be 'drop', 'wrap' or 'keep', got ${String(partial)}`);
  if (partial === 'keep' && !meta.batch) {
    throw new RangeError(`${fn}: partial 'keep' needs a model built with a dynamic batch (g.batch(max)); model '${meta.name}' has a fixed batch`);
  }
  const { batchSize, names } = modelBatching(fn, meta, data);
  if (validation !== undefined) modelBatching(`${fn}: validation`, meta, validation);
  if (data.count < batchSize && partial !== 'keep') {
    throw new Error(
      `${fn}: the dataset has ${data.count} examples but model '${meta.name}' takes batches of ${batchSize}; ` +
        `each batch is drawn without replacement, so it needs at least ${batchSize} examples`,
    );
  }
  const batches = new BatchIterator(data, { batchSize, partial, names });
  const epochLosses = new Float64Array(epochs);
  const history: EpochReport[] = [];
  let steps = 0;
  let epoch = 0;
  let stopped = false;
  let best: { value: number; epoch: number; params?: Tensors } | undefined;
  while (epoch < epochs && !stopped) {
    batches.startEpoch(rng);
    let total = 0;
    let count = 0;
    while (batches.next()) {
      const loss = (yield backend.trainStep(batches.batch, learningRate)) as number;
      steps++;
      if (!Number.isFinite(loss)) {
        throw new Error(`${fn}: the loss of model '${meta.name}' became ${loss} at epoch ${epoch + 1}, step ${count + 1}; training diverged — try a learning rate below ${learningRate}`);
      }
      total += loss;
      count++;
      if (onStep && onStep({ step: steps, epoch: epoch + 1, loss }) === false) {
        stopped = true;
        break;
      }
    }
    epochLosses[epoch] = total / count;
    epoch++;
    if (stopped) break;
    const report: { -readonly [K in keyof EpochReport]: EpochReport[K] } = { epoch, steps, loss: epochLosses[epoch - 1] };
    if (validation) report.validationLoss = yield* evaluateLoop(fn, backend, validation);
    if (metrics) {
      report.metrics = yield* metricsOn(fn, backend, metrics, data);
      if (validation) report.validationMetrics = yield* metricsOn(fn, backend, metrics, validation);
    }
    history.push(report);
    if (stopping) {
      const value = stopping.read(report);
      if (best === undefined || improved(stopping.monitor, value, best.value, stopping.minDelta)) {
        best = { value, epoch, ...(stopping.restoreBest ? { params: (yield backend.snapshot()) as Tensors } : {}) };
      } else if (epoch - best.epoch >= stopping.patience) {
        stopped = true;
      }
    }
    if (onEpoch && onEpoch(report) === false) stopped = true;
  }
  let bestEpoch: number | undefined;
  if (stopping && best) {
    bestEpoch = epoch;
    if (best.params && best.epoch !== epoch) {
      yield backend.restore(best.params);
      bestEpoch = best.epoch;
    }
  }
  return { epochs: epoch, steps, stopped, epochLosses: epochLosses.subarray(0, epoch), history, ...(bestEpoch !== undefined ? { bestEpoch } : {}) };
}

interface Stopping {
  readonly monitor: string;
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBest: boolean;
  read(report: EpochReport): number;
}

function checkEarlyStopping(fn: string, options: FitOptions, metrics: MetricPlan | undefined): Stopping | undefined {
  const given = options.earlyStopping;
  if (given === undefined) return undefined;
  if (typeof given !== 'object' || given === null) throw new TypeError(`${fn}: earlyStopping must be an object { patience, monitor?, minDelta?, restoreBest? }, got ${String(given)}`);
  const patience = checkCount(fn, 'earlyStopping.patience', given.patience);
  const minDelta = given.minDelta ?? 0;
  if (typeof minDelta !== 'number' || !Number.isFinite(minDelta) || minDelta < 0) throw new RangeError(`${fn}: earlyStopping.minDelta must be a finite number ≥ 0, got ${String(minDelta)}`);
  const restoreBest = given.restoreBest ?? true;
  if (typeof restoreBest !== 'boolean') throw new TypeError(`${fn}: earlyStopping.restoreBest must be a boolean, got ${String(restoreBest)}`);
  const validation = options.validation !== undefined;
  const monitor = given.monitor ?? (validation ? 'validationLoss' : 'loss');
  let read: (report: EpochReport) => number;
  if (monitor === 'loss') read = (r) => r.loss;
  else if (monitor === 'validationLoss') {
    if (!validation) throw new Error(`${fn}: earlyStopping.monitor 'validationLoss' needs validation rows; pass validation, or monitor 'loss'`);
    read = (r) => r.validationLoss!;
  } else if (metrics?.names.includes(monitor)) {
    read = validation ? (r) => r.validationMetrics![monitor]! : (r) => r.metrics![monitor]!;
  } else {
    const can = ['loss', ...(validation ? ['validationLoss'] : []), ...(metrics?.names ?? [])].map((n) => `'${n}'`).join(', ');
    throw new Error(`${fn}: earlyStopping.monitor must be one of ${can} (a metric is watched only when it is in metrics), got '${String(monitor)}'`);
  }
  return { monitor, patience, minDelta, restoreBest, read };
}
