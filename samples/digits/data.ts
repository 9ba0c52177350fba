/**
 * The 8×8 handwritten digits (1,797 images of 64 pixels, values 0–16, and their digit 0–9),
 * vendored in data/ with their attribution and licence (CC BY 4.0): pixels scaled to [0, 1],
 * digits one-hot, and a seeded held-out set split off.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Rng, argmax, oneHot, splitHoldout, type Dataset } from '../../runtime/cpu/index.ts';

export const DIGITS_FILE = new URL('./data/digits.csv.gz', import.meta.url);
export const PIXELS = 64;
export const CLASSES = 10;
const MAX_PIXEL = 16;

export interface DigitsData {
  /** Inputs `x` ([n, 64], pixels in [0, 1]) and `y` ([n, 10], one-hot). */
  readonly train: Dataset;
  readonly holdout: Dataset;
  /** The digit of each held-out row. */
  readonly holdoutLabels: Int32Array;
}

/** Every image and its digit, checked as read: 65 whole numbers a line, pixels 0–16, digits 0–9. */
export function readDigits(): { x: Float32Array; labels: Int32Array } {
  const lines = gunzipSync(readFileSync(DIGITS_FILE)).toString('utf8').trim().split('\n');
  const x = new Float32Array(lines.length * PIXELS);
  const labels = new Int32Array(lines.length);
  lines.forEach((line, row) => {
    const values = line.split(',').map(Number);
    const label = values[PIXELS];
    if (values.length !== PIXELS + 1 || !values.every((v) => Number.isInteger(v) && v >= 0 && v <= MAX_PIXEL) || label >= CLASSES) {
      throw new Error(`${DIGITS_FILE.pathname}:${row + 1}: expected 64 pixels 0–16 and a digit 0–9`);
    }
    for (let j = 0; j < PIXELS; j++) x[row * PIXELS + j] = values[j] / MAX_PIXEL;
    labels[row] = label;
  });
  return { x, labels };
}

/** The digits split into training rows and `holdoutFraction` of them held out, drawn with `seed`. */
export function digitsData(holdoutFraction = 0.2, seed = 5): DigitsData {
  const { x, labels } = readDigits();
  const { train, holdout } = splitHoldout({ inputs: { x, y: oneHot(labels, CLASSES) }, count: labels.length }, holdoutFraction, new Rng(seed));
  return { train, holdout, holdoutLabels: argmax(holdout.inputs.y, CLASSES) };
}
