/**
 * The code a target emits for each kernel of a plan: the plan lowered and rendered as the
 * build does, each lowered kernel printed on its own, and every plan kernel mapped to the
 * lowered kernels it launches (one, or on a GPU a product's slices and their sum, or a
 * reduction's partial and finishing passes).
 */
import type { Backend } from '../backends/backend.ts';
import { kernelNames } from '../backends/backend.ts';
import { printWat, type WasmFunction } from '../backends/wasm/instructions.ts';
import { BACKENDS, type Target } from '../compile.ts';
import type { ModulePlan } from '../kernels/plan.ts';
import { lowerModule } from '../lowering/lower.ts';

export interface KernelCode {
  /** Each lowered kernel's identifier and text, in the module's order. */
  readonly kernels: readonly { readonly name: string; readonly text: string }[];
  /** Per plan kernel, the lowered kernels it launches (indices into `kernels`). */
  readonly launchesOf: readonly (readonly number[])[];
  /** The train step's update of every param: the lowered kernels it launches. */
  readonly update: readonly number[];
}

/** A rendered kernel as text, per target: what each backend's `renderKernel` returns. */
const TEXT_OF: Record<Target, (rendered: never) => string> = {
  js: (lines: readonly string[]) => lines.join('\n'),
  wgsl: (text: string) => text,
  // One function's text: the module printed around it, without the module's own lines.
  wasm: (f: WasmFunction) => {
    const lines = printWat({ header: [], pages: 1, functions: [f] }).split('\n');
    const from = lines.findIndex((l) => l.includes('(memory '));
    return lines.slice(from + 1, lines.lastIndexOf(')')).map((l) => l.replace(/^ {2}/, '')).join('\n').trim();
  },
};

export function kernelCode(plan: ModulePlan, target: Target): KernelCode {
  const backend = BACKENDS[target] as Backend<never>;
  const module = lowerModule(plan, backend.lowering);
  const names = kernelNames(module);
  const kernels = module.kernels.map((k, i) => ({ name: names[i], text: TEXT_OF[target](backend.renderKernel(k, names[i], module)) }));
  const train = module.entries.find((e) => e.name === 'train');
  const trainSteps = plan.entries.find((e) => e.name === 'train')?.steps ?? [];
  // The update launches what the train step launches after its kernels' launches.
  const before = trainSteps.reduce((n, s) => n + (s.kind === 'kernel' ? module.launchesOf[s.kernel].length : 0), 0);
  const update = (train?.launches ?? []).slice(before).map((l) => l.kernel);
  return { kernels, launchesOf: module.launchesOf, update: [...new Set(update)] };
}
