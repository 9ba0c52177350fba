/**
 * GPU lowering: kernels as workgroups of invocations (the WGSL target).
 *
 * - Maps without reductions: one invocation per element, in workgroups of `workgroup`
 *   invocations (the dispatch folded into two dimensions past the per-dimension limit).
 * - Matrix products, and maps and reductions with reductions: tiles of `tile × tile`
 *   invocations, one output element each. A product stages `tile`-wide slices of both
 *   operands in workgroup memory, a barrier on each side of their use.
 * - Reductions run in parallel in two launches: each workgroup combines its tile's terms in
 *   workgroup memory (down its rows, within its rows, or all) into a partial result in
 *   scratch; a finishing launch combines the partials of every output element and scales.
 */
import { GradcError } from '../errors.ts';
import type { Graph } from '../ir/graph.ts';
import { sizeOf } from '../ir/graph.ts';
import type { Kernel, MatmulKernel } from '../kernels/kernel.ts';
import { domainOf } from '../kernels/kernel.ts';
import type { ModulePlan } from '../kernels/plan.ts';
import type { Combine, ReduceAxis } from '../ops/registry.ts';
import type { Expr, LoweredKernel, Stmt } from './lir.ts';
import {
  add, and, assign, barrier, builtin, compare, div, float, int, let_, load, loop, mul, ref, rem, shr, store, var_, when,
} from './lir.ts';
import type { Element, KernelBuilder, LoweringParams } from './lower.ts';
import { KernelBuilder as Builder, combine, elementBody, identityOf, kernelDoc, rowsAndColumns, scaled } from './lower.ts';

export interface GpuParams {
  /** Invocations per workgroup of elementwise kernels. */
  readonly workgroup: number;
  /** Outputs per side of a tiled workgroup (matrix products, kernels with reductions). */
  readonly tile: number;
  readonly maxWorkgroupsPerDimension: number;
}

export function lowerGpuKernel(k: Kernel, plan: ModulePlan, params: LoweringParams): LoweredKernel[] {
  const kb = new Builder(plan.graph, plan.memory);
  const doc = kernelDoc(k, plan);
  if (k.kind === 'map' && k.reductions.length === 0) {
    const [rows, cols] = rowsAndColumns(k.shape);
    const body = elementLoop(params, kb, int(rows * cols), rows * cols, (i) =>
      elementBody(k, kb, { flat: i, row: div(i, cols), col: rem(i, cols) }).stmts, k.stores[0]?.node);
    return [kb.finish(k.name, doc, body, kb.grid())];
  }
  return tiled(k, kb, params, doc, plan);
}

/** The workgroup grid for `groups` workgroups, folded into y past the per-dimension limit. */
export function foldedGrid(g: Graph, node: number | undefined, groups: number, gpu: GpuParams): [number, number, number] {
  const max = gpu.maxWorkgroupsPerDimension;
  if (groups <= max) return [Math.max(groups, 1), 1, 1];
  return [max, checkWorkgroups(g, node, Math.ceil(groups / max), 'the folded dispatch', gpu), 1];
}

/** Workgroups along one dimension, or a clear error naming the node and the limit. */
export function checkWorkgroups(g: Graph, node: number | undefined, count: number, what: string, gpu: GpuParams): number {
  if (count > gpu.maxWorkgroupsPerDimension) {
    const n = node === undefined ? undefined : g.nodes[node];
    throw new GradcError(n ? `node '${n.name}'` : `graph '${g.name}'`, `${what} needs ${count} workgroups in one dimension; WebGPU allows ${gpu.maxWorkgroupsPerDimension} (maxComputeWorkgroupsPerDimension)`, n?.loc ?? g.loc);
  }
  return count;
}

/**
 * `body(i)` for every i < n: a loop on a serial target; on a GPU one invocation per element
 * (`total` is then the constant element count that sizes the grid).
 */
