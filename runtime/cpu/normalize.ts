/**
 * Per-column standardization of row-major feature arrays, so that one learning rate suits
 * every feature. Compute the statistics on the training rows only and apply them to every
 * split, so held-out data stays unseen.
 */

export interface ColumnStats {
  readonly mean: Float64Array;
  /** Population standard deviation per column (0 for a constant column). */
  readonly std: Float64Array;
}

/** Mean and standard deviation of each of the `width` columns of `values`. */
export function columnStats(values: Float32Array, width: number): ColumnStats {
  if (!Number.isInteger(width) || width < 1 || values.length % width !== 0 || values.length === 0) {
    throw new RangeError(`columnStats: ${values.length} elements are not whole rows of width ${String(width)}`);
  }
  const rows = values.length / width;
  const mean = new Float64Array(width);
  const std = new Float64Array(width);
  for (let i = 0; i < values.length; i++) mean[i % width] += values[i];
  for (let j = 0; j < width; j++) mean[j] /= rows;
  for (let i = 0; i < values.length; i++) {
    const d = values[i] - mean[i % width];
    std[i % width] += d * d;
  }
  for (let j = 0; j < width; j++) std[j] = Math.sqrt(std[j] / rows);
  return { mean, std };
}

/**
 * In place: column j becomes (x − mean[j]) / std[j] (a constant column, std 0, is only
 * centred). Returns `values`.
 */
export function standardizeColumns(values: Float32Array, stats: ColumnStats): Float32Array {
  const width = stats.mean.length;
  if (values.length % width !== 0) throw new RangeError(`standardizeColumns: ${values.length} elements are not whole rows of width ${width}`);
  for (let i = 0; i < values.length; i++) {
    const j = i % width;
    const s = stats.std[j];
    values[i] = (values[i] - stats.mean[j]) / (s > 0 ? s : 1);
  }
  return values;
}
