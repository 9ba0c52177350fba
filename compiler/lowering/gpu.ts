/**
 * GPU lowering: kernels as workgroups of invocations (the WGSL target). The tile plan is the
 * backend's `GpuParams`; what a kernel needs decides which shape it takes:
 *
 * - Maps without reductions: one invocation per element, `workgroup` invocations a group
 *   (the grid folded into y past the per-dimension limit).
 * - Everything else is tiled: each invocation owns a register tile of `perThread × perThread`
 *   outputs (or one row of a narrow output, below), a workgroup `threads × threads` of them.
 *   A matrix product accumulates its tile in registers over the inner dimension:
 *   - staged: `depth`-deep slices of both operands are loaded into workgroup memory by all
 *     invocations together, each reading consecutive addresses (for transposed operands too),
 *     then each invocation reads its 4 rows of A and 4 columns of B as two vec4 per step:
 *     two barriers per `depth` steps of 16 multiply-adds;
 *   - direct, for a short inner dimension (≤ `directDepth`, e.g. the 4 inputs of a small
 *     network, or δ·Wᵀ with 10 classes): read straight from memory, no staging, no padding;
 *   - narrow (≤ `skinnyWidth` columns, e.g. an output layer): one invocation per row, all
 *     columns in registers, a vector–matrix product;
 *   - split-K, where the output has too few tiles to occupy the GPU and the inner dimension
 *     is long (dW = Aᵀ·δ over the batch): slices of the inner dimension in parallel into
 *     scratch, then a launch that sums them and runs the epilogue.
 *   Loads past the edges are harmless (WebGPU's robust access) except along the inner
 *   dimension, where they are zeros; stores and reduction terms past the edges are guarded,
 *   and guards that cannot trigger are not emitted.
 * - Reductions run without barriers: each invocation combines the terms of its tile (per
 *   column, per row or all) into one partial result in scratch; a finishing launch per
 *   kernel combines the partials of every output value and scales them.
 */
import type { Kernel, MatmulKernel } from '../kernels/kernel.ts';
import { domainOf } from '../kernels/kernel.ts';
import type { ModulePlan } from '../kernels/plan.ts';
import type { Expr, LoweredKernel, Stmt } from './lir.ts';
import {
  add, and, assign, barrier, builtin, compare, div, float, group, int, lane, let_, load, loop, mul, ref, rem, splat, store, var_, vec, when,
} from './lir.ts';
import type { Element, GpuParams, KernelBuilder, LoweringParams } from './builder.ts';
import { checkWorkgroups, elementLoop } from './element-loop.ts';
import { KernelBuilder as Builder, combine, elementBody, identityOf, kernelDoc, rowsAndColumns } from './builder.ts';
import { dimMax, isBatchDim } from '../ir/graph.ts';

export function lowerGpuKernel(k: Kernel, plan: ModulePlan, params: LoweringParams): LoweredKernel[] {
  const kb = new Builder(plan.graph, plan.memory);
  const doc = kernelDoc(k, plan);
  if (k.kind === 'map' && k.reductions.length === 0) {
    const [rows, cols] = rowsAndColumns(k.shape);
    // The grid covers the largest batch; invocations past the call's rows do nothing.
    const count = isBatchDim(rows) ? mul(kb.extent(rows), cols) : int(rows * cols);
    const body = elementLoop(params, kb, count, dimMax(rows) * cols, (i) =>
      elementBody(k, kb, { flat: i, row: div(i, cols), col: rem(i, cols) }).stmts, k.stores[0]?.node);
    return [kb.finish(k.name, doc, body, kb.grid())];
  }
  return tiledKernel(k, kb, plan, params, doc);
}

/**
 * How a tiled kernel covers its [rows, cols] iteration space: `tx × ty` invocations a
 * workgroup, each owning `tm` rows and `tn` columns from (row0, col0).
 */
interface Cover {
  /** Rows of the iteration space (the largest batch's, for a dynamic batch). */
  readonly rows: number;
  /** The call's rows, where the rows are a dynamic batch: every row is then guarded against it. */
  readonly callRows?: Expr;
  readonly cols: number;
  readonly tx: number;
  readonly ty: number;
  readonly tm: number;
  readonly tn: number;
  readonly grid: [number, number, number];
}

