/**
 * Folding of lowered kernels: what constant shapes make trivial disappears before any
 * backend sees it. Loops of one trip become their body, loops of none vanish, branches on
 * constants are taken, lets bound to a constant or a name (not a GPU builtin) are substituted (and dropped when
 * unused), integer index arithmetic is brought to one canonical sum `a·i + b·j + c`
 * (so `(i0 + 1) * 3 + c` reads `i0 * 3 + c + 3`), and `x * 1`, `x + 0` and `x * 0` on
 * indices vanish. Float arithmetic folds only where the result is exact in every backend
 * (`x * 1`, constants): a fold must never change a value.
 */
import type { Expr, Stmt } from './lir.ts';
import { children, exprKey, int, mapExpr } from './lir.ts';

export function simplifyBody(body: readonly Stmt[]): Stmt[] {
  return flattenBlocks(dropUnused(hoistGuards(foldStmts(body, new Map()))));
}

/**
 * Loop-invariant guards leave the loop: a loop whose whole body is `if (a && b)`, with `a`
 * not depending on the loop (its index, what the body assigns, or memory), becomes
 * `if (a) { loop { if (b) } }`, so a tile's row guard is checked once per row, not once per
 * column. The condition has no side effects, so checking it before a loop of no trips
 * changes nothing.
 */
function hoistGuards(list: readonly Stmt[]): Stmt[] {
  return list.map((st): Stmt => {
    switch (st.k) {
      case 'block': case 'group': return { ...st, body: hoistGuards(st.body) };
      case 'if': return { ...st, then: hoistGuards(st.then), otherwise: hoistGuards(st.otherwise) };
      case 'loop': {
        const body = hoistGuards(st.body);
        const only = body.length === 1 ? body[0] : undefined;
        if (only?.k !== 'if' || only.otherwise.length > 0) return { ...st, body };
        const varying = new Set([st.index, ...assignedIn(body)]);
        const conds = conjuncts(only.cond);
        const fixed = conds.filter((c) => isInvariant(c, varying));
        if (fixed.length === 0) return { ...st, body };
        const rest = conds.filter((c) => !fixed.includes(c));
        const inner = rest.length ? [{ ...only, cond: rest.reduce(andOf) }] : only.then;
        return { k: 'if', cond: fixed.reduce(andOf), then: [{ ...st, body: inner }], otherwise: [] };
      }
      default: return st;
    }
  });
}

const andOf = (a: Expr, b: Expr): Expr => ({ k: 'binary', fn: 'and', a, b, type: 'bool' });
const conjuncts = (e: Expr): Expr[] => (e.k === 'binary' && e.fn === 'and' && e.type === 'bool' ? [...conjuncts(e.a), ...conjuncts(e.b)] : [e]);
const isInvariant = (e: Expr, varying: ReadonlySet<string>): boolean =>
  e.k !== 'load' && !(e.k === 'ref' && varying.has(e.name)) && children(e).every((x) => isInvariant(x, varying));

/** Names a statement list assigns (at any depth). */
function assignedIn(list: readonly Stmt[]): string[] {
  return list.flatMap((st) => {
    switch (st.k) {
      case 'assign': return [st.name];
      case 'loop': return [st.index, ...assignedIn(st.body)];
      case 'block': case 'group': return assignedIn(st.body);
      case 'if': return [...assignedIn(st.then), ...assignedIn(st.otherwise)];
      default: return [];
    }
  });
}

export function simplifyExpr(e: Expr): Expr {
  return mapExpr(e, foldNode);
}

/** Folds one node whose children are already folded. */
function foldNode(e: Expr): Expr {
  if (e.k === 'binary' && e.type === 'i32') return canonicalSum(e);
  if (e.k === 'binary' && e.type === 'f32') {
    const [a, b] = [e.a, e.b];
    const fold = FLOAT[e.fn as keyof typeof FLOAT];
    if (fold && a.k === 'num' && b.k === 'num') return { k: 'num', type: 'f32', value: fold(a.value, b.value) };
    if (e.fn === 'mul' && isNum(b, 1)) return a;
    if (e.fn === 'mul' && isNum(a, 1)) return b;
  }
  if (e.k === 'select') {
    const c = constantCondition(e.cond);
    if (c !== undefined) return c ? e.then : e.otherwise;
  }
  return e;
}

