/**
 * What a generated module contains, independent of the backend, planned once per build:
 * the optimized graph, the distinct fused kernels, each entry point (forward, loss, gradient,
 * train step) as the kernels it runs in order, and where every buffer lives. Every backend
 * renders this same plan; only how each kernel is lowered (tiles, parallelism) differs.
 */
import { differentiate } from '../autodiff/backward.ts';
import type { GraphDef } from '../dsl/graph.ts';
import { NodeList } from '../ir/builder.ts';
import type { Graph } from '../ir/graph.ts';
import { reachable } from '../ir/graph.ts';
import { DEFAULT_OPTIMIZER, type OptimizerDef } from '../ir/optimizers.ts';
import { optimize } from '../passes/pipeline.ts';
import type { Kernel } from './kernel.ts';
import { writtenNodes } from './kernel.ts';
import { planMemory, type MemoryPlan } from './memory.ts';
import { schedule } from './schedule.ts';

export type { Entry, EntryName, Step } from './entry.ts';
import type { Entry, EntryName, Step } from './entry.ts';

export interface ModulePlan {
  readonly forwardIR: Graph;
  /** Forward and backward, optimized. */
  readonly graph: Graph;
  /** The distinct kernels of all entries, each named uniquely after what it computes. */
  readonly kernels: readonly Kernel[];
  /** forward, then (unless built forward-only) loss, gradient and train, in that order. */
  readonly entries: readonly Entry[];
  readonly memory: MemoryPlan;
  /** How the train step updates params; absent when built forward-only. */
  readonly optimizer?: OptimizerDef;
}

export interface PlanOptions {
  /** Plan only `forward` (no loss needed). */
  readonly forwardOnly?: boolean;
}

/** Autodiff and optimization: the one graph every entry and backend uses. */
export function planGraph(def: GraphDef, forwardOnly = false): { forwardIR: Graph; graph: Graph } {
  const forwardIR = def.ir;
  // Forward-only: the loss is not a root, so nothing computes it.
  const full = forwardOnly ? { ...forwardIR, loss: undefined } : differentiate(forwardIR);
  return { forwardIR, graph: dedicateGradients(optimize(full)) };
}

export function planModule(def: GraphDef, options: PlanOptions = {}): ModulePlan {
  const { forwardIR, graph } = planGraph(def, options.forwardOnly);
  const kernels: Kernel[] = [];
  const byKey = new Map<string, number>();
  const usedNames = new Set<string>();
  const trainable = !options.forwardOnly && graph.loss !== undefined;
  const gradRoots = trainable ? [graph.loss!, ...(graph.grads ?? []).map((r) => r.id)] : [];
  const gradientKernels = trainable ? schedule(graph, gradRoots) : [];
  const steps = (roots: readonly number[], scheduled = schedule(graph, roots)): Step[] => scheduled.map((k) => {
    // Entries share a kernel when they need exactly the same one.
    const key = JSON.stringify({ ...k, name: undefined });
    let index = byKey.get(key);
    if (index === undefined) {
      index = kernels.length;
      kernels.push({ ...k, name: uniqueName(k, graph, usedNames) });
      byKey.set(key, index);
    }
    return { kind: 'kernel', kernel: index };
  });
  const entry = (name: EntryName, roots: readonly number[], run: Step[] = steps(roots)): Entry => {
    const needed = new Set(reachable(graph, roots));
    return { name, steps: run, inputs: graph.inputs.filter((r) => needed.has(r.id)).map((r) => r.name), roots };
  };

  const outputs = graph.outputs.map((o) => o.id);
  // The forward runs the gradient's kernel wherever that does the same work (it stores more,
  // such as the pre-activation the backward pass reads): one kernel for both, not two copies.
  const byWork = new Map<string, Kernel[]>();
  for (const t of gradientKernels) {
    const key = workKey(t);
    byWork.set(key, [...(byWork.get(key) ?? []), t]);
  }
  const forwardKernels = schedule(graph, outputs).map((k) => byWork.get(workKey(k))?.find((t) => storesAll(t, k)) ?? k);
  const entries = [entry('forward', outputs, steps(outputs, forwardKernels))];
  if (trainable) {
    const gradient = entry('gradient', gradRoots, steps(gradRoots, gradientKernels));
    // The loss is the gradient's first kernels, up to the one that makes the loss (which also
    // makes the output delta): one kernel less to emit, and loss and gradient agree exactly.
    const makesLoss = gradient.steps.findIndex((st) => st.kind === 'kernel' && writtenNodes(kernels[st.kernel]).includes(graph.loss!));
    // The train step runs the gradient's kernels, then the optimizer's update.
    entries.push(
      entry('loss', [graph.loss], gradient.steps.slice(0, makesLoss + 1)),
      gradient,
      entry('train', [graph.loss], [...gradient.steps, { kind: 'update' }]),
    );
  }
  const memory = planMemory(graph, kernels, entries);
  return { forwardIR, graph, kernels, entries, memory, optimizer: trainable ? (def.optimizer ?? DEFAULT_OPTIMIZER()) : undefined };
}