function cover(rows: number, cols: number, gpu: GpuParams, skinny: boolean, splits = 1, callRows?: Expr): Cover {
  const [tx, tn] = skinny ? [1, cols] : [gpu.threads, gpu.perThread];
  // A narrow product's workgroup is one column of invocations, one a row: no more than there are rows.
  const [ty, tm] = skinny ? [Math.min(gpu.threads * gpu.threads, rows), 1] : [gpu.threads, gpu.perThread];
  return { rows, cols, tx, ty, tm, tn, grid: [Math.ceil(cols / (tx * tn)), Math.ceil(rows / (ty * tm)), splits], ...(callRows ? { callRows } : {}) };
}

/** Whether a row index may be past the last row: a partial last tile, or a dynamic batch. */
const rowGuard = (c: Cover, row: Expr): Expr | undefined =>
  (c.callRows ? compare('lt', row, c.callRows) : c.rows % (c.ty * c.tm) ? compare('lt', row, c.rows) : undefined);

const [wgX, wgY, wgZ, lx, ly] = [builtin('workgroup.x'), builtin('workgroup.y'), builtin('workgroup.z'), builtin('local.x'), builtin('local.y')];

/** The lets every tiled kernel starts with: its tile's first row and column. */
function origin(c: Cover): Stmt[] {
  // One workgroup and one invocation across: the tile starts at column 0 (likewise rows).
  const start = (groups: number, threads: number, wg: Expr, l: Expr, per: number) =>
    groups === 1 && threads === 1 ? int(0) : add(mul(wg, threads * per), mul(l, per));
  return [let_('row0', start(c.grid[1], c.ty, wgY, ly, c.tm)), let_('col0', start(c.grid[0], c.tx, wgX, lx, c.tn))];
}

/** `cond` for the tile element at (row, col), or nothing where no tile reaches past the edge. */
function inside(c: Cover, row: Expr, col: Expr): Expr | undefined {
  const rowCond = rowGuard(c, row);
  const conds = [
    ...(rowCond ? [rowCond] : []),
    ...(c.cols % (c.tx * c.tn) ? [compare('lt', col, c.cols)] : []),
  ];
  return conds.length === 0 ? undefined : conds.reduce((a, b) => and(a, b));
}
const guarded = (cond: Expr | undefined, body: Stmt[]): Stmt[] => (cond ? [when(cond, body)] : body);

function tiledKernel(k: Kernel, kb: KernelBuilder, plan: ModulePlan, params: LoweringParams, doc: readonly string[]): LoweredKernel[] {
  const gpu = params.gpu!;
  const [rowDim, cols] = rowsAndColumns(domainOf(k));
  // A dynamic batch: tiles cover the largest, and every row is checked against the call's.
  const rows = dimMax(rowDim);
  const callRows = isBatchDim(rowDim) ? kb.extent(rowDim) : undefined;
  const node = k.stores[0]?.node ?? k.reductions[0]?.node;
  if (k.kind !== 'matmul') {
    const c = cover(rows, cols, gpu, false, 1, callRows);
    const main = withGrid(kb, k, c, node, gpu, doc, [...origin(c), ...tileEpilogue(k, kb, c)]);
    return [main, ...finishReductions(k, plan, params, c)];
  }
  const skinny = cols <= gpu.skinnyWidth;
  const depth = dimMax(k.k);
  const staged = !skinny && depth > gpu.directDepth;
  const splits = splitCount(k, cover(rows, cols, gpu, skinny), gpu, staged);
  const c = cover(rows, cols, gpu, skinny, splits, callRows);
  const [kStart, kSteps] = splits > 1 ? [mul(wgZ, depth / splits), depth / splits] : [int(0), depth];
  const tile = registerTile(kb, c);
  // An inner dimension over a dynamic batch (dW = Aᵀ·δ) stops at the call's rows.
  const kLimit = isBatchDim(k.k) ? kb.extent(k.k) : undefined;
  const accumulate = staged ? stagedProduct(k, kb, c, tile, gpu, kStart, kSteps, kLimit) : directProduct(k, kb, c, tile, kStart, kSteps, kLimit);
  if (splits === 1) {
    const main = withGrid(kb, k, c, node, gpu, doc, [...origin(c), ...accumulate, ...tileEpilogue(k, kb, c, { from: 'registers', tile })]);
    return [main, ...finishReductions(k, plan, params, c)];
  }
  // Split-K: each slice's partial product to scratch; then a launch sums them and runs the epilogue.
  const part = kb.scratchArray('splitk', splits * rows * cols, false);
  const partialStores = tileCells(c, (r, j, rowE, colE) => {
    const at = add(mul(wgZ, rows * cols), add(mul(rowE, cols), colE));
    return guarded(inside(c, rowE, colE), [store(part, at, c.tn === 4 ? tile.value(int(r), int(j)) : ref(`c${r}_${j}`, 'f32'))]);
  });
  const main = withGrid(kb, k, c, node, gpu, [...doc, `(inner dimension split ${splits} ways; the next launch sums the slices)`], [...origin(c), ...accumulate, ...partialStores]);
  const eb = new Builder(plan.graph, plan.memory);
  eb.scratchArray(part, splits * rows * cols, false);
  const ec = cover(rows, cols, gpu, false, 1, callRows);
  const sum = (row: Expr, col: Expr): Expr => {
    let acc: Expr = load(part, add(mul(row, cols), col));
    for (let s = 1; s < splits; s++) acc = add(acc, load(part, add(int(s * rows * cols), add(mul(row, cols), col))));
    return acc;
  };
  const epilogue = withGrid(eb, k, ec, node, gpu, [`sums the ${splits} slices of ${k.name}, then its epilogue`], [...origin(ec), ...tileEpilogue(k, eb, ec, { from: 'memory', at: sum })], `${k.name}_sum`);
  return [main, epilogue, ...finishReductions(k, plan, params, ec)];
}

