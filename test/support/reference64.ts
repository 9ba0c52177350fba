/**
 * An independent float64 reference for forward graphs: the value and the derivative of every
 * op written out here by hand — no op registry, no scalar expressions, no autodiff of the
 * compiler — so a wrong formula in the compiler's op table is not repeated here (the
 * compiler's own interpreter, compiler/ir/interpret.ts, evaluates that very table).
 *
 * `reference64` evaluates the graph and runs reverse mode of its own: adjoints flow from the
 * loss back through each op's `backward` rule below. Its gradients are exact up to float64
 * rounding; central differences of `lossAt` check them (fuzz-checks.ts, gradients.test.ts).
 *
 * The rules are a table, so a test can plant a wrong rule (`plant`) and check that the
 * comparisons with the compiler catch the disagreement.
 */
import type { Attrs, Graph, Shape } from '../../compiler/ir/graph.ts';

type Values = Readonly<Record<string, ArrayLike<number>>>;

/** What a rule sees of one node: its inputs' shapes, its own shape and attributes. */
export interface Site {
  readonly inputs: readonly Shape[];
  readonly shape: Shape;
  readonly attrs: Attrs;
}

export interface Rule {
  forward(x: readonly Float64Array[], site: Site): Float64Array;
  /** dJ/d(each input), each of that input's shape, from dJ/d(output) `dy` and the forward values. */
  backward(dy: Float64Array, x: readonly Float64Array[], y: Float64Array, site: Site): Float64Array[];
}

const size = (shape: Shape) => shape.reduce((a, b) => a * b, 1);

/** Element i of an output of shape `out` reads this element of an input of shape `s`: equal shapes, a scalar, or a row repeated down the rows. */
function source(s: Shape, out: Shape): (i: number) => number {
  if (s.length === out.length && s.every((d, k) => d === out[k])) return (i) => i;
  if (s.length === 0) return () => 0;
  if (s.length === 1 && out.length === 2 && s[0] === out[1]) return (i) => i % s[0];
  if (s.length === 2 && out.length === 2 && s[0] === out[0] && s[1] === 1) return (i) => Math.floor(i / out[1]);
  throw new Error(`reference64: [${s}] does not broadcast to [${out}]`);
}

/**
 * An elementwise op of any arity: `f` gives the value, `df[k]` its partial derivative by
 * argument k. A broadcast input's adjoint sums over the elements that read it.
 */
function elementwise(f: (...a: number[]) => number, df: ((...a: number[]) => number)[]): Rule {
  return {
    forward(x, site) {
      const reads = site.inputs.map((s) => source(s, site.shape));
      const out = new Float64Array(size(site.shape));
      // Unary and binary ops without a spread per element (the fuzzer's central differences run this most).
      if (x.length === 1) for (let i = 0; i < out.length; i++) out[i] = f(x[0][reads[0](i)]);
      else if (x.length === 2) for (let i = 0; i < out.length; i++) out[i] = f(x[0][reads[0](i)], x[1][reads[1](i)]);
      else for (let i = 0; i < out.length; i++) out[i] = f(...x.map((v, k) => v[reads[k](i)]));
      return out;
    },
    backward(dy, x, _y, site) {
      const reads = site.inputs.map((s) => source(s, site.shape));
      const dx = site.inputs.map((s) => new Float64Array(size(s)));
      for (let i = 0; i < dy.length; i++) {
        const args = x.map((v, k) => v[reads[k](i)]);
        df.forEach((d, k) => (dx[k][reads[k](i)] += dy[i] * d(...args)));
      }
      return dx;
    },
  };
}

/** An activation with its derivative written from the input z and the output a. */
function activation(f: (z: number) => number, df: (z: number, a: number) => number): Rule {
  return {
    forward: ([x]) => x.map(f),
    backward: (dy, [x], y) => [dy.map((g, i) => g * df(x[i], y[i]))],
  };
}

