/**
 * The digits sample's pieces, shared by `npm run sample` (samples/run.ts) and its test:
 * training with Adam, predicting held-out digits, and predicting them again in a fresh
 * process from the saved weights alone (reload.ts).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { argmax, predict, train, type Dataset, type EpochReport, type Model, type ModelState, type Tensors } from '../../runtime/cpu/index.ts';
import { CLASSES, type DigitsData } from './data.ts';

export const TRAINING = { learningRate: 0.01, epochs: 20, seed: 21, initSeed: 4 } as const;

export interface TrainedDigits {
  readonly params: Tensors;
  /** Adam's state after the last step. */
  readonly state: ModelState;
  readonly history: readonly EpochReport[];
}

/**
 * Mini-batch Adam over the training rows, the held-out loss after every epoch. Each epoch
 * visits every row once, in a fresh random order, 32 at a time; the last n mod 32 rows are a
 * smaller batch of their own (the graph's batch is dynamic).
 */
export function trainDigits(model: Model, data: DigitsData, onEpoch?: (report: EpochReport) => void): TrainedDigits {
  const params = model.initParams(TRAINING.initSeed);
  const { state, history } = train(model, params, data.train, {
    learningRate: TRAINING.learningRate,
    epochs: TRAINING.epochs,
    seed: TRAINING.seed,
    validation: data.holdout,
    ...(onEpoch && { onEpoch }),
  });
  if (!state) throw new Error(`model '${model.meta.name}' kept no optimizer state: the digits graph trains with Adam`);
  return { params, state, history };
}

export interface Predictions {
  /** Row-major, 10 a row: each digit's probability. */
  readonly probs: Float32Array;
  /** The most probable digit of each row. */
  readonly digits: Int32Array;
}

/**
 * Every row of `set`, 32 at a time and the rest as they are (the graph's batch is dynamic):
 * rows never interact, so each row's probabilities are those it gets in any batch.
 */
export function predictDigits(model: Model, params: Tensors, set: Dataset): Predictions {
  const probs = predict(model, params, set, 'probs');
  return { probs, digits: argmax(probs, CLASSES) };
}

const RELOAD = fileURLToPath(new URL('./reload.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The held-out predictions of another Node process that has only the generated module and
 * the weights file (reload.ts): what a user's program gets when it loads the saved weights.
 */
export function predictInFreshProcess(modulePath: string, weightsPath: string): Predictions {
  const child = spawnSync(process.execPath, ['--import', 'tsx', RELOAD, modulePath, weightsPath], { cwd: ROOT, encoding: 'utf8' });
  if (child.error || child.status !== 0) throw new Error(`reloading the weights in a fresh process failed: ${child.error?.message ?? child.stderr.trim()}`);
  const { probs, digits } = JSON.parse(child.stdout) as { probs: string; digits: number[] };
  const bytes = Buffer.from(probs, 'base64');
  return { probs: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4).slice(), digits: Int32Array.from(digits) };
}
