/**
 * The lowered kernel form: what every backend renders, and nothing a backend decides.
 *
 * A lowered kernel is a small structured program: loop nests whose trip counts are
 * constants (or a named kernel scalar), lets and mutable locals, loads and stores at index
 * expressions into named buffers, and expression trees over the scalar language of the ops.
 * Tiling, edge handling (full tiles and peeled edge tiles, never clamps), reductions and
 * parallel mapping are decided by the shared lowering (`lower.ts`), parameterized by the
 * backend's `LoweringParams`; `simplify.ts` folds what constant shapes make trivial. A
 * renderer turns each node into syntax and nothing more.
 *
 * Types: `f32` values (a backend may compute them in higher precision: the JS backend uses
 * float64 locals), `i32` indices and counts, `bool` conditions, and for SIMD backends
 * four-lane vectors of each (`f32x4`, `i32x4`, and `boolx4`, a lanewise comparison's mask).
 * A vector operation is its scalar one lane by lane. GPU-only nodes (`builtin`, workgroup
 * arrays, `barrier`) appear only in kernels lowered with `parallel: 'gpu'`; vector and bit
 * nodes (`splat`, `lane`, `convert`, `bitcast`, `nearest`, `pmin`, `pmax`, the bitwise
 * integer operations) only in kernels lowered with `vector` (see `simd.ts`, `math.ts`).
 */
import type { BinaryFn, CompareFn, ScalarExpr, UnaryFn } from '../ir/scalar.ts';
import type { Region } from '../kernels/memory.ts';

export type ScalarType = 'f32' | 'i32' | 'bool';
export type VectorType = 'f32x4' | 'i32x4' | 'boolx4';
export type Type = ScalarType | VectorType;

/** Lanes of the vector types. */
export const LANES = 4;

/** The vector type of a scalar type, and back. */
export const VECTOR_OF: Readonly<Record<ScalarType, VectorType>> = { f32: 'f32x4', i32: 'i32x4', bool: 'boolx4' };
export const LANE_OF: Readonly<Record<VectorType, ScalarType>> = { f32x4: 'f32', i32x4: 'i32', boolx4: 'bool' };
export const isVector = (t: Type): t is VectorType => t in LANE_OF;

/**
 * Integer-only operations (the float ones are the scalar language's): `shr` is arithmetic,
 * `shl` shifts left (a vector by a scalar count), `bitand`/`bitor` are bitwise.
 */
export type IntFn = 'div' | 'rem' | 'shr' | 'shl' | 'bitand' | 'bitor';
export type LogicFn = 'and';
/**
 * Float operations beyond the scalar language, for SIMD targets: `pmin(a, b)` is
 * `b < a ? b : a` and `pmax(a, b)` is `a < b ? b : a` (one instruction each, where `min` and
 * `max` must propagate NaN from either side); `nearest` rounds to the nearest integer, ties
 * to even. `not` negates a bool.
 */
export type VectorFloatFn = 'pmin' | 'pmax';
export type ExtraUnaryFn = 'nearest' | 'not';
export type Builtin = 'workgroup.x' | 'workgroup.y' | 'workgroup.z' | 'local.x' | 'local.y' | 'local.z';

/** The largest finite f32: a value past it is stored as ±Infinity, and a WGSL literal can be no larger. */
export const F32_MAX = 3.4028234663852886e38;