/** Each row of an [m,n] input combined into one value: [m,1]. `d` is ∂(row value)/∂x. */
function perRow(combine: (row: Float64Array) => number, d: (x: number, y: number, row: Float64Array) => number): Rule {
  const rows = (x: Float64Array, [m, n]: Shape) => Array.from({ length: m }, (_, r) => x.subarray(r * n, (r + 1) * n));
  return {
    forward: ([x], { inputs: [s] }) => Float64Array.from(rows(x, s), combine),
    backward: (dy, [x], y, { inputs: [s] }) => {
      const n = s[1];
      const parts = rows(x, s);
      return [x.map((v, i) => dy[Math.floor(i / n)] * d(v, y[Math.floor(i / n)], parts[Math.floor(i / n)]))];
    },
  };
}

/** Rows of a batch: a single example (rank 0 or 1) is a batch of one. */
const batchOf = (s: Shape) => (s.length === 2 ? s[0] : 1);

/**
 * C = op(A)·op(B), op(M) = Mᵀ where the flag says. Written once as index maps into A and B,
 * used both ways: C[i,j] = Σ_p A(i,p)·B(p,j), and dA(i,p) += dC[i,j]·B(p,j), dB(p,j) += dC[i,j]·A(i,p).
 */
const matmul: Rule = {
  forward: (x, site) => matmulLoops(x, site).c,
  backward: (dy, x, _y, site) => {
    const { da, db } = matmulLoops(x, site, dy);
    return [da, db];
  },
};

/**
 * The product with every partial sum rounded to float32, as a backend that accumulates in
 * float32 (wasm, WGSL) computes it: not a reference, a measure of how much such a backend may
 * differ from float64 sums where terms cancel (see fuzz-wasm.ts).
 */
export const MATMUL_FLOAT32_SUMS: Rule = {
  forward: (x, site) => matmulLoops(x, site, undefined, Math.fround).c,
  backward: (dy, x, _y, site) => {
    const { da, db } = matmulLoops(x, site, dy, Math.fround);
    return [da, db];
  },
};

function matmulLoops([a, b]: readonly Float64Array[], site: Site, dc?: Float64Array, round?: (v: number) => number) {
  const [sa, sb] = site.inputs;
  const { transA, transB } = site.attrs;
  const [m, n] = site.shape;
  const k = transA ? sa[0] : sa[1];
  // A(i, p) = a[i·aI + p·aP] and B(p, j) = b[p·bP + j·bJ], whichever way each is stored.
  const [aI, aP] = transA ? [1, sa[1]] : [sa[1], 1];
  const [bP, bJ] = transB ? [1, sb[1]] : [sb[1], 1];
  const c = new Float64Array(m * n);
  const da = new Float64Array(a.length);
  const db = new Float64Array(b.length);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      const g = dc ? dc[i * n + j] : 0;
      for (let p = 0; p < k; p++) {
        const x = i * aI + p * aP;
        const y = p * bP + j * bJ;
        // (Two copies of the loop: the fuzzer runs this product millions of times, and an
        // identity `round` called per term made it the fuzz's slowest part.)
        if (round) {
          acc = round(acc + a[x] * b[y]);
          if (dc) {
            da[x] = round(da[x] + g * b[y]);
            db[y] = round(db[y] + g * a[x]);
          }
        } else {
          acc += a[x] * b[y];
          if (dc) {
            da[x] += g * b[y];
            db[y] += g * a[x];
          }
        }
      }
      c[i * n + j] = acc;
    }
  }
  return { c, da, db };
}

