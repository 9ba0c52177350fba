/**
 * Networks against the notes' own backpropagation formulas (Algorithm 3, vectorized over a
 * batch in rows as in §4), derived and written here by hand with plain loops and no part of
 * the compiler. The two-layer ReLU network of notes §2–3:
 *   z = XW1 + b1, a = ReLU(z), o = aW2 + b2, J = (1/B) Σ ½(o − y)²
 *   δ2 = (o − y)/B, dW2 = aᵀδ2, db2 = Σ_rows δ2
 *   δ1 = (δ2 W2ᵀ) ⊙ 1{z ≥ 0}, dW1 = Xᵀδ1, db1 = Σ_rows δ1
 * and the same recursion through tanh and sigmoid, and into the sum and mean losses.
 */
import { describe, expect, it } from 'vitest';
import { affine, graph, mean, sigmoid, squaredLoss, sum, tanh, type Tensor } from '../compiler/index.ts';
import housing from '../samples/housing/housing.graph.ts';
import { worstError } from './support/finite-differences.ts';
import { buildModule, randomArray } from './support/module.ts';

type M = { rows: number; cols: number; v: Float64Array };
const mat = (rows: number, cols: number, v: ArrayLike<number> = new Float64Array(rows * cols)): M => ({ rows, cols, v: Float64Array.from(v) });
const at = (m: M, i: number, j: number) => m.v[i * m.cols + j];

function matmul(a: M, b: M, transA = false, transB = false): M {
  const [m, k] = transA ? [a.cols, a.rows] : [a.rows, a.cols];
  const n = transB ? b.rows : b.cols;
  const c = mat(m, n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let acc = 0;
    for (let p = 0; p < k; p++) acc += (transA ? at(a, p, i) : at(a, i, p)) * (transB ? at(b, j, p) : at(b, p, j));
    c.v[i * n + j] = acc;
  }
  return c;
}
const addRow = (a: M, b: Float64Array) => mat(a.rows, a.cols, a.v.map((x, i) => x + b[i % a.cols]));
const columnSums = (a: M) => {
  const s = new Float64Array(a.cols);
  a.v.forEach((x, i) => (s[i % a.cols] += x));
  return s;
};

function algorithm3(X: M, y: M, W1: M, b1: Float64Array, W2: M, b2: Float64Array) {
  const B = X.rows;
  const z = addRow(matmul(X, W1), b1);
  const a = mat(z.rows, z.cols, z.v.map((x) => Math.max(x, 0)));
  const o = addRow(matmul(a, W2), b2);
  const J = o.v.reduce((acc, x, i) => acc + 0.5 * (x - y.v[i]) ** 2, 0) / B;
  const delta2 = mat(o.rows, o.cols, o.v.map((x, i) => (x - y.v[i]) / B));
  const back = matmul(delta2, W2, false, true);
  const delta1 = mat(z.rows, z.cols, back.v.map((x, i) => (z.v[i] >= 0 ? x : 0)));
  return { J, W1: matmul(X, delta1, true).v, b1: columnSums(delta1), W2: matmul(a, delta2, true).v, b2: columnSums(delta2) };
}

describe('two-layer housing network (notes §2, Algorithm 3)', () => {
  it.each([1, 2, 3, 'with hidden unit 0 exactly at its kink'])('gradients equal the closed form (seed %s)', async (seed) => {
    const mod = await buildModule(housing);
    const [B, d] = mod.meta.inputs.x;
    const m = mod.meta.params.W1[1];
    const n = typeof seed === 'number' ? seed : 4;
    const x = randomArray(B * d, n);
    const y = randomArray(B, n + 100, 2);
    const p = { W1: randomArray(d * m, n + 1), b1: randomArray(m, n + 2, 0.3), W2: randomArray(m, n + 3), b2: randomArray(1, n + 4) };
    if (typeof seed === 'string') {
      // Zero weights into unit 0 and a zero bias: z = 0 exactly in every row, where 1{z ≥ 0} lets δ through.
      for (let i = 0; i < d; i++) p.W1[i * m] = 0;
      p.b1[0] = 0;
    }
    const ref = algorithm3(mat(B, d, x), mat(B, 1, y), mat(d, m, p.W1), Float64Array.from(p.b1), mat(m, 1, p.W2), Float64Array.from(p.b2));
    const { loss, grads } = mod.gradient(p, { x, y });
    expect(loss).toBeCloseTo(ref.J, 5);
    for (const name of ['W1', 'b1', 'W2', 'b2'] as const) {
      expect(worstError(grads[name], ref[name], 1e-6, 1e-4), name).toBeLessThanOrEqual(1);
    }
  });
});

const map = (m: M, f: (v: number, i: number) => number) => mat(m.rows, m.cols, m.v.map(f));
const sigma = (z: number) => 1 / (1 + Math.exp(-z));

/**
 * z1 = XW1 + b1, a1 = tanh(z1), z2 = a1W2 + b2, o = σ(z2), J = (1/B) Σ ½(o − y)²:
 *   δ2 = (o − y)/B ⊙ o(1 − o)            (σ′ = σ(1 − σ))
 *   δ1 = (δ2 W2ᵀ) ⊙ (1 − a1²)            (tanh′ = 1 − tanh²)
 */
