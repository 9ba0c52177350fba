/**
 * Vectorized serial lowering: one thread, four f32 lanes (the wasm target's SIMD128), chosen
 * by `LoweringParams.vector`. Everything is derived from the kernels' scalar trees: an
 * element's epilogue is built once (`elementBody`) and turned lanewise (`vectorizeStmts`), so
 * any op the scalar language can express vectorizes without code of its own.
 *
 * Matrix products C = op(A)·op(B), [m,n] over an inner dimension k, run register-blocked
 * micro-kernels with the lanes along C's columns: a tile of `tile.rows` rows × `tile.cols`
 * columns (4 × 8: eight f32x4 accumulators) runs the whole of k, each step broadcasting one
 * value of op(A) per row (`splat(load)`, one load-and-splat instruction) and loading
 * `tile.cols / 4` vectors of op(B). Layouts are chosen per product at build time:
 * - op(B) must be contiguous along its columns: B of A·B is (its rows are copied into a
 *   panel `tile.cols` wide and k deep first when the product is large enough for the copy
 *   to pay, so every step reads one contiguous line), Bᵀ of A·Bᵀ is not (it is always
 *   packed, transposed, unless k = 1);
 * - op(A) of Aᵀ·B is read across A's rows: it is packed once into panels of `tile.rows`
 *   columns, so each step's broadcasts are one 16-byte line.
 * Edges are peeled, never clamped: columns past the last full panel run as one 4-wide
 * vector block and then single scalar columns, rows past the last full tile one at a time.
 * The epilogue (bias, activation, ⊙act′, stores, reduction terms) runs on the accumulators
 * as they are, one vector at a time; where every use of the product in the epilogue adds
 * the same row-broadcast value (the bias of an affine layer), the accumulators start from it.
 *
 * Maps and reductions run four elements per step along the flat index or, where a row
 * broadcast or a per-row/per-column reduction needs rows, along each row's columns; the
 * elements left over run as scalars. A reduction to a scalar keeps a vector accumulator
 * (combined across lanes at the end), a reduction down the rows one vector of column
 * accumulators per four columns, a reduction within rows combines each vector's lanes.
 */
import type { Kernel, MapKernel, MatmulKernel, ReduceKernel } from '../kernels/kernel.ts';
import { domainOf } from '../kernels/kernel.ts';
import type { ModulePlan } from '../kernels/plan.ts';
import type { ScalarExpr } from '../ir/scalar.ts';
import type { Expr, LoweredKernel, Stmt } from './lir.ts';
import {
  LANES, add, assign, exprKey, group, int, let_, load, loop, mul, numLike, ref, rem, splat, store, sub, typed, var_,
} from './lir.ts';
import { dimMax } from '../ir/graph.ts';
import type { Element, KernelBuilder, LoweringParams } from './builder.ts';
import { KernelBuilder as Builder, accumulators, elementBody, kernelDoc, rowsAndColumns, shareScalars } from './builder.ts';
import { vectorizeStmts } from './vectorize.ts';

export function lowerSimdKernel(k: Kernel, plan: ModulePlan, params: LoweringParams, split = false): LoweredKernel {
  const kb = new Builder(plan.graph, plan.memory);
  if (split && k.kind !== 'matmul') throw new Error(`internal: kernel ${k.name} is split by rows but is no product`);
  const body = k.kind === 'matmul' ? vectorMatmul(k, kb, params, split) : vectorElementwise(k, kb);
  return kb.finish(k.name, kernelDoc(k, plan), body);
}

/** One element's epilogue (`vector`: four consecutive columns, as vectors). */
function laneBody(k: Kernel, kb: KernelBuilder, el: Element, vector: boolean, acc?: Expr): { stmts: Stmt[]; terms: Expr[] } {
  const scalar = elementBody(k, kb, el, acc);
  if (!vector) return scalar;
  const advancing = new Set([exprKey(el.flat), exprKey(el.col)]);
  const row = exprKey(el.row);
  const v = vectorizeStmts(scalar.stmts, scalar.terms, (i) => advancing.has(exprKey(i)), (i) => exprKey(i) === row);
  return { stmts: v.stmts, terms: v.exprs };
}

