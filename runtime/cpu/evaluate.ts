/**
 * Whole-dataset evaluation and prediction for a generated JS or wasm module, in batches of
 * the model's B (runtime/fit's loops, shared with the WebGPU runtime): every row counts once,
 * whatever the row count.
 *
 * Both assume rows do not interact: each output row depends only on its input row, and the
 * loss is the mean over rows of a per-row term (as every gradc loss is).
 */
import { checkParams } from './checks.ts';
import { cpuBackend } from './backend.ts';
import type { Dataset } from './data.ts';
import type { Model, TensorRecord } from './model.ts';
import { evaluateLoop, predictLoop, runSync } from '../fit/loop.ts';

/** The mean per-example loss over all `data.count` rows (see runtime/fit's `evaluateLoop`). */
export function evaluate<P extends TensorRecord>(model: Model<P>, params: P, data: Dataset): number {
  const fn = 'evaluate';
  checkParams(fn, model.meta, params);
  return runSync(evaluateLoop(fn, cpuBackend(model, params), data));
}

/**
 * Output `outputName` for every row of `data`: a Float32Array of `data.count` rows of the
 * output's row width, row i belonging to dataset row i. Only the model inputs the dataset
 * holds are passed to `forward` (targets may be left out if the output does not need them).
 */
export function predict<P extends TensorRecord>(model: Model<P>, params: P, data: Dataset, outputName: string): Float32Array {
  const fn = 'predict';
  checkParams(fn, model.meta, params);
  return runSync(predictLoop(fn, cpuBackend(model, params), data, outputName));
}
