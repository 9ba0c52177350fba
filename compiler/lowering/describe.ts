/** One-line descriptions of kernels, for comments in generated code and `gradc inspect`. */
import type { Graph, Node } from '../ir/graph.ts';
import { dimText, shapeText } from '../ir/graph.ts';
import { numberKey } from '../ir/scalar.ts';
import type { Kernel } from '../kernels/kernel.ts';
import { domainOf } from '../kernels/kernel.ts';

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

const AXIS_TEXT = { all: 'to a scalar', overRows: 'down the rows', withinRows: 'within each row' } as const;

export function describeKernel(k: Kernel, g: Graph): string[] {
  const stored = new Set(k.stores.map((s) => s.node));
  const reductions = new Map(k.reductions.map((r) => [r.node, r]));
  const shape = k.kind === 'matmul' ? `${shapeText([k.m, k.n])}, k = ${dimText(k.k)}` : shapeText(domainOf(k));
  const note = (id: number) => {
    const r = reductions.get(id);
    if (r) return `  (${r.combine === 'sum' ? 'summed' : 'maximum'} ${AXIS_TEXT[r.axis]})`;
    return stored.has(id) ? '' : '  (not stored)';
  };
  return [`${k.kind} ${shape}:`, ...k.nodes.map((id) => `  ${describeNode(g, g.nodes[id])}${note(id)}`)];
}
