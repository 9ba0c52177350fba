/**
 * What every lowering strategy shares (serial.ts, simd.ts, gpu.ts, update.ts), apart from
 * lower.ts, which chooses among them, so the strategies import this file and not each other
 * or the driver: the parameters a backend gives the lowering, the lowered module's types,
 * how a kernel names its buffers (`KernelBuilder`), how one element's epilogue (stores and
 * reduction terms) is built from the kernel's expressions, and where reductions accumulate.
 */
import type { Graph } from '../ir/graph.ts';
import { dimMax, isBatchDim, sizeOf } from '../ir/graph.ts';
import type { Kernel } from '../kernels/kernel.ts';
import type { MemoryPlan } from '../kernels/memory.ts';
import type { EntryName, ModulePlan } from '../kernels/plan.ts';
import type { Combine, Scale } from '../ir/op-registry.ts';
import { COMBINES } from '../ir/op-registry.ts';
import { describeKernel } from './describe.ts';
import type { BufferParam, Builtin, Expr, Grid, LoweredKernel, ScalarParam, ScalarRole, Scratch, Slot, Stmt } from './lir.ts';
import { LANES, assign, float, fromScalar, int, isVector, lane, let_, load, loop, mapExpr, mapStmts, mul, ref, shareSubtrees, splat, store, var_ } from './lir.ts';
import { simplifyBody } from './simplify.ts';
import { approximateMath, type ApproximatedFn } from './math.ts';

export interface GpuParams {
  /** Invocations per workgroup of elementwise kernels. */
  readonly workgroup: number;
  /** Invocations per side of a tiled workgroup. */
  readonly threads: number;
  /** Outputs per side of an invocation's register tile. */
  readonly perThread: number;
  /** Inner-dimension values a staged product loads into workgroup memory per step. */
  readonly depth: number;
  /** A product whose inner dimension is at most this reads its operands directly. */
  readonly directDepth: number;
  /** A product at most this many columns wide runs one invocation per row. */
  readonly skinnyWidth: number;
  /**
   * A product whose tiles give fewer workgroups than this, and with at least `splitWork`
   * multiply-adds, splits its inner dimension (below that, the extra launch costs more).
   */
  readonly minWorkgroups: number;
  readonly splitWork: number;
  readonly maxWorkgroupsPerDimension: number;
}

export interface LoweringParams {
  /** `serial`: one thread runs each kernel's loops (JS, wasm). `gpu`: workgroups of invocations. */
  readonly parallel: 'serial' | 'gpu';
  /** Serial matrix products: the register tile, in rows × columns of accumulators. */
  readonly tile: { readonly rows: number; readonly cols: number };
  /** Serial matrix products: an operand read across rows at least this long is packed first. */
  readonly packRows: number;
  /**
   * Params, their gradients and the optimizer's state are one block each, so one update
   * launch covers every param (wasm, GPU); otherwise each param is its own array (JS).
   */
  readonly contiguousParams: boolean;
  /**
   * Serial kernels in f32x4 vectors (`simd.ts`; `tile` is then in floats, its columns a
   * multiple of 4); absent: scalar loops (`serial.ts`).
   */
  readonly vector?: 4;
  /** The calls the target has no instruction for (wasm: exp, log, log1p; WGSL: log1p): they become the approximations of `math.ts`. */
  readonly approximateMath?: readonly ApproximatedFn[];
  /**
   * The renderer prints each expression as a tree (C-style text: JS, WGSL), so a subtree used
   * twice is written twice: approximations bind their repeated parts to lets. (The wasm
   * renderer keeps a shared subtree in a local itself.)
   */
  readonly printsTrees?: boolean;
  /**
   * Each launch passes the kernel its buffers (function arguments: JS), so kernels that differ
   * only in which buffers they touch are one kernel: a deep network's identical layers share
   * their code. Elsewhere a buffer's place may be compiled into the kernel.
   */
  readonly buffersPerLaunch?: boolean;
  /**
   * Serial vector kernels that may run on several threads at once (wasm): a matrix product
   * worth it (see `splitRows` in lower.ts) takes the rows of C it computes, `r0` to `r1` (the
   * update, see `splitUpdate`, its elements), and
   * the thread it runs on, `tid` (which of `maxThreads` copies of its private scratch it uses).
   */
  readonly threads?: { readonly maxThreads: number; readonly minFlops: number };
  readonly gpu?: GpuParams;
}