export const RULES: Readonly<Record<string, Rule>> = {
  add: elementwise((a, b) => a + b, [() => 1, () => 1]),
  sub: elementwise((a, b) => a - b, [() => 1, () => -1]),
  mul: elementwise((a, b) => a * b, [(_, b) => b, (a) => a]),
  neg: elementwise((a) => -a, [() => -1]),
  broadcast: elementwise((a) => a, [() => 1]),
  // relu′(0) = 1: the notes' 1{z ≥ 0} (spec/ops.md).
  relu: activation((z) => (z > 0 ? z : 0), (z) => (z >= 0 ? 1 : 0)),
  sigmoid: activation((z) => 1 / (1 + Math.exp(-z)), (_, a) => a * (1 - a)),
  tanh: activation(Math.tanh, (_, a) => 1 - a * a),
  softsign: activation((z) => z / (1 + Math.abs(z)), (z) => 1 / (1 + Math.abs(z)) ** 2),
  matmul,
  transpose: {
    forward: ([x], { inputs: [[r, c]] }) => Float64Array.from({ length: r * c }, (_, o) => x[(o % r) * c + Math.floor(o / r)]),
    backward: (dy, _x, _y, { inputs: [[r, c]] }) => [Float64Array.from({ length: r * c }, (_, i) => dy[(i % c) * r + Math.floor(i / c)])],
  },
  sum: {
    forward: ([x]) => Float64Array.of(x.reduce((s, v) => s + v, 0)),
    backward: (dy, [x]) => [new Float64Array(x.length).fill(dy[0])],
  },
  column_sums: {
    forward: ([x], { inputs: [[, n]] }) => {
      const out = new Float64Array(n);
      x.forEach((v, i) => (out[i % n] += v));
      return out;
    },
    backward: (dy, [x], _y, { inputs: [[, n]] }) => [x.map((_, i) => dy[i % n])],
  },
  div: elementwise((a, b) => a / b, [(_, b) => 1 / b, (a, b) => -a / (b * b)]),
  exp: activation(Math.exp, (_, a) => a),
  log: activation(Math.log, (z) => 1 / z),
  // No gradient flows through: what it stabilizes does not depend on it.
  stop_gradient: { forward: ([x]) => x.slice(), backward: (dy) => [new Float64Array(dy.length)] },
  row_sums: perRow((row) => row.reduce((a, b) => a + b, 0), () => 1),
  // The derivative goes to every element equal to its row's maximum.
  row_max: perRow((row) => row.reduce((a, b) => Math.max(a, b), -Infinity), (x, y) => (x === y ? 1 : 0)),
  // J = (1/B) Σ_ij y_ij (lse_i − z_ij), lse given as a third input: each partial on its own
  // (lse's dependence on z flows back through the ops that made it).
  softmax_ce: {
    forward: ([z, y, l], { inputs: [s] }) => Float64Array.of(z.reduce((acc, v, i) => acc + y[i] * (l[Math.floor(i / s[1])] - v), 0) / batchOf(s)),
    backward: (dy, [z, y, l], _y, { inputs: [s] }) => {
      const B = batchOf(s);
      const dl = new Float64Array(l.length);
      y.forEach((v, i) => (dl[Math.floor(i / s[1])] += (dy[0] * v) / B));
      return [y.map((v) => (-dy[0] * v) / B), z.map((v, i) => (dy[0] * (l[Math.floor(i / s[1])] - v)) / B), dl];
    },
  },
  // J = (1/B) Σ [z − z·y + log(1 + e^−z)] written plainly (log1p keeps it exact in float64).
  sigmoid_ce: {
    forward: ([z, y], { inputs: [s] }) => Float64Array.of(z.reduce((acc, v, i) => acc + Math.max(v, 0) - v * y[i] + Math.log1p(Math.exp(-Math.abs(v))), 0) / batchOf(s)),
    backward: (dy, [z, y], _y, { inputs: [s] }) => [
      z.map((v, i) => (dy[0] * (1 / (1 + Math.exp(-v)) - y[i])) / batchOf(s)),
      z.map((v) => (-dy[0] * v) / batchOf(s)),
    ],
  },
  // J = (1/B) Σ ½‖p − t‖² over the rows of a batch (notes eq. 1.1–1.2); dJ/dp = (p − t)/B.
  squared_loss: {
    forward: ([p, t], { inputs: [s] }) => Float64Array.of(p.reduce((acc, v, i) => acc + 0.5 * (v - t[i]) ** 2, 0) / batchOf(s)),
    backward: (dy, [p, t], _y, { inputs: [s] }) => {
      const dp = p.map((v, i) => (dy[0] * (v - t[i])) / batchOf(s));
      return [dp, dp.map((v) => -v)];
    },
  },
};

