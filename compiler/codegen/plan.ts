/**
 * What a generated module contains, independent of the backend: the optimized graph, its
 * kernels, and which kernels and inputs each entry point (forward, loss, gradient) needs.
 */
import { differentiate } from '../autodiff/backward.ts';
import type { GraphDef } from '../dsl/graph.ts';
import type { Graph } from '../ir/graph.ts';
import { NodeList } from '../ir/builder.ts';
import { reachable } from '../ir/graph.ts';
import type { Schedule } from '../kernels/kernel.ts';
import { schedule } from '../kernels/schedule.ts';
import { optimize } from '../passes/pipeline.ts';

export interface Entry {
  /** Kernel indices, in execution order. */
  readonly kernels: readonly number[];
  /** Names of the inputs the entry reads. */
  readonly inputs: readonly string[];
}

export interface ModulePlan {
  readonly forwardIR: Graph;
  /** Forward and backward, optimized. */
  readonly graph: Graph;
  readonly schedule: Schedule;
  readonly forward: Entry;
  /** Absent when built forward-only. */
  readonly loss?: Entry;
  readonly gradient?: Entry;
}

export interface PlanOptions {
  /** Emit only `forward` (no loss needed). */
  readonly forwardOnly?: boolean;
}

export function planModule(def: GraphDef, options: PlanOptions = {}): ModulePlan {
  const forwardIR = def.ir;
  // Forward-only: the loss is not a root, so nothing computes it.
  const full = options.forwardOnly ? { ...forwardIR, loss: undefined } : differentiate(forwardIR);
  const graph = materializeConstantGradients(optimize(full));
  const sched = schedule(graph);
  const entry = (rootIds: number[]): Entry => {
    const needed = new Set(reachable(graph, rootIds));
    const kernels = sched.kernels.flatMap((k, i) => (k.nodes.some((id) => needed.has(id)) ? [i] : []));
    const inputs = graph.inputs.filter((r) => needed.has(r.id)).map((r) => r.name);
    return { kernels, inputs };
  };
  const forward = entry(graph.outputs.map((o) => o.id));
  if (options.forwardOnly || graph.loss === undefined) return { forwardIR, graph, schedule: sched, forward };
  const loss = entry([graph.loss]);
  const gradient = entry([graph.loss, ...(graph.grads ?? []).map((r) => r.id)]);
  return { forwardIR, graph, schedule: sched, forward, loss, gradient };
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
