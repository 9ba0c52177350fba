/**
 * What a generated module contains, independent of the backend: the optimized graph and,
 * for each entry point (forward, loss, gradient, train step), its own kernel schedule, so
 * each is fused for exactly what it computes.
 */
import { differentiate } from '../autodiff/backward.ts';
import type { GraphDef } from '../dsl/graph.ts';
import { NodeList } from '../ir/builder.ts';
import type { Graph } from '../ir/graph.ts';
import { reachable } from '../ir/graph.ts';
import type { Kernel } from '../kernels/kernel.ts';
import { schedule, type EntryRoots } from '../kernels/schedule.ts';
import { optimize } from '../passes/pipeline.ts';

export type EntryName = 'forward' | 'loss' | 'gradient' | 'train';

export interface Entry {
  readonly name: EntryName;
  readonly kernels: readonly Kernel[];
  /** Nodes written to buffers of their own, in first-write order. */
  readonly buffers: readonly number[];
  /** Names of the inputs the entry reads. */
  readonly inputs: readonly string[];
  /** The node ids the entry returns (outputs; the loss; the gradients). */
  readonly roots: readonly number[];
}

export interface ModulePlan {
  readonly forwardIR: Graph;
  /** Forward and backward, optimized. */
  readonly graph: Graph;
  readonly forward: Entry;
  /** Absent when built forward-only. */
  readonly loss?: Entry;
  readonly gradient?: Entry;
  /** The train step with SGD updates fused in; absent where the backend applies updates itself. */
  readonly train?: Entry;
}

export interface PlanOptions {
  /** Emit only `forward` (no loss needed). */
  readonly forwardOnly?: boolean;
  /** Sum reductions inside the kernel that makes their input. */
  readonly reductionEpilogues: boolean;
  /** Plan a train entry that applies SGD updates where gradients are made. */
  readonly trainEntry: boolean;
}

/** Autodiff and optimization, shared by every backend. */
export function planGraph(def: GraphDef, forwardOnly = false): { forwardIR: Graph; graph: Graph } {
  const forwardIR = def.ir;
  // Forward-only: the loss is not a root, so nothing computes it.
  const full = forwardOnly ? { ...forwardIR, loss: undefined } : differentiate(forwardIR);
  return { forwardIR, graph: materializeConstantGradients(optimize(full)) };
}

export function planModule(def: GraphDef, options: PlanOptions): ModulePlan {
  const { forwardIR, graph } = planGraph(def, options.forwardOnly);
  const entry = (name: EntryName, roots: EntryRoots): Entry => {
    const sched = schedule(graph, roots, { reductionEpilogues: options.reductionEpilogues });
    const all = [...roots.values, ...(roots.updates ?? []).map((u) => u.grad)];
    const needed = new Set(reachable(graph, all));
    const inputs = graph.inputs.filter((r) => needed.has(r.id)).map((r) => r.name);
    return { name, kernels: sched.kernels, buffers: sched.buffers, inputs, roots: roots.values };
  };
  const forward = entry('forward', { values: graph.outputs.map((o) => o.id) });
  if (options.forwardOnly || graph.loss === undefined) return { forwardIR, graph, forward };
  const grads = graph.grads ?? [];
  const loss = entry('loss', { values: [graph.loss] });
  const gradient = entry('gradient', { values: [graph.loss, ...grads.map((r) => r.id)] });
  const paramOf = (name: string) => graph.params.find((p) => p.name === name)!.id;
  const train = options.trainEntry
    ? entry('train', { values: [graph.loss], updates: grads.map((r) => ({ param: paramOf(r.name), grad: r.id })) })
    : undefined;
  return { forwardIR, graph, forward, loss, gradient, train };
}

/** The entries of a plan that exist, in a fixed order. */
export function entriesOf(plan: ModulePlan): Entry[] {
  return [plan.forward, plan.loss, plan.gradient, plan.train].filter((e): e is Entry => e !== undefined);
}

/**
 * A gradient that simplified to a constant (a param the loss is linear in) still needs a
 * buffer of the param's shape, so backends can treat every gradient alike.
 */
function materializeConstantGradients(g: Graph): Graph {
  if (!(g.grads ?? []).some((r) => g.nodes[r.id].op === 'const')) return g;
  const list = new NodeList();
  for (const n of g.nodes) list.push(n);
  const grads = g.grads!.map((r) => {
    const n = g.nodes[r.id];
    if (n.op !== 'const') return r;
    const shape = g.nodes[g.params.find((p) => p.name === r.name)!.id].shape;
    return { ...r, id: list.add('broadcast', [r.id], { to: shape }, `d_${r.name}`) };
  });
  return { ...g, nodes: list.nodes, grads };
}