export type Expr =
  | { readonly k: 'num'; readonly type: 'f32' | 'i32'; readonly value: number }
  /** A let, a mutable local, a loop index or a kernel scalar, by name. */
  | { readonly k: 'ref'; readonly name: string; readonly type: Type }
  /** Element `index` of buffer `buf` (in elements from the buffer's start). */
  | { readonly k: 'load'; readonly buf: string; readonly index: Expr; readonly type: 'f32' | 'f32x4' }
  | { readonly k: 'unary'; readonly fn: UnaryFn | ExtraUnaryFn; readonly a: Expr; readonly type: Type }
  | { readonly k: 'binary'; readonly fn: BinaryFn | IntFn | LogicFn | VectorFloatFn; readonly a: Expr; readonly b: Expr; readonly type: Type }
  | { readonly k: 'compare'; readonly cmp: CompareFn | 'lt' | 'eq'; readonly a: Expr; readonly b: Expr; readonly type: 'bool' | 'boolx4' }
  | { readonly k: 'select'; readonly cond: Expr; readonly then: Expr; readonly otherwise: Expr; readonly type: Type }
  | { readonly k: 'builtin'; readonly name: Builtin; readonly type: 'i32' }
  /** A scalar repeated in every lane of a vector. */
  | { readonly k: 'splat'; readonly a: Expr; readonly type: VectorType }
  /** Lane `lane` of a vector: a constant, or (GPU) an index. */
  | { readonly k: 'lane'; readonly a: Expr; readonly lane: number | Expr; readonly type: ScalarType }
  /** An f32x4 of four f32s (GPU register tiles). */
  | { readonly k: 'vec'; readonly parts: readonly Expr[]; readonly type: 'f32x4' }
  /**
   * A numeric conversion (lanewise for vectors): f32 → i32 truncates toward zero and
   * saturates (NaN gives 0); i32 → f32 rounds to nearest.
   */
  | { readonly k: 'convert'; readonly a: Expr; readonly type: 'f32' | 'i32' | 'f32x4' | 'i32x4' }
  /** The same bits read as another type of the same width (f32 ↔ i32, f32x4 ↔ i32x4). */
  | { readonly k: 'bitcast'; readonly a: Expr; readonly type: 'f32' | 'i32' | 'f32x4' | 'i32x4' };

export type Stmt =
  | { readonly k: 'let'; readonly name: string; readonly value: Expr }
  | { readonly k: 'var'; readonly name: string; readonly value: Expr }
  | { readonly k: 'assign'; readonly name: string; readonly value: Expr }
  | { readonly k: 'store'; readonly buf: string; readonly index: Expr; readonly value: Expr }
  /** `for (index = start; index < end; index += step)`. */
  | { readonly k: 'loop'; readonly index: string; readonly start: Expr; readonly end: Expr; readonly step: number; readonly body: readonly Stmt[] }
  | { readonly k: 'if'; readonly cond: Expr; readonly then: readonly Stmt[]; readonly otherwise: readonly Stmt[] }
  /** A nested scope: its names are not visible after it. */
  | { readonly k: 'block'; readonly body: readonly Stmt[] }
  /** A presentation hint: short statements that read as one line (a row of an outer product). */
  | { readonly k: 'group'; readonly body: readonly Stmt[] }
  /** GPU: every invocation of the workgroup waits here (workgroup memory is then consistent). */
  | { readonly k: 'barrier' }
  | { readonly k: 'comment'; readonly text: string };

/**
 * A place in the module's memory: a buffer of one value (`node`), or a whole region (the
 * update kernel walks every param, gradient and state slot at once). Region `state` is the
 * optimizer's state slot `stateSlot`, laid out as the param region; `status` is one float the
 * update's check sets when a step's new values are not finite (see update.ts).
 */
export interface Slot {
  readonly region: Region | 'state' | 'status';
  readonly offset: number;
  readonly length: number;
  readonly node?: number;
  readonly stateSlot?: number;
}

export interface BufferParam {
  /** The identifier the body uses. */
  readonly name: string;
  readonly access: 'read' | 'write' | 'read_write';
  /** Where it lives in every launch; absent when each launch binds its own (see `Launch`). */
  readonly slot?: Slot;
}

/**
 * What a kernel scalar stands for, so that a launch binds it by what it is, never by its name:
 * a split kernel's share (`from`, `to`: its rows or elements; `thread`: which thread), the
 * call's rows or 1/rows (a dynamic batch), an optimizer's per-step scalar, the step's number,
 * or an element count (the update where each param is its own array).
 */
export type ScalarRole =
  | { readonly k: 'range'; readonly bound: 'from' | 'to' | 'thread' }
  | { readonly k: 'rows' }
  | { readonly k: 'invRows' }
  | { readonly k: 'step'; readonly name: string }
  | { readonly k: 'count' }
  | { readonly k: 'length' };

/** A value passed at each launch (a learning rate, an element count). */
export interface ScalarParam {
  readonly name: string;
  readonly type: 'f32' | 'i32';
  readonly role: ScalarRole;
}

