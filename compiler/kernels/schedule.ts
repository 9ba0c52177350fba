/**
 * Groups an optimized graph into kernels (elementwise fusion). Every matmul, reduction and
 * elementwise node starts a kernel, except that an elementwise node of the same shape as an
 * earlier matmul or map kernel joins it as epilogue when all its inputs are ready there:
 * `relu(x·W + b)` is one kernel, as is `(delta·W^T) ⊙ relu'(z)`. A node is stored only when
 * something outside its kernel reads it. Nodes only join kernels of the same entry points.
 */
import type { Graph, Node } from '../ir/graph.ts';
import { reachable, roots, sameShape } from '../ir/graph.ts';
import { s, substitute, type ScalarExpr } from '../ir/scalar.ts';
import { broadcastKind, opDef } from '../ops/registry.ts';
import type { Kernel, KernelArg, Schedule } from './kernel.ts';

interface Group {
  head: Node;
  members: Node[];
}

export function schedule(g: Graph): Schedule {
  const live = new Set(reachable(g, roots(g)));
  const phase = phases(g);
  const groups: Group[] = [];
  const groupOf = new Map<number, number>();
  for (const n of g.nodes) {
    if (!live.has(n.id)) continue;
    const kind = opDef(n.op).kind;
    if (kind === 'leaf') continue;
    if (kind === 'transpose') throw new Error(`internal: unfolded transpose ${n.name}`);
    const host = kind === 'elementwise' ? epilogueHost(n, groups, groupOf, phase) : undefined;
    if (host !== undefined) {
      groups[host].members.push(n);
      groupOf.set(n.id, host);
    } else {
      groupOf.set(n.id, groups.length);
      groups.push({ head: n, members: [n] });
    }
  }

  const rootIds = new Set([...g.outputs, ...(g.grads ?? [])].map((r) => r.id).concat(g.loss === undefined ? [] : [g.loss]));
  const readOutside = new Set<number>();
  for (const n of g.nodes) {
    if (!live.has(n.id)) continue;
    for (const i of n.inputs) if (groupOf.get(i) !== groupOf.get(n.id) || opDef(n.op).kind !== 'elementwise') readOutside.add(i);
  }
  const stored = (id: number) => rootIds.has(id) || readOutside.has(id);
  const kernels = groups.map((grp) => buildKernel(g, grp, stored));
  return { kernels, buffers: kernels.flatMap((k) => k.stores.map((st) => st.node)) };
}

/**
 * Which entry points need each node (bit 1 forward, 2 loss, 4 gradient). Only nodes needed
 * by the same entries share a kernel, so `forward` never runs backward work.
 */
function phases(g: Graph): Uint8Array {
  const mask = new Uint8Array(g.nodes.length);
  const mark = (ids: number[], bit: number) => {
    for (const id of reachable(g, ids)) mask[id] |= bit;
  };
  mark(g.outputs.map((o) => o.id), 1);
  if (g.loss !== undefined) mark([g.loss], 2);
  mark((g.grads ?? []).map((r) => r.id), 4);
  return mask;
}

/**
 * The group an elementwise node can join: one whose shape it has, computing one of its
 * inputs, with every other input either a leaf, a node of that group, or ready before it.
 */
function epilogueHost(n: Node, groups: Group[], groupOf: Map<number, number>, phase: Uint8Array): number | undefined {
  const candidates = n.inputs.map((i) => groupOf.get(i)).filter((k): k is number => k !== undefined);
  for (const k of candidates.sort((a, b) => a - b)) {
    const { head } = groups[k];
    const headKind = opDef(head.op).kind;
    if (headKind !== 'matmul' && headKind !== 'elementwise') continue;
    if (!sameShape(head.shape, n.shape) || phase[head.id] !== phase[n.id]) continue;
    const ready = n.inputs.every((i) => {
      const at = groupOf.get(i);
      return at === undefined ? true : at <= k;
    });
    if (ready) return k;
  }
  return undefined;
}

function buildKernel(g: Graph, grp: Group, stored: (id: number) => boolean): Kernel {
  const args: KernelArg[] = [];
  const argIndex = new Map<number, number>();
  const exprs = new Map<number, ScalarExpr>();
  const head = grp.head;
  const headDef = opDef(head.op);
  // Matmul epilogues number their buffer arguments from 1: arg 0 is the accumulator.
  const firstArg = headDef.kind === 'matmul' ? 1 : 0;
  const domain = headDef.kind === 'reduce' ? g.nodes[head.inputs[0]].shape : head.shape;

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

  const members = grp.members;
  const name = members.findLast((m) => stored(m.id))?.name ?? head.name;
  if (headDef.kind === 'matmul') exprs.set(head.id, s.arg(0));
  for (const m of members) {
    if (m === head && headDef.kind !== 'elementwise') continue;
    exprs.set(m.id, substitute(opDef(m.op).scalar!, m.inputs.map(operand)));
  }
  if (headDef.kind === 'reduce') {
    const term = substitute(headDef.scalar!, head.inputs.map(operand));
    const scale = headDef.reduceScale ? headDef.reduceScale(head.inputs.map((i) => g.nodes[i].shape)) : 1;
    return { kind: 'reduce', name, nodes: [head.id], args, stores: [{ node: head.id, expr: term }], axis: headDef.reduceAxis!, over: domain, scale };
  }
  const stores = members.filter((m) => stored(m.id)).map((m) => ({ node: m.id, expr: exprs.get(m.id)! }));
  const nodes = members.map((m) => m.id);
  if (headDef.kind === 'elementwise') return { kind: 'map', name, nodes, args, stores, shape: head.shape };
  const [a, b] = head.inputs.map((i) => g.nodes[i]);
  const { transA = false, transB = false } = head.attrs;
  const [m, n] = head.shape;
  return { kind: 'matmul', name, nodes, args, stores, a: a.id, b: b.id, transA, transB, m, n, k: transA ? a.shape[0] : a.shape[1] };
}
