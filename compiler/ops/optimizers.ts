/**
 * Optimizers: how a train step turns a gradient into a new param value. Each optimizer is
 * data, defined once like an op: scalar formulas every backend renders (the update kernel of
 * the generated module), plus the per-step scalars the host computes from the learning rate
 * and the step count. Nothing here is backend-specific.
 */
import { s, type ScalarExpr } from '../ir/scalar.ts';

export interface OptimizerDef {
  readonly name: string;
  /** One line for spec/, `gradc inspect` and generated comments. */
  readonly doc: string;
  /** Names of the state arrays kept per param (each the param's shape), e.g. `['m', 'v']`. */
  readonly slots: readonly string[];
  /**
   * Scalars the host computes in float64 before each step, from `$0` = the learning rate and
   * `$1` = t, the number of this step (1 for the first).
   */
  readonly scalars: readonly { readonly name: string; readonly expr: ScalarExpr }[];
  /**
   * Per element, over `$0` = param, `$1` = grad, `$2…` = the state slots in order, then the
   * scalars in order: the param's new value, and each slot's new value.
   */
  readonly param: ScalarExpr;
  readonly state: readonly ScalarExpr[];
}

/** Names for the arguments of an update formula, so definitions read like the math. */
export interface UpdateArgs {
  readonly param: ScalarExpr;
  readonly grad: ScalarExpr;
  readonly state: readonly ScalarExpr[];
  readonly scalars: readonly ScalarExpr[];
}

interface OptimizerSpec {
  readonly name: string;
  readonly doc: string;
  readonly slots?: readonly string[];
  readonly scalars: readonly { readonly name: string; readonly expr: (learningRate: ScalarExpr, step: ScalarExpr) => ScalarExpr }[];
  readonly update: (args: UpdateArgs) => { readonly param: ScalarExpr; readonly state?: readonly ScalarExpr[] };
}

/** Turns a spec written with named arguments into an `OptimizerDef`. */
export function defineOptimizer(spec: OptimizerSpec): OptimizerDef {
  const slots = spec.slots ?? [];
  const state = slots.map((_, i) => s.arg(2 + i));
  const scalars = spec.scalars.map((_, i) => s.arg(2 + slots.length + i));
  const made = spec.update({ param: s.arg(0), grad: s.arg(1), state, scalars });
  if ((made.state ?? []).length !== slots.length) throw new Error(`internal: optimizer ${spec.name} updates ${made.state?.length ?? 0} of ${slots.length} slots`);
  return {
    name: spec.name,
    doc: spec.doc,
    slots,
    scalars: spec.scalars.map((c) => ({ name: c.name, expr: c.expr(s.arg(0), s.arg(1)) })),
    param: made.param,
    state: made.state ?? [],
  };
}

/** Plain stochastic gradient descent: θ := θ − α·∇θJ. */
export function sgd(): OptimizerDef {
  return defineOptimizer({
    name: 'sgd',
    doc: 'θ := θ − α·g',
    scalars: [{ name: 'lr', expr: (lr) => lr }],
    update: ({ param, grad, scalars: [lr] }) => ({ param: s.sub(param, s.mul(lr, grad)) }),
  });
}
