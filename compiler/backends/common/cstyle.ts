/**
 * Printing lowered kernels in C-family syntax (JavaScript/TypeScript and WGSL share it):
 * expressions with the fewest parentheses that keep the tree exactly as lowered (float
 * arithmetic is not associative, so `a + (b + c)` keeps its parentheses), and statements
 * with the usual sugar (`x += y`, one-line groups). A target supplies its `Syntax`: literals,
 * declarations, loads and the spelling of each operation. Nothing here decides what code does.
 */
import type { Expr, Stmt } from '../../lowering/lir.ts';

export interface Syntax {
  /** A literal of the expression's type. */
  num(e: Extract<Expr, { k: 'num' }>): string;
  load(buf: string, index: string, e: Extract<Expr, { k: 'load' }>): string;
  /** The place a store writes: `buf[index]` (`st` has the index and value as lowered). */
  element(buf: string, index: string, st: Extract<Stmt, { k: 'store' }>): string;
  /** The place a compound store (`+=`) reads and writes (TypeScript asserts it is in range). */
  compoundElement?(buf: string, index: string, st: Extract<Stmt, { k: 'store' }>): string;
  builtin(e: Extract<Expr, { k: 'builtin' }>): string;
  /** Functions (exp, max, …) as calls: the callee for an operation. */
  call: Readonly<Record<string, string>>;
  /** `cond ? then : otherwise`, or a call where the target has no conditional operator. */
  select(cond: string, then: string, otherwise: string): { text: string; prec: number };
  /** `const x = v;` */
  let(name: string, value: string, e: Expr): string;
  /** `let x = v;` (mutable) */
  var(name: string, value: string, e: Expr): string;
  /** Several declarations of one kind as one statement (`let a = 0, b = 0;`), where the target can. */
  declareMany?(kind: 'let' | 'var', decls: readonly (readonly [name: string, value: string])[]): string;
  /** `for (let i = 0; i < n; i++) {` */
  loop(index: string, start: string, end: string, step: number): string;
  barrier: string;
}

/** Infix operations: their text and precedence (higher binds tighter), as in JS and WGSL. */
const INFIX: Record<string, { op: string; prec: number }> = {
  mul: { op: '*', prec: 13 }, div: { op: '/', prec: 13 }, rem: { op: '%', prec: 13 },
  add: { op: '+', prec: 12 }, sub: { op: '-', prec: 12 },
  // WGSL takes no other operator beside a shift without parentheses: its operands are atoms.
  shr: { op: '>>', prec: 19 },
  lt: { op: '<', prec: 10 }, gt: { op: '>', prec: 10 }, ge: { op: '>=', prec: 10 },
  eq: { op: '==', prec: 9 },
  and: { op: '&&', prec: 5 },
};
const ATOM = 20;
const PREFIX = 15;

export function printExpr(e: Expr, syntax: Syntax): string {
  return print(e, syntax).text;
}

function print(e: Expr, syn: Syntax): { text: string; prec: number } {
  const wrap = (x: Expr, min: number) => {
    const p = print(x, syn);
    return p.prec >= min ? p.text : `(${p.text})`;
  };
  switch (e.k) {
    case 'num': {
      const text = syn.num(e);
      return { text, prec: text.startsWith('-') ? PREFIX : ATOM };
    }
    case 'ref': return { text: e.name, prec: ATOM };
    case 'builtin': return { text: syn.builtin(e), prec: ATOM };
    case 'load': return { text: syn.load(e.buf, print(e.index, syn).text, e), prec: ATOM };
    case 'splat': return { text: `${syn.call.splat}(${print(e.a, syn).text})`, prec: ATOM };
    case 'lane': return { text: typeof e.lane === 'number' ? `${wrap(e.a, ATOM)}.${'xyzw'[e.lane]}` : `${wrap(e.a, ATOM)}[${print(e.lane, syn).text}]`, prec: ATOM };
    case 'vec': return { text: `${syn.call.vec}(${e.parts.map((x) => print(x, syn).text).join(', ')})`, prec: ATOM };
    case 'unary':
      if (e.fn === 'neg') return { text: `-${wrap(e.a, PREFIX + 1)}`, prec: PREFIX };
      if (e.fn === 'not') return { text: `!${wrap(e.a, PREFIX + 1)}`, prec: PREFIX };
      return { text: `${syn.call[e.fn]}(${print(e.a, syn).text})`, prec: ATOM };
    case 'binary':
    case 'compare': {
      const fn = e.k === 'binary' ? e.fn : e.cmp;
      const infix = INFIX[fn];
      if (!infix) return { text: `${syn.call[fn]}(${print(e.a, syn).text}, ${print(e.b, syn).text})`, prec: ATOM };
      // Left-associative: the right operand of equal precedence keeps its parentheses.
      return { text: `${wrap(e.a, infix.prec)} ${infix.op} ${wrap(e.b, infix.prec + 1)}`, prec: infix.prec };
    }
    case 'select': return syn.select(wrap(e.cond, 4), wrap(e.then, 4), wrap(e.otherwise, 4));
    case 'convert': case 'bitcast': throw new Error(`internal: a ${e.k} node has no C-style syntax (SIMD targets only)`);
  }
}

