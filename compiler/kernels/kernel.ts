/**
 * Kernels: the unit both backends emit. A kernel is one loop nest over one iteration space:
 * a matrix product (with an elementwise epilogue), an elementwise map, or a reduction. Each
 * writes some IR nodes to buffers ("stored") and computes others only in registers.
 */
import type { Shape } from '../ir/graph.ts';
import type { ScalarExpr } from '../ir/scalar.ts';
import type { BroadcastKind } from '../ops/registry.ts';

/** A buffer the kernel reads elementwise, with how it broadcasts over the kernel's shape. */
export interface KernelArg {
  readonly node: number;
  readonly read: BroadcastKind;
}

/** A node the kernel writes: `expr` over the kernel's arguments (see each kind). */
export interface KernelStore {
  readonly node: number;
  readonly expr: ScalarExpr;
}

interface KernelBase {
  /** Named after the main node it computes. */
  readonly name: string;
  /** Every IR node computed inside, in order (stored or not). */
  readonly nodes: readonly number[];
  readonly args: readonly KernelArg[];
  readonly stores: readonly KernelStore[];
}

/**
 * C = op(A)·op(B), [m,n] with inner dimension k. In `stores`, `arg 0` is the element of C
 * and `arg i` (i ≥ 1) is `args[i-1]`: the epilogue, e.g. `relu(acc + b)`.
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

/** out = expr(args) for every element of `shape`; `arg i` is `args[i]`. */
export interface MapKernel extends KernelBase {
  readonly kind: 'map';
  readonly shape: Shape;
}

/**
 * Sums `stores[0].expr` (over `args`, all read at the input's shape `over`) over every
 * element (axis 'all', a scalar result) or down the rows (axis 'rows', one per column),
 * then multiplies by `scale`.
 */
export interface ReduceKernel extends KernelBase {
  readonly kind: 'reduce';
  readonly axis: 'all' | 'rows';
  readonly over: Shape;
  readonly scale: number;
}

export type Kernel = MatmulKernel | MapKernel | ReduceKernel;

/** The kernels of a graph in execution order, and which nodes live in buffers. */
export interface Schedule {
  readonly kernels: readonly Kernel[];
  /** Node ids with a buffer of their own (stored by some kernel), in first-write order. */
  readonly buffers: readonly number[];
}