/** A kernel's work, what two kernels must share to be one: its loop, nodes, operands and reductions (not its name or stores). */
const workKey = (k: Kernel): string => JSON.stringify({ ...k, name: undefined, stores: undefined });

/** Whether kernel `t` stores everything `f` stores (and maybe more). */
function storesAll(t: Kernel, f: Kernel): boolean {
  const stored = new Set(t.stores.map((st) => JSON.stringify(st)));
  return f.stores.every((st) => stored.has(JSON.stringify(st)));
}

/** The entry of a plan by name, if the plan has it. */
export function entryOf(plan: ModulePlan, name: EntryName): Entry | undefined {
  return plan.entries.find((e) => e.name === name);
}

/** The kernels an entry runs, in order (update steps left out). */
export function kernelsOf(plan: ModulePlan, entry: Entry): Kernel[] {
  return entry.steps.flatMap((s) => (s.kind === 'kernel' ? [plan.kernels[s.kernel]] : []));
}

/**
 * A kernel's name: its own when free, else its own joined with its other stored nodes
 * (`h_affine_h` beside the forward's `h`), else numbered.
 */
function uniqueName(k: Kernel, g: Graph, used: Set<string>): string {
  const stored = k.stores.map((s) => g.nodes[s.node].name);
  const candidates = [k.name, [...stored.filter((n) => n !== k.name), k.name].join('_')];
  let name = candidates.find((c) => !used.has(c));
  for (let i = 2; name === undefined; i++) if (!used.has(`${k.name}_${i}`)) name = `${k.name}_${i}`;
  used.add(name);
  return name;
}

/**
 * Gives every gradient a node of its own, so each can live in the param-shaped gradient
 * block beside its param: a gradient that simplified to a constant or a leaf, that CSE made
 * one node with another param's (b1 and b2 in (xW + b1) + b2), or that is also an output or
 * the loss, is copied (an identity `broadcast`, fused into the kernel that makes its source).
 */
function dedicateGradients(g: Graph): Graph {
  const grads = g.grads ?? [];
  const otherRoots = new Set([...g.outputs.map((o) => o.id), ...(g.loss === undefined ? [] : [g.loss])]);
  const seen = new Set<number>();
  const needsCopy = grads.map((r) => {
    const n = g.nodes[r.id];
    const copy = n.inputs.length === 0 || seen.has(r.id) || otherRoots.has(r.id);
    seen.add(r.id);
    return copy;
  });
  if (!needsCopy.some(Boolean)) return g;
  const list = new NodeList();
  for (const n of g.nodes) list.push(n);
  const shapeOf = (name: string) => g.nodes[g.params.find((p) => p.name === name)!.id].shape;
  const copied = grads.map((r, i) => (needsCopy[i] ? { ...r, id: list.add('broadcast', [r.id], { to: shapeOf(r.name) }, `d_${r.name}`) } : r));
  return { ...g, nodes: list.nodes, grads: copied };
}