const isNum = (e: Expr, v: number) => e.k === 'num' && e.value === v;

const FLOAT = { add: (a: number, b: number) => a + b, sub: (a: number, b: number) => a - b, mul: (a: number, b: number) => a * b } as const;
const INT: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => Math.trunc(a / b),
  rem: (a, b) => a % b,
  shr: (a, b) => a >> b,
  shl: (a, b) => a << b,
  bitand: (a, b) => a & b,
  bitor: (a, b) => a | b,
  min: Math.min,
  max: Math.max,
};

/** The value of a condition over constants, if it has one. */
function constantCondition(c: Expr): boolean | undefined {
  if (c.k === 'compare' && c.a.k === 'num' && c.b.k === 'num') {
    const [a, b] = [c.a.value, c.b.value];
    return { ge: a >= b, gt: a > b, lt: a < b, eq: a === b }[c.cmp];
  }
  if (c.k === 'binary' && c.fn === 'and') {
    const [a, b] = [constantCondition(c.a), constantCondition(c.b)];
    if (a === false || b === false) return false;
    if (a === true && b === true) return true;
  }
  return undefined;
}

/**
 * Integer sums and products with constants as `term·coefficient + … + constant`, terms in
 * order of first appearance: equal indices print alike, and constants gather at the end.
 */
function canonicalSum(e: Expr): Expr {
  if (e.k !== 'binary' || !['add', 'sub', 'mul'].includes(e.fn)) {
    if (e.k === 'binary' && e.a.k === 'num' && e.b.k === 'num') return int(INT[e.fn](e.a.value, e.b.value));
    return e;
  }
  const linear = asLinear(e);
  if (!linear) return e;
  let out: Expr | undefined;
  // Terms added first, then those subtracted: `rows - rows % 4`, not `rows + rows % 4 * -1`.
  const terms = [...linear.terms.values()].filter((t) => t.coef !== 0).sort((x, y) => Number(x.coef < 0) - Number(y.coef < 0));
  for (const { term, coef } of terms) {
    const size = out === undefined ? coef : Math.abs(coef);
    const scaled = size === 1 ? term : { k: 'binary', fn: 'mul', a: term, b: int(size), type: 'i32' } as Expr;
    out = out === undefined ? scaled : { k: 'binary', fn: coef < 0 ? 'sub' : 'add', a: out, b: scaled, type: 'i32' };
  }
  if (out === undefined) return int(linear.constant);
  return linear.constant === 0 ? out : { k: 'binary', fn: linear.constant < 0 ? 'sub' : 'add', a: out, b: int(Math.abs(linear.constant)), type: 'i32' };
}

/**
 * `e / by` as an index expression when every term's coefficient and the constant are
 * multiples of `by` (`kk * 32 + y * 4` by 4 is `kk * 8 + y`), else undefined.
 */
export function divideIndex(e: Expr, by: number): Expr | undefined {
  const l = asLinear(e);
  if (!l || l.constant % by !== 0 || [...l.terms.values()].some((t) => t.coef % by !== 0)) return undefined;
  let out: Expr | undefined;
  for (const { term, coef } of l.terms.values()) {
    const q = coef / by;
    if (q === 0) continue;
    const scaled: Expr = q === 1 ? term : { k: 'binary', fn: 'mul', a: term, b: int(q), type: 'i32' };
    out = out === undefined ? scaled : { k: 'binary', fn: 'add', a: out, b: scaled, type: 'i32' };
  }
  const c = l.constant / by;
  if (out === undefined) return int(c);
  return c === 0 ? out : { k: 'binary', fn: 'add', a: out, b: int(c), type: 'i32' };
}

