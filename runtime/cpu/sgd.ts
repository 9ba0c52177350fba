/**
 * Stochastic gradient descent driving a generated module's `trainStep`: `sgd` (one example
 * per update) and `minibatchSgd` (B examples drawn without replacement per update). The per-example loss J^(j) and its average over
 * a batch are whatever the graph's loss defines; `trainStep` applies θ := θ − α∇J on the
 * batch it is given.
 *
 * Batch buffers are allocated once per call; the loops themselves allocate nothing.
 */
import { checkCallback, checkCount, checkLearningRate, checkParams, checkSeed, modelBatching } from './checks.ts';
import { cpuBackend, optimizerState } from './backend.ts';
import { fitLoop, runSync } from '../fit/loop.ts';
import { gatherRows, type Dataset } from './data.ts';
import type { Model, ModelMeta, ModelState as OptimizerState, TensorRecord, Tensors } from './model.ts';

import { Rng } from './rng.ts';

export interface SgdOptions {
  /** α > 0. */
  readonly learningRate: number;
  /** n_iter ≥ 1: the number of updates. */
  readonly iterations: number;
  /** Seeds the choice of examples; default 0. */
  readonly seed?: number;
  /** Called after each update with the 1-based iteration and the loss before it; return false to stop. */
  readonly onStep?: (iteration: number, loss: number) => void | boolean;
  /**
   * The optimizer's state, for a graph whose optimizer keeps one (Adam, momentum), updated in
   * place: pass it to continue a run. Default: a fresh `model.initOptimizerState()`.
   */
  readonly state?: OptimizerState;
}

export interface SgdResult {
  /** Updates made (fewer than asked if `onStep` stopped the run). */
  readonly iterations: number;
  /** Mean of the pre-update losses over the run. */
  readonly meanLoss: number;
  /** The loss before the last update. */
  readonly lastLoss: number;
  /** The optimizer's state after the run, where it keeps one. */
  readonly state?: OptimizerState;
}

/**
 * SGD: for i = 1 … n_iter, sample j uniformly from the n examples and update
 * θ := θ − α∇J^(j)(θ). Updates `params` in place.
 *
 * Each update sees exactly one example, so the model must be built with batch size 1;
 * for a model with a larger static batch use `minibatchSgd` rather than
 * resampling B examples with replacement and calling that SGD.
 */
