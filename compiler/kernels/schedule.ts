/**
 * Groups what one entry point needs into kernels (fusion):
 * - every matmul, elementwise node and reduction starts a kernel, except that
 * - an elementwise node of the same shape as an earlier matmul or map kernel joins it as
 *   epilogue when all its inputs are ready there: `relu(x·W + b)` is one kernel, as is
 *   `(δ·Wᵀ) ⊙ relu′(z)`;
 * - a reduction over such a kernel's iteration space is combined on the way: the bias
 *   gradient (column sums of δ) where δ is made, the loss where the output delta is made.
 * A node is stored only when something outside its kernel reads it, or it is a root.
 * Every backend renders the same kernels; how a reduction is parallelized is lowering's.
 */
import type { Graph, Node } from '../ir/graph.ts';
import { reachable, sameShape } from '../ir/graph.ts';
import { s, substitute, type ScalarExpr } from '../ir/scalar.ts';
import { broadcastKind, opDef } from '../ir/op-registry.ts';
import type { Kernel, KernelArg, KernelReduction, KernelStore } from './kernel.ts';

interface Group {
  readonly head: Node;
  readonly members: Node[];
  readonly reductions: Node[];
}

/** The kernels that compute `roots` (and what they need), in execution order. */
export function schedule(g: Graph, roots: readonly number[]): Kernel[] {
  const live = new Set(reachable(g, roots));
  const groups: Group[] = [];
  const groupOf = new Map<number, number>();
  for (const n of g.nodes) {
    if (!live.has(n.id)) continue;
    const kind = opDef(n.op).kind;
    if (kind === 'leaf') continue;
    if (kind === 'transpose') throw new Error(`internal: unfolded transpose ${n.name}`);
    const host = kind === 'elementwise' ? hostFor(n, n.shape, groups, groupOf)
      : kind === 'reduce' ? hostFor(n, g.nodes[n.inputs[0]].shape, groups, groupOf) : undefined;
    if (host !== undefined) {
      (kind === 'reduce' ? groups[host].reductions : groups[host].members).push(n);
      groupOf.set(n.id, host);
    } else {
      groupOf.set(n.id, groups.length);
      groups.push(kind === 'reduce' ? { head: n, members: [], reductions: [n] } : { head: n, members: [n], reductions: [] });
    }
  }

  const readOutside = new Set<number>();
  for (const n of g.nodes) {
    if (!live.has(n.id)) continue;
    const fused = opDef(n.op).kind !== 'matmul';
    for (const i of n.inputs) if (groupOf.get(i) !== groupOf.get(n.id) || !fused) readOutside.add(i);
  }
  const rootSet = new Set(roots);
  const needed = (id: number) => rootSet.has(id) || readOutside.has(id);
  return groups.map((grp) => buildKernel(g, grp, needed));
}

/**
 * The group a node can join: one whose iteration space is `domain`, computing one of its
 * inputs, with every other input either a leaf, a node of that group, or ready before it.
 */
function hostFor(n: Node, domain: readonly number[], groups: Group[], groupOf: Map<number, number>): number | undefined {
  const candidates = n.inputs.map((i) => groupOf.get(i)).filter((k): k is number => k !== undefined);
  for (const k of candidates.sort((a, b) => a - b)) {
    const { head } = groups[k];
    const headKind = opDef(head.op).kind;
    if (headKind !== 'matmul' && headKind !== 'elementwise') continue;
    if (!sameShape(head.shape, domain)) continue;
    const ready = n.inputs.every((i) => {
      const at = groupOf.get(i);
      return at === undefined || at < k || (at === k && !isReductionOf(groups[k], i));
    });
    if (ready) return k;
  }
  return undefined;
}

/** A reduction's value exists only after its kernel has finished: nothing in that kernel can read it. */
function isReductionOf(grp: Group, id: number): boolean {
  return grp.reductions.some((r) => r.id === id);
}

function buildKernel(g: Graph, grp: Group, needed: (id: number) => boolean): Kernel {
  const args: KernelArg[] = [];
  const argIndex = new Map<number, number>();
  const exprs = new Map<number, ScalarExpr>();
  const head = grp.head;
  const headKind = opDef(head.op).kind;
  const isMatmul = headKind === 'matmul';
  // Matmul epilogues number their buffer arguments from 1: arg 0 is the accumulator.
  const firstArg = isMatmul ? 1 : 0;
  const domain = headKind === 'reduce' ? g.nodes[head.inputs[0]].shape : head.shape;

  const operand = (id: number): ScalarExpr => {
    const inside = exprs.get(id);
    if (inside) return inside;
    const node = g.nodes[id];
    if (node.op === 'const') return s.num(node.attrs.value!);
    let index = argIndex.get(id);
    if (index === undefined) {
      const read = broadcastKind(node.shape, domain);
      if (!read) throw new Error(`internal: ${node.name} cannot be read in kernel ${head.name}`);
      index = args.length;
      args.push({ node: id, read });
      argIndex.set(id, index);
    }
    return s.arg(index + firstArg);
  };

  if (isMatmul) exprs.set(head.id, s.arg(0));
  for (const m of grp.members) {
    if (m === head && isMatmul) continue;
    exprs.set(m.id, substitute(opDef(m.op).scalar!, m.inputs.map(operand)));
  }
  const reductions: KernelReduction[] = grp.reductions.map((r) => {
    const def = opDef(r.op);
    return {
      node: r.id,
      expr: substitute(def.scalar!, r.inputs.map(operand)),
      ...def.reduce!,
      scale: def.reduceScale ? def.reduceScale(r.inputs.map((i) => g.nodes[i].shape)) : 1,
    };
  });
  const stored = grp.members.filter((m) => needed(m.id));
  const stores: KernelStore[] = stored.map((m) => ({ node: m.id, expr: exprs.get(m.id)! }));
  const nodes = [...grp.members, ...grp.reductions].map((m) => m.id);
  // Named after what it makes: its last stored elementwise node, else its last reduction.
  const name = (stored.at(-1) ?? grp.reductions.at(-1) ?? head).name;
  const base = { name, nodes, args, stores, reductions };
  if (headKind === 'reduce') return { ...base, kind: 'reduce', over: domain };
  if (headKind === 'elementwise') return { ...base, kind: 'map', shape: head.shape };
  const [a, b] = head.inputs.map((i) => g.nodes[i]);
  const { transA = false, transB = false } = head.attrs;
  const [m, n] = head.shape;
  return { ...base, kind: 'matmul', a: a.id, b: b.id, transA, transB, m, n, k: transA ? a.shape[0] : a.shape[1] };
}
