/**
 * The optimizer's update as lowered kernels, in two passes over every param element, both
 * from the optimizer's formulas (`ir/optimizers.ts`), over the param, its gradient, its
 * state slots and the per-step scalars:
 *
 * - the check computes every new value (param and state) and stores nothing but, where one
 *   is not a finite f32 (NaN, ±Infinity, or past the f32 range), the step number into the
 *   one-float `status` buffer;
 * - the apply computes them again and stores them.
 *
 * Between the two, a serial target's host reads the status and throws, so a step either
 * updates every param to finite values or changes nothing. A GPU runs both without the host:
 * there the apply (and the check) do nothing while the status is set, so a rejected step and
 * every later step of the submission leave params and state as they were, and the host
 * reports the step when it reads the status back.
 *
 * Where params are one block (wasm, GPU) a single launch walks every param at once (the
 * alignment gaps hold zeros, which every update keeps zero); where each param is its own
 * array (JS) the kernels take its length and run once per param.
 */
import { sizeOf } from '../ir/graph.ts';
import type { ModulePlan } from '../kernels/plan.ts';
import type { OptimizerDef } from '../ir/optimizers.ts';
import type { Expr, LoweredKernel, Slot, Stmt } from './lir.ts';
import { F32_MAX, compare, float, fromScalar, int, let_, load, loop, ref, shareSubtrees, store, when } from './lir.ts';
import type { Launch, LaunchScalar, LoweringParams } from './builder.ts';
import { finishBody, KernelBuilder, launchScalar, shareScalars } from './builder.ts';
import { elementLoop } from './element-loop.ts';
import { vectorizeStmts } from './vectorize.ts';

/** The one-float status buffer: 0, or the number of the first step whose update was not finite. */
export const STATUS_SLOT: Slot = { region: 'status', offset: 0, length: 1 };

export interface LoweredUpdate {
  /** The check's launches, then the apply's, given how to intern a kernel into the module. */
  launches(intern: (k: LoweredKernel) => number): { readonly check: Launch[]; readonly apply: Launch[] };
}

/**
 * What one element of the update costs, in the flops of a product (`threads.minFlops`): the
 * passes read and write memory more than they compute. Measured on the wasm target: the check
 * of S2's 235,152 param elements takes 0.17 ms on one core, as long as a product's 6.8 MFLOP
 * at 40 GFLOP/s (29 an element); the apply, four elements an instruction, about half that.
 */
export const UPDATE_FLOPS_PER_ELEMENT = 24;

/**
 * How many elements the threads share in each pass where the update runs split (a serial
 * vector target with threads, params one block, enough elements to pay for waking them),
 * else undefined. Each element is computed whole by one thread, so the bits are the same for
 * any thread count; the check's threads may each store the same step number into status.
 */
export function splitUpdate(plan: ModulePlan, params: LoweringParams): number | undefined {
  const length = plan.memory.sizes.param;
  if (!params.threads || !params.vector || !params.contiguousParams) return undefined;
  return length * UPDATE_FLOPS_PER_ELEMENT >= params.threads.minFlops && length >= 2 * params.vector ? length : undefined;
}

export function lowerUpdate(plan: ModulePlan, params: LoweringParams): LoweredUpdate {
  const opt = plan.optimizer!;
  const whole = params.contiguousParams;
  const split = splitUpdate(plan, params);
  const check = updateKernel(plan, params, opt, 'check', split);
  const apply = updateKernel(plan, params, opt, 'apply', split);
  // The element count (a param's own array) is bound per launch below.
  const scalarsOf = (k: LoweredKernel): LaunchScalar[] => k.scalars.filter((s) => s.role.k !== 'length').map((s) => launchScalar(s.role, split));
  return {
    launches: (intern) => {
      const launchesOf = (k: LoweredKernel): Launch[] => {
        const index = intern(k);
        if (whole) return [{ kernel: index, bind: k.buffers.map((b) => b.slot!), scalars: scalarsOf(k), ...(split === undefined ? {} : { split }) }];
        const g = plan.graph;
        // By name, once: a search per param would cost a deep network's params squared.
        const gradOf = new Map(g.grads!.map((d) => [d.name, d.id]));
        return g.params.map((r) => {
          const at = plan.memory.place.get(r.id)!;
          const gradId = gradOf.get(r.name)!;
          const bind: Slot[] = [
            { ...at, node: r.id },
            { ...plan.memory.place.get(gradId)!, node: gradId },
            ...opt.slots.map((_, s) => ({ region: 'state' as const, offset: at.offset, length: at.length, node: r.id, stateSlot: s })),
            ...(k.buffers.length > 2 + opt.slots.length ? [STATUS_SLOT] : []),
          ];
          return { kernel: index, bind, scalars: [{ k: 'const', value: sizeOf(g.nodes[r.id].shape) }, ...scalarsOf(k)] };
        });
      };
      return { check: launchesOf(check), apply: launchesOf(apply) };
    },
  };
}