export function sgd<P extends TensorRecord>(model: Model<P>, params: P, data: Dataset, options: SgdOptions): SgdResult {
  const fn = 'sgd';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${fn}: options { learningRate, iterations } are required`);
  const learningRate = checkLearningRate(fn, options.learningRate);
  const iterations = checkCount(fn, 'iterations', options.iterations);
  const rng = new Rng(checkSeed(fn, options.seed));
  const onStep = checkCallback(fn, 'onStep', options.onStep);
  checkParams(fn, model.meta, params);
  const state = optimizerState(fn, model, options.state);
  const { batchSize, names } = modelBatching(fn, model.meta, data);
  if (batchSize !== 1) {
    throw new Error(
      `${fn}: sgd updates on one example at a time, but model '${model.meta.name}' has a static batch of ${batchSize}; ` +
        `use minibatchSgd for B > 1, or build the graph with batch size 1`,
    );
  }
  const batch: Tensors = {};
  const sources: Float32Array[] = [];
  const targets: Float32Array[] = [];
  for (const name of names) {
    sources.push(data.inputs[name]);
    targets.push((batch[name] = new Float32Array(data.inputs[name].length / data.count)));
  }
  const index = new Int32Array(1);
  let total = 0;
  let last = Number.NaN;
  let done = 0;
  while (done < iterations) {
    index[0] = rng.int(data.count);
    for (let a = 0; a < sources.length; a++) gatherRows(sources[a], targets[a], targets[a].length, index, 0, 1);
    last = model.trainStep(params, batch, learningRate, state);
    done++;
    if (!Number.isFinite(last)) throw diverged(fn, model, last, `iteration ${done}`, learningRate);
    total += last;
    if (onStep && onStep(done, last) === false) break;
  }
  return { iterations: done, meanLoss: total / done, lastLoss: last, ...(state ? { state } : {}) };
}

export interface MinibatchSgdOptions {
  /** α > 0. */
  readonly learningRate: number;
  /** Passes over the data, ≥ 1; each is ⌊n/B⌋ updates (`drop`) or ⌈n/B⌉ (`wrap`). */
  readonly epochs: number;
  /** Seeds the per-epoch shuffles; default 0. */
  readonly seed?: number;
  /**
   * The last n mod B examples of an epoch: `drop` (the default for a fixed batch), `wrap`, or
   * `keep` (the default for a module with a dynamic batch); see PartialBatchPolicy.
   */
  readonly partial?: 'drop' | 'wrap' | 'keep';
  /**
   * Called after each epoch with the 1-based epoch and the mean of that epoch's batch
   * losses, each taken before its update (a running estimate, not a re-evaluation after
   * the epoch); return false to stop.
   */
  readonly onEpoch?: (epoch: number, meanLoss: number) => void | boolean;
  /**
   * Called after each update with the 1-based step (counted over the whole run), the loss
   * before it and the 1-based epoch; return false to stop at once. The epoch it stops in
   * counts in the result (its mean loss over the steps it ran), and `onEpoch` is not called
   * for it.
   */
  readonly onStep?: (step: number, loss: number, epoch: number) => void | boolean;
  /** As `SgdOptions.state`. */
  readonly state?: OptimizerState;
}

export interface MinibatchSgdResult {
  /** Epochs run, the last perhaps in part (fewer than asked if a callback stopped the run). */
  readonly epochs: number;
  /** Whether `onEpoch` or `onStep` stopped the run. */
  readonly stopped: boolean;
  /** Updates made. */
  readonly steps: number;
  /** Per epoch, the mean pre-update batch loss, as passed to `onEpoch`. */
  readonly epochLosses: Float64Array;
  /** The optimizer's state after the run, where it keeps one. */
  readonly state?: OptimizerState;
}

/**
 * Mini-batch SGD with B the model's static batch size: each epoch draws a fresh uniformly
 * random order of the n examples and steps through it B at a time, so every batch holds B
 * distinct examples (sampled without replacement) and each update is
 * θ := θ − (α/B) Σ_k ∇J^(j_k)(θ) (the graph's loss averages over the batch). Updates
 * `params` in place.
 */
export function minibatchSgd<P extends TensorRecord>(model: Model<P>, params: P, data: Dataset, options: MinibatchSgdOptions): MinibatchSgdResult {
  const fn = 'minibatchSgd';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${fn}: options { learningRate, epochs } are required`);
  const onEpoch = checkCallback(fn, 'onEpoch', options.onEpoch);
  const onStep = checkCallback(fn, 'onStep', options.onStep);
  checkParams(fn, model.meta, params);
  const state = optimizerState(fn, model, options.state);
  const { learningRate, epochs, seed, partial } = options;
  const result = runSync(fitLoop(fn, cpuBackend(model, params, state), data, {
    learningRate, epochs,
    ...(seed !== undefined && { seed }),
    ...(partial !== undefined && { partial }),
    ...(onStep && { onStep: (r) => onStep(r.step, r.loss, r.epoch) }),
    ...(onEpoch && { onEpoch: (r) => onEpoch(r.epoch, r.loss) }),
  }));
  return { epochs: result.epochs, steps: result.steps, stopped: result.stopped, epochLosses: result.epochLosses, ...(state ? { state } : {}) };
}

function diverged(fn: string, model: { readonly meta: ModelMeta }, loss: number, where: string, learningRate: number): Error {
  return new Error(`${fn}: the loss of model '${model.meta.name}' became ${loss} at ${where}; training diverged — try a learning rate below ${learningRate}`);
}