// ---- Maps and reductions ----

/** `body(i, vector)` for i < n: four at a time, then the rest one at a time. */
function lanesThenScalars(index: string, n: Expr, body: (i: Expr, vector: boolean) => Stmt[]): Stmt[] {
  const full = sub(n, rem(n, LANES));
  return [loop(index, full, body(ref(index), true), { step: LANES }), loop(index, n, body(ref(index), false), { start: full })];
}

function vectorElementwise(k: MapKernel | ReduceKernel, kb: KernelBuilder): Stmt[] {
  const shape = domainOf(k);
  const [rows, cols] = rowsAndColumns(shape);
  const acc = accumulators(k, kb, rows, cols, true);
  const body = (el: Element, vector: boolean) => {
    const { stmts, terms } = laneBody(k, kb, el, vector);
    return [...stmts, ...acc.add(terms, el)];
  };
  const nested = shape.length === 2 && (k.args.some((a) => a.read === 'row' || a.read === 'column') || k.reductions.some((r) => r.axis !== 'all'));
  const loops = nested
    ? [loop('r', kb.extent(rows), lanesThenScalars('c', int(cols), (c, v) => body({ flat: add(mul(ref('r'), cols), c), row: ref('r'), col: c }, v)))]
    : lanesThenScalars('i', rows < 0 ? mul(kb.extent(rows), cols) : int(rows * cols), (i, v) => body({ flat: i, row: int(0), col: i }, v));
  return [...acc.before, ...loops, ...acc.after()];
}

// ---- Matrix products ----

/**
 * Where the epilogue only ever uses the product C as `C + b` for one row-broadcast argument b
 * (an affine layer's bias), the kernel with those sums replaced by C, and b's argument index:
 * the accumulators then start at b instead of 0.
 */
export function biasStart(k: MatmulKernel): { kernel: MatmulKernel; bias?: number } {
  const isBias = (e: ScalarExpr) => e.k === 'arg' && e.index > 0 && k.args[e.index - 1].read === 'row';
  const addend = (e: ScalarExpr): ScalarExpr | undefined => {
    if (e.k !== 'binary' || e.fn !== 'add') return undefined;
    if (e.a.k === 'arg' && e.a.index === 0 && isBias(e.b)) return e.b;
    if (e.b.k === 'arg' && e.b.index === 0 && isBias(e.a)) return e.a;
    return undefined;
  };
  const biases = new Set<number>();
  let bare = false;
  const visit = (e: ScalarExpr, seen: Set<ScalarExpr>): void => {
    if (seen.has(e)) return;
    seen.add(e);
    const b = addend(e);
    if (b) biases.add((b as { index: number }).index);
    else if (e.k === 'arg' && e.index === 0) bare = true;
    else if (e.k === 'unary') visit(e.a, seen);
    else if (e.k === 'binary') [e.a, e.b].forEach((x) => visit(x, seen));
    else if (e.k === 'select') [e.a, e.b, e.then, e.otherwise].forEach((x) => visit(x, seen));
  };
  const writes = [...k.stores, ...k.reductions];
  const seen = new Set<ScalarExpr>();
  writes.forEach((w) => visit(w.expr, seen));
  if (bare || biases.size !== 1) return { kernel: k };
  const acc: ScalarExpr = { k: 'arg', index: 0 };
  const memo = new Map<ScalarExpr, ScalarExpr>();
  const strip = (e: ScalarExpr): ScalarExpr => {
    const hit = memo.get(e);
    if (hit) return hit;
    let out: ScalarExpr;
    if (addend(e)) out = acc;
    else if (e.k === 'unary') out = { ...e, a: strip(e.a) };
    else if (e.k === 'binary') out = { ...e, a: strip(e.a), b: strip(e.b) };
    else if (e.k === 'select') out = { ...e, a: strip(e.a), b: strip(e.b), then: strip(e.then), otherwise: strip(e.otherwise) };
    else out = e;
    memo.set(e, out);
    return out;
  };
  const kernel = { ...k, stores: k.stores.map((s) => ({ ...s, expr: strip(s.expr) })), reductions: k.reductions.map((r) => ({ ...r, expr: strip(r.expr) })) };
  return { kernel, bias: [...biases][0] - 1 };
}

