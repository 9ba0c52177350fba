/**
 * Lowering: every kernel of a module plan, and the optimizer's update, into the lowered form
 * (`lir.ts`), for one backend's `LoweringParams`: this file chooses the strategy for each
 * kernel (serial loop nests with register-tiled products in `serial.ts`, their f32x4 form in
 * `simd.ts`, workgroups in `gpu.ts`; the update in `update.ts`) and shares the kernels every
 * entry launches. What the strategies share (how a kernel names its buffers, how one
 * element's epilogue is built) is `builder.ts`. Backends choose parameters, never loops.
 */
import { isBatchDim, shapeText } from '../ir/graph.ts';
import type { Kernel } from '../kernels/kernel.ts';
import { domainOf } from '../kernels/kernel.ts';
import type { ModulePlan } from '../kernels/plan.ts';
import type { LoweredKernel } from './lir.ts';
import { finishBody, type Launch, type LoweredEntry, type LoweredModule, type LoweringParams } from './builder.ts';
import { lowerGpuKernel } from './gpu.ts';
import { lowerSerialKernel } from './serial.ts';
import { lowerSimdKernel } from './simd.ts';
import { lowerUpdate } from './update.ts';

export type { GpuParams, Launch, LaunchScalar, LoweredEntry, LoweredModule, LoweringParams } from './builder.ts';

export function lowerModule(plan: ModulePlan, params: LoweringParams): LoweredModule {
  const kernels: LoweredKernel[] = [];
  const indexOf = new Map<string, number>();
  // Entries launch the same lowered kernels: each is keyed (serialized) once, not per launch.
  const known = new Map<LoweredKernel, number>();
  const intern = (k: LoweredKernel): number => {
    const hit = known.get(k);
    if (hit !== undefined) return hit;
    // The same code under another name (the finishing pass of one reduction, made for two
    // kernels) is the same kernel.
    const key = params.buffersPerLaunch ? launchIndependentKey(k) : JSON.stringify({ ...k, name: '', doc: [] });
    let index = indexOf.get(key);
    if (index === undefined) {
      index = kernels.length;
      kernels.push(k);
      indexOf.set(key, index);
    } else {
      sharers.set(index, (sharers.get(index) ?? 1) + 1);
    }
    known.set(k, index);
    return index;
  };
  /** How many plan kernels each shared lowered kernel stands for. */
  const sharers = new Map<number, number>();
  // A kernel's scalars outside the update are the call's rows and 1/rows (a dynamic batch).
  const fixed = (k: LoweredKernel): Launch => ({ kernel: intern(k), bind: k.buffers.map((b) => b.slot!), scalars: k.scalars.map((s) => ({ k: s.name as 'rows' | 'invRows' })) });
  const lowered = plan.kernels.map((k) => lowerKernel(k, plan, params));
  const update = plan.optimizer ? lowerUpdate(plan, params) : undefined;
  const entries = plan.entries.map((e): LoweredEntry => {
    const launches: Launch[] = [];
    let verifyAfter: number | undefined;
    for (const step of e.steps) {
      if (step.kind === 'kernel') {
        launches.push(...lowered[step.kernel].map(fixed));
        continue;
      }
      const { check, apply } = update!.launches(intern);
      launches.push(...check);
      verifyAfter = launches.length;
      launches.push(...apply);
    }
    return { name: e.name, launches, ...(verifyAfter === undefined ? {} : { verifyAfter }) };
  });
  const shared = kernels.map((k, i) => (sharers.has(i) ? sharedBy(k, sharers.get(i)!) : k));
  // Every plan kernel runs in some entry, so each is interned already: this adds no kernel.
  const launchesOf = lowered.map((ks) => ks.map(intern));
  return { plan, params, kernels: shared, entries, launchesOf };
}

/**
 * What a kernel computes, whatever buffers a launch passes it: its text with the buffers named
 * by position and without its name, doc and places.
 */
function launchIndependentKey(k: LoweredKernel): string {
  const position = new Map(k.buffers.map((b, i) => [b.name, `#${i}`]));
  // Buffer names are identifiers (no escapes in the JSON): renamed in the text, which is
  // several times faster than a replacer function.
  return JSON.stringify({ ...k, name: '', doc: [], buffers: k.buffers.map((b) => b.access) })
    .replace(/"buf":"([^"]*)"/g, (_, name: string) => `"buf":"${position.get(name) ?? name}"`);
}

/** The first kernel of a shared form, its doc saying how many plan kernels it stands for. */
function sharedBy(first: LoweredKernel, count: number): LoweredKernel {
  return { ...first, doc: [...first.doc, `Shared by ${count} kernels of this form (the same code, for other nodes of the plan), the first shown.`] };
}

/** One plan kernel lowered: one kernel, or on a GPU several passes. */
export function lowerKernel(k: Kernel, plan: ModulePlan, params: LoweringParams): LoweredKernel[] {
  // Loops run to a dynamic batch only along rows; a batch elsewhere would be read as a size.
  const shape = k.kind === 'matmul' ? [k.m, k.n] : domainOf(k);
  if (shape.slice(1).some(isBatchDim)) throw new Error(`internal: kernel ${k.name} has the batch dimension past its rows (${shapeText(shape)})`);
  const made = params.parallel === 'gpu' ? lowerGpuKernel(k, plan, params)
    : [params.vector ? lowerSimdKernel(k, plan, params) : lowerSerialKernel(k, plan, params)];
  return made.map((lk: LoweredKernel) => ({ ...lk, body: finishBody(lk.body, params) }));
}