/**
 * A per-launch value of a kernel scalar: a constant, a per-step scalar of the optimizer,
 * `count`, the number of this step (1 for the first), or the call's `rows` and 1/rows (`invRows`)
 * where the batch is dynamic.
 */
export type LaunchScalar =
  | { readonly k: 'const'; readonly value: number }
  | { readonly k: 'step'; readonly name: string }
  | { readonly k: 'count' }
  | { readonly k: 'rows' }
  | { readonly k: 'invRows' };

export interface Launch {
  /** Index into `LoweredModule.kernels`. */
  readonly kernel: number;
  /**
   * A kernel split across threads (`LoweringParams.threads`): how many rows of its output (a
   * product) or elements (the update) the threads share, a number or the call's `rows` (a
   * dynamic batch). Its scalars r0, r1 and tid are bound to 0, that count and 0 here (one
   * thread runs them all).
   */
  readonly split?: number | 'rows';
  /** Where each buffer param of the kernel lives for this launch (its fixed slot where it has one). */
  readonly bind: readonly Slot[];
  readonly scalars: readonly LaunchScalar[];
}

export interface LoweredModule {
  readonly plan: ModulePlan;
  readonly params: LoweringParams;
  /** Every distinct lowered kernel, in first-use order. */
  readonly kernels: readonly LoweredKernel[];
  readonly entries: readonly LoweredEntry[];
  /** For each kernel of the plan, the lowered kernels (indices into `kernels`) it launches, in order. */
  readonly launchesOf: readonly (readonly number[])[];
}

export interface LoweredEntry {
  readonly name: EntryName;
  readonly launches: readonly Launch[];
  /**
   * The train step: how many launches run before a serial host reads the status (the update's
   * check) and throws if it is set, so that the rest (the update's apply) never runs.
   */
  readonly verifyAfter?: number;
}

/**
 * What a launch passes for a kernel scalar: its role's value, a split kernel's share being
 * the whole (0 to `split`, thread 0) where one thread runs it (the threads' host passes each
 * thread's share instead). An element count has no role-given value: the update binds it.
 */
export function launchScalar(role: ScalarRole, split: number | 'rows' | undefined): LaunchScalar {
  if (role.k === 'length') throw new Error('internal: an element count is bound by its launch');
  if (role.k !== 'range') return role;
  if (split === undefined) throw new Error('internal: a kernel with a share of rows launched whole');
  if (role.bound !== 'to') return { k: 'const', value: 0 };
  return split === 'rows' ? { k: 'rows' } : { k: 'const', value: split };
}

/** A split kernel's first scalars, r0 to r1 (its share) and tid (its thread): see runtime/threads.ts. */
export function shareScalars(kb: KernelBuilder): { r0: Expr; r1: Expr; tid: Expr } {
  return { r0: kb.scalar('r0', 'i32', { k: 'range', bound: 'from' }), r1: kb.scalar('r1', 'i32', { k: 'range', bound: 'to' }), tid: kb.scalar('tid', 'i32', { k: 'range', bound: 'thread' }) };
}

/** What every lowered body goes through last: math the target lacks, then folding. */
export function finishBody(body: readonly Stmt[], params: LoweringParams, grid?: Grid): Stmt[] {
  return simplifyBody(unitDimensionsZero(params.approximateMath ? approximateMath(body, params.approximateMath, params.printsTrees) : body, grid));
}

/**
 * GPU: along a dimension of extent 1 (one workgroup, or one invocation a workgroup) the index
 * is 0, so it is written as 0 and folds away: indexing reads as it works, with no `wg.x` term
 * that is right only because the grid is one wide.
 */
function unitDimensionsZero(body: readonly Stmt[], grid: Grid | undefined): readonly Stmt[] {
  if (!grid) return body;
  const zero = new Set<Builtin>();
  (['x', 'y', 'z'] as const).forEach((d, i) => {
    if (grid.workgroups[i] === 1) zero.add(`workgroup.${d}`);
    if (grid.workgroupSize[i] === 1) zero.add(`local.${d}`);
  });
  return zero.size === 0 ? body : mapStmts(body, (e) => mapExpr(e, (x) => (x.k === 'builtin' && zero.has(x.name) ? int(0) : x)));
}

