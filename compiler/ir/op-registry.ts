/**
 * The op table. Each op is defined exactly once, by an `OpDef` in one of the files of
 * compiler/ops/: its shape rule, what it computes (a scalar tree for elementwise work and
 * reductions; a kind the backends know for matmul and transpose) and its pullback. The table
 * and its types live here, in the IR, so the IR's builder and interpreter can look ops up
 * without importing the layer that defines them; compiler/ops/all.ts fills it.
 */
import type { Attrs, Node, Shape } from './graph.ts';
import { dimText, shapeText } from './graph.ts';
import type { ScalarExpr } from './scalar.ts';

export type OpKind = 'leaf' | 'elementwise' | 'reduce' | 'matmul' | 'transpose';

/**
 * Which elements of a `[m,n]` input a reduction combines: all of them (a scalar), those of
 * each column down the rows (`[n]`: column sums, the bias gradient), or those within each row
 * (`[m,1]`, a column: a per-row max or log-sum-exp).
 */
export type ReduceAxis = 'all' | 'overRows' | 'withinRows';

/** How a reduction combines two values, and the value it starts from. */
export const COMBINES = {
  sum: { identity: 0 },
  max: { identity: -Infinity },
} as const;
export type Combine = keyof typeof COMBINES;

export interface Reduction {
  readonly axis: ReduceAxis;
  readonly combine: Combine;
}


/**
 * A shape rule returns the output shape, or a message about the inputs in which `{0}`,
 * `{1}`, … stand for the inputs (the DSL fills in what the user wrote, the IR the node names).
 */
export type ShapeRule = (inputs: readonly Shape[], attrs: Attrs) => Shape | { error: string };

/**
 * A constant factor, or one over the rows of a call (`perRows / rows`), for a mean over a
 * dynamic batch: 1/B of a loss, 1/size of a `mean` over the batch.
 */
export type Scale = number | { readonly perRows: number };

/** 1/rows of a shape whose first dimension counts the rows (one row for rank 0 or 1); dynamic for the batch dimension. */
export function perRow(shape: Shape, factor = 1): Scale {
  const rows = shape.length === 2 ? shape[0] : 1;
  return rows < 0 ? { perRows: factor } : factor / rows;
}

/** What a pullback may do: build nodes in the backward graph. */
export interface VjpContext {
  readonly node: Node;
  /** Shapes of the node's inputs. */
  readonly inputShapes: readonly Shape[];
  /** dJ/d(node), already of the node's shape. */
  readonly grad: number;
  emit(op: string, inputs: readonly number[], attrs?: Attrs): number;
  /** A scalar node: a constant, or `batch_scale` for a factor per row of a dynamic batch. */
  constant(value: Scale): number;
}

export interface OpDef {
  readonly name: string;
  readonly kind: OpKind;
  readonly arity: number;
  readonly shape: ShapeRule;
  /**
   * elementwise: the value of one output element from its (broadcast) input elements.
   * reduce: the term summed for each output element.
   */
  readonly scalar?: ScalarExpr;
  /** reduce: which elements are combined, and how (see `Reduction`). */
  readonly reduce?: Reduction;
  /** reduce: the factor the combined value is multiplied by, from the input shapes. */
  readonly reduceScale?: (inputs: readonly Shape[]) => Scale;
  /**
   * The pullback: dJ/d(input i) for each input, given dJ/d(node). Elementwise results may
   * have the output's shape even where an input was broadcast; autodiff sums them back.
   * Absent for ops that only appear in backward graphs (no second derivatives).
   */
  readonly vjp?: (ctx: VjpContext) => readonly (number | null)[];
  /**
   * The arguments whose pullback is `null`, by index, each with the reason (none flows by
   * definition, or it is folded into another argument's). test/op-table.test.ts holds the
   * pullback to exactly these, and checks every other argument's derivative.
   */
  readonly noGradient?: Readonly<Record<number, string>>;
  /** One line for spec/ and `gradc inspect`. */
  readonly doc: string;
}

const table = new Map<string, OpDef>();

export function defineOp(def: OpDef): OpDef {
  if (table.has(def.name)) throw new Error(`op '${def.name}' is defined twice`);
  table.set(def.name, def);
  return def;
}

export function opDef(name: string): OpDef {
  const def = table.get(name);
  if (!def) throw new Error(`unknown op '${name}'`);
  return def;
}

export function allOps(): OpDef[] {
  return [...table.values()];
}

/**
 * Elementwise broadcasting: the output takes the shape of the highest-rank input; every
 * other input has that shape, is a scalar, is a row vector `[n]` repeated over the rows of
 * an `[m,n]` output (the bias `b` of `XW + b`, added to every row), or is a column `[m,1]`
 * repeated across the columns (a per-row value: a row's maximum, its log-sum-exp).
 */
export function broadcastShape(inputs: readonly Shape[]): Shape | { error: string } {
  let out = inputs[0];
  for (const s of inputs) if (s.length > out.length) out = s;
  for (let i = 0; i < inputs.length; i++) {
    if (broadcastKind(inputs[i], out) === undefined) {
      const j = inputs.indexOf(out);
      const column = out.length === 2 ? ` or a column [${dimText(out[0])},1]` : '';
      return { error: `{${i}} is ${shapeText(inputs[i])} but {${j}} is ${shapeText(out)}; shapes must match, or one must be a scalar, a row [${dimText(out[out.length - 1])}]${column}` };
    }
  }
  return out;
}

export type BroadcastKind = 'same' | 'scalar' | 'row' | 'column';

/** How an input of shape `s` is read for an output of shape `out`. */
export function broadcastKind(s: Shape, out: Shape): BroadcastKind | undefined {
  if (s.length === out.length && s.every((d, i) => d === out[i])) return 'same';
  if (s.length === 0) return 'scalar';
  if (s.length === 1 && out.length === 2 && s[0] === out[1]) return 'row';
  if (s.length === 2 && out.length === 2 && s[0] === out[0] && s[1] === 1) return 'column';
  return undefined;
}
