/** One-line descriptions of kernels, for comments in generated code and `gradc inspect`. */
import type { Graph, Node } from '../ir/graph.ts';
import { numberKey } from '../ir/scalar.ts';
import type { Kernel } from '../kernels/kernel.ts';
import { domainOf } from '../kernels/kernel.ts';
import { shapeLabel } from './text.ts';

function operand(g: Graph, id: number): string {
  const n = g.nodes[id];
  return n.op === 'const' ? numberKey(n.attrs.value!) : n.name;
}

/** `z = add(xw, b1)`, or `xw = x·W1ᵀ` for products. */
export function describeNode(g: Graph, n: Node): string {
  if (n.op === 'matmul') {
    const [a, b] = n.inputs.map((i) => operand(g, i));
    return `${n.name} = ${a}${n.attrs.transA ? 'ᵀ' : ''}·${b}${n.attrs.transB ? 'ᵀ' : ''}`;
  }
  return `${n.name} = ${n.op}(${n.inputs.map((i) => operand(g, i)).join(', ')})`;
}

export function describeKernel(k: Kernel, g: Graph): string[] {
  const stored = new Set(k.stores.filter((s) => s.update === undefined).map((s) => s.node));
  const updates = new Map([...k.stores, ...k.reductions].flatMap((w) => (w.update === undefined ? [] : [[w.node, w.update] as const])));
  const reductions = new Map(k.reductions.map((r) => [r.node, r]));
  const shape = k.kind === 'matmul' ? `[${k.m},${k.n}], k = ${k.k}` : shapeLabel(domainOf(k));
  const note = (id: number) => {
    const u = updates.get(id);
    if (u !== undefined) return `  (applied: ${g.nodes[u].name} -= lr·${g.nodes[id].name})`;
    if (reductions.has(id)) return `  (summed ${reductions.get(id)!.axis === 'all' ? 'to a scalar' : 'down the rows'})`;
    return stored.has(id) ? '' : '  (not stored)';
  };
  const lines = k.nodes.length > 0 ? k.nodes.map((id) => `  ${describeNode(g, g.nodes[id])}${note(id)}`)
    : [...updates].map(([id, p]) => `  ${g.nodes[p].name} -= lr·${g.nodes[id].name}`);
  return [`${k.kind} ${shape}:`, ...lines];
}
