/**
 * Class labels and scores: one-hot targets for a classifier's loss, the predicted class of
 * each row of scores, and the fraction predicted right.
 *
 *   const y = oneHot(labels, 3);                       // targets for squaredLoss(scores, y)
 *   const { scores } = model.forward(params, { x });
 *   accuracy(argmax(scores, 3), labels);               // 0 … 1
 */

/**
 * `labels.length` rows of `classes` columns, row i all zero but a 1 in column `labels[i]`.
 * Each label must be an integer in [0, classes).
 */
export function oneHot(labels: ArrayLike<number>, classes: number): Float32Array {
  checkWidth('oneHot', 'classes', classes);
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new RangeError(`oneHot: labels[${i}] is ${String(label)}, not a class index in [0, ${classes})`);
    }
    out[i * classes + label] = 1;
  }
  return out;
}

/**
 * For each row of `values` (row-major, `width` per row), the column of its largest value:
 * the first such column on a tie. NaN never wins; a row of NaN only gives -1.
 */
export function argmax(values: ArrayLike<number>, width: number): Int32Array {
  checkWidth('argmax', 'width', width);
  if (values.length % width !== 0) throw new RangeError(`argmax: ${values.length} values are not whole rows of width ${width}`);
  const rows = values.length / width;
  const out = new Int32Array(rows);
  for (let r = 0, base = 0; r < rows; r++, base += width) {
    let best = -1;
    let bestValue = -Infinity;
    for (let j = 0; j < width; j++) {
      const v = values[base + j];
      if (v > bestValue || (best < 0 && v === -Infinity)) [best, bestValue] = [j, v];
    }
    out[r] = best;
  }
  return out;
}

/** The fraction of positions where `predicted` equals `labels` (both class indices, equally long). */
export function accuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (predicted.length !== labels.length) {
    throw new RangeError(`accuracy: ${predicted.length} predictions but ${labels.length} labels; pass one label per prediction`);
  }
  if (predicted.length === 0) throw new RangeError('accuracy: no predictions to score');
  let right = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === labels[i]) right++;
  return right / predicted.length;
}

function checkWidth(fn: string, key: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${fn}: ${key} must be an integer ≥ 1, got ${String(value)}`);
}