/**
 * Module-level working storage a kernel uses privately between its statements (a finished
 * tile, packed panels, accumulators of a reduction) or, on a GPU, between its launches.
 * Kernels never run at once, so backends may give kernels one shared array per name.
 * `accumulate` marks values summed into: a backend computing in higher precision keeps them so.
 */
export interface Scratch {
  readonly name: string;
  readonly length: number;
  readonly accumulate: boolean;
  /**
   * `invocation`: private to each invocation of a GPU kernel (a register tile's values);
   * serial targets keep it module-level like any scratch. Absent: shared by the launches.
   * An invocation array starts at zero.
   */
  readonly scope?: 'invocation';
  /** Read and written four floats at a time where aligned (a GPU register tile of vec4). */
  readonly vector?: 4;
}

/** GPU: the dispatch shape and the workgroup arrays. */
export interface Grid {
  readonly workgroupSize: readonly [number, number, number];
  readonly workgroups: readonly [number, number, number];
  /** Workgroup arrays; `vector: 4` ones are read and written four floats at a time where aligned. */
  readonly shared: readonly { readonly name: string; readonly length: number; readonly vector?: 4 }[];
}

export interface LoweredKernel {
  /** Unique in the module, after the node it computes; backends add their own prefix. */
  readonly name: string;
  /** What it computes, one line each: the doc comment of every rendering. */
  readonly doc: readonly string[];
  readonly buffers: readonly BufferParam[];
  readonly scalars: readonly ScalarParam[];
  readonly scratch: readonly Scratch[];
  readonly grid?: Grid;
  readonly body: readonly Stmt[];
}

// ---- Builders, so lowering code reads like the loops it writes. ----

export const int = (value: number): Expr => ({ k: 'num', type: 'i32', value });
export const float = (value: number): Expr => ({ k: 'num', type: 'f32', value });
export const ref = (name: string, type: Type = 'i32'): Expr => ({ k: 'ref', name, type });
export const load = (buf: string, index: Expr, type: 'f32' | 'f32x4' = 'f32'): Expr => ({ k: 'load', buf, index, type });
export const builtin = (name: Builtin): Expr => ({ k: 'builtin', name, type: 'i32' });
export const vec = (parts: readonly Expr[]): Expr => ({ k: 'vec', parts, type: 'f32x4' });

const binary = (fn: BinaryFn | IntFn | LogicFn) => (a: Expr | number, b: Expr | number): Expr => {
  const [x, y] = [lift(a), lift(b)];
  return { k: 'binary', fn, a: x, b: y, type: fn === 'and' ? 'bool' : x.type === 'f32x4' || y.type === 'f32x4' ? 'f32x4' : x.type };
};
/** Numbers lift to i32 literals: index arithmetic is where builders take plain numbers. */
const lift = (x: Expr | number): Expr => (typeof x === 'number' ? int(x) : x);

export const add = binary('add');
export const sub = binary('sub');
export const mul = binary('mul');
export const div = binary('div');
export const rem = binary('rem');
export const shr = binary('shr');
export const and = binary('and');
export const compare = (cmp: CompareFn | 'lt' | 'eq', a: Expr | number, b: Expr | number): Expr => ({ k: 'compare', cmp, a: lift(a), b: lift(b), type: 'bool' });

export const let_ = (name: string, value: Expr): Stmt => ({ k: 'let', name, value });
export const var_ = (name: string, value: Expr): Stmt => ({ k: 'var', name, value });
export const assign = (name: string, value: Expr): Stmt => ({ k: 'assign', name, value });
export const store = (buf: string, index: Expr, value: Expr): Stmt => ({ k: 'store', buf, index, value });
export const comment = (text: string): Stmt => ({ k: 'comment', text });
export const when = (cond: Expr, then: readonly Stmt[], otherwise: readonly Stmt[] = []): Stmt => ({ k: 'if', cond, then, otherwise });
export const barrier: Stmt = { k: 'barrier' };
export const group = (body: readonly Stmt[]): Stmt => ({ k: 'group', body });

// ---- Typed builders for SIMD lowering: the result has its operands' type (a vector if either is). ----