function updateKernel(plan: ModulePlan, params: LoweringParams, opt: OptimizerDef, pass: 'check' | 'apply', split?: number): LoweredKernel {
  const kb = new KernelBuilder(plan.graph, plan.memory);
  // A split pass's first scalars: its elements r0 to r1 (multiples of four) and its thread.
  const range = split === undefined ? undefined : shareScalars(kb);
  const whole = params.contiguousParams;
  const length = plan.memory.sizes.param;
  const regionSlot = (region: Slot['region'], stateSlot?: number): Slot | undefined =>
    whole ? { region, offset: 0, length, ...(stateSlot === undefined ? {} : { stateSlot }) } : undefined;
  const p = kb.region('p', pass === 'apply' ? 'read_write' : 'read', regionSlot('param'));
  const grad = kb.region('g', 'read', regionSlot('grad'));
  const state = opt.slots.map((name, i) => kb.region(`s_${name}`, pass === 'apply' ? 'read_write' : 'read', regionSlot('state', i)));
  // Serial hosts read the status between the passes; only a GPU's apply reads it itself.
  const guarded = params.parallel === 'gpu';
  const status = pass === 'check' || guarded ? kb.region('status', pass === 'check' ? 'read_write' : 'read', whole ? STATUS_SLOT : undefined) : undefined;
  const n = whole ? int(length) : kb.scalar('n', 'i32', { k: 'length' });
  const scalars = opt.scalars.map((sc) => kb.scalar(sc.name, 'f32', { k: 'step', name: sc.name }));
  // What the check stores in status: the step number t, or 1 where a serial host keeps no
  // count (an optimizer without state: every step is the first, and the host passes none).
  const stateless = opt.slots.length === 0 && params.parallel === 'serial';
  const t = pass === 'check' ? (stateless ? float(1) : kb.scalar('t', 'f32', { k: 'count' })) : undefined;
  const element = (i: Expr): Stmt[] => {
    const values = [p, grad, ...state].map((_, k) => ref(`v${k}`, 'f32'));
    const reads = [p, grad, ...state].map((buf, k) => let_(`v${k}`, load(buf, i)));
    const args = [...values, ...scalars];
    const shared = shareSubtrees([fromScalar(opt.param, args), ...opt.state.map((e) => fromScalar(e, args))], () => kb.temp());
    if (pass === 'apply') return [...reads, ...shared.lets, ...[p, ...state].map((buf, k) => store(buf, i, shared.exprs[k]))];
    // F32_MAX ≥ |x| is false for NaN as well as for values past the f32 range. Each new
    // value's verdict is named, so every line stays short.
    const finite = shared.exprs.map((e, k) => let_(`finite${k}`, compare('ge', float(F32_MAX), { k: 'unary', fn: 'abs', a: e, type: 'f32' })));
    const allFinite = finite.map((_, k): Expr => ref(`finite${k}`, 'bool')).reduce((a, b) => ({ k: 'binary', fn: 'and', a, b, type: 'bool' }));
    return [...reads, ...shared.lets, ...finite, when({ k: 'unary', fn: 'not', a: allFinite, type: 'bool' }, [store(status!, int(0), t!)])];
  };
  // One block is a whole number of vectors (regions are ALIGN-aligned): the apply runs four
  // elements an instruction with no scalar tail; the check (a branch per element) runs scalar.
  const [from, to] = range ? [range.r0, range.r1] : [int(0), int(length)];
  const loopBody = whole && params.vector && pass === 'apply'
    ? [loop('i', to, vectorizeStmts(element(ref('i')), [], (i) => i.k === 'ref' && i.name === 'i').stmts, { start: from, step: params.vector })]
    : range ? [loop('i', to, element(ref('i')), { start: from })]
    : elementLoop(params, kb, n, whole ? length : undefined, element);
  const body = guarded ? [when(compare('eq', load(status!, int(0)), float(0)), loopBody)] : loopBody;
  const doc = [
    `${opt.name} update: ${opt.doc}, for ${whole ? 'every param at once' : 'one param'}${opt.slots.length ? ` (state: ${opt.slots.join(', ')})` : ''}`,
    ...(split === undefined ? [] : [`Split by elements: computes elements r0 to r1 of  (see runtime/threads.ts).`]),
    pass === 'check' ? `Checks that every new value is a finite f32, else stores ${stateless ? '1' : 'the step number t'} in status.` : 'Stores the new values.',
    ...(guarded ? ['Does nothing while status is set: a rejected step leaves params and state as they were.'] : []),
  ];
  return kb.finish(pass === 'check' ? `${opt.name}_check` : opt.name, doc, finishBody(body, params, kb.gridShape), kb.grid());
}