function tanhSigmoidClosedForm(X: M, y: M, W1: M, b1: Float64Array, W2: M, b2: Float64Array) {
  const B = X.rows;
  const a1 = map(addRow(matmul(X, W1), b1), Math.tanh);
  const o = map(addRow(matmul(a1, W2), b2), sigma);
  const J = o.v.reduce((acc, v, i) => acc + 0.5 * (v - y.v[i]) ** 2, 0) / B;
  const delta2 = map(o, (v, i) => ((v - y.v[i]) / B) * v * (1 - v));
  const delta1 = map(matmul(delta2, W2, false, true), (v, i) => v * (1 - a1.v[i] ** 2));
  return { J, W1: matmul(X, delta1, true).v, b1: columnSums(delta1), W2: matmul(a1, delta2, true).v, b2: columnSums(delta2) };
}

describe('a tanh → sigmoid network (Algorithm 3 through both activations)', () => {
  const [B, d, m, k] = [7, 3, 5, 2];
  const net = graph('tanhsig', (g) => {
    const x = g.input('x', [B, d]);
    const a1 = tanh(affine(x, g.param('W1', [d, m]), g.param('b1', [m])));
    const o = sigmoid(affine(a1, g.param('W2', [m, k]), g.param('b2', [k])));
    g.output('o', o);
    g.loss(squaredLoss(o, g.input('y', [B, k])));
  });

  it.each([1, 2, 3])('gradients equal the closed form (seed %i)', async (seed) => {
    const mod = await buildModule(net);
    const x = randomArray(B * d, seed, 2);
    const y = randomArray(B * k, seed + 10).map((v) => (v + 1) / 2);
    const p = { W1: randomArray(d * m, seed + 1), b1: randomArray(m, seed + 2, 0.5), W2: randomArray(m * k, seed + 3, 1.5), b2: randomArray(k, seed + 4, 0.5) };
    const ref = tanhSigmoidClosedForm(mat(B, d, x), mat(B, k, y), mat(d, m, p.W1), Float64Array.from(p.b1), mat(m, k, p.W2), Float64Array.from(p.b2));
    const { loss, grads } = mod.gradient(p, { x, y });
    expect(loss).toBeCloseTo(ref.J, 6);
    for (const name of ['W1', 'b1', 'W2', 'b2'] as const) {
      expect(worstError(grads[name], ref[name], 1e-7, 1e-4), name).toBeLessThanOrEqual(1);
    }
  });
});

/**
 * One layer o = f(XW + b) into a loss J = c·Σ o (c = 1 for sum, 1/(B·n) for mean over the
 * B×n outputs): dJ/do = c everywhere, so δ = c·f′(z), dW = Xᵀδ, db = Σ_rows δ.
 */
interface LossCase {
  readonly reduce: (t: Tensor) => Tensor;
  /** c in J = c·Σ o, for B rows of n outputs. */
  readonly scale: (B: number, n: number) => number;
  readonly act: 'sigmoid' | 'tanh';
}
const LOSSES: Record<string, LossCase> = {
  sum: { reduce: sum, scale: () => 1, act: 'sigmoid' },
  mean: { reduce: mean, scale: (B, n) => 1 / (B * n), act: 'tanh' },
};

describe.each(Object.entries(LOSSES))('the %s loss (closed form)', (lossName, { reduce, scale, act }) => {
  const [B, d, n] = [6, 4, 3];
  const f = act === 'sigmoid' ? { fwd: sigma, grad: (o: number) => o * (1 - o) } : { fwd: Math.tanh, grad: (o: number) => 1 - o * o };
  const net = graph(`${act}_${lossName}`, (g) => {
    const o = (act === 'sigmoid' ? sigmoid : tanh)(affine(g.input('x', [B, d]), g.param('W', [d, n]), g.param('b', [n])));
    g.output('o', o);
    g.loss(reduce(o));
  });

  it.each([1, 2])('loss and gradients equal the closed form (seed %i)', async (seed) => {
    const mod = await buildModule(net);
    const x = randomArray(B * d, seed, 1.5);
    const p = { W: randomArray(d * n, seed + 1), b: randomArray(n, seed + 2, 0.5) };
    const o = map(addRow(matmul(mat(B, d, x), mat(d, n, p.W)), Float64Array.from(p.b)), f.fwd);
    const c = scale(B, n);
    const J = c * o.v.reduce((acc, v) => acc + v, 0);
    const delta = map(o, (v) => c * f.grad(v));
    const { loss, grads } = mod.gradient(p, { x });
    expect(loss).toBeCloseTo(J, 5);
    expect(worstError(grads.W, matmul(mat(B, d, x), delta, true).v, 1e-7, 1e-4), 'W').toBeLessThanOrEqual(1);
    expect(worstError(grads.b, columnSums(delta), 1e-7, 1e-4), 'b').toBeLessThanOrEqual(1);
  });
});
