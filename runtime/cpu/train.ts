/**
 * `train`: the training loop users otherwise write around `minibatchSgd` — a report after
 * every step and every epoch (with the loss on held-out rows when given), and a way to stop
 * early: any callback that returns false ends the run.
 *
 *   const { history } = train(model, params, trainSet, {
 *     learningRate: 0.05, epochs: 200, validation: holdout,
 *     onEpoch: ({ epoch, loss, validationLoss }) => validationLoss! > 0.01,   // stop once good enough
 *   });
 */
import { checkCallback } from './checks.ts';
import type { Dataset } from './data.ts';
import { evaluate } from './evaluate.ts';
import type { Model, TensorRecord } from './model.ts';
import { minibatchSgd, type MinibatchSgdOptions, type MinibatchSgdResult } from './sgd.ts';

export interface StepReport {
  /** 1-based, counted over the whole run. */
  readonly step: number;
  /** 1-based epoch the step belongs to. */
  readonly epoch: number;
  /** The batch loss before this step's update. */
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
}

export interface TrainOptions extends Omit<MinibatchSgdOptions, 'onEpoch' | 'onStep'> {
  /** Held-out rows, evaluated (see `evaluate`) after every epoch; never trained on. */
  readonly validation?: Dataset;
  /** After every update; return false to stop at once. */
  readonly onStep?: (report: StepReport) => void | boolean;
  /** After every whole epoch; return false to stop. */
  readonly onEpoch?: (report: EpochReport) => void | boolean;
}

export interface TrainResult extends MinibatchSgdResult {
  /** The report of every whole epoch, as passed to `onEpoch`. */
  readonly history: readonly EpochReport[];
}

/**
 * Mini-batch SGD over `data` (see `minibatchSgd`, which this drives), updating `params` in
 * place, with per-step and per-epoch reports and early stopping.
 */
export function train<P extends TensorRecord>(model: Model<P>, params: P, data: Dataset, options: TrainOptions): TrainResult {
  const fn = 'train';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${fn}: options { learningRate, epochs } are required`);
  const onStep = checkCallback(fn, 'onStep', options.onStep);
  const onEpoch = checkCallback(fn, 'onEpoch', options.onEpoch);
  const { validation } = options;
  const history: EpochReport[] = [];
  let steps = 0;
  const result = minibatchSgd(model, params, data, {
    learningRate: options.learningRate,
    epochs: options.epochs,
    ...(options.seed !== undefined && { seed: options.seed }),
    ...(options.partial !== undefined && { partial: options.partial }),
    ...(options.state !== undefined && { state: options.state }),
    onStep: (step, loss, epoch) => {
      steps = step;
      return onStep?.({ step, epoch, loss });
    },
    onEpoch: (epoch, loss) => {
      const report: EpochReport = validation ? { epoch, steps, loss, validationLoss: evaluate(model, params, validation) } : { epoch, steps, loss };
      history.push(report);
      return onEpoch?.(report);
    },
  });
  return { ...result, history };
}