export function elementLoop(params: LoweringParams, kb: KernelBuilder, n: Expr, total: number | undefined, body: (i: Expr) => Stmt[], node?: number): Stmt[] {
  if (params.parallel === 'serial') return [loop('i', n, body(ref('i')))];
  const gpu = params.gpu!;
  const size = gpu.workgroup;
  const grid = foldedGrid(kb.g, node, Math.ceil(total! / size), gpu);
  kb.gridShape = { workgroupSize: [size, 1, 1], workgroups: grid, shared: [] };
  const i = add(mul(add(mul(builtin('workgroup.y'), grid[0]), builtin('workgroup.x')), size), builtin('local.x'));
  return [let_('i', i), when(compare('lt', ref('i'), n), body(ref('i')))];
}

/** Tiled kernels: one invocation per element of a `tile × tile` block of the iteration space. */
function tiled(k: Kernel, kb: KernelBuilder, params: LoweringParams, doc: readonly string[], plan: ModulePlan): LoweredKernel[] {
  const gpu = params.gpu!;
  const T = gpu.tile;
  const [rows, cols] = rowsAndColumns(domainOf(k));
  const node = k.stores[0]?.node ?? k.reductions[0]?.node;
  const blocks: [number, number] = [Math.ceil(cols / T), Math.ceil(rows / T)];
  const grid: [number, number, number] = [
    checkWorkgroups(kb.g, node, blocks[0], 'the tile grid (columns)', gpu),
    checkWorkgroups(kb.g, node, blocks[1], 'the tile grid (rows)', gpu),
    1,
  ];
  const shared: { name: string; length: number }[] = [];
  const row = ref('row');
  const col = ref('col');
  const valid = ref('valid', 'bool');
  const el: Element = { flat: add(mul(row, cols), col), row, col };
  const body: Stmt[] = [
    let_('row', add(mul(builtin('workgroup.y'), T), builtin('local.y'))),
    let_('col', add(mul(builtin('workgroup.x'), T), builtin('local.x'))),
    let_('valid', and(compare('lt', row, rows), compare('lt', col, cols))),
  ];
  if (k.kind === 'matmul') body.push(...stagedProduct(k, kb, T, shared));
  const acc = k.kind === 'matmul' ? ref('acc', 'f32') : undefined;
  const { stmts, terms } = elementBody(k, kb, el, acc);
  // Each reduction's term, the combine's identity where the element is outside the space.
  body.push(...k.reductions.map((r, i) => var_(`t${i}`, identityOf(r.combine))));
  body.push(when(valid, [...stmts, ...terms.map((t, i) => assign(`t${i}`, t))]));

  const finishers: LoweredKernel[] = [];
  if (k.reductions.length) {
    shared.push({ name: 'part', length: T * T });
    k.reductions.forEach((r, i) => {
      const width = r.axis === 'overRows' ? cols : r.axis === 'withinRows' ? rows : 1;
      const count = r.axis === 'overRows' ? blocks[1] : r.axis === 'withinRows' ? blocks[0] : blocks[0] * blocks[1];
      const partials = kb.scratchArray(`part${i}`, count * width, false);
      body.push(...tileReduction(r.axis, r.combine, ref(`t${i}`, 'f32'), T, partials, width, rows, cols, blocks));
      finishers.push(finishReduction(plan, params, r.node, r.combine, r.scale, partials, count, width, `${k.name}_${i === 0 ? '' : `${i}_`}finish`));
    });
  }
  const main = kb.finish(k.name, doc, body, { grid: { workgroupSize: [T, T, 1], workgroups: grid, shared } });
  return [main, ...finishers];
}

