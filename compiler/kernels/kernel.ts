/**
 * Kernels: the unit both backends emit. A kernel is one loop nest over one iteration space:
 * a matrix product (with an elementwise epilogue), an elementwise map, or a reduction. Each
 * writes some IR nodes to buffers ("stored"), computes others only in registers, may sum
 * values over its iteration space on the way ("reductions"), and in a train step may apply
 * the SGD update to a param instead of storing its gradient.
 */
import type { Shape } from '../ir/graph.ts';
import type { ScalarExpr } from '../ir/scalar.ts';
import type { BroadcastKind } from '../ops/registry.ts';

/** A buffer the kernel reads elementwise, with how it broadcasts over the kernel's shape. */
export interface KernelArg {
  readonly node: number;
  readonly read: BroadcastKind;
}

/** A node the kernel writes elementwise: `expr` over the kernel's arguments (see each kind). */
export interface KernelStore {
  readonly node: number;
  readonly expr: ScalarExpr;
  /** Train step: instead of storing, `param := param − α·value` (notes eq. 1.3). */
  readonly update?: number;
}

/**
 * A node the kernel sums over its iteration space: over every element (axis 'all', a scalar)
 * or down the rows (axis 'rows', one value per column), then scales.
 */
export interface KernelReduction {
  readonly node: number;
  readonly expr: ScalarExpr;
  readonly axis: 'all' | 'rows';
  readonly scale: number;
  /** Train step: instead of storing, `param := param − α·value`. */
  readonly update?: number;
}

interface KernelBase {
  /** Named after the main node it computes. */
  readonly name: string;
  /** Every IR node computed inside, in order (stored or not). */
  readonly nodes: readonly number[];
  readonly args: readonly KernelArg[];
  readonly stores: readonly KernelStore[];
  readonly reductions: readonly KernelReduction[];
}

/**
 * C = op(A)·op(B), [m,n] with inner dimension k. In stores and reductions `arg 0` is the
 * element of C and `arg i` (i ≥ 1) is `args[i-1]`: the epilogue, e.g. `relu(acc + b)`.
 */
export interface MatmulKernel extends KernelBase {
  readonly kind: 'matmul';
  readonly a: number;
  readonly b: number;
  readonly transA: boolean;
  readonly transB: boolean;
  readonly m: number;
  readonly n: number;
  readonly k: number;
}

/** For every element of `shape`: stores and reduction terms over `arg i` = `args[i]`. */
export interface MapKernel extends KernelBase {
  readonly kind: 'map';
  readonly shape: Shape;
}

/** Only reductions, over the elements of `over` (each arg read at that shape). */
export interface ReduceKernel extends KernelBase {
  readonly kind: 'reduce';
  readonly over: Shape;
}

export type Kernel = MatmulKernel | MapKernel | ReduceKernel;

/** The shape a kernel iterates over. */
export function domainOf(k: Kernel): Shape {
  return k.kind === 'matmul' ? [k.m, k.n] : k.kind === 'map' ? k.shape : k.over;
}

/** Every node a kernel writes to a buffer of its own (not updates). */
export function writtenNodes(k: Kernel): number[] {
  return [...k.stores, ...k.reductions].filter((w) => w.update === undefined).map((w) => w.node);
}

/** Every node whose buffer a kernel reads. */
export function readNodes(k: Kernel): number[] {
  return [...(k.kind === 'matmul' ? [k.a, k.b] : []), ...k.args.map((a) => a.node)];
}

/** Params a kernel updates in place. */
export function updatedParams(k: Kernel): number[] {
  return [...k.stores, ...k.reductions].flatMap((w) => (w.update === undefined ? [] : [w.update]));
}

/** The kernels of one entry point in execution order, and which nodes live in buffers. */
export interface Schedule {
  readonly kernels: readonly Kernel[];
  /** Node ids with a buffer of their own (written by some kernel), in first-write order. */
  readonly buffers: readonly number[];
}
