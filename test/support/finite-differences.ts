/**
 * Central differences of the independent float64 reference's loss (reference64.ts), and the
 * error measure the gradient tests share. Independent of the compiler's op table, autodiff
 * and code generation.
 */
import type { Graph } from '../../compiler/ir/graph.ts';
import { lossAt } from './reference64.ts';

type Leaves = Record<string, ArrayLike<number>>;

/** dJ/dparam by central differences with step h, in float64. */
export function finiteDifferenceGradient(g: Graph, leaves: Leaves, h = 1e-6): Record<string, Float64Array> {
  const at = Object.fromEntries(Object.entries(leaves).map(([k, v]) => [k, Float64Array.from(v)]));
  return Object.fromEntries(g.params.map(({ name }) => {
    const theta = at[name];
    return [name, theta.map((keep, i) => {
      theta[i] = keep + h;
      const up = lossAt(g, at);
      theta[i] = keep - h;
      const down = lossAt(g, at);
      theta[i] = keep;
      return (up - down) / (2 * h);
    })];
  }));
}

/** Largest |a − b| / (atol + rtol·|b|) over all elements: ≤ 1 means within tolerance. */
export function worstError(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(b[i]));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}