export interface Reference {
  readonly loss: number;
  readonly outputs: Record<string, Float64Array>;
  /** dJ/dparam for every param, by name. */
  readonly grads: Record<string, Float64Array>;
  /** Every node's value, by id. */
  readonly values: readonly Float64Array[];
}

function leafValue(g: Graph, id: number, leaves: Values): Float64Array {
  const n = g.nodes[id];
  if (n.op === 'const') return Float64Array.of(n.attrs.value!);
  const given = leaves[n.attrs.leaf!];
  if (!given || given.length !== size(n.shape)) throw new Error(`reference64: ${n.op} '${n.attrs.leaf}' needs ${size(n.shape)} values`);
  return Float64Array.from(given);
}

const LEAVES = new Set(['input', 'param', 'const']);
const siteOf = (g: Graph, id: number): Site => {
  const n = g.nodes[id];
  return { inputs: n.inputs.map((i) => g.nodes[i].shape), shape: n.shape, attrs: n.attrs };
};

export interface Options {
  /** Replaced rules (see `plant`). */
  readonly rules?: Readonly<Record<string, Rule>>;
  /**
   * Store every value as float32, as the generated modules do, while computing in float64:
   * where a gradient is ill-conditioned in float32 (a saturated tanh, whose 1 − a² is 0 once
   * a rounds to 1), the difference from the exact reference shows how much.
   */
  readonly float32Storage?: boolean;
}

/** Every node's value, by id. */
export function forwardValues(g: Graph, leaves: Values, options: Options = {}): Float64Array[] {
  const rules = options.rules ?? RULES;
  const store = options.float32Storage ? (v: Float64Array) => v.map(Math.fround) : (v: Float64Array) => v;
  const values: Float64Array[] = [];
  for (const n of g.nodes) {
    if (LEAVES.has(n.op)) values.push(store(leafValue(g, n.id, leaves)));
    else values.push(store(ruleFor(rules, n.op).forward(n.inputs.map((i) => values[i]), siteOf(g, n.id))));
  }
  return values;
}

function ruleFor(rules: Readonly<Record<string, Rule>>, op: string): Rule {
  const rule = rules[op];
  if (!rule) throw new Error(`reference64: no rule for op '${op}'`);
  return rule;
}

/** The graph's loss alone (for central differences). */
export function lossAt(g: Graph, leaves: Values, options: Options = {}): number {
  return forwardValues(g, leaves, options)[g.loss!][0];
}

/** Outputs, loss and dJ/dparam of a forward graph, in float64, by the rules above. */
export function reference64(g: Graph, leaves: Values, options: Options = {}): Reference {
  const rules = options.rules ?? RULES;
  const values = forwardValues(g, leaves, options);
  const outputs = Object.fromEntries(g.outputs.map((o) => [o.name, values[o.id]]));
  if (g.loss === undefined) return { loss: NaN, outputs, grads: {}, values };
  const adjoint: (Float64Array | undefined)[] = [];
  adjoint[g.loss] = Float64Array.of(1);
  for (let id = g.loss; id >= 0; id--) {
    const n = g.nodes[id];
    const dy = adjoint[id];
    if (!dy || LEAVES.has(n.op)) continue;
    const dx = ruleFor(rules, n.op).backward(dy, n.inputs.map((i) => values[i]), values[id], siteOf(g, id));
    n.inputs.forEach((input, k) => {
      const acc = (adjoint[input] ??= new Float64Array(values[input].length));
      for (let i = 0; i < acc.length; i++) acc[i] += dx[k][i];
    });
  }
  const grads = Object.fromEntries(g.params.map((p) => [p.name, adjoint[p.id] ?? new Float64Array(values[p.id].length)]));
  return { loss: values[g.loss][0], outputs, grads, values };
}

/** The rules with some replaced: how a test plants a wrong formula. */
export function plant(changes: Readonly<Record<string, Partial<Rule>>>, rules = RULES): Record<string, Rule> {
  return { ...rules, ...Object.fromEntries(Object.entries(changes).map(([op, change]) => [op, { ...rules[op], ...change }])) };
}
