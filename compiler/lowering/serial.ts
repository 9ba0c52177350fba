/**
 * Serial lowering: one thread runs the kernel's loops (the JS and wasm targets).
 *
 * Maps and reductions are one pass over the iteration space, nested into rows and columns
 * only where a row-broadcast argument or a per-row/per-column reduction needs them.
 *
 * Matrix products C = op(A)·op(B) are register-tiled: a tile of `rows × cols` accumulators
 * (the backend's parameter) runs the whole inner dimension, each step loading one value of
 * op(A) per tile row and one of op(B) per tile column. Full tiles cover ⌊m/rows⌋·rows rows
 * and ⌊n/cols⌋·cols columns; the rows and columns left over are peeled, one row (or column)
 * of accumulators at a time, so no index is ever clamped and edge code stays short. Rows
 * left over fill the same tile array as a full tile, so one epilogue serves both. The three forms a train step needs (A·B, A·Bᵀ, Aᵀ·B) differ only in index
 * arithmetic; no transpose is materialized. An operand read across its rows (B in A·B, A in
 * Aᵀ·B) whose rows are long is first packed into a contiguous panel (a new page per step
 * otherwise). The finished tile goes through a small scratch array to the epilogue, which
 * runs once per element; an epilogue that only copies the product (a weight gradient) is
 * the registers' stores to C themselves.
 */
import type { Kernel, MapKernel, MatmulKernel, ReduceKernel } from '../kernels/kernel.ts';
import { domainOf } from '../kernels/kernel.ts';
import type { ModulePlan } from '../kernels/plan.ts';
import type { Expr, LoweredKernel, Stmt } from './lir.ts';
import { add, assign, compare, group, int, load, loop, mul, ref, rem, store, sub, var_, when } from './lir.ts';
import type { Element, KernelBuilder, LoweringParams } from './builder.ts';
import { KernelBuilder as Builder, accumulators, elementBody, kernelDoc, rowsAndColumns } from './builder.ts';
import { dimMax } from '../ir/graph.ts';

export function lowerSerialKernel(k: Kernel, plan: ModulePlan, params: LoweringParams): LoweredKernel {
  const kb = new Builder(plan.graph, plan.memory);
  const body = k.kind === 'matmul' ? tiledMatmul(k, kb, params) : elementwise(k, kb);
  return kb.finish(k.name, kernelDoc(k, plan), body);
}

function elementwise(k: MapKernel | ReduceKernel, kb: KernelBuilder): Stmt[] {
  const shape = domainOf(k);
  const [rows, cols] = rowsAndColumns(shape);
  const acc = accumulators(k, kb, rows, cols);
  const body = (el: Element) => {
    const { stmts, terms } = elementBody(k, kb, el);
    return [...stmts, ...acc.add(terms, el)];
  };
  const nested = shape.length === 2 && (k.args.some((a) => a.read === 'row' || a.read === 'column') || k.reductions.some((r) => r.axis !== 'all'));
  const loops = nested
    ? loop('r', kb.extent(rows), [loop('c', cols, body({ flat: add(mul(ref('r'), cols), ref('c')), row: ref('r'), col: ref('c') }))])
    : loop('i', rows < 0 ? mul(kb.extent(rows), cols) : rows * cols, body({ flat: ref('i'), row: int(0), col: ref('i') }));
  return [...acc.before, loops, ...acc.after()];
}