/**
 * `e` as `by·q + r` for an index (non-negative terms): `q` gathers the terms whose
 * coefficient is a multiple of `by` (divided), `r` the rest (undefined when none), so a lane
 * of an array of vectors is `[q + r / by][r % by]`.
 */
export function splitIndex(e: Expr, by: number): { q: Expr; r?: Expr } | undefined {
  const l = asLinear(e);
  if (!l) return undefined;
  const whole: Linear = { terms: new Map([...l.terms].filter(([, t]) => t.coef % by === 0)), constant: l.constant - (l.constant % by) };
  const rest: Linear = { terms: new Map([...l.terms].filter(([, t]) => t.coef % by !== 0)), constant: l.constant % by };
  const q = divideIndex(fromLinear(whole), by)!;
  return rest.terms.size === 0 && rest.constant === 0 ? { q } : { q, r: fromLinear(rest) };
}

function fromLinear(l: Linear): Expr {
  let out: Expr | undefined;
  for (const { term, coef } of l.terms.values()) {
    const scaled: Expr = coef === 1 ? term : { k: 'binary', fn: 'mul', a: term, b: int(coef), type: 'i32' };
    out = out === undefined ? scaled : { k: 'binary', fn: 'add', a: out, b: scaled, type: 'i32' };
  }
  if (out === undefined) return int(l.constant);
  return l.constant === 0 ? out : { k: 'binary', fn: 'add', a: out, b: int(l.constant), type: 'i32' };
}

interface Linear {
  readonly terms: Map<string, { term: Expr; coef: number }>;
  readonly constant: number;
}

function asLinear(e: Expr): Linear | undefined {
  if (e.k === 'num') return { terms: new Map(), constant: e.value };
  if (e.k !== 'binary' || e.type !== 'i32' || !['add', 'sub', 'mul'].includes(e.fn)) {
    return { terms: new Map([[exprKey(e), { term: e, coef: 1 }]]), constant: 0 };
  }
  if (e.fn === 'mul') {
    const [a, b] = [asLinear(e.a), asLinear(e.b)];
    if (!a || !b) return undefined;
    const scalar = a.terms.size === 0 ? a.constant : b.terms.size === 0 ? b.constant : undefined;
    if (scalar === undefined) return { terms: new Map([[exprKey(e), { term: e, coef: 1 }]]), constant: 0 };
    const other = a.terms.size === 0 ? b : a;
    return scale(other, scalar);
  }
  const [a, b] = [asLinear(e.a), asLinear(e.b)];
  if (!a || !b) return undefined;
  return sum(a, e.fn === 'sub' ? scale(b, -1) : b);
}

function scale(l: Linear, by: number): Linear {
  return { terms: new Map([...l.terms].map(([k, t]) => [k, { term: t.term, coef: t.coef * by }])), constant: l.constant * by };
}

function sum(a: Linear, b: Linear): Linear {
  const terms = new Map(a.terms);
  for (const [k, t] of b.terms) {
    const had = terms.get(k);
    terms.set(k, had ? { term: had.term, coef: had.coef + t.coef } : t);
  }
  return { terms, constant: a.constant + b.constant };
}

/**
 * Folds statements, substituting names bound to constants or other names. A group is not a
 * scope: its statements fold in the enclosing one (`scope` given), so what it binds is seen after it.
 */
