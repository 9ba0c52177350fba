/**
 * Synthetic house prices with a kink: below a threshold size the price is
 * zero, above it the price rises linearly, plus a little noise:
 *
 *   price = max(0, slope · (size − kinkSize)) + ε,   ε ~ N(0, noise²)
 *
 * Sizes are in square feet, prices in $1000s. For training, sizes are standardized and
 * prices divided by their standard deviation (not shifted, so zero stays zero and the
 * ReLU can still express the flat part); `toOriginalUnits` maps a learned (w, b) back.
 */
import { Rng, columnStats, standardizeColumns, type Dataset } from '../../runtime/cpu/index.ts';

export const KINK_TRUTH = {
  /** $1000s per square foot above the kink. */
  slope: 0.2,
  /** Square feet. */
  kinkSize: 1000,
  /** Standard deviation of the price noise, $1000s. */
  noise: 8,
  minSize: 400,
  maxSize: 3500,
} as const;

export interface KinkData {
  /** Inputs `x` (standardized size) and `y` (scaled price), one column each. */
  readonly dataset: Dataset;
  readonly sizeMean: number;
  readonly sizeStd: number;
  /** Prices were divided by this. */
  readonly priceScale: number;
}

export function kinkData(count = 256, seed = 1): KinkData {
  const rng = new Rng(seed);
  const x = new Float32Array(count);
  const y = new Float32Array(count);
  const { slope, kinkSize, noise, minSize, maxSize } = KINK_TRUTH;
  for (let i = 0; i < count; i++) {
    const size = rng.uniform(minSize, maxSize);
    x[i] = size;
    y[i] = Math.max(0, slope * (size - kinkSize)) + rng.normal(0, noise);
  }
  const sizes = columnStats(x, 1);
  standardizeColumns(x, sizes);
  const priceScale = columnStats(y, 1).std[0];
  for (let i = 0; i < count; i++) y[i] /= priceScale;
  return { dataset: { inputs: { x, y }, count }, sizeMean: sizes.mean[0], sizeStd: sizes.std[0], priceScale };
}

/** The slope ($1000s per sq ft) and kink (sq ft) that a neuron ReLU(w·x + b) on the scaled data represents. */
export function toOriginalUnits(data: KinkData, w: number, b: number): { slope: number; kinkSize: number } {
  return {
    slope: (w * data.priceScale) / data.sizeStd,
    kinkSize: (-b / w) * data.sizeStd + data.sizeMean,
  };
}
