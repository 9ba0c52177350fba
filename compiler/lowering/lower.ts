/**
 * Lowering: every kernel of a module plan, and the optimizer's update, into the lowered form
 * (`lir.ts`), for one backend's `LoweringParams`: this file chooses the strategy for each
 * kernel (serial loop nests with register-tiled products in `serial.ts`, their f32x4 form in
 * `simd.ts`, workgroups in `gpu.ts`; the update in `update.ts`) and shares the kernels every
 * entry launches. What the strategies share (how a kernel names its buffers, how one
 * element's epilogue is built) is `builder.ts`. Backends choose parameters, never loops.
 */
import type { Graph } from '../ir/graph.ts';
import { dimMax, isBatchDim, shapeText } from '../ir/graph.ts';
import type { ScalarExpr } from '../ir/scalar.ts';
import type { Kernel, MatmulKernel } from '../kernels/kernel.ts';
import { kernelCost } from '../kernels/cost.ts';
import { domainOf } from '../kernels/kernel.ts';
import type { ModulePlan } from '../kernels/plan.ts';
import type { LoweredKernel } from './lir.ts';
import { finishBody, launchScalar, type Launch, type LoweredEntry, type LoweredModule, type LoweringParams } from './builder.ts';
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
  const fixed = (k: LoweredKernel, split?: number | 'rows'): Launch => ({
    kernel: intern(k), bind: k.buffers.map((b) => b.slot!), scalars: k.scalars.map((s) => launchScalar(s.role, split)),
    ...(split === undefined ? {} : { split }),
  });
  const splits = plan.kernels.map((k) => splitRows(k, plan.graph, params));
  const lowered = plan.kernels.map((k, i) => lowerKernel(k, plan, params, splits[i] !== undefined));
  const update = plan.optimizer ? lowerUpdate(plan, params) : undefined;
  const entries = plan.entries.map((e): LoweredEntry => {
    const launches: Launch[] = [];
    let verifyAfter: number | undefined;
    for (const step of e.steps) {
      if (step.kind === 'kernel') {
        // A split product is its first lowered kernel; its sums (rowsThenSums) run whole.
        launches.push(...lowered[step.kernel].map((k, i) => fixed(k, i === 0 ? splits[step.kernel] : undefined)));
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

/**
 * Whether a kernel runs split by the rows of its output on several threads, and over how
 * many rows: matrix products whose reductions are sums down the rows of a stored value (they
 * run after it, see `rowsThenSums`; each output element is computed whole by one thread, in
 * the same order as on one thread, so results are the same bits for any thread count) whose
 * work pays for waking the threads (`threads.minFlops`) and that have at least two row tiles
 * to share.
 */
export function splitRows(k: Kernel, g: Graph, params: LoweringParams): number | 'rows' | undefined {
  if (!params.threads || k.kind !== 'matmul' || !sumsOfStored(k)) return undefined;
  if (kernelCost(k, g).flops < params.threads.minFlops || dimMax(k.m) < 2 * params.tile.rows) return undefined;
  return isBatchDim(k.m) ? 'rows' : k.m;
}

/** The store of a product whose value `e` is (a reduction's term that the product also stores). */
const storeOf = (k: MatmulKernel, e: ScalarExpr) => k.stores.find((st) => st.expr === e || JSON.stringify(st.expr) === JSON.stringify(e));

/** Whether a product's reductions can run after it, over what it stored: sums down the rows of a stored value. */
const sumsOfStored = (k: MatmulKernel): boolean => k.reductions.every((r) => r.axis === 'overRows' && storeOf(k, r.expr) !== undefined);

/**
 * A product to split whose epilogue also sums a stored value down the rows (an affine layer's
 * bias gradient fused into the product that makes its δ): the product without the sums, then
 * a reduction reading the stored value back, row after row as the product added them, so
 * every sum has the same terms in the same order on any number of threads.
 */
function rowsThenSums(k: MatmulKernel): Kernel[] {
  if (!k.reductions.length) return [k];
  const sums: Kernel = {
    kind: 'reduce', name: `${k.name}_sums`, over: [k.m, k.n], nodes: k.reductions.map((r) => r.node), stores: [],
    args: k.reductions.map((r) => ({ node: storeOf(k, r.expr)!.node, read: 'same' })),
    reductions: k.reductions.map((r, i) => ({ ...r, expr: { k: 'arg', index: i } })),
  };
  return [{ ...k, reductions: [] }, sums];
}

/** One plan kernel lowered: one kernel, or on a GPU several passes (a split product: itself, then its sums). */
export function lowerKernel(k: Kernel, plan: ModulePlan, params: LoweringParams, split = false): LoweredKernel[] {
  // Loops run to a dynamic batch only along rows; a batch elsewhere would be read as a size.
  const shape = k.kind === 'matmul' ? [k.m, k.n] : domainOf(k);
  if (shape.slice(1).some(isBatchDim)) throw new Error(`internal: kernel ${k.name} has the batch dimension past its rows (${shapeText(shape)})`);
  const made = params.parallel === 'gpu' ? lowerGpuKernel(k, plan, params)
    : split && k.kind === 'matmul' ? rowsThenSums(k).map((part, i) => lowerSimdKernel(part, plan, params, i === 0))
    : [params.vector ? lowerSimdKernel(k, plan, params) : lowerSerialKernel(k, plan, params)];
  return made.map((lk: LoweredKernel) => ({ ...lk, body: finishBody(lk.body, params, lk.grid) }));
}

