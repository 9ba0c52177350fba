/**
 * The metrics `train` reports beside the loss, by name, over predictions and targets of
 * `width` values a row (row-major), as TensorFlow.js's `model.fit` reports its metrics:
 *
 * - `accuracy`: the fraction of rows classified right. Several outputs a row (softmax, one-hot
 *   targets): the row's largest output is in the column of the target's largest value. One
 *   output a row (a sigmoid's probability, 0/1 targets): the output is ≥ 0.5 exactly when the
 *   target is. Read a probability, not a logit: threshold 0.5 is a probability's.
 * - `mse`, `mae`: the mean over every value of (p − y)² and of |p − y|.
 * - `r2`: the coefficient of determination 1 − Σ(y − p)² / Σ(y − ȳ)² of each column, averaged
 *   over the columns (scikit-learn's `r2_score`); a constant column scores 1 when predicted
 *   exactly, else 0.
 */

export const METRICS = ['accuracy', 'mse', 'mae', 'r2'] as const;
export type MetricName = (typeof METRICS)[number];

/** Metrics that improve upwards; the others (and losses) improve downwards. */
const HIGHER_IS_BETTER: ReadonlySet<string> = new Set<MetricName>(['accuracy', 'r2']);

/** Whether `value` improves on `best` by more than `minDelta` for the watched quantity `name`. */
export function improved(name: string, value: number, best: number, minDelta: number): boolean {
  return HIGHER_IS_BETTER.has(name) ? value > best + minDelta : value < best - minDelta;
}

export function checkMetrics(fn: string, metrics: unknown): readonly MetricName[] {
  if (metrics === undefined) return [];
  if (!Array.isArray(metrics)) throw new TypeError(`${fn}: metrics must be an array of ${METRICS.map((m) => `'${m}'`).join(', ')}, got ${typeof metrics}`);
  for (const m of metrics) {
    if (!(METRICS as readonly unknown[]).includes(m)) throw new RangeError(`${fn}: unknown metric ${JSON.stringify(m)}; expected one of ${METRICS.map((n) => `'${n}'`).join(', ')}`);
  }
  return metrics as MetricName[];
}

function checkPair(fn: string, predicted: ArrayLike<number>, target: ArrayLike<number>, width: number): number {
  if (!Number.isInteger(width) || width < 1) throw new RangeError(`${fn}: width must be an integer ≥ 1, got ${String(width)}`);
  if (predicted.length !== target.length) throw new RangeError(`${fn}: predicted has ${predicted.length} values but target has ${target.length}`);
  if (predicted.length === 0 || predicted.length % width !== 0) throw new RangeError(`${fn}: ${predicted.length} values are not whole rows of ${width}`);
  return predicted.length / width;
}

/** The first column of the row's largest value (the first on a tie). */
function argmaxRow(values: ArrayLike<number>, start: number, width: number): number {
  let best = 0;
  for (let j = 1; j < width; j++) if (values[start + j] > values[start + best]) best = j;
  return best;
}

/** See the module's note: argmax agreement for several columns, agreement at 0.5 for one. */
export function categoricalAccuracy(predicted: ArrayLike<number>, target: ArrayLike<number>, width: number): number {
  const rows = checkPair('categoricalAccuracy', predicted, target, width);
  let right = 0;
  for (let r = 0; r < rows; r++) {
    if (width === 1) right += Number(predicted[r] >= 0.5 === target[r] >= 0.5);
    else right += Number(argmaxRow(predicted, r * width, width) === argmaxRow(target, r * width, width));
  }
  return right / rows;
}

export function meanSquaredError(predicted: ArrayLike<number>, target: ArrayLike<number>): number {
  checkPair('meanSquaredError', predicted, target, 1);
  let sum = 0;
  for (let i = 0; i < predicted.length; i++) sum += (predicted[i] - target[i]) ** 2;
  return sum / predicted.length;
}

export function meanAbsoluteError(predicted: ArrayLike<number>, target: ArrayLike<number>): number {
  checkPair('meanAbsoluteError', predicted, target, 1);
  let sum = 0;
  for (let i = 0; i < predicted.length; i++) sum += Math.abs(predicted[i] - target[i]);
  return sum / predicted.length;
}

export function r2Score(predicted: ArrayLike<number>, target: ArrayLike<number>, width = 1): number {
  const rows = checkPair('r2Score', predicted, target, width);
  let score = 0;
  for (let j = 0; j < width; j++) {
    let mean = 0;
    for (let r = 0; r < rows; r++) mean += target[r * width + j];
    mean /= rows;
    let residual = 0;
    let spread = 0;
    for (let r = 0; r < rows; r++) {
      const y = target[r * width + j];
      residual += (y - predicted[r * width + j]) ** 2;
      spread += (y - mean) ** 2;
    }
    score += spread === 0 ? Number(residual === 0) : 1 - residual / spread;
  }
  return score / width;
}

/** Each metric's computation, over predictions and targets of `width` values a row. */
const COMPUTE: Readonly<Record<MetricName, (predicted: ArrayLike<number>, target: ArrayLike<number>, width: number) => number>> = {
  accuracy: categoricalAccuracy,
  mse: (predicted, target) => meanSquaredError(predicted, target),
  mae: (predicted, target) => meanAbsoluteError(predicted, target),
  r2: r2Score,
};

/** Metric `name` of `predicted` against `target`, rows of `width`. */
export const computeMetric = (name: MetricName, predicted: ArrayLike<number>, target: ArrayLike<number>, width: number): number =>
  COMPUTE[name](predicted, target, width);
