/**
 * The optimized graph in the notation of the CS229 deep-learning notes: which nodes are the
 * forward pass and which autodiff added, and what each stands for. Layer k is the k-th
 * product of a value with a param (z[k] = W[k]·a[k−1] + b[k], read as XW + b here),
 * a[k] its activation, δ[k] = ∂J/∂z[k] the layer's error, and ∂J/∂W[k], ∂J/∂b[k] the
 * gradients; anything else autodiff names `d_v` is ∂J/∂v.
 */
import type { Graph, Node, SourceLoc } from '../ir/graph.ts';
import { reachable } from '../ir/graph.ts';
import { opDef } from '../ir/op-registry.ts';

export interface Notation {
  /** Nodes the forward pass computes (reachable from the outputs and the loss). */
  readonly forward: ReadonlySet<number>;
  /** Per node, what it is in the notes' notation, where it has a name there. */
  readonly label: ReadonlyMap<number, string>;
  /** Per node, the user's line: its own, or for a gradient autodiff made without one, its value's. */
  readonly loc: ReadonlyMap<number, SourceLoc>;
}

/** Autodiff names dJ/dv after v: `d_v` (see autodiff/backward.ts). */
const GRADIENT_PREFIX = 'd_';

export function notationOf(g: Graph): Notation {
  const forward = new Set(reachable(g, [...g.outputs.map((o) => o.id), ...(g.loss === undefined ? [] : [g.loss])]));
  const readers = new Map<number, Node[]>();
  for (const n of g.nodes) {
    for (const i of n.inputs) {
      const list = readers.get(i);
      if (list) list.push(n);
      else readers.set(i, [n]);
    }
  }
  const isParam = (id: number) => g.nodes[id].op === 'param';

  const label = new Map<number, string>();
  /** Forward names: their notation, so gradients can be labelled by what they differentiate. */
  const symbol = new Map<string, string>();
  const name = (id: number, text: string) => {
    label.set(id, text);
    symbol.set(g.nodes[id].name, text);
  };
  let layer = 0;
  for (const n of g.nodes) {
    if (!forward.has(n.id) || opDef(n.op).kind !== 'matmul' || n.attrs.transA || !isParam(n.inputs[1])) continue;
    layer++;
    name(n.inputs[1], `W[${layer}]`);
    if (layer === 1 && g.nodes[n.inputs[0]].op === 'input') name(n.inputs[0], 'a[0] = x');
    // z = XW + b: the sum with a param, where there is one; else the product itself.
    const bias = (readers.get(n.id) ?? []).find((r) => forward.has(r.id) && r.op === 'add' && r.inputs.some((i) => i !== n.id && isParam(i)));
    if (bias) name(bias.inputs.find((i) => i !== n.id)!, `b[${layer}]`);
    const z = bias ?? n;
    name(z.id, `z[${layer}]`);
    const act = (readers.get(z.id) ?? []).find((r) => forward.has(r.id) && opDef(r.op).kind === 'elementwise' && r.inputs.length === 1);
    if (act) name(act.id, `a[${layer}]`);
  }
  if (g.loss !== undefined) name(g.loss, 'J');

  const forwardNamed = new Map([...forward].map((id) => [g.nodes[id].name, g.nodes[id]]));
  const loc = new Map<number, SourceLoc>();
  for (const n of g.nodes) {
    if (n.loc) loc.set(n.id, n.loc);
    if (forward.has(n.id) || !n.name.startsWith(GRADIENT_PREFIX)) continue;
    const of = n.name.slice(GRADIENT_PREFIX.length);
    const value = forwardNamed.get(of);
    if (!n.loc && value?.loc) loc.set(n.id, value.loc);
    const s = symbol.get(of);
    if (s?.startsWith('z[')) label.set(n.id, `δ${s.slice(1)} = ∂J/∂${s}`);
    else if (s) label.set(n.id, `∂J/∂${s.replace(/ = .*/, '')}`);
    else if (value) label.set(n.id, `∂J/∂${of}`);
  }
  return { forward, label, loc };
}