function foldStmts(body: readonly Stmt[], env: ReadonlyMap<string, Expr>, scope = new Map(env)): Stmt[] {
  const subst = (e: Expr) => mapExpr(e, (x) => foldNode(x.k === 'ref' && scope.has(x.name) ? scope.get(x.name)! : x));
  const out: Stmt[] = [];
  for (const st of body) {
    switch (st.k) {
      case 'let': {
        const value = subst(st.value);
        // A let of a builtin keeps its name (`let row0 = lid.y;`): it says what the index means.
        if (value.k === 'num' || value.k === 'ref') scope.set(st.name, value);
        else out.push({ ...st, value });
        break;
      }
      case 'var': case 'assign': out.push({ ...st, value: subst(st.value) }); break;
      case 'store': out.push({ ...st, index: subst(st.index), value: subst(st.value) }); break;
      case 'if': {
        const cond = subst(st.cond);
        const known = constantCondition(cond);
        if (known !== undefined) out.push({ k: 'block', body: foldStmts(known ? st.then : st.otherwise, scope) });
        else {
          const [then, otherwise] = [foldStmts(st.then, scope), foldStmts(st.otherwise, scope)];
          if (then.length || otherwise.length) out.push({ ...st, cond, then, otherwise });
        }
        break;
      }
      case 'loop': {
        const [start, end] = [subst(st.start), subst(st.end)];
        if (start.k === 'num' && end.k === 'num') {
          const trips = Math.max(0, Math.ceil((end.value - start.value) / st.step));
          if (trips === 0) break;
          if (trips === 1) {
            out.push({ k: 'block', body: foldStmts(st.body, new Map([...scope, [st.index, start]])) });
            break;
          }
        }
        const inner = foldStmts(st.body, scope);
        if (inner.length) out.push({ ...st, start, end, body: inner });
        break;
      }
      case 'block': case 'group': {
        const inner = st.k === 'group' ? foldStmts(st.body, scope, scope) : foldStmts(st.body, scope);
        if (inner.length > 1) out.push({ ...st, body: inner });
        else out.push(...inner);
        break;
      }
      case 'barrier': case 'comment': out.push(st); break;
    }
  }
  return out;
}

/** Names a statement list declares in its own scope (groups are not scopes). */
function declared(list: readonly Stmt[]): string[] {
  return list.flatMap((st) => (st.k === 'let' || st.k === 'var' ? [st.name] : st.k === 'group' ? declared(st.body) : []));
}

/**
 * Splices a block into its enclosing list when none of its names clash there: a loop of one
 * trip reads as straight-line code, and keeps its braces only where it must.
 */
function flattenBlocks(list: readonly Stmt[]): Stmt[] {
  const nested = list.map((st): Stmt => {
    switch (st.k) {
      case 'loop': case 'block': case 'group': return { ...st, body: flattenBlocks(st.body) };
      case 'if': return { ...st, then: flattenBlocks(st.then), otherwise: flattenBlocks(st.otherwise) };
      default: return st;
    }
  });
  const taken = new Set(declared(nested));
  const out: Stmt[] = [];
  for (const st of nested) {
    const names = st.k === 'block' ? declared(st.body) : [];
    if (st.k === 'block' && names.every((n) => !taken.has(n))) {
      names.forEach((n) => taken.add(n));
      out.push(...st.body);
    } else out.push(st);
  }
  return out;
}

/** Drops lets nothing reads (repeatedly: a dropped let may have been a let's only reader). */
function dropUnused(body: Stmt[]): Stmt[] {
  for (;;) {
    const used = new Set<string>();
    const countExpr = (e: Expr): void => {
      if (e.k === 'ref') used.add(e.name);
      children(e).forEach(countExpr);
    };
    const count = (list: readonly Stmt[]): void => list.forEach((st) => {
      switch (st.k) {
        case 'let': case 'var': case 'assign': countExpr(st.value); break;
        case 'store': countExpr(st.index); countExpr(st.value); break;
        case 'loop': countExpr(st.start); countExpr(st.end); count(st.body); break;
        case 'if': countExpr(st.cond); count(st.then); count(st.otherwise); break;
        case 'block': case 'group': count(st.body); break;
        default: break;
      }
    });
    count(body);
    let dropped = false;
    const prune = (list: readonly Stmt[]): Stmt[] => list.flatMap((st): Stmt[] => {
      if (st.k === 'let' && !used.has(st.name)) {
        dropped = true;
        return [];
      }
      if (st.k === 'loop' || st.k === 'block' || st.k === 'group') {
        const body = prune(st.body);
        return body.length === 0 && st.k !== 'loop' ? [] : [{ ...st, body }];
      }
      if (st.k === 'if') return [{ ...st, then: prune(st.then), otherwise: prune(st.otherwise) }];
      return [st];
    });
    body = prune(body);
    if (!dropped) return body;
  }
}

