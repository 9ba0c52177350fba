/**
 * Synthetic housing data drawn from a teacher network with hidden ReLU units: the
 * price depends on three derived quantities, each a single ReLU neuron of some features,
 *
 *   family size    a1 = ReLU(0.0016·size + 0.6·bedrooms − 2.2)
 *   walkability    a2 = ReLU(0.03·walkScore − 0.9)
 *   school quality a3 = ReLU(0.012·walkScore + 0.025·wealth − 2.4)
 *   price = 55·a1 + 35·a2 + 70·a3 + 60 + ε,   ε ~ N(0, 15²)   ($1000s)
 *
 * Features: size (sq ft), bedrooms (1–6, growing with size), the walk score (0–100) of the
 * house's zip code, and the neighbourhood's median income ($1000s, centred on a per-zip
 * level). The 4-3-1 student network can represent the teacher exactly.
 *
 * Rows are split into training and held-out sets; features and price are standardized
 * with the training rows' statistics.
 */
import { Rng, columnStats, splitHoldout, standardizeColumns, type Dataset } from '../../runtime/cpu/index.ts';

export const FEATURES = ['size', 'bedrooms', 'zipWalkScore', 'wealth'] as const;

/** Zip codes of the synthetic town: walk score and typical median income ($1000s). */
const ZIPS = [
  { zip: '94301', walk: 92, wealth: 160 },
  { zip: '94303', walk: 61, wealth: 120 },
  { zip: '94306', walk: 78, wealth: 135 },
  { zip: '94025', walk: 48, wealth: 150 },
  { zip: '94063', walk: 70, wealth: 65 },
  { zip: '94061', walk: 55, wealth: 95 },
  { zip: '94002', walk: 35, wealth: 110 },
  { zip: '94404', walk: 25, wealth: 125 },
] as const;

export const NOISE = 15;

export function teacherPrice(size: number, bedrooms: number, walk: number, wealth: number): number {
  const relu = (z: number) => Math.max(0, z);
  const familySize = relu(0.0016 * size + 0.6 * bedrooms - 2.2);
  const walkable = relu(0.03 * walk - 0.9);
  const school = relu(0.012 * walk + 0.025 * wealth - 2.4);
  return 55 * familySize + 35 * walkable + 70 * school + 60;
}

export interface HousingData {
  /** Inputs `x` ([n, 4], standardized features) and `y` ([n, 1], standardized price). */
  readonly train: Dataset;
  readonly holdout: Dataset;
  readonly priceMean: number;
  readonly priceStd: number;
}

export function housingData(count = 1280, holdoutFraction = 0.2, seed = 2): HousingData {
  const rng = new Rng(seed);
  const x = new Float32Array(count * 4);
  const y = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const size = rng.uniform(500, 4000);
    const bedrooms = Math.min(6, Math.max(1, Math.round(size / 750 + rng.normal(0, 0.6))));
    const zone = ZIPS[rng.int(ZIPS.length)];
    const wealth = Math.max(20, zone.wealth + rng.normal(0, 25));
    x.set([size, bedrooms, zone.walk, wealth], i * 4);
    y[i] = teacherPrice(size, bedrooms, zone.walk, wealth) + rng.normal(0, NOISE);
  }
  const { train, holdout } = splitHoldout({ inputs: { x, y }, count }, holdoutFraction, rng);
  const features = columnStats(train.inputs.x, 4);
  const price = columnStats(train.inputs.y, 1);
  for (const part of [train, holdout]) {
    standardizeColumns(part.inputs.x, features);
    standardizeColumns(part.inputs.y, price);
  }
  return { train, holdout, priceMean: price.mean[0], priceStd: price.std[0] };
}
