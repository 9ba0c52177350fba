/**
 * The IR: one SSA list of nodes per graph, forward and backward alike. A node's id is its
 * index; every input id is smaller than the node's own, so the list is a topological order.
 * Entry points (outputs, the loss, each param's gradient) are roots into the same list.
 */

/**
 * Dimensions are positive sizes, except the batch dimension of a graph that declares one
 * (`g.batch(max)`): stored as −max, it stands for any number of rows from 1 to max, chosen
 * by each call. Shape rules compare dimensions by equality, so a batch dimension matches
 * only itself; memory is planned for the max (`sizeOf`); loops over it run as many rows as
 * a call gives (see `lowering/`).
 */
export type Shape = readonly number[];

export interface SourceLoc {
  /** Path as the user wrote it, relative to the working directory when possible. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export type InitKind = 'he' | 'xavier' | 'normal' | 'zeros';

export interface Attrs {
  /** Leaves: the user's name of an input or param. */
  readonly leaf?: string;
  readonly init?: InitKind;
  /** `const`: the scalar value. */
  readonly value?: number;
  /** `matmul`: read the operand transposed. */
  readonly transA?: boolean;
  readonly transB?: boolean;
  /** `broadcast`: the target shape. */
  readonly to?: Shape;
}

export interface Node {
  readonly id: number;
  readonly op: string;
  readonly inputs: readonly number[];
  readonly shape: Shape;
  readonly attrs: Attrs;
  /** Readable name used in printed IR and generated code; unique within a graph. */
  readonly name: string;
  readonly loc?: SourceLoc;
}

export interface Graph {
  readonly name: string;
  readonly nodes: readonly Node[];
  /** In declaration order. */
  readonly inputs: readonly { readonly name: string; readonly id: number }[];
  readonly params: readonly { readonly name: string; readonly id: number }[];
  readonly outputs: readonly { readonly name: string; readonly id: number }[];
  readonly loss?: number;
  /** Filled in by autodiff: dJ/dparam for each param, in param order. */
  readonly grads?: readonly { readonly name: string; readonly id: number }[];
  /** The largest batch, where the graph's batch dimension is dynamic (`g.batch(max)`). */
  readonly batch?: number;
  readonly loc?: SourceLoc;
}

/** Every root id of the graph, so passes can keep exactly what is reachable. */
export function roots(g: Graph): number[] {
  return [
    ...g.inputs.map((r) => r.id),
    ...g.params.map((r) => r.id),
    ...g.outputs.map((r) => r.id),
    ...(g.loss === undefined ? [] : [g.loss]),
    ...(g.grads ?? []).map((r) => r.id),
  ];
}

/** Ids reachable backwards from `from`, as a sorted list (a topological order). */
export function reachable(g: Graph, from: Iterable<number>): number[] {
  const seen = new Uint8Array(g.nodes.length);
  const stack = [...from];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen[id]) continue;
    seen[id] = 1;
    for (const i of g.nodes[id].inputs) stack.push(i);
  }
  const out: number[] = [];
  for (let i = 0; i < seen.length; i++) if (seen[i]) out.push(i);
  return out;
}

/** Whether a dimension is the batch dimension (any number of rows up to its max). */
export const isBatchDim = (d: number): boolean => d < 0;
/** A dimension's size, the largest for the batch dimension. */
export const dimMax = (d: number): number => Math.abs(d);
/** Elements of a shape, at the largest batch. */
export const sizeOf = (shape: Shape): number => shape.reduce((a, b) => a * Math.abs(b), 1);
export const dimText = (d: number): string => (d < 0 ? `B≤${-d}` : String(d));
export const shapeText = (shape: Shape): string => `[${shape.map(dimText).join(',')}]`;
export const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
