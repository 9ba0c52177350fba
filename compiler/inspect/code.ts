/**
 * The code a target emits for each kernel of a plan, each lowered kernel printed on its own,
 * and every plan kernel mapped to the lowered kernels it launches (one, or on a GPU a
 * product's slices and their sum, or a reduction's partial and finishing passes).
 *
 * Where a launch passes a kernel its buffers (JS), kernels of one form are one function in
 * the module: each form is lowered once here too, from the first kernel of that form, so a
 * deep network's thousands of identical layers cost one lowering. Elsewhere a buffer's
 * place is part of the code: the whole module is lowered as the build does.
 */
import type { Backend } from '../backends/backend.ts';
import { kernelNames } from '../backends/backend.ts';
import { BACKENDS, type Target } from '../compile.ts';
import { Namer } from '../backends/common/text.ts';
import type { Graph } from '../ir/graph.ts';
import { shapeText } from '../ir/graph.ts';
import type { Kernel } from '../kernels/kernel.ts';
import type { ModulePlan } from '../kernels/plan.ts';
import type { LoweredKernel } from '../lowering/lir.ts';
import { lowerKernel, lowerModule } from '../lowering/lower.ts';
import { lowerUpdate } from '../lowering/update.ts';

export interface KernelCode {
  /** Each lowered kernel's identifier and text, in the module's order. */
  readonly kernels: readonly { readonly name: string; readonly text: string }[];
  /** Per plan kernel, the lowered kernels it launches (indices into `kernels`). */
  readonly launchesOf: readonly (readonly number[])[];
  /** The train step's update of every param: the lowered kernels it launches. */
  readonly update: readonly number[];
}

export function kernelCode(plan: ModulePlan, target: Target): KernelCode {
  return BACKENDS[target].lowering.buffersPerLaunch ? codeByForm(plan, target) : moduleCode(plan, target);
}

function moduleCode(plan: ModulePlan, target: Target): KernelCode {
  const backend = BACKENDS[target] as Backend<never>;
  const module = lowerModule(plan, backend.lowering);
  const names = kernelNames(module);
  const kernels = module.kernels.map((k, i) => ({ name: names[i], text: backend.kernelText(backend.renderKernel(k, names[i], module)) }));
  const train = module.entries.find((e) => e.name === 'train');
  const trainSteps = plan.entries.find((e) => e.name === 'train')?.steps ?? [];
  // The update launches what the train step launches after its kernels' launches.
  const before = trainSteps.reduce((n, s) => n + (s.kind === 'kernel' ? module.launchesOf[s.kernel].length : 0), 0);
  const update = (train?.launches ?? []).slice(before).map((l) => l.kernel);
  return { kernels, launchesOf: module.launchesOf, update: [...new Set(update)] };
}

function codeByForm(plan: ModulePlan, target: Target): KernelCode {
  const backend = BACKENDS[target] as Backend<never>;
  const params = backend.lowering;
  const namer = new Namer();
  const kernels: { name: string; text: string }[] = [];
  const indexOf = new Map<LoweredKernel, number>();
  const add = (k: LoweredKernel): number => {
    let index = indexOf.get(k);
    if (index === undefined) {
      const name = namer.take('k_', k.name);
      // Such a target renders a kernel from the kernel alone (it has no places to look up).
      kernels.push({ name, text: backend.kernelText(backend.renderKernel(k, name, undefined as never)) });
      indexOf.set(k, (index = kernels.length - 1));
    }
    return index;
  };
  const byForm = new Map<string, number[]>();
  const launchesOf = plan.kernels.map((k) => {
    const key = formKey(k, plan.graph);
    let launches = byForm.get(key);
    if (!launches) byForm.set(key, (launches = lowerKernel(k, plan, params).map(add)));
    return launches;
  });
  const update = new Set<number>();
  if (plan.optimizer) {
    const { check, apply } = lowerUpdate(plan, params).launches(add);
    for (const l of [...check, ...apply]) update.add(l.kernel);
  }
  return { kernels, launchesOf, update: [...update] };
}

/**
 * A kernel with its nodes numbered in the order it names them, and each node's kind and
 * shape: kernels with equal keys lower to the same code over different buffers.
 */
function formKey(k: Kernel, g: Graph): string {
  const local = new Map<number, number>();
  const id = (node: number) => {
    let index = local.get(node);
    if (index === undefined) local.set(node, (index = local.size));
    return index;
  };
  const text = JSON.stringify(k, (key, value: unknown) => {
    if (key === 'name') return undefined;
    if (key === 'nodes') return (value as number[]).map(id);
    // Node ids: `node` of args, stores and reductions; a matmul's `a` and `b` (numbers, unlike an expression's operands).
    if ((key === 'node' || key === 'a' || key === 'b') && typeof value === 'number') return id(value);
    return value;
  });
  const nodes = [...local.keys()].map((n) => `${g.nodes[n].op === 'param' || g.nodes[n].op === 'input' ? g.nodes[n].op : 'value'}${shapeText(g.nodes[n].shape)}`);
  return `${text}|${nodes.join(',')}`;
}