/** Splits of the inner dimension that give the grid at least `minWorkgroups` workgroups, if any divide it. */
function splitCount(k: MatmulKernel, c: Cover, gpu: GpuParams, staged: boolean): number {
  const tiles = c.grid[0] * c.grid[1];
  const depth = dimMax(k.k);
  let splits = 1;
  if (dimMax(k.m) * k.n * depth < gpu.splitWork) return splits;
  while (tiles * splits < gpu.minWorkgroups) {
    const next = splits * 2;
    const slice = depth / next;
    if (!Number.isInteger(slice) || slice < (staged ? gpu.depth : 16) || (staged && slice % gpu.depth !== 0)) break;
    splits = next;
  }
  return splits;
}

function withGrid(kb: KernelBuilder, k: Kernel, c: Cover, node: number | undefined, gpu: GpuParams, doc: readonly string[], body: Stmt[], name = k.name): LoweredKernel {
  const grid: [number, number, number] = [
    checkWorkgroups(kb.g, node, c.grid[0], 'the tile grid (columns)', gpu),
    checkWorkgroups(kb.g, node, c.grid[1], 'the tile grid (rows)', gpu),
    c.grid[2],
  ];
  return kb.finish(name, doc, body, { grid: { workgroupSize: [c.tx, c.ty, 1], workgroups: grid, shared: kb.sharedArrays } });
}

/** For each cell of the tile: (row, col) in the tile and in the iteration space. */
function tileCells(c: Cover, f: (r: number, col: number, row: Expr, colE: Expr) => Stmt[]): Stmt[] {
  const out: Stmt[] = [];
  for (let r = 0; r < c.tm; r++) for (let j = 0; j < c.tn; j++) out.push(...f(r, j, add(ref('row0'), r), add(ref('col0'), j)));
  return out;
}

/**
 * The invocation's register tile: one vec4 of accumulators per row where the tile is 4 wide
 * (`acc[r] += a_r · b`, four multiply-adds an instruction), else one scalar per cell.
 */
interface RegisterTile {
  /** Adds a_r · b_j to every cell, given each row's a and the row of b (a vec4 or scalars). */
  accumulate(a: (r: number) => Expr, b: Expr | ((j: number) => Expr)): Stmt[];
  /** The accumulated value at tile cell (r, j). */
  value(r: Expr, j: Expr): Expr;
  /** Lets it starts with (scalar cells are declared; a vector tile starts zeroed). */
  readonly start: Stmt[];
}

