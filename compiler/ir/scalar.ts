/**
 * The scalar expression language: what one element of an elementwise op computes.
 *
 * Every elementwise op (and the per-element body of every reduction) is written once,
 * as a tree over a handful of primitives. Each backend renders the primitives; the
 * float64 reference interpreter evaluates them. Fusion composes trees by substituting
 * one op's tree for another's argument. A subtree shared by object identity is
 * rendered once, as a temporary (see `linearize`).
 */

export type UnaryFn = 'neg' | 'exp' | 'log' | 'log1p' | 'sqrt' | 'abs';
export type BinaryFn = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min';
export type CompareFn = 'ge' | 'gt';

export type ScalarExpr =
  | { readonly k: 'arg'; readonly index: number }
  | { readonly k: 'num'; readonly value: number }
  | { readonly k: 'unary'; readonly fn: UnaryFn; readonly a: ScalarExpr }
  | { readonly k: 'binary'; readonly fn: BinaryFn; readonly a: ScalarExpr; readonly b: ScalarExpr }
  /** `cmp(a, b) ? then : otherwise` */
  | {
      readonly k: 'select';
      readonly cmp: CompareFn;
      readonly a: ScalarExpr;
      readonly b: ScalarExpr;
      readonly then: ScalarExpr;
      readonly otherwise: ScalarExpr;
    };

type Operand = ScalarExpr | number;
const lift = (x: Operand): ScalarExpr => (typeof x === 'number' ? { k: 'num', value: x } : x);

/** Builders, so op definitions read like formulas. */
export const s = {
  arg: (index: number): ScalarExpr => ({ k: 'arg', index }),
  num: (value: number): ScalarExpr => ({ k: 'num', value }),
  neg: (a: Operand): ScalarExpr => ({ k: 'unary', fn: 'neg', a: lift(a) }),
  exp: (a: Operand): ScalarExpr => ({ k: 'unary', fn: 'exp', a: lift(a) }),
  log: (a: Operand): ScalarExpr => ({ k: 'unary', fn: 'log', a: lift(a) }),
  /** log(1 + a), accurate where a is small (where log(1 + a) would round 1 + a to 1). */
  log1p: (a: Operand): ScalarExpr => ({ k: 'unary', fn: 'log1p', a: lift(a) }),
  sqrt: (a: Operand): ScalarExpr => ({ k: 'unary', fn: 'sqrt', a: lift(a) }),
  abs: (a: Operand): ScalarExpr => ({ k: 'unary', fn: 'abs', a: lift(a) }),
  add: (a: Operand, b: Operand): ScalarExpr => ({ k: 'binary', fn: 'add', a: lift(a), b: lift(b) }),
  sub: (a: Operand, b: Operand): ScalarExpr => ({ k: 'binary', fn: 'sub', a: lift(a), b: lift(b) }),
  mul: (a: Operand, b: Operand): ScalarExpr => ({ k: 'binary', fn: 'mul', a: lift(a), b: lift(b) }),
  div: (a: Operand, b: Operand): ScalarExpr => ({ k: 'binary', fn: 'div', a: lift(a), b: lift(b) }),
  max: (a: Operand, b: Operand): ScalarExpr => ({ k: 'binary', fn: 'max', a: lift(a), b: lift(b) }),
  min: (a: Operand, b: Operand): ScalarExpr => ({ k: 'binary', fn: 'min', a: lift(a), b: lift(b) }),
  /** `a >= b ? then : otherwise` */
  ifGe: (a: Operand, b: Operand, then: Operand, otherwise: Operand): ScalarExpr => ({
    k: 'select', cmp: 'ge', a: lift(a), b: lift(b), then: lift(then), otherwise: lift(otherwise),
  }),
  /** `a > b ? then : otherwise` */
  ifGt: (a: Operand, b: Operand, then: Operand, otherwise: Operand): ScalarExpr => ({
    k: 'select', cmp: 'gt', a: lift(a), b: lift(b), then: lift(then), otherwise: lift(otherwise),
  }),
};

const UNARY: Record<UnaryFn, (a: number) => number> = { neg: (a) => -a, exp: Math.exp, log: Math.log, log1p: Math.log1p, sqrt: Math.sqrt, abs: Math.abs };
const BINARY: Record<BinaryFn, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  // NaN propagates, as with Math.max: a NaN pre-activation must not become a clean 0.
  max: Math.max,
  min: Math.min,
};
const COMPARE: Record<CompareFn, (a: number, b: number) => boolean> = { ge: (a, b) => a >= b, gt: (a, b) => a > b };