/** `fn(a, b)` of the operands' type; a scalar operand beside a vector one must already be splat. */
export function typed(fn: Extract<Expr, { k: 'binary' }>['fn'], a: Expr, b: Expr): Expr {
  if (a.type !== b.type && !(fn === 'shl' || fn === 'shr')) throw new Error(`internal: ${fn} of ${a.type} and ${b.type}`);
  return { k: 'binary', fn, a, b, type: a.type };
}
export const unary = (fn: Extract<Expr, { k: 'unary' }>['fn'], a: Expr): Expr => ({ k: 'unary', fn, a, type: a.type });
/** A lanewise comparison: a `bool`, or a `boolx4` mask of vectors. */
export const compareOf = (cmp: Extract<Expr, { k: 'compare' }>['cmp'], a: Expr, b: Expr): Expr => ({ k: 'compare', cmp, a, b, type: isVector(a.type) ? 'boolx4' : 'bool' });
export const selectOf = (cond: Expr, then: Expr, otherwise: Expr): Expr => ({ k: 'select', cond, then, otherwise, type: then.type });
export const splat = (a: Expr): Expr => ({ k: 'splat', a, type: VECTOR_OF[a.type as ScalarType] });
/** Lane `index` of a vector: a constant, or (GPU) an index expression. */
export const lane = (a: Expr, index: number | Expr): Expr => ({ k: 'lane', a, lane: index, type: LANE_OF[a.type as VectorType] });
/** A number of the same shape as `like` (f32 or i32, splat for a vector). */
export function numLike(value: number, like: Type): Expr {
  const scalar = isVector(like) ? LANE_OF[like] : like;
  const n: Expr = { k: 'num', type: scalar === 'i32' ? 'i32' : 'f32', value };
  return isVector(like) ? splat(n) : n;
}

/** `for (index = start; index < end; index += step) body` */
export function loop(index: string, end: Expr | number, body: readonly Stmt[], options: { start?: Expr | number; step?: number } = {}): Stmt {
  return { k: 'loop', index, start: lift(options.start ?? 0), end: lift(end), step: options.step ?? 1, body };
}

/**
 * A scalar-language tree as an f32 expression: `arg i` becomes `args[i]`. Shared subtrees
 * stay shared (the renderers' `linearize` turns them into temporaries).
 */
export function fromScalar(e: ScalarExpr, args: readonly Expr[]): Expr {
  const memo = new Map<ScalarExpr, Expr>();
  const go = (x: ScalarExpr): Expr => {
    const hit = memo.get(x);
    if (hit) return hit;
    let out: Expr;
    switch (x.k) {
      case 'arg': out = args[x.index]; break;
      case 'num': out = float(x.value); break;
      case 'unary': out = { k: 'unary', fn: x.fn, a: go(x.a), type: 'f32' }; break;
      case 'binary': out = { k: 'binary', fn: x.fn, a: go(x.a), b: go(x.b), type: 'f32' }; break;
      case 'select': out = { k: 'select', cond: { k: 'compare', cmp: x.cmp, a: go(x.a), b: go(x.b), type: 'bool' }, then: go(x.then), otherwise: go(x.otherwise), type: 'f32' }; break;
    }
    memo.set(x, out);
    return out;
  };
  return go(e);
}

/** The direct sub-expressions of an expression. */
export function children(e: Expr): Expr[] {
  switch (e.k) {
    case 'num': case 'ref': case 'builtin': return [];
    case 'load': return [e.index];
    case 'unary': case 'splat': case 'convert': case 'bitcast': return [e.a];
    case 'lane': return typeof e.lane === 'number' ? [e.a] : [e.a, e.lane];
    case 'vec': return [...e.parts];
    case 'binary': case 'compare': return [e.a, e.b];
    case 'select': return [e.cond, e.then, e.otherwise];
  }
}

/** Rebuilds an expression bottom-up, letting `f` replace each rebuilt node; shared subtrees stay shared. */
export function mapExpr(e: Expr, f: (e: Expr) => Expr, memo = new Map<Expr, Expr>()): Expr {
  const hit = memo.get(e);
  if (hit) return hit;
  const out = f(mapChildren(e, (x) => mapExpr(x, f, memo)));
  memo.set(e, out);
  return out;
}

