/**
 * Groups what one entry point needs into kernels (fusion):
 * - every matmul, elementwise node and reduction starts a kernel, except that
 * - an elementwise node of the same shape as an earlier matmul or map kernel joins it as
 *   epilogue when all its inputs are ready there: `relu(x·W + b)` is one kernel, as is
 *   `(δ·Wᵀ) ⊙ relu′(z)`;
 * - with `reductionEpilogues`, a reduction over such a kernel's iteration space is summed
 *   on the way: the bias gradient (column sums of δ) where δ is made, the loss where the
 *   output delta is made;
 * - with `updates` (a train step), a gradient is applied to its param where it is made,
 *   when nothing later reads the param; otherwise one update kernel per param runs last.
 * A node is stored only when something outside its kernel reads it, or it is a root.
 */
import type { Graph, Node } from '../ir/graph.ts';
import { reachable, sameShape } from '../ir/graph.ts';
import { s, substitute, type ScalarExpr } from '../ir/scalar.ts';
import { broadcastKind, opDef } from '../ops/registry.ts';
import type { Kernel, KernelArg, KernelReduction, KernelStore, Schedule } from './kernel.ts';
import { readNodes, writtenNodes } from './kernel.ts';

/** What an entry point computes: its roots in the graph. */
export interface EntryRoots {
  readonly values: readonly number[];
  /** Train step: gradients to apply to their params, by param node. */
  readonly updates?: readonly { readonly param: number; readonly grad: number }[];
}

export interface ScheduleOptions {
  /** Sum reductions inside the kernel that makes their input (the JS backend does). */
  readonly reductionEpilogues: boolean;
}

interface Group {
  readonly head: Node;
  readonly members: Node[];
  readonly reductions: Node[];
}

export function schedule(g: Graph, entry: EntryRoots, options: ScheduleOptions): Schedule {
  const updates = entry.updates ?? [];
  const rootIds = [...entry.values, ...updates.map((u) => u.grad)];
  const live = new Set(reachable(g, rootIds));
  const groups: Group[] = [];
  const groupOf = new Map<number, number>();
  for (const n of g.nodes) {
    if (!live.has(n.id)) continue;
    const kind = opDef(n.op).kind;
    if (kind === 'leaf') continue;
    if (kind === 'transpose') throw new Error(`internal: unfolded transpose ${n.name}`);
    const host = kind === 'elementwise' ? hostFor(n, n.shape, groups, groupOf)
      : kind === 'reduce' && options.reductionEpilogues ? hostFor(n, g.nodes[n.inputs[0]].shape, groups, groupOf) : undefined;
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
  const rootSet = new Set(rootIds);
  const needed = (id: number) => rootSet.has(id) || readOutside.has(id);
  const kernels = groups.map((grp) => buildKernel(g, grp, needed));
  const applied = applyUpdates(g, kernels, updates, readOutside);
  return { kernels: applied, buffers: [...new Set(applied.flatMap(writtenNodes))] };
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
      axis: def.reduceAxis!,
      scale: def.reduceScale ? def.reduceScale(r.inputs.map((i) => g.nodes[i].shape)) : 1,
    };
  });
  const stores: KernelStore[] = grp.members.filter((m) => needed(m.id)).map((m) => ({ node: m.id, expr: exprs.get(m.id)! }));
  const nodes = [...grp.members, ...grp.reductions].map((m) => m.id);
  const name = [...grp.members, ...grp.reductions].findLast((m) => needed(m.id))?.name ?? head.name;
  const base = { name, nodes, args, stores, reductions };
  if (headKind === 'reduce') return { ...base, kind: 'reduce', over: domain };
  if (headKind === 'elementwise') return { ...base, kind: 'map', shape: head.shape };
  const [a, b] = head.inputs.map((i) => g.nodes[i]);
  const { transA = false, transB = false } = head.attrs;
  const [m, n] = head.shape;
  return { ...base, kind: 'matmul', a: a.id, b: b.id, transA, transB, m, n, k: transA ? a.shape[0] : a.shape[1] };
}

/**
 * Turns the gradient stores of a train step into updates. A gradient is applied where it
 * is made when no later kernel reads its param (or the gradient), and its own kernel reads
 * the param at most at the same element; otherwise it stays stored and an update kernel
 * at the end applies it.
 */
function applyUpdates(g: Graph, kernels: Kernel[], updates: EntryRoots['updates'] & object, readOutside: ReadonlySet<number>): Kernel[] {
  if (updates.length === 0) return kernels;
  // CSE may make two params share one gradient node (b1 and b2 in (xW + b1) + b2): such a
  // gradient is stored, and each param gets an update kernel of its own.
  const sharers = new Map<number, number[]>();
  for (const u of updates) sharers.set(u.grad, [...(sharers.get(u.grad) ?? []), u.param]);
  const updateOf = new Map([...sharers].filter(([, params]) => params.length === 1).map(([grad, [param]]) => [grad, param]));
  const late: Kernel[] = [...sharers].filter(([, params]) => params.length > 1).flatMap(([grad, params]) => params.map((p) => updateKernel(g, grad, p)));
  const lastRead = new Map<number, number>();
  kernels.forEach((k, i) => readNodes(k).forEach((id) => lastRead.set(id, i)));
  const out = kernels.map((k, i) => {
    const fold = (w: { node: number }, afterLoops: boolean) => {
      const param = updateOf.get(w.node);
      if (param === undefined) return undefined;
      // A reduction is applied after the kernel's loops, so the kernel may read the param
      // anywhere; a store is applied per element, so only at that element.
      const readsParamElsewhere = !afterLoops && ((k.kind === 'matmul' && (k.a === param || k.b === param)) || k.args.some((a) => a.node === param && a.read !== 'same'));
      const safe = (lastRead.get(param) ?? -1) <= i && !readsParamElsewhere && !readOutside.has(w.node);
      if (!safe) late.push(updateKernel(g, w.node, param));
      return safe ? param : undefined;
    };
    const withUpdate = (afterLoops: boolean) => <T extends { node: number }>(w: T): T => {
      const update = fold(w, afterLoops);
      return update === undefined ? w : { ...w, update };
    };
    return { ...k, stores: k.stores.map(withUpdate(false)), reductions: k.reductions.map(withUpdate(true)) };
  });
  return [...out, ...late];
}

function updateKernel(g: Graph, grad: number, param: number): Kernel {
  const p = g.nodes[param];
  return {
    kind: 'map', name: `sgd_${p.name}`, shape: p.shape, nodes: [], args: [{ node: grad, read: 'same' }],
    stores: [{ node: grad, expr: s.arg(0), update: param }], reductions: [],
  };
}

