/**
 * Deliberately wrong rules for the independent reference (reference64.ts), to show that the
 * fuzzer's comparisons catch a compiler that has such a bug: comparing a correct module with
 * a reference that has the bug is the same disagreement as a buggy module with a correct
 * reference. Each entry replaces one op's rule, written from the correct one.
 */
import { RULES, type Rule } from './reference64.ts';

type Plant = Readonly<Record<string, Partial<Rule>>>;

const scaled = (rule: Rule, by: number): Rule['backward'] => (dy, x, y, site) => rule.backward(dy, x, y, site).map((d) => d.map((v) => v * by));

/** Rows of the prediction of a squared loss: the B of (1/B) Σ ½‖p − t‖². */
const batchOf = (site: Parameters<Rule['forward']>[1]) => (site.inputs[0].length === 2 ? site.inputs[0][0] : 1);

export const PLANTS: Readonly<Record<string, Plant>> = {
  'sigmoid′ × 1.02': { sigmoid: { backward: scaled(RULES.sigmoid, 1.02) } },
  'sigmoid′ = a': { sigmoid: { backward: (dy, _x, a) => [dy.map((g, i) => g * a[i])] } },
  'tanh′ = 1 − a': { tanh: { backward: (dy, _x, a) => [dy.map((g, i) => g * (1 - a[i]))] } },
  'relu′(0) = 0': { relu: { backward: (dy, [z]) => [dy.map((g, i) => (z[i] > 0 ? g : 0))] } },
  "the squared loss's 1/B dropped, forward and backward": {
    squared_loss: {
      forward: (x, site) => RULES.squared_loss.forward(x, site).map((v) => v * batchOf(site)),
      backward: (dy, x, y, site) => scaled(RULES.squared_loss, batchOf(site))(dy, x, y, site),
    },
  },
  'dW transposed (the weight gradient laid out as its transpose)': {
    matmul: {
      backward: (dy, x, y, site) => {
        const [da, db] = RULES.matmul.backward(dy, x, y, site);
        const [k, n] = site.inputs[1];
        return [da, db.map((_, i) => db[(i % k) * n + Math.floor(i / k)])];
      },
    },
  },
};