function registerTile(kb: KernelBuilder, c: Cover): RegisterTile {
  if (c.tn === 4) {
    const acc = kb.scratchArray('acc', c.tm * 4, true, 'invocation', 4);
    const row = (r: number) => int(r * 4);
    return {
      start: [],
      accumulate: (a, b) => {
        const bv = typeof b === 'function' ? vec([0, 1, 2, 3].map(b)) : b;
        return Array.from({ length: c.tm }, (_, r) => store(acc, row(r), add(load(acc, row(r), 'f32x4'), mul(splat(a(r)), bv))));
      },
      value: (r, j) => lane(load(acc, mul(r, 4), 'f32x4'), j),
    };
  }
  const cellName = (r: number, j: number) => `c${r}_${j}`;
  const start = [group(tileCells(c, (r, j) => [var_(cellName(r, j), float(0))]))];
  const accumulate: RegisterTile['accumulate'] = (a, b) =>
    tileCells(c, (r, j) => [assign(cellName(r, j), add(ref(cellName(r, j), 'f32'), mul(a(r), typeof b === 'function' ? b(j) : lane(b, j))))]);
  // One cell is read where it is: the epilogue's loops have one trip.
  if (c.tm * c.tn === 1) return { start, accumulate, value: () => ref(cellName(0, 0), 'f32') };
  const tile = kb.scratchArray('tile', c.tm * c.tn, true, 'invocation');
  // Scalar cells go through the tile array so the epilogue can loop over them (see tileEpilogue).
  return { start, accumulate, value: (r, j) => load(tile, add(mul(r, c.tn), j)) };
}

/** Scalar cells into the tile array the epilogue reads (a vector tile or a single cell is read in place). */
function spill(kb: KernelBuilder, c: Cover): Stmt[] {
  if (c.tn === 4 || c.tm * c.tn === 1) return [];
  const tile = kb.scratchArray('tile', c.tm * c.tn, true, 'invocation');
  return [group(tileCells(c, (r, j) => [store(tile, int(r * c.tn + j), ref(`c${r}_${j}`, 'f32'))]))];
}

/** op(A)[row][p] and op(B)[p][col]. */
function operands(k: MatmulKernel, kb: KernelBuilder) {
  const [A, B] = [kb.buffer(k.a, 'read'), kb.buffer(k.b, 'read')];
  // Strides are the planned layout's (the largest batch's, where one dimension is dynamic).
  const [m, n, depth] = [dimMax(k.m), k.n, dimMax(k.k)];
  const { transA, transB } = k;
  return {
    a: (row: Expr, p: Expr) => load(A, transA ? add(mul(p, m), row) : add(mul(row, depth), p)),
    b: (p: Expr, col: Expr) => load(B, transB ? add(mul(col, depth), p) : add(mul(p, n), col)),
  };
}

/** The tile's products accumulated straight from memory over `steps` inner values from `start`. */
function directProduct(k: MatmulKernel, kb: KernelBuilder, c: Cover, tile: RegisterTile, start: Expr, steps: number, kLimit?: Expr): Stmt[] {
  const { a, b } = operands(k, kb);
  const p = add(start, ref('p'));
  return [
    ...tile.start,
    loop('p', steps, guarded(kLimit && compare('lt', p, kLimit), [
      group(Array.from({ length: c.tm }, (_, r) => let_(`a${r}`, a(add(ref('row0'), r), p)))),
      group(Array.from({ length: c.tn }, (_, j) => let_(`b${j}`, b(p, add(ref('col0'), j))))),
      group(tile.accumulate((r) => ref(`a${r}`, 'f32'), (j) => ref(`b${j}`, 'f32'))),
    ])),
  ];
}

/**
 * The tile's products over `steps` inner values from `start`, `depth` at a time through
 * workgroup memory: `As[kk][r]` and `Bs[kk][c]` for the workgroup's rows and columns, filled
 * by consecutive invocations from consecutive addresses, read back as one vec4 per operand
 * per step.
 */