/** Float64 evaluation: the reference semantics every backend must agree with. */
export function evalScalar(e: ScalarExpr, args: ArrayLike<number>): number {
  switch (e.k) {
    case 'arg': return args[e.index];
    case 'num': return e.value;
    case 'unary': return UNARY[e.fn](evalScalar(e.a, args));
    case 'binary': return BINARY[e.fn](evalScalar(e.a, args), evalScalar(e.b, args));
    case 'select':
      return COMPARE[e.cmp](evalScalar(e.a, args), evalScalar(e.b, args))
        ? evalScalar(e.then, args)
        : evalScalar(e.otherwise, args);
  }
}

/** Replaces each `arg i` by `args[i]` (fusion: feeding one op's tree into another). */
export function substitute(e: ScalarExpr, args: readonly ScalarExpr[]): ScalarExpr {
  const memo = new Map<ScalarExpr, ScalarExpr>();
  const go = (x: ScalarExpr): ScalarExpr => {
    const hit = memo.get(x);
    if (hit) return hit;
    let out: ScalarExpr;
    switch (x.k) {
      case 'arg': out = args[x.index]; break;
      case 'num': out = x; break;
      case 'unary': out = { ...x, a: go(x.a) }; break;
      case 'binary': out = { ...x, a: go(x.a), b: go(x.b) }; break;
      case 'select': out = { ...x, a: go(x.a), b: go(x.b), then: go(x.then), otherwise: go(x.otherwise) }; break;
    }
    memo.set(x, out);
    return out;
  };
  return go(e);
}

/** Canonical text of a tree: equal text means equal function (used by CSE and for printing). */
export function scalarKey(e: ScalarExpr): string {
  switch (e.k) {
    case 'arg': return `$${e.index}`;
    case 'num': return numberKey(e.value);
    case 'unary': return `${e.fn}(${scalarKey(e.a)})`;
    case 'binary': return `${e.fn}(${scalarKey(e.a)},${scalarKey(e.b)})`;
    case 'select': return `${e.cmp}(${scalarKey(e.a)},${scalarKey(e.b)})?${scalarKey(e.then)}:${scalarKey(e.otherwise)}`;
  }
}

/** Shortest text that round-trips the number exactly (`Object.is` distinguishes -0). */
export function numberKey(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

export interface Renderer {
  arg(index: number): string;
  num(value: number): string;
  unary(fn: UnaryFn, a: string): string;
  binary(fn: BinaryFn, a: string, b: string): string;
  select(cmp: CompareFn, a: string, b: string, then: string, otherwise: string): string;
}

/**
 * Renders trees as a list of temporaries plus one expression per tree. Subtrees that occur
 * more than once (by identity, within or across the trees) become temporaries named
 * `${prefix}0`, `${prefix}1`, …, so `exp(-|x|)` in the stable sigmoid is computed once and
 * an epilogue storing both z and relu(z) computes z once.
 */
export function linearize(
  exprs: readonly ScalarExpr[],
  r: Renderer,
  prefix: string,
): { temps: { name: string; expr: string }[]; results: string[] } {
  const uses = new Map<ScalarExpr, number>();
  const count = (x: ScalarExpr): void => {
    const n = (uses.get(x) ?? 0) + 1;
    uses.set(x, n);
    if (n > 1) return;
    for (const c of children(x)) count(c);
  };
  exprs.forEach(count);
  const temps: { name: string; expr: string }[] = [];
  const named = new Map<ScalarExpr, string>();
  const go = (x: ScalarExpr): string => {
    const done = named.get(x);
    if (done) return done;
    let text: string;
    switch (x.k) {
      case 'arg': return r.arg(x.index);
      case 'num': return r.num(x.value);
      case 'unary': text = r.unary(x.fn, go(x.a)); break;
      case 'binary': text = r.binary(x.fn, go(x.a), go(x.b)); break;
      case 'select': text = r.select(x.cmp, go(x.a), go(x.b), go(x.then), go(x.otherwise)); break;
    }
    if ((uses.get(x) ?? 0) > 1) {
      const name = `${prefix}${temps.length}`;
      temps.push({ name, expr: text });
      named.set(x, name);
      return name;
    }
    return text;
  };
  const results = exprs.map(go);
  return { temps, results };
}

function children(x: ScalarExpr): ScalarExpr[] {
  switch (x.k) {
    case 'arg':
    case 'num': return [];
    case 'unary': return [x.a];
    case 'binary': return [x.a, x.b];
    case 'select': return [x.a, x.b, x.then, x.otherwise];
  }
}
