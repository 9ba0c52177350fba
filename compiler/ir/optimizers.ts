/**
 * Optimizers: how a train step turns a gradient into a new param value. Each optimizer is
 * data, defined once like an op: scalar formulas every backend renders (the update kernel of
 * the generated module), plus the per-step scalars the host computes from the learning rate
 * and the step count. Nothing here is backend-specific. The table lives in the IR, below the
 * DSL, because the DSL's `g.optimizer(def)` rebuilds a def from its choice through it; the
 * DSL functions that make one (`sgd()`, `momentum()`, `adam()`) are in compiler/ops/optimizers.ts.
 */
import { s, type ScalarExpr } from './scalar.ts';

/** What a graph file chose: an optimizer's name and its options, all numbers (what a worker sends back). */
export interface OptimizerChoice {
  readonly name: string;
  readonly options: Readonly<Record<string, number>>;
}

export interface OptimizerDef {
  readonly name: string;
  /** The name and options it was made from, settled (defaults filled in). */
  readonly choice: OptimizerChoice;
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
  readonly options?: Readonly<Record<string, number>>;
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
    choice: { name: spec.name, options: spec.options ?? {} },
    doc: spec.doc,
    slots,
    scalars: spec.scalars.map((c) => ({ name: c.name, expr: c.expr(s.arg(0), s.arg(1)) })),
    param: made.param,
    state: made.state ?? [],
  };
}

/** An option's range: [low, high], each end in or out. */
interface Range {
  readonly low: number;
  readonly high: number;
  readonly lowIn: boolean;
  readonly highIn: boolean;
  readonly fallback: number;
}

const within = (low: number, high: number, fallback: number, lowIn = true, highIn = false): Range => ({ low, high, lowIn, highIn, fallback });
const rangeText = (r: Range) => `${r.lowIn ? '[' : '('}${r.low}, ${r.high === Infinity ? '∞' : r.high}${r.highIn ? ']' : ')'}`;

/**
 * The options of each optimizer, their ranges and defaults, and how each is made from them:
 * the one table both a graph file's call (`adam({ beta1: 0.9 })`) and a graph loaded in a
 * worker thread (whose optimizer comes back as its name and options) go through.
 */
const OPTIMIZERS: Record<string, { readonly options: Readonly<Record<string, Range>>; readonly make: (o: Readonly<Record<string, number>>) => OptimizerDef }> = {
  sgd: {
    options: {},
    make: () => defineOptimizer({
      name: 'sgd',
      doc: 'θ := θ − α·g',
      scalars: [{ name: 'lr', expr: (lr) => lr }],
      update: ({ param, grad, scalars: [lr] }) => ({ param: s.sub(param, s.mul(lr, grad)) }),
    }),
  },
  // TensorFlow's momentum (tf.train.momentum, without Nesterov): v := μ·v + g, θ := θ − α·v.
  momentum: {
    options: { momentum: within(0, 1, 0.9) },
    make: (o) => defineOptimizer({
      name: 'momentum',
      options: o,
      doc: `v := ${o.momentum}·v + g, θ := θ − α·v`,
      slots: ['velocity'],
      scalars: [{ name: 'lr', expr: (lr) => lr }],
      update: ({ param, grad, state: [v], scalars: [lr] }) => {
        const velocity = s.add(s.mul(o.momentum, v), grad);
        return { param: s.sub(param, s.mul(lr, velocity)), state: [velocity] };
      },
    }),
  },
  // Kingma & Ba's Adam as TensorFlow.js's tf.train.adam computes it: bias-corrected moments,
  // ε added to the corrected second moment's square root. β^t = e^(t·ln β), in float64 on the host.
  adam: {
    options: { beta1: within(0, 1, 0.9), beta2: within(0, 1, 0.999), epsilon: within(0, Infinity, 1e-7, false) },
    make: (o) => defineOptimizer({
      name: 'adam',
      options: o,
      doc: `m := β1·m + (1 − β1)·g, v := β2·v + (1 − β2)·g², θ := θ − α·(m/(1 − β1^t)) / (√(v/(1 − β2^t)) + ε), β1 = ${o.beta1}, β2 = ${o.beta2}, ε = ${o.epsilon}`,
      slots: ['m', 'v'],
      scalars: [
        { name: 'lr', expr: (lr) => lr },
        { name: 'c1', expr: (_, t) => s.div(1, s.sub(1, s.exp(s.mul(t, Math.log(o.beta1))))) },
        { name: 'c2', expr: (_, t) => s.div(1, s.sub(1, s.exp(s.mul(t, Math.log(o.beta2))))) },
      ],
      update: ({ param, grad, state: [m, v], scalars: [lr, c1, c2] }) => {
        const m2 = s.add(s.mul(o.beta1, m), s.mul(1 - o.beta1, grad));
        const v2 = s.add(s.mul(o.beta2, v), s.mul(1 - o.beta2, s.mul(grad, grad)));
        const step = s.div(s.mul(m2, c1), s.add(s.sqrt(s.mul(v2, c2)), o.epsilon));
        return { param: s.sub(param, s.mul(lr, step)), state: [m2, v2] };
      },
    }),
  },
};

/**
 * The optimizer a choice names, its options checked against their ranges. Returns an error
 * message instead when the name or an option is not one gradc knows.
 */
export function optimizerFromChoice(choice: unknown): OptimizerDef | string {
  const c = choice as Partial<OptimizerChoice> | null;
  const entry = typeof c?.name === 'string' && Object.hasOwn(OPTIMIZERS, c.name) ? OPTIMIZERS[c.name] : undefined;
  if (!entry) return `unknown optimizer; use sgd(), momentum() or adam()`;
  const given: unknown = c!.options ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) return `the options of ${c!.name}() must be an object`;
  const options: Record<string, number> = {};
  const known = Object.keys(entry.options);
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) return `${c!.name}() has no option '${key}'${known.length ? `; its options: ${known.join(', ')}` : ''}`;
  }
  for (const [key, r] of Object.entries(entry.options)) {
    const v = (given as Record<string, unknown>)[key] ?? r.fallback;
    const inside = typeof v === 'number' && (r.lowIn ? v >= r.low : v > r.low) && (r.highIn ? v <= r.high : v < r.high);
    if (!inside) return `${c!.name}() option ${key} must be a number in ${rangeText(r)}, got ${typeof v === 'number' ? v : JSON.stringify(v) ?? typeof v}`;
    options[key] = v as number;
  }
  return entry.make(options);
}

/** The optimizer of a graph that declares none. */
export const DEFAULT_OPTIMIZER = (): OptimizerDef => OPTIMIZERS.sgd.make({});
