/**
 * Whole-dataset evaluation for a model with a static batch size B: the dataset is walked in
 * row order, B rows at a time; a last partial batch is padded with copies of its last row
 * and the copies are discounted, so every row counts exactly once. A model built with a
 * dynamic batch (`g.batch(max)`) takes the last rows as they are.
 *
 * Both functions assume rows do not interact: each output row depends only on its input
 * row, and the loss is the mean over rows of a per-row term (as `squaredLoss` is).
 */
import { checkParams, modelBatching } from './checks.ts';
import { BatchIterator, takeRows, type Dataset } from './data.ts';
import { sizeOfShape, type Model, type TensorRecord } from './model.ts';

/**
 * The mean per-example loss over all `data.count` rows.
 *
 * A padded last batch with r real rows and B − r copies of row p has loss
 * L = (Σ_real ℓ_i + (B − r) ℓ_p) / B; a batch of B copies of p has loss ℓ_p, so the real
 * rows contribute B·L − (B − r)·ℓ_p.
 */
export function evaluate<P extends TensorRecord>(model: Model<P>, params: P, data: Dataset): number {
  const fn = 'evaluate';
  checkParams(fn, model.meta, params);
  const { batchSize, names } = modelBatching(fn, model.meta, data);
  // A module with a dynamic batch takes the last rows as they are; else they are padded.
  const batches = new BatchIterator(data, { batchSize, partial: model.meta.batch ? 'keep' : 'pad', names });
  let total = 0;
  while (batches.next()) {
    const loss = model.loss(params, batches.batch);
    const fresh = batches.fresh;
    if (fresh === batchSize || model.meta.batch) {
      total += loss * fresh;
      continue;
    }
    // Only the last batch gets here: measure the padding row alone and take it out.
    const padding = new Int32Array(batchSize).fill(batches.indices[fresh - 1]);
    const padLoss = model.loss(params, takeRows(data, padding, batches.batch));
    total += batchSize * loss - (batchSize - fresh) * padLoss;
  }
  return total / data.count;
}

/**
 * Output `outputName` for every row of `data`: a Float32Array of `data.count` rows of the
 * output's row width, row i belonging to dataset row i. Only the model inputs the dataset
 * holds are passed to `forward` (targets may be left out if the output does not need them).
 */
export function predict<P extends TensorRecord>(model: Model<P>, params: P, data: Dataset, outputName: string): Float32Array {
  const fn = 'predict';
  const shape = model.meta.outputs[outputName];
  if (shape === undefined) {
    const has = Object.keys(model.meta.outputs).map((n) => `'${n}'`).join(', ') || 'none';
    throw new Error(`${fn}: model '${model.meta.name}' has no output '${outputName}' (its outputs: ${has})`);
  }
  checkParams(fn, model.meta, params);
  const { batchSize, names } = modelBatching(fn, model.meta, data, true);
  if (names.length === 0) throw new Error(`${fn}: the dataset holds none of the inputs of model '${model.meta.name}'`);
  if (shape.length === 0 || shape[0] !== batchSize) {
    throw new Error(`${fn}: output '${outputName}' has shape [${shape.join(', ')}], not one row per example of the batch of ${batchSize}`);
  }
  const width = sizeOfShape(shape.slice(1));
  const result = new Float32Array(data.count * width);
  const keep = model.meta.batch !== undefined;
  const batches = new BatchIterator(data, { batchSize, partial: keep ? 'keep' : 'pad', names });
  while (batches.next()) {
    const out = (model.forward(params, batches.batch) as Record<string, unknown>)[outputName];
    const rows = keep ? batches.fresh : batchSize;
    if (!(out instanceof Float32Array) || out.length !== rows * width) {
      throw new Error(`${fn}: forward did not return a Float32Array of ${rows * width} elements for '${outputName}'`);
    }
    const base = batches.offset * width;
    const n = batches.fresh * width;
    for (let k = 0; k < n; k++) result[base + k] = out[k];
  }
  return result;
}