/** Applies `f` to every expression directly held by a statement list (not recursing into expressions). */
export function mapStmts(body: readonly Stmt[], f: (e: Expr) => Expr): Stmt[] {
  return body.map((st): Stmt => {
    switch (st.k) {
      case 'let': case 'var': case 'assign': return { ...st, value: f(st.value) };
      case 'store': return { ...st, index: f(st.index), value: f(st.value) };
      case 'loop': return { ...st, start: f(st.start), end: f(st.end), body: mapStmts(st.body, f) };
      case 'if': return { ...st, cond: f(st.cond), then: mapStmts(st.then, f), otherwise: mapStmts(st.otherwise, f) };
      case 'block': case 'group': return { ...st, body: mapStmts(st.body, f) };
      case 'barrier': case 'comment': return st;
    }
  });
}

/** Canonical text of an expression: equal text, equal value (used to fold and to deduplicate). */
export function exprKey(e: Expr): string {
  switch (e.k) {
    case 'num': return `${e.type}:${Object.is(e.value, -0) ? '-0' : e.value}`;
    case 'ref': return e.name;
    case 'builtin': return `@${e.name}`;
    case 'load': return `${e.buf}[${exprKey(e.index)}]${e.type === 'f32x4' ? 'x4' : ''}`;
    case 'unary': return `${e.fn}(${exprKey(e.a)})`;
    case 'splat': return `splat:${e.type}(${exprKey(e.a)})`;
    case 'lane': return `lane${typeof e.lane === 'number' ? e.lane : `[${exprKey(e.lane)}]`}(${exprKey(e.a)})`;
    case 'vec': return `vec(${e.parts.map(exprKey).join(',')})`;
    case 'convert': case 'bitcast': return `${e.k}:${e.type}(${exprKey(e.a)})`;
    case 'binary': return `${e.fn}(${exprKey(e.a)},${exprKey(e.b)})`;
    case 'compare': return `${e.cmp}${e.type === 'boolx4' ? 'x4' : ''}(${exprKey(e.a)},${exprKey(e.b)})`;
    case 'select': return `(${exprKey(e.cond)}?${exprKey(e.then)}:${exprKey(e.otherwise)})`;
  }
}

/**
 * Binds every subtree that occurs more than once (by value, within or across `exprs`) to a
 * let named by `nameFor`, innermost first: `exp(−|z|)` in the stable sigmoid is computed once,
 * as is `o − y` where a kernel makes both the loss and the output delta from it.
 */
export function shareSubtrees(exprs: readonly Expr[], nameFor: () => string): { lets: Stmt[]; exprs: Expr[] } {
  const keyOf = new Map<Expr, string>();
  const key = (x: Expr): string => {
    let k = keyOf.get(x);
    if (k === undefined) keyOf.set(x, (k = exprKey(x)));
    return k;
  };
  const uses = new Map<string, number>();
  const count = (x: Expr): void => {
    const k = key(x);
    const n = (uses.get(k) ?? 0) + 1;
    uses.set(k, n);
    if (n === 1) children(x).forEach(count);
  };
  exprs.forEach(count);
  const lets: Stmt[] = [];
  const done = new Map<string, Expr>();
  const go = (x: Expr): Expr => {
    const k = key(x);
    const hit = done.get(k);
    if (hit) return hit;
    const rebuilt = mapChildren(x, go);
    const shared = (uses.get(k) ?? 0) > 1 && !(x.k === 'num' || x.k === 'ref' || x.k === 'builtin');
    let out = rebuilt;
    if (shared) {
      const name = nameFor();
      lets.push(let_(name, rebuilt));
      out = ref(name, x.type);
    }
    done.set(k, out);
    return out;
  };
  return { lets, exprs: exprs.map(go) };
}

/** The same node over children rebuilt by `f`. */
export function mapChildren(e: Expr, f: (x: Expr) => Expr): Expr {
  switch (e.k) {
    case 'num': case 'ref': case 'builtin': return e;
    case 'load': return { ...e, index: f(e.index) };
    case 'unary': case 'splat': case 'convert': case 'bitcast': return { ...e, a: f(e.a) } as Expr;
    case 'lane': return { ...e, a: f(e.a), lane: typeof e.lane === 'number' ? e.lane : f(e.lane) };
    case 'vec': return { ...e, parts: e.parts.map(f) };
    case 'binary': case 'compare': return { ...e, a: f(e.a), b: f(e.b) } as Expr;
    case 'select': return { ...e, cond: f(e.cond), then: f(e.then), otherwise: f(e.otherwise) };
  }
}
