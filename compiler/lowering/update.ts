/**
 * The optimizer's update as a lowered kernel: for every element of a param, its new value
 * and its state's from the optimizer's formulas (`ops/optimizers.ts`), over the param, its
 * gradient, its state slots and the per-step scalars. Where params are one block (wasm, GPU)
 * a single launch walks every param at once (the alignment gaps hold zeros, which every
 * update keeps zero); where each param is its own array (JS) the kernel takes its length and
 * runs once per param.
 */
import { sizeOf } from '../ir/graph.ts';
import type { ModulePlan } from '../kernels/plan.ts';
import type { Expr, LoweredKernel, Slot, Stmt } from './lir.ts';
import { fromScalar, int, let_, load, loop, ref, shareSubtrees, store } from './lir.ts';
import type { Launch, LaunchScalar, LoweringParams } from './lower.ts';
import { finishBody, KernelBuilder } from './lower.ts';
import { elementLoop } from './gpu.ts';
import { vectorizeStmts } from './simd.ts';

export interface LoweredUpdate {
  /** The launches of one update step, given how to intern a kernel into the module. */
  launches(intern: (k: LoweredKernel) => number): Launch[];
}

export function lowerUpdate(plan: ModulePlan, params: LoweringParams): LoweredUpdate {
  const opt = plan.optimizer!;
  const g = plan.graph;
  const kb = new KernelBuilder(g, plan.memory);
  const whole = params.contiguousParams;
  const length = plan.memory.sizes.param;
  const regionSlot = (region: Slot['region'], stateSlot?: number): Slot | undefined =>
    whole ? { region, offset: 0, length, ...(stateSlot === undefined ? {} : { stateSlot }) } : undefined;
  const p = kb.region('p', 'read_write', regionSlot('param'));
  const grad = kb.region('g', 'read', regionSlot('grad'));
  const state = opt.slots.map((name, i) => kb.region(`s_${name}`, 'read_write', regionSlot('state', i)));
  const n = whole ? int(length) : kb.scalar('n', 'i32');
  const scalars = opt.scalars.map((sc) => kb.scalar(sc.name, 'f32'));
  const element = (i: Expr): Stmt[] => {
    const values = [p, grad, ...state].map((buf, k) => ref(`v${k}`, 'f32'));
    const reads = [p, grad, ...state].map((buf, k) => let_(`v${k}`, load(buf, i)));
    const args = [...values, ...scalars];
    const shared = shareSubtrees([fromScalar(opt.param, args), ...opt.state.map((e) => fromScalar(e, args))], () => kb.temp());
    return [...reads, ...shared.lets, ...[p, ...state].map((buf, k) => store(buf, i, shared.exprs[k]))];
  };
  // One block is a whole number of vectors (regions are ALIGN-aligned): no scalar tail.
  const body = whole && params.vector
    ? [loop('i', length, vectorizeStmts(element(ref('i')), [], (i) => i.k === 'ref' && i.name === 'i').stmts, { step: params.vector })]
    : elementLoop(params, kb, n, whole ? length : undefined, element);
  const doc = [`${opt.name} update: ${opt.doc}, for ${whole ? 'every param at once' : 'one param'}${opt.slots.length ? ` (state: ${opt.slots.join(', ')})` : ''}`];
  const kernel = kb.finish(opt.name, doc, finishBody(body, params), kb.grid());
  const stepScalars: LaunchScalar[] = opt.scalars.map((sc) => ({ k: 'step', name: sc.name }));
  return {
    launches: (intern) => {
      const index = intern(kernel);
      if (whole) return [{ kernel: index, bind: kernel.buffers.map((b) => b.slot!), scalars: stepScalars }];
      return g.params.map((r) => {
        const at = plan.memory.place.get(r.id)!;
        const gradId = g.grads!.find((d) => d.name === r.name)!.id;
        const bind: Slot[] = [
          { ...at, node: r.id },
          { ...plan.memory.place.get(gradId)!, node: gradId },
          ...opt.slots.map((_, s) => ({ region: 'state' as const, offset: at.offset, length: at.length, node: r.id, stateSlot: s })),
        ];
        return { kernel: index, bind, scalars: [{ k: 'const', value: sizeOf(g.nodes[r.id].shape) }, ...stepScalars] };
      });
    },
  };
}