/**
 * Collects what a kernel touches as it is lowered: buffer params named after their nodes
 * (`p_W1` a param, `in_x` an input, `t_h` any other value), scalars and scratch arrays.
 */
export class KernelBuilder {
  private readonly buffers: BufferParam[] = [];
  private readonly byNode = new Map<number, number>();
  private readonly used = new Set<string>();
  private readonly scratch = new Map<string, Scratch>();
  private readonly scalars: ScalarParam[] = [];
  /** Lets hoisted to the top of the body: scalar-broadcast reads. */
  readonly hoisted: Stmt[] = [];
  private readonly hoistedOf = new Map<number, Expr>();

  constructor(readonly g: Graph, readonly memory: MemoryPlan) {}

  /** The name of a node's buffer in this kernel, registering the access. */
  buffer(node: number, access: 'read' | 'write'): string {
    const at = this.byNode.get(node);
    if (at !== undefined) {
      const b = this.buffers[at];
      if (b.access !== access) this.buffers[at] = { ...b, access: 'read_write' };
      return b.name;
    }
    const n = this.g.nodes[node];
    const place = this.memory.place.get(node);
    if (!place) throw new Error(`internal: ${n.name} has no buffer`);
    const prefix = n.op === 'param' ? 'p_' : n.op === 'input' ? 'in_' : 't_';
    const name = this.fresh(`${prefix}${n.name.replace(/[^A-Za-z0-9_]/g, '_')}`);
    this.byNode.set(node, this.buffers.length);
    this.buffers.push({ name, access, slot: { ...place, node } });
    return name;
  }

  /** A buffer param bound per launch, or to a whole region. */
  region(base: string, access: BufferParam['access'], slot?: Slot): string {
    const name = this.fresh(base);
    this.buffers.push({ name, access, ...(slot ? { slot } : {}) });
    return name;
  }

  /** A read of a node's value that is the same for every element, hoisted: `const s0 = t_c[0]`. */
  scalarRead(node: number): Expr {
    let r = this.hoistedOf.get(node);
    if (!r) {
      const name = `s${this.hoistedOf.size}`;
      this.hoisted.push(let_(name, load(this.buffer(node, 'read'), { k: 'num', type: 'i32', value: 0 })));
      r = ref(name, 'f32');
      this.hoistedOf.set(node, r);
    }
    return r;
  }

  /** Working storage of at least `length` values (see `Scratch`). */
  scratchArray(name: string, length: number, accumulate: boolean, scope?: 'invocation', vector?: 4): string {
    const had = this.scratch.get(name);
    this.scratch.set(name, { name, length: Math.max(length, had?.length ?? 0), accumulate, ...(scope ? { scope } : {}), ...(vector ? { vector } : {}) });
    return name;
  }

  /** GPU: a workgroup array of `length` floats, read `vector` lanes at a time where it is. */
  sharedArray(name: string, length: number, vector: 1 | 4 = 1): string {
    if (!this.sharedArrays.some((s) => s.name === name)) this.sharedArrays.push({ name, length, ...(vector === 4 ? { vector } : {}) });
    return name;
  }
  readonly sharedArrays: { name: string; length: number; vector?: 4 }[] = [];

  /** A value passed at each launch (each name once). */
  scalar(name: string, type: 'f32' | 'i32', role: ScalarRole): Expr {
    if (!this.scalars.some((s) => s.name === name)) {
      if (this.used.has(name)) throw new Error(`internal: kernel scalar ${name} is taken`);
      this.used.add(name);
      this.scalars.push({ name, type, role });
    }
    return ref(name, type);
  }

  /**
   * A dimension's extent at run time: the constant, or for the batch dimension the kernel
   * scalar `rows`, the rows of the call (see ir/graph.ts).
   */
  extent(d: number): Expr {
    return isBatchDim(d) ? this.scalar('rows', 'i32', { k: 'rows' }) : int(d);
  }

  /** A reduction's factor: a constant, or one per row of the call (`invRows` = 1/rows). */
  scaled(value: Expr, scale: Scale): Expr {
    if (typeof scale === 'number') return scale === 1 ? value : mul(value, float(scale));
    const perRow = this.scalar('invRows', 'f32', { k: 'invRows' });
    return mul(value, scale.perRows === 1 ? perRow : mul(float(scale.perRows), perRow));
  }