/** acc = Σ_p op(A)[row][p]·op(B)[p][col], through `tile`-wide slices staged in workgroup memory. */
function stagedProduct(k: MatmulKernel, kb: KernelBuilder, T: number, shared: { name: string; length: number }[]): Stmt[] {
  const { m, n, k: depth, transA, transB } = k;
  const [A, B] = [kb.buffer(k.a, 'read'), kb.buffer(k.b, 'read')];
  shared.push({ name: 'tileA', length: T * T }, { name: 'tileB', length: T * T });
  const [row, col, t] = [ref('row'), ref('col'), ref('t')];
  const [ly, lx] = [builtin('local.y'), builtin('local.x')];
  const ak = ref('ak');
  const bk = ref('bk');
  const aAt = transA ? add(mul(ak, m), row) : add(mul(row, depth), ak);
  const bAt = transB ? add(mul(col, depth), bk) : add(mul(bk, n), col);
  const at = add(mul(ly, T), lx);
  return [
    var_('acc', float(0)),
    loop('t', depth, [
      let_('ak', add(t, lx)),
      var_('av', float(0)),
      when(and(compare('lt', row, m), compare('lt', ak, depth)), [assign('av', load(A, aAt))]),
      store('tileA', at, ref('av', 'f32')),
      let_('bk', add(t, ly)),
      var_('bv', float(0)),
      when(and(compare('lt', bk, depth), compare('lt', col, n)), [assign('bv', load(B, bAt))]),
      store('tileB', at, ref('bv', 'f32')),
      barrier,
      loop('p', T, [assign('acc', add(ref('acc', 'f32'), mul(load('tileA', add(mul(ly, T), ref('p'))), load('tileB', add(mul(ref('p'), T), lx)))))]),
      barrier,
    ], { step: T }),
  ];
}

/**
 * Combines one term per invocation across the tile in workgroup memory (`part`), by halving
 * strides, and writes the tile's partial result: per column, per row, or one value.
 */
function tileReduction(axis: ReduceAxis, how: Combine, term: Expr, T: number, partials: string, width: number, rows: number, cols: number, blocks: [number, number]): Stmt[] {
  const [ly, lx] = [builtin('local.y'), builtin('local.x')];
  const at = add(mul(ly, T), lx);
  // Halving strides: after step h, lanes below T/2^(h+1) hold the combination of twice as many.
  const halve = (lane: Expr, stride: number): Stmt => loop('h', Math.log2(T), [
    let_('s', shr(T / 2, ref('h'))),
    when(compare('lt', lane, ref('s')), [store('part', at, combine(how, load('part', at), load('part', add(at, mul(ref('s'), stride)))))]),
    barrier,
  ]);
  const steps: Stmt[] = [store('part', at, term), barrier];
  if (axis === 'overRows' || axis === 'all') steps.push(halve(ly, T));
  if (axis === 'withinRows' || axis === 'all') steps.push(halve(lx, 1));
  const [wy, wx] = [builtin('workgroup.y'), builtin('workgroup.x')];
  const write = axis === 'overRows'
    ? when(and(compare('eq', ly, 0), compare('lt', ref('col'), cols)), [store(partials, add(mul(wy, width), ref('col')), load('part', lx))])
    : axis === 'withinRows'
      ? when(and(compare('eq', lx, 0), compare('lt', ref('row'), rows)), [store(partials, add(mul(wx, width), ref('row')), load('part', mul(ly, T)))])
      : when(and(compare('eq', ly, 0), compare('eq', lx, 0)), [store(partials, add(mul(wy, blocks[0]), wx), load('part', int(0)))]);
  return [...steps, write];
}

/** out[j] = scale · (partials[0][j] ⊕ partials[1][j] ⊕ …), one invocation per output element. */
function finishReduction(plan: ModulePlan, params: LoweringParams, node: number, how: Combine, scale: number, partials: string, count: number, width: number, name: string): LoweredKernel {
  const g = plan.graph;
  const kb = new Builder(g, plan.memory);
  kb.scratchArray(partials, count * width, false);
  const out = kb.buffer(node, 'write');
  const body = elementLoop(params, kb, int(width), width, (j) => [
    var_('v', identityOf(how)),
    loop('b', count, [assign('v', combine(how, ref('v', 'f32'), load(partials, add(mul(ref('b'), width), j))))]),
    store(out, j, scaled(ref('v', 'f32'), scale)),
  ], node);
  const what = sizeOf(g.nodes[node].shape) === 1 ? g.nodes[node].name : `each of ${width} values of ${g.nodes[node].name}`;
  return kb.finish(name, [`finishes ${what}: combines ${count} partial results${scale === 1 ? '' : ` and scales by ${scale}`}`], body, kb.grid());
}