const key = (e: Expr) => JSON.stringify(e);

/** Statements as lines of text, `indent` spaces deep, groups on one line up to `width`. */
export function printStmts(body: readonly Stmt[], syn: Syntax, indent = '', width = 140): string[] {
  const ex = (e: Expr) => printExpr(e, syn);
  const one = (st: Stmt): string[] => {
    switch (st.k) {
      case 'let': return [indent + syn.let(st.name, ex(st.value), st.value)];
      case 'var': return [indent + syn.var(st.name, ex(st.value), st.value)];
      case 'assign': {
        const v = st.value;
        if (v.k === 'binary' && (v.fn === 'add' || v.fn === 'sub') && v.a.k === 'ref' && v.a.name === st.name) {
          return [`${indent}${st.name} ${v.fn === 'add' ? '+=' : '-='} ${print(v.b, syn).text};`];
        }
        return [`${indent}${st.name} = ${ex(v)};`];
      }
      case 'store': {
        const target = syn.element(st.buf, ex(st.index), st);
        const v = st.value;
        const self = (x: Expr) => x.k === 'load' && x.buf === st.buf && key(x.index) === key(st.index);
        if (v.k === 'binary' && (v.fn === 'add' || v.fn === 'sub') && self(v.a)) {
          const place = syn.compoundElement?.(st.buf, ex(st.index), st) ?? target;
          return [`${indent}${place} ${v.fn === 'add' ? '+=' : '-='} ${print(v.b, syn).text};`];
        }
        return [`${indent}${target} = ${ex(v)};`];
      }
      case 'loop': {
        // The bound sits right of `<`: anything looser than `<` keeps its parentheses.
        const end = print(st.end, syn);
        const head = indent + syn.loop(st.index, ex(st.start), end.prec > 10 ? end.text : `(${end.text})`, st.step);
        const body = printStmts(st.body, syn, indent + '  ', width);
        // A loop of one short statement reads best on one line.
        const one = body.length === 1 && st.body[0].k !== 'loop' ? `${head} ${body[0].trim()} }` : undefined;
        return one && one.length <= width ? [one] : [head, ...body, `${indent}}`];
      }
      case 'if': {
        const head = [`${indent}if (${ex(st.cond)}) {`, ...printStmts(st.then, syn, indent + '  ', width)];
        const tail = st.otherwise.length ? [`${indent}} else {`, ...printStmts(st.otherwise, syn, indent + '  ', width)] : [];
        return [...head, ...tail, `${indent}}`];
      }
      case 'block': return [`${indent}{`, ...printStmts(st.body, syn, indent + '  ', width), `${indent}}`];
      case 'group': {
        const kinds = new Set(st.body.map((x) => x.k));
        const kind = kinds.size === 1 ? st.body[0].k : undefined;
        if (syn.declareMany && (kind === 'let' || kind === 'var')) {
          const decls = st.body.map((x) => [(x as { name: string }).name, ex((x as { value: Expr }).value)] as const);
          const line = indent + syn.declareMany(kind, decls);
          if (line.length <= width) return [line];
        }
        const parts = printStmts(st.body, syn, '', width);
        const joined = indent + parts.join(' ');
        return parts.length > 1 && parts.every((p) => !p.includes('\n')) && joined.length <= width ? [joined] : parts.map((p) => indent + p);
      }
      case 'barrier': return [indent + syn.barrier];
      case 'comment': return [`${indent}// ${st.text}`];
    }
  };
  return body.flatMap(one);
}