function tiledMatmul(k: MatmulKernel, kb: KernelBuilder, params: LoweringParams): Stmt[] {
  // m (rows of C) or the inner dimension may be a dynamic batch: loops over them run to the
  // call's rows; sizes and strides are the max's (a stored matrix keeps its planned layout).
  const { m: mDim, n, k: kDim, transA, transB } = k;
  const [m, depth] = [kb.extent(mDim), kb.extent(kDim)];
  const [mMax, depthMax] = [dimMax(mDim), dimMax(kDim)];
  const [TR, TC] = [Math.min(params.tile.rows, mMax), Math.min(params.tile.cols, n)];
  const nFull = n - (n % TC);
  const [A, B] = [kb.buffer(k.a, 'read'), kb.buffer(k.b, 'read')];
  const PA = transA && mMax >= params.packRows ? kb.scratchArray('panelsA', Math.ceil(mMax / TR) * TR * depthMax, false) : undefined;
  const PB = !transB && n >= params.packRows ? kb.scratchArray('panelB', TC * depthMax, false) : undefined;
  // An epilogue that only copies the product (dW = Aᵀ·δ) needs no tile: each register is
  // stored straight to its element of C.
  const copy = k.reductions.length === 0 && k.stores.length === 1 && k.stores[0].expr.k === 'arg' && k.stores[0].expr.index === 0;
  const tile = copy ? '' : kb.scratchArray('tile', TR * TC, true);
  const acc = accumulators(k, kb, mDim, n);
  const p = ref('p');

  // op(A)[i0 + r][p] and op(B)[p][j0 + c], for a tile of R rows and C columns.
  const aAt = (i0: Expr, R: number, r: number) =>
    PA ? load(PA, add(add(mul(i0, depth), mul(p, R)), r)) : transA ? load(A, add(add(mul(p, mMax), i0), r)) : load(A, add(mul(add(i0, r), depthMax), p));
  const bAt = (j0: Expr, C: number, c: number) =>
    PB ? load(PB, add(mul(p, C), c)) : transB ? load(B, add(mul(add(j0, c), depthMax), p)) : load(B, add(add(mul(p, n), j0), c));

  // The products of an R×C tile at (i0, j0), into rows `row`… of the tile array.
  const accumulate = (i0: Expr, R: number, j0: Expr, C: number, row: Expr = int(0)): Stmt[] => {
    const cell = (r: number, c: number) => `c${r}${c}`;
    const rowsOf = <T>(f: (r: number) => T) => Array.from({ length: R }, (_, r) => f(r));
    const colsOf = <T>(f: (c: number) => T) => Array.from({ length: C }, (_, c) => f(c));
    // One line per tile row; a one-column tile is one line.
    const lines = (f: (r: number, c: number) => Stmt) => (C === 1 ? [group(rowsOf((r) => f(r, 0)))] : rowsOf((r) => group(colsOf((c) => f(r, c)))));
    return [
      ...lines((r, c) => var_(cell(r, c), { k: 'num', type: 'f32', value: 0 })),
      loop('p', depth, [
        group(rowsOf((r) => ({ k: 'let', name: `a${r}`, value: aAt(i0, R, r) }))),
        group(colsOf((c) => ({ k: 'let', name: `b${c}`, value: bAt(j0, C, c) }))),
        ...lines((r, c) => assign(cell(r, c), add(ref(cell(r, c), 'f32'), mul(ref(`a${r}`, 'f32'), ref(`b${c}`, 'f32'))))),
      ]),
      ...lines((r, c) => (copy
        ? store(kb.buffer(k.stores[0].node, 'write'), add(mul(add(i0, r), n), add(j0, c)), ref(cell(r, c), 'f32'))
        : store(tile, add(mul(add(row, r), C), c), ref(cell(r, c), 'f32')))),
    ];
  };
  // The epilogue of the tile's first `rows` rows, once per element.
  const epilogue = (i0: Expr, rows: Expr, j0: Expr, C: number): Stmt[] => {
    if (copy) return [];
    const el = (r: Expr, c: Expr): Element => ({ flat: add(mul(add(i0, r), n), add(j0, c)), row: add(i0, r), col: add(j0, c) });
    const { stmts, terms } = elementBody(k, kb, el(ref('r'), ref('c')), load(tile, add(mul(ref('r'), C), ref('c'))));
    return [loop('r', rows, [loop('c', C, [...stmts, ...acc.add(terms, el(ref('r'), ref('c')))])])];
  };
  // Row tiles of a column panel: the rows past the last full tile run one at a time into the
  // same tile array, so every row shares one epilogue.
  const rowTiles = (j0: Expr, C: number): Stmt[] => {
    const i0 = ref('i0');
    if (mDim > 0 && mDim % TR === 0) return [loop('i0', m, [...accumulate(i0, TR, j0, C), ...epilogue(i0, int(TR), j0, C)], { step: TR })];
    // The rows past the last full tile (a constant count, or the call's rows mod TR).
    const left = mDim > 0 ? int(mDim % TR) : rem(m, TR);
    const full = compare('lt', i0, sub(m, left));
    const rest = loop('rr', left, accumulate(add(i0, ref('rr')), 1, j0, C, ref('rr')));
    const rows: Expr = { k: 'select', cond: full, then: int(TR), otherwise: left, type: 'i32' };
    return [loop('i0', m, [when(full, accumulate(i0, TR, j0, C), [rest]), ...epilogue(i0, rows, j0, C)], { step: TR })];
  };

  const packA = (i0: Expr, R: number): Stmt =>
    loop('p', depth, [group(Array.from({ length: R }, (_, r) => store(PA!, add(add(mul(i0, depth), mul(p, R)), r), load(A, add(add(mul(p, mMax), i0), r)))))]);
  const packB = (j0: Expr, C: number): Stmt =>
    loop('p', depth, [group(Array.from({ length: C }, (_, c) => store(PB!, add(mul(p, C), c), load(B, add(add(mul(p, n), j0), c)))))]);

  const columnPanel = (j0: Expr, C: number): Stmt[] => [...(PB ? [packB(j0, C)] : []), ...rowTiles(j0, C)];
  // Columns past the last full panel run one at a time (a 1-column panel).
  return [
    ...acc.before,
    ...(PA ? [loop('i0', mMax - (mMax % TR), [packA(ref('i0'), TR)], { step: TR }), loop('i0', mMax, [packA(ref('i0'), 1)], { start: mMax - (mMax % TR) })] : []),
    loop('j0', nFull, columnPanel(ref('j0'), TC), { step: TC }),
    loop('j0', n, columnPanel(ref('j0'), 1), { start: nFull }),
    ...acc.after(),
  ];
}
