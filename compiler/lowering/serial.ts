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
 * of accumulators at a time, so no index is ever clamped and edge code stays short. The three forms a train step needs (A·B, A·Bᵀ, Aᵀ·B) differ only in index
 * arithmetic; no transpose is materialized. An operand read across its rows (B in A·B, A in
 * Aᵀ·B) whose rows are long is first packed into a contiguous panel (a new page per step
 * otherwise). The finished tile goes through a small scratch array to the epilogue, which
 * runs once per element.
 */
import type { Kernel, MapKernel, MatmulKernel, ReduceKernel } from '../kernels/kernel.ts';
import { domainOf } from '../kernels/kernel.ts';
import type { ModulePlan } from '../kernels/plan.ts';
import type { Expr, LoweredKernel, Stmt } from './lir.ts';
import { add, assign, group, int, load, loop, mul, ref, store, var_ } from './lir.ts';
import type { Element, KernelBuilder, LoweringParams } from './lower.ts';
import { KernelBuilder as Builder, accumulators, elementBody, kernelDoc, rowsAndColumns } from './lower.ts';

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
  const nested = shape.length === 2 && (k.args.some((a) => a.read === 'row') || k.reductions.some((r) => r.axis !== 'all'));
  const loops = nested
    ? loop('r', rows, [loop('c', cols, body({ flat: add(mul(ref('r'), cols), ref('c')), row: ref('r'), col: ref('c') }))])
    : loop('i', rows * cols, body({ flat: ref('i'), row: int(0), col: ref('i') }));
  return [...acc.before, loops, ...acc.after()];
}

function tiledMatmul(k: MatmulKernel, kb: KernelBuilder, params: LoweringParams): Stmt[] {
  const { m, n, k: depth, transA, transB } = k;
  const [TR, TC] = [Math.min(params.tile.rows, m), Math.min(params.tile.cols, n)];
  const [mFull, nFull] = [m - (m % TR), n - (n % TC)];
  const [A, B] = [kb.buffer(k.a, 'read'), kb.buffer(k.b, 'read')];
  const PA = transA && m >= params.packRows ? kb.scratchArray('panelsA', Math.ceil(m / TR) * TR * depth, false) : undefined;
  const PB = !transB && n >= params.packRows ? kb.scratchArray('panelB', TC * depth, false) : undefined;
  const tile = kb.scratchArray('tile', TR * TC, true);
  const acc = accumulators(k, kb, m, n);
  const p = ref('p');

  // op(A)[i0 + r][p] and op(B)[p][j0 + c], for a tile of R rows and C columns.
  const aAt = (i0: Expr, R: number, r: number) =>
    PA ? load(PA, add(add(mul(i0, depth), mul(p, R)), r)) : transA ? load(A, add(add(mul(p, m), i0), r)) : load(A, add(mul(add(i0, r), depth), p));
  const bAt = (j0: Expr, C: number, c: number) =>
    PB ? load(PB, add(mul(p, C), c)) : transB ? load(B, add(mul(add(j0, c), depth), p)) : load(B, add(add(mul(p, n), j0), c));

  const micro = (i0: Expr, R: number, j0: Expr, C: number): Stmt[] => {
    const cell = (r: number, c: number) => `c${r}${c}`;
    const rowsOf = <T>(f: (r: number) => T) => Array.from({ length: R }, (_, r) => f(r));
    const colsOf = <T>(f: (c: number) => T) => Array.from({ length: C }, (_, c) => f(c));
    const el = (r: Expr, c: Expr): Element => ({ flat: add(mul(add(i0, r), n), add(j0, c)), row: add(i0, r), col: add(j0, c) });
    const { stmts, terms } = elementBody(k, kb, el(ref('r'), ref('c')), load(tile, add(mul(ref('r'), C), ref('c'))));
    // One line per tile row; a one-column tile is one line.
    const lines = (f: (r: number, c: number) => Stmt) => (C === 1 ? [group(rowsOf((r) => f(r, 0)))] : rowsOf((r) => group(colsOf((c) => f(r, c)))));
    return [
      ...lines((r, c) => var_(cell(r, c), { k: 'num', type: 'f32', value: 0 })),
      loop('p', depth, [
        group(rowsOf((r) => ({ k: 'let', name: `a${r}`, value: aAt(i0, R, r) }))),
        group(colsOf((c) => ({ k: 'let', name: `b${c}`, value: bAt(j0, C, c) }))),
        ...lines((r, c) => assign(cell(r, c), add(ref(cell(r, c), 'f32'), mul(ref(`a${r}`, 'f32'), ref(`b${c}`, 'f32'))))),
      ]),
      ...lines((r, c) => store(tile, int(r * C + c), ref(cell(r, c), 'f32'))),
      loop('r', R, [loop('c', C, [...stmts, ...acc.add(terms, el(ref('r'), ref('c')))])]),
    ];
  };

  const packA = (i0: Expr, R: number): Stmt =>
    loop('p', depth, [group(Array.from({ length: R }, (_, r) => store(PA!, add(add(mul(i0, depth), mul(p, R)), r), load(A, add(add(mul(p, m), i0), r)))))]);
  const packB = (j0: Expr, C: number): Stmt =>
    loop('p', depth, [group(Array.from({ length: C }, (_, c) => store(PB!, add(mul(p, C), c), load(B, add(add(mul(p, n), j0), c)))))]);

  // Rows past the last full tile run one at a time (a 1-row tile), columns likewise.
  const rowTiles = (each: (i0: Expr, R: number) => Stmt[]): Stmt[] => [
    loop('i0', mFull, each(ref('i0'), TR), { step: TR }),
    loop('i0', m, each(ref('i0'), 1), { start: mFull }),
  ];
  const columnPanel = (j0: Expr, C: number): Stmt[] => [
    ...(PB ? [packB(j0, C)] : []),
    ...rowTiles((i0, R) => micro(i0, R, j0, C)),
  ];
  return [
    ...acc.before,
    ...(PA ? rowTiles((i0, R) => [packA(i0, R)]) : []),
    loop('j0', nFull, columnPanel(ref('j0'), TC), { step: TC }),
    loop('j0', n, columnPanel(ref('j0'), 1), { start: nFull }),
    ...acc.after(),
  ];
}
