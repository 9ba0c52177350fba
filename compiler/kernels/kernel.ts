/**
 * Kernels: the unit of fusion, before lowering. A kernel is one iteration space: a matrix
 * product (with an elementwise epilogue), an elementwise map, or a reduction. It writes some
 * IR nodes to buffers ("stores"), computes others only in registers, and may combine values
 * over its iteration space on the way ("reductions"). A train step's parameter update is a
 * kernel of its own kind, rendered from the graph's optimizer definition.
 */
import type { Shape } from '../ir/graph.ts';
import type { ScalarExpr } from '../ir/scalar.ts';
import type { BroadcastKind, Combine, ReduceAxis, Scale } from '../ir/op-registry.ts';

/** A buffer the kernel reads elementwise, with how it broadcasts over the kernel's shape. */
export interface KernelArg {
  readonly node: number;
  readonly read: BroadcastKind;
}

/** A node the kernel writes elementwise: `expr` over the kernel's arguments (see each kind). */
export interface KernelStore {
  readonly node: number;
  readonly expr: ScalarExpr;
}

/**
 * A node the kernel combines over its iteration space (see `ReduceAxis`): `expr` per element,
 * joined by `combine` from its identity, then multiplied by `scale` (per row of a dynamic batch, see `Scale`).
 */
export interface KernelReduction {
  readonly node: number;
  readonly expr: ScalarExpr;
  readonly axis: ReduceAxis;
  readonly combine: Combine;
  readonly scale: Scale;
}

interface KernelBase {
  /** Unique within a module; named after the main node it computes. */
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

/** Every node a kernel writes to a buffer. */
export function writtenNodes(k: Kernel): number[] {
  return [...k.stores, ...k.reductions].map((w) => w.node);
}

/** Every node whose buffer a kernel reads. */
export function readNodes(k: Kernel): number[] {
  return [...(k.kind === 'matmul' ? [k.a, k.b] : []), ...k.args.map((a) => a.node)];
}
