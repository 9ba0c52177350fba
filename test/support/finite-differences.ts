/**
 * The float64 reference: the loss of a forward IR evaluated by the reference interpreter,
 * and its gradient by central differences. Independent of autodiff and of code generation.
 */
import type { Graph } from '../../compiler/ir/graph.ts';
import { evaluate } from '../../compiler/ir/interpret.ts';

type Leaves = Record<string, ArrayLike<number>>;

export function referenceLoss(g: Graph, leaves: Leaves): number {
  return evaluate(g, leaves, [g.loss!]).get(g.loss!)![0];
}

export function referenceOutputs(g: Graph, leaves: Leaves): Record<string, Float64Array> {
  const values = evaluate(g, leaves, g.outputs.map((o) => o.id));
  return Object.fromEntries(g.outputs.map((o) => [o.name, values.get(o.id)!]));
}

/** dJ/dparam by central differences with step h, in float64. */
export function finiteDifferenceGradient(g: Graph, leaves: Leaves, h = 1e-6): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  const params = Object.fromEntries(g.params.map((p) => [p.name, Float64Array.from(leaves[p.name])]));
  const at = () => ({ ...leaves, ...params });
  for (const { name } of g.params) {
    const theta = params[name];
    const grad = new Float64Array(theta.length);
    for (let i = 0; i < theta.length; i++) {
      const keep = theta[i];
      theta[i] = keep + h;
      const up = referenceLoss(g, at());
      theta[i] = keep - h;
      const down = referenceLoss(g, at());
      theta[i] = keep;
      grad[i] = (up - down) / (2 * h);
    }
    out[name] = grad;
  }
  return out;
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
