/**
 * A backend is a target's syntax: given the shared lowering's kernels (with the tile plan and
 * capabilities it asked for), it renders each kernel, then the module around them (entry
 * points, host code). Adding a target means implementing these members; every decision about
 * what a kernel computes and how it is tiled is made below, in `lowering/`.
 */
import type { LoweredKernel } from '../lowering/lir.ts';
import { lowerModule, type LoweredModule, type LoweringParams } from '../lowering/lower.ts';
import type { ModulePlan } from '../kernels/plan.ts';
import type { ModuleInfo } from './common/host.ts';
import { Namer } from './common/text.ts';

export type { EmittedFile } from './common/emitted-file.ts';
import type { EmittedFile } from './common/emitted-file.ts';

export interface Backend<Rendered = unknown> {
  /** The `--target` name. */
  readonly target: string;
  /** What the shared lowering needs to know of this target: tile sizes, parallelism, layout. */
  readonly lowering: LoweringParams;
  /** One lowered kernel of `module` in this target's syntax, under the module-wide name `name`. */
  renderKernel(kernel: LoweredKernel, name: string, module: LoweredModule): Rendered;
  /** The module's files: the rendered kernels with the entry points and host code around them. */
  renderModule(module: LoweredModule, kernels: readonly Rendered[], names: readonly string[], info: ModuleInfo): EmittedFile[];
  /** One rendered kernel as the text its module shows (for `gradc inspect --html`). */
  kernelText(kernel: Rendered): string;
}

/** Lowers the plan for a backend and renders it: the whole of a target's build. */
export function emitTarget<R>(plan: ModulePlan, backend: Backend<R>, info: ModuleInfo): { files: EmittedFile[]; module: LoweredModule } {
  const module = lowerModule(plan, backend.lowering);
  const names = kernelNames(module);
  const rendered = module.kernels.map((k, i) => backend.renderKernel(k, names[i], module));
  return { files: backend.renderModule(module, rendered, names, info), module };
}

/** Kernel identifiers, `k_<name>`, the same in every backend. */
export function kernelNames(module: LoweredModule): string[] {
  const namer = new Namer();
  return module.kernels.map((k) => namer.take('k_', k.name));
}