function stagedProduct(k: MatmulKernel, kb: KernelBuilder, c: Cover, tile: RegisterTile, gpu: GpuParams, start: Expr, steps: number, kLimit?: Expr): Stmt[] {
  const { a, b } = operands(k, kb);
  const D = Math.min(gpu.depth, steps);
  const [BM, BN] = [c.ty * c.tm, c.tx * c.tn];
  const threads = c.tx * c.ty;
  const As = kb.sharedArray('As', D * BM, 4);
  const Bs = kb.sharedArray('Bs', D * BN, 4);
  const [rowBase, colBase] = [mul(wgY, BM), mul(wgX, BN)];
  const k0 = ref('k0');
  const tid = add(mul(ly, c.tx), lx);
  // A zero where a slice runs past the inner dimension (only when it can): past its last
  // value, or past the call's rows where it is a dynamic batch.
  const kTail = (kk: Expr, value: Expr): Expr => (steps % D === 0 && !kLimit ? value
    : { k: 'select', cond: compare('lt', add(add(start, k0), kk), kLimit ?? add(start, int(steps))), then: value, otherwise: float(0), type: 'f32' });
  // Every invocation fills ⌈count / threads⌉ values, the last ones only where they exist.
  const fill = (tile: string, count: number, at: (e: Expr) => { kk: Expr; i: Expr; value: (kk: Expr, i: Expr) => Expr }, width: number): Stmt => {
    const { kk, i, value } = at(ref('e'));
    const [k_, i_] = [ref('kk'), ref('i')];
    const put = [let_('kk', kk), let_('i', i), store(tile, add(mul(k_, width), i_), kTail(k_, value(k_, i_)))];
    return loop('l', Math.ceil(count / threads), [
      let_('e', add(mul(ref('l'), threads), tid)),
      ...guarded(count % threads ? compare('lt', ref('e'), count) : undefined, put),
    ]);
  };
  const p = (kk: Expr) => add(add(start, k0), kk);
  const fillA = fill(As, D * BM, (e) => (k.transA
    ? { kk: div(e, BM), i: rem(e, BM), value: (kk, i) => a(add(rowBase, i), p(kk)) }
    : { kk: rem(e, D), i: div(e, D), value: (kk, i) => a(add(rowBase, i), p(kk)) }), BM);
  const fillB = fill(Bs, D * BN, (e) => (k.transB
    ? { kk: rem(e, D), i: div(e, D), value: (kk, i) => b(p(kk), add(colBase, i)) }
    : { kk: div(e, BN), i: rem(e, BN), value: (kk, i) => b(p(kk), add(colBase, i)) }), BN);
  const kk = ref('kk');
  return [
    ...tile.start,
    loop('k0', steps, [
      fillA,
      fillB,
      barrier,
      loop('kk', D, [
        let_('av', load(As, add(mul(kk, BM), mul(ly, c.tm)), 'f32x4')),
        let_('bv', load(Bs, add(mul(kk, BN), mul(lx, c.tn)), 'f32x4')),
        ...tile.accumulate((r) => lane(ref('av', 'f32x4'), r), ref('bv', 'f32x4')),
      ]),
      barrier,
    ], { step: D }),
  ];
}

/**
 * Where a product's value comes from in the epilogue: the invocation's register tile, or a
 * sum read from memory (split-K).
 */
type Product = { readonly from: 'registers'; readonly tile: RegisterTile } | { readonly from: 'memory'; readonly at: (row: Expr, col: Expr) => Expr };

/**
 * The epilogue of every element of the invocation's tile, and its reduction terms combined
 * into per-invocation partial results in scratch (see `finishReductions`).
 */
