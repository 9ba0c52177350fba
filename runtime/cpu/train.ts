/**
 * `train`: the training loop users otherwise write around `minibatchSgd` — a report after
 * every step and every epoch (with the loss and metrics on held-out rows when given), early
 * stopping that puts back the best epoch's params, and a way to stop from a callback: any
 * callback that returns false ends the run. The loop itself is runtime/fit's, shared with the
 * WebGPU runtime's `train`.
 *
 *   const { history } = train(model, params, trainSet, {
 *     learningRate: 0.05, epochs: 200, validation: holdout, metrics: ['accuracy'],
 *     earlyStopping: { patience: 10 },        // watch the held-out loss; restore the best params
 *   });
 */
import { checkParams } from './checks.ts';
import { cpuBackend, optimizerState } from './backend.ts';
import type { Dataset } from './data.ts';
import type { Model, ModelState as OptimizerState, TensorRecord } from './model.ts';
import { fitLoop, runSync, type FitOptions, type FitResult } from '../fit/loop.ts';

export type { EarlyStopping, EpochReport, StepReport } from '../fit/loop.ts';

export interface TrainOptions extends FitOptions {
  /**
   * The optimizer's state, for a graph whose optimizer keeps one (Adam, momentum), updated in
   * place: pass it to continue a run. Default: a fresh `model.initOptimizerState()`.
   */
  readonly state?: OptimizerState;
}

export interface TrainResult extends FitResult {
  /** The optimizer's state after the run, where it keeps one. */
  readonly state?: OptimizerState;
}

/**
 * Mini-batch training over `data` (each epoch a fresh seeded shuffle, B rows a step),
 * updating `params` in place, with per-step and per-epoch reports, metrics and early stopping.
 */
export function train<P extends TensorRecord>(model: Model<P>, params: P, data: Dataset, options: TrainOptions): TrainResult {
  const fn = 'train';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${fn}: options { learningRate, epochs } are required`);
  checkParams(fn, model.meta, params);
  const state = optimizerState(fn, model, options.state);
  const result = runSync(fitLoop(fn, cpuBackend(model, params, state), data, options));
  return { ...result, ...(state ? { state } : {}) };
}