/** A column block of C: `width` columns from `j0`, as vectors (width a multiple of 4) or one scalar column. */
interface Block {
  readonly j0: Expr;
  readonly width: number;
}

/**
 * A product split by rows (`split`, see `splitRows` in lower.ts) computes rows r0 to r1 of C
 * (r0 a multiple of the tile's rows, so its tiles are the one-thread module's tiles) and packs
 * its panels of op(B) into copy `tid` of the panel scratch; panels of op(A) are per row tile,
 * so each thread packs its own tiles' in place.
 */
function vectorMatmul(original: MatmulKernel, kb: KernelBuilder, params: LoweringParams, split = false): Stmt[] {
  // m (rows of C) or the inner dimension may be a dynamic batch: loops over them run to the
  // call's rows; sizes and strides are the max's (a stored matrix keeps its planned layout).
  const { m: mDim, n, k: kDim, transA, transB } = original;
  if (n < 0) throw new Error('internal: a product whose columns are the batch');
  // A split kernel's first scalars: its rows r0 to r1 and its thread (see runtime/threads.ts).
  const range = split ? shareScalars(kb) : undefined;
  const [m, depth] = [kb.extent(mDim), kb.extent(kDim)];
  const [mMax, depthMax] = [dimMax(mDim), dimMax(kDim)];
  const { kernel: k, bias } = biasStart(original);
  const TR = params.tile.rows;
  const TC = params.tile.cols;
  if (TC % LANES !== 0) throw new Error(`internal: a SIMD tile must be a multiple of ${LANES} columns wide`);
  const [A, B] = [kb.buffer(k.a, 'read'), kb.buffer(k.b, 'read')];
  const acc = accumulators(k, kb, mDim, n, true);
  const copies = range ? params.threads!.maxThreads : 1;
  const [rStart, rEnd] = range ? [range.r0, range.r1] : [int(0), m];
  const mFull = range ? sub(range.r1, rem(sub(range.r1, range.r0), TR)) : sub(m, rem(m, TR));
  const mFullMax = mMax - (mMax % TR);
  const nPanels = n - (n % TC);
  const nVector = n - (n % LANES);
  // Layouts, per product: see the file comment.
  const packA = transA && TR === LANES && mFullMax >= TR && depthMax > 1 && n > TR;
  const packB = transB ? depthMax > 1 : mMax > TR && n >= params.packRows;
  const PA = packA ? kb.scratchArray('panelsA', mFullMax * depthMax, false) : undefined;
  const PB = packB && nVector > 0 ? kb.scratchArray('panelB', TC * depthMax * copies, false) : undefined;
  // This thread's copy of the panel of op(B).
  const inPanelB = (index: Expr): Expr => (range ? add(mul(range.tid, TC * depthMax), index) : index);
  const p = ref('p');
  const biasBuf = bias === undefined ? undefined : kb.buffer(k.args[bias].node, 'read');

  // op(A)[i0 + r][p], for a tile of R rows (packed panels hold only full tiles).
  const aAt = (i0: Expr, R: number, r: number, p: Expr): Expr =>
    PA && R === TR ? load(PA, add(add(mul(i0, depth), mul(p, TR)), r)) : transA ? load(A, add(add(mul(p, mMax), i0), r)) : load(A, add(mul(add(i0, r), depthMax), p));
  // op(B)[p][j0 + c .. + 4] as a vector of a block (from its panel where packed), or op(B)[p][j] alone.
  const bVector = (blk: Block, c: number, p: Expr): Expr =>
    PB ? load(PB, inPanelB(add(mul(p, blk.width), c)), 'f32x4') : load(B, transB ? add(add(blk.j0, c), p) : add(add(mul(p, n), blk.j0), c), 'f32x4');
  const bScalar = (j: Expr, p: Expr): Expr => load(B, transB ? add(mul(j, depthMax), p) : add(mul(p, n), j));

  const micro = (i0: Expr, R: number, blk: Block): Stmt[] => {
    const vector = blk.width >= LANES;
    const V = vector ? blk.width / LANES : 1;
    const type = vector ? 'f32x4' : 'f32';
    const rowsOf = <T>(f: (r: number) => T) => Array.from({ length: R }, (_, r) => f(r));
    const vecsOf = <T>(f: (v: number) => T) => Array.from({ length: V }, (_, v) => f(v));
    const cell = (r: number, v: number) => `c${r}${v}`;
    const el = (r: number, v: number): Element => {
      const [row, col] = [add(i0, r), add(blk.j0, v * LANES)];
      return { flat: add(mul(row, n), col), row, col };
    };
    const start = (v: number): Expr => {
      if (!biasBuf) return numLike(0, type);
      return vector ? load(biasBuf, add(blk.j0, v * LANES), 'f32x4') : load(biasBuf, blk.j0);
    };
    const operandA = (r: number, p: Expr) => (vector ? splat(aAt(i0, R, r, p)) : aAt(i0, R, r, p));
    const operandB = (v: number, p: Expr) => (vector ? bVector(blk, v * LANES, p) : bScalar(blk.j0, p));
    // One step of the inner dimension: broadcast A, load B, multiply-add every accumulator.
    const step = (p: Expr): Stmt[] => [
      group(vecsOf((v) => let_(`b${v}`, operandB(v, p)))),
      ...rowsOf((r) => group([
        let_(`a${r}`, operandA(r, p)),
        ...vecsOf((v) => assign(cell(r, v), typed('add', ref(cell(r, v), type), typed('mul', ref(`a${r}`, type), ref(`b${v}`, type))))),
      ])),
    ];

    const epilogue = rowsOf((r) => vecsOf((v) => {
      const { stmts, terms } = laneBody(k, kb, el(r, v), vector, ref(cell(r, v), type));
      return [...stmts, ...acc.add(terms, el(r, v))];
    })).flat(2);
    return [
      group(vecsOf((v) => let_(`init${v}`, start(v)))),
      ...rowsOf((r) => group(vecsOf((v) => var_(cell(r, v), ref(`init${v}`, type))))),
      loop('p', depth, step(p)),
      ...epilogue,
    ];
  };

  // Panels of A: [tile][p][r], so a step's broadcasts are one line.
  const packPanelsA = (): Stmt =>
    loop('i0', mFull, [loop('p', depth, [store(PA!, add(mul(ref('i0'), depth), mul(p, TR)), load(A, add(mul(p, mMax), ref('i0')), 'f32x4'))])], { start: rStart, step: TR });
  // A block's panel of op(B): [p][c], contiguous per step.
  const packB_ = (blk: Block): Stmt => (transB
    ? loop('c', blk.width, [loop('p', depth, [store(PB!, inPanelB(add(mul(p, blk.width), ref('c'))), load(B, add(mul(add(blk.j0, ref('c')), depthMax), p)))])])
    : loop('p', depth, [group(Array.from({ length: blk.width / LANES }, (_, v) =>
      store(PB!, inPanelB(add(mul(p, blk.width), v * LANES)), load(B, add(add(mul(p, n), blk.j0), v * LANES), 'f32x4'))))]));

  // Rows past the last full tile run one at a time.
  const rowTiles = (blk: Block): Stmt[] => [
    loop('i0', mFull, micro(ref('i0'), TR, blk), { start: rStart, step: TR }),
    loop('i0', rEnd, micro(ref('i0'), 1, blk), { start: mFull }),
  ];
  const columnBlock = (blk: Block): Stmt[] => [...(PB && blk.width >= LANES ? [packB_(blk)] : []), ...rowTiles(blk)];
  return [
    ...acc.before,
    ...(PA ? [packPanelsA()] : []),
    loop('j0', nPanels, columnBlock({ j0: ref('j0'), width: TC }), { step: TC }),
    // One 4-wide vector block per leftover four columns (at most TC/4 − 1 of them), then single columns.
    ...Array.from({ length: (nVector - nPanels) / LANES }, (_, b) => columnBlock({ j0: int(nPanels + b * LANES), width: LANES })).flat(),
    loop('j0', n, columnBlock({ j0: ref('j0'), width: 1 }), { start: nVector }),
    ...acc.after(),
  ];
}