function tileEpilogue(k: Kernel, kb: KernelBuilder, c: Cover, product?: Product): Stmt[] {
  const out: Stmt[] = [];
  const [r, j] = [ref('r'), ref('j')];
  const row = add(ref('row0'), r);
  const col = add(ref('col0'), j);
  let acc: Expr | undefined;
  if (product?.from === 'registers') {
    out.push(...spill(kb, c));
    acc = product.tile.value(r, j);
  } else if (product) acc = product.at(row, col);
  const el: Element = { flat: add(mul(row, c.cols), col), row, col };
  const { stmts, terms } = elementBody(k, kb, el, acc);
  // Per-invocation accumulators: one value (all), one per tile column (overRows) or row (withinRows).
  const accName = (i: number) => `t${i}`;
  // One value is a local (`var t0 = 0f`), several a private array.
  const slots = k.reductions.map((red, i) => {
    const n = red.axis === 'all' ? 1 : red.axis === 'overRows' ? c.tn : c.tm;
    const name = n === 1 ? accName(i) : kb.scratchArray(accName(i), n, true, 'invocation');
    const at = red.axis === 'all' ? int(0) : red.axis === 'overRows' ? j : r;
    const value = n === 1 ? () => ref(name, 'f32') : (v: Expr) => load(name, v);
    return { red, name, n, at, value };
  });
  out.push(...slots.map((s) => (s.n === 1 ? var_(s.name, identityOf(s.red.combine))
    : loop(`z${s.name}`, s.n, [store(s.name, ref(`z${s.name}`), identityOf(s.red.combine))]))));
  const adds = slots.map((s, i) => (s.n === 1 ? assign(s.name, combine(s.red.combine, s.value(s.at), terms[i]))
    : store(s.name, s.at, combine(s.red.combine, s.value(s.at), terms[i]))));
  const cond = inside(c, row, col);
  out.push(loop('r', c.tm, [loop('j', c.tn, guarded(cond, [...stmts, ...adds]))]));
  // Each invocation's partials: [invocation row or column of the whole grid][output value].
  slots.forEach((s, i) => {
    const part = kb.scratchArray(`part${i}`, partialsOf(s.red.axis, c).count * partialsOf(s.red.axis, c).width, false);
    const { slot, width } = partialsOf(s.red.axis, c);
    const index = (v: Expr) => add(mul(slot, width), v);
    if (s.red.axis === 'all') out.push(store(part, index(int(0)), s.value(int(0))));
    else {
      const pos = s.red.axis === 'overRows' ? add(ref('col0'), ref('v')) : add(ref('row0'), ref('v'));
      const edge = s.red.axis === 'overRows' ? (c.cols % (c.tx * c.tn) ? compare('lt', pos, c.cols) : undefined) : rowGuard(c, pos);
      out.push(loop('v', s.n, guarded(edge, [store(part, index(pos), s.value(ref('v')))])));
    }
  });
  return out;
}

/** Where the invocations' partial results of a reduction go: `count` rows of `width` values. */
function partialsOf(axis: 'all' | 'overRows' | 'withinRows', c: Cover): { count: number; width: number; slot: Expr } {
  const [gx, gy] = c.grid;
  if (axis === 'overRows') return { count: gy * c.ty, width: c.cols, slot: add(mul(wgY, c.ty), ly) };
  if (axis === 'withinRows') return { count: gx * c.tx, width: c.rows, slot: add(mul(wgX, c.tx), lx) };
  const threads = c.tx * c.ty;
  return { count: gx * gy * threads, width: 1, slot: add(mul(add(mul(wgY, gx), wgX), threads), add(mul(ly, c.tx), lx)) };
}

/** One launch finishing every reduction of a kernel: out[v] = scale · (partial₀[v] ⊕ partial₁[v] ⊕ …). */
function finishReductions(k: Kernel, plan: ModulePlan, params: LoweringParams, c: Cover): LoweredKernel[] {
  if (k.reductions.length === 0) return [];
  const kb = new Builder(plan.graph, plan.memory);
  const parts = k.reductions.map((red, i) => ({ red, i, ...partialsOf(red.axis, c) }));
  const widest = Math.max(...parts.map((p) => p.width));
  const body = elementLoop(params, kb, int(widest), widest, (v) => parts.flatMap(({ red, i, count, width }) => {
    const part = kb.scratchArray(`part${i}`, count * width, false);
    const out = kb.buffer(red.node, 'write');
    const finish = [
      var_(`s${i}`, identityOf(red.combine)),
      loop('b', count, [assign(`s${i}`, combine(red.combine, ref(`s${i}`, 'f32'), load(part, add(mul(ref('b'), width), v))))]),
      store(out, v, kb.scaled(ref(`s${i}`, 'f32'), red.scale)),
    ];
    return width === widest ? finish : [when(compare('lt', v, width), finish)];
  }), k.reductions[0].node);
  const names = k.reductions.map((r) => plan.graph.nodes[r.node].name).join(', ');
  return [kb.finish(`${k.name}_finish`, [`finishes ${names}: combines the partial results of ${k.name}`], body, kb.grid())];
}