  /** A name for a temporary, unique in the kernel: e0, e1, … */
  temp(): string {
    return this.fresh(`e${this.temps++}`);
  }
  private temps = 0;

  fresh(base: string): string {
    let name = base;
    for (let i = 2; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** GPU: the dispatch shape set by the strategy (`setGrid`), if any. */
  grid(): Partial<LoweredKernel> {
    return this.gridShape ? { grid: this.gridShape } : {};
  }
  gridShape?: Grid;

  finish(name: string, doc: readonly string[], body: readonly Stmt[], extra: Partial<LoweredKernel> = {}): LoweredKernel {
    return { name, doc, buffers: this.buffers, scalars: this.scalars, scratch: [...this.scratch.values()], ...extra, body: [...this.hoisted, ...body] };
  }
}

/** Index expressions of one element of a kernel's iteration space. */
export interface Element {
  /** Into buffers of the kernel's shape. */
  readonly flat: Expr;
  readonly row: Expr;
  readonly col: Expr;
}

/**
 * One element of a kernel: lets for shared subexpressions, the stores, and each reduction's
 * term (for the strategy to combine). `acc` is the matmul accumulator (arg 0 of a product's
 * epilogue).
 */
export function elementBody(k: Kernel, kb: KernelBuilder, el: Element, acc?: Expr): { stmts: Stmt[]; terms: Expr[] } {
  const args: Expr[] = k.args.map((a) => {
    const node = kb.g.nodes[a.node];
    if (node.op === 'batch_scale') return kb.scaled(float(1), { perRows: node.attrs.value! });
    if (a.read === 'scalar') return kb.scalarRead(a.node);
    return load(kb.buffer(a.node, 'read'), a.read === 'row' ? el.col : a.read === 'column' ? el.row : el.flat);
  });
  const operands = k.kind === 'matmul' ? [acc!, ...args] : args;
  const exprs = [...k.stores, ...k.reductions].map((w) => fromScalar(w.expr, operands));
  const shared = shareSubtrees(exprs, () => kb.temp());
  const stores = k.stores.map((st, i) => store(kb.buffer(st.node, 'write'), el.flat, shared.exprs[i]));
  return { stmts: [...shared.lets, ...stores], terms: shared.exprs.slice(k.stores.length) };
}

/** Where each reduction of a kernel accumulates while its elements are visited. */
export interface Accumulators {
  readonly before: Stmt[];
  /** Folds one element's terms in: scalars, or (vectorized kernels) vectors of four consecutive columns. */
  add(terms: readonly Expr[], el: Element): Stmt[];
  /** The finished values, stored (called last, so outputs come last among the kernel's buffers). */
  after(): Stmt[];
}

/**
 * The accumulators of a kernel's reductions. To a scalar: a local (and, with `vector`, a
 * vector local joined with it at the end). Down the rows (one value per column) or within
 * rows: a scratch row or column, updated element by element; a vector term (lanes along the
 * columns) updates four columns of a column sum at once, or adds its lanes' total to its row.
 */
export function accumulators(k: Kernel, kb: KernelBuilder, rows: number, cols: number, vector = false): Accumulators {
  // `rows` may be a dynamic batch (negative, see ir/graph.ts): then as many as the call has.
  const before: Stmt[] = [];
  const finish: (() => Stmt)[] = [];
  const adders = k.reductions.map((r, i) => {
    const out = () => kb.buffer(r.node, 'write');
    const fold = (a: Expr, b: Expr) => combine(r.combine, a, b);
    if (r.axis === 'all' && vector && r.combine === 'sum') return compensatedSum(i, kb, before, finish, out, r.scale);
    const length = r.axis === 'overRows' ? cols : rows;
    // Down one column or within one row: one value, kept in a local like a sum to a scalar.
    const one = r.axis !== 'all' && length === 1;
    if (r.axis === 'all' || one) {
      const [vs, ss] = [ref(`rv${i}`, 'f32x4'), ref(`r${i}`, 'f32')];
      if (vector && !one) before.push(var_(`rv${i}`, splat(identityOf(r.combine))));
      before.push(var_(`r${i}`, identityOf(r.combine)));
      finish.push(() => store(out(), int(0), kb.scaled(vector && !one ? fold(combineLanes(r.combine, vs), ss) : ss, r.scale)));
      return (term: Expr) => [isVector(term.type) ? (one ? assign(`r${i}`, fold(ss, combineLanes(r.combine, term))) : assign(`rv${i}`, fold(vs, term))) : assign(`r${i}`, fold(ss, term))];
    }
    const acc = kb.scratchArray(`acc${i}`, dimMax(length), true);
    const z = ref(`z${i}`);
    before.push(loop(`z${i}`, kb.extent(length), [store(acc, z, identityOf(r.combine))]));
    finish.push(() => loop(`z${i}`, kb.extent(length), [store(out(), z, kb.scaled(load(acc, z), r.scale))]));
    return (term: Expr, el: Element) => {
      const at = r.axis === 'overRows' ? el.col : el.row;
      if (!isVector(term.type)) return [store(acc, at, fold(load(acc, at), term))];
      if (r.axis === 'overRows') return [store(acc, at, fold(load(acc, at, 'f32x4'), term))];
      return [store(acc, at, fold(load(acc, at), combineLanes(r.combine, term)))];
    };
  });
  return { before, after: () => finish.map((f) => f()), add: (terms, el) => terms.flatMap((t, i) => adders[i](t, el)) };
}

/**
 * A sum to a scalar with f32 accumulators (SIMD targets), compensated (Kahan): a vector and
 * a scalar running sum, each with a running correction, so a loss summed over 10⁵ terms is
 * as good as its terms rather than off by √n ulps (JS sums in float64 instead).
 */
function compensatedSum(i: number, kb: KernelBuilder, before: Stmt[], finish: (() => Stmt)[], out: () => string, scale: Scale): (term: Expr) => Stmt[] {
  const names = { f32x4: [`rv${i}`, `rvc${i}`], f32: [`r${i}`, `rc${i}`] } as const;
  for (const [type, [sum, err]] of Object.entries(names)) {
    const zero = type === 'f32x4' ? splat(float(0)) : float(0);
    before.push(var_(sum, zero), var_(err, zero));
  }
  const at = (type: 'f32' | 'f32x4') => names[type].map((n) => ref(n, type));
  finish.push(() => {
    const [[vs, vc], [ss, sc]] = [at('f32x4'), at('f32')];
    return store(out(), int(0), kb.scaled(combine('sum', combineLanes('sum', combine('sum', vs, neg(vc))), combine('sum', ss, neg(sc))), scale));
  });
  return (term) => {
    const type = isVector(term.type) ? 'f32x4' : 'f32';
    const [sum, err] = at(type);
    const [y, t] = [kb.temp(), kb.temp()];
    // y = term − err; t = sum + y; err = (t − sum) − y; sum = t
    return [
      let_(y, { k: 'binary', fn: 'sub', a: term, b: err, type }),
      let_(t, combine('sum', sum, ref(y, type))),
      assign(names[type][1], { k: 'binary', fn: 'sub', a: { k: 'binary', fn: 'sub', a: ref(t, type), b: sum, type }, b: ref(y, type), type }),
      assign(names[type][0], ref(t, type)),
    ];
  };
}

const neg = (x: Expr): Expr => ({ k: 'unary', fn: 'neg', a: x, type: x.type });

/** The lanes of a vector combined into one value: (v₀ ⊕ v₁) ⊕ (v₂ ⊕ v₃). */
export function combineLanes(c: Combine, v: Expr): Expr {
  const lanes = Array.from({ length: LANES }, (_, i) => lane(v, i));
  return combine(c, combine(c, lanes[0], lanes[1]), combine(c, lanes[2], lanes[3]));
}

/** `a ⊕ b` for a reduction's combine. */
export function combine(c: Combine, a: Expr, b: Expr): Expr {
  return { k: 'binary', fn: c === 'sum' ? 'add' : 'max', a, b, type: a.type };
}

export const identityOf = (c: Combine): Expr => float(COMBINES[c].identity);

/** Floats in a kernel's iteration space and its [rows, columns] (a rank-0/1 space is one row). */
export function rowsAndColumns(shape: readonly number[]): [number, number] {
  return shape.length === 2 ? [shape[0], shape[1]] : [1, sizeOf(shape)];
}

/** Comment lines describing a plan kernel (its nodes, what is stored or reduced). */
export function kernelDoc(k: Kernel, plan: ModulePlan): string[] {
  return describeKernel(k, plan.graph);
}
