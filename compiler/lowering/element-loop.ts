/**
 * A loop over a kernel's elements, whichever way the target runs it (a serial loop, or one GPU
 * invocation per element on a grid folded past WebGPU's per-dimension limit): shared by the
 * GPU strategy's elementwise kernels and the optimizer's update.
 */
import { GradcError } from '../errors.ts';
import type { Graph } from '../ir/graph.ts';
import type { Expr, Stmt } from './lir.ts';
import { add, builtin, compare, let_, loop, mul, ref, when } from './lir.ts';
import type { GpuParams, KernelBuilder, LoweringParams } from './builder.ts';

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
  // The workgroup's number: x alone, unless the grid was folded into y past the limit.
  const group = grid[1] === 1 ? builtin('workgroup.x') : add(mul(builtin('workgroup.y'), grid[0]), builtin('workgroup.x'));
  const i = add(mul(group, size), builtin('local.x'));
  return [let_('i', i), when(compare('lt', ref('i'), n), body(ref('i')))];
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
