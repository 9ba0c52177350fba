/**
 * The two-layer network of notes §2–3 against the notes' own backpropagation formulas
 * (Algorithm 3, vectorized over a batch in rows as in §4), written here by hand with plain
 * loops and no part of the compiler:
 *   z = XW1 + b1, a = ReLU(z), o = aW2 + b2, J = (1/B) Σ ½(o − y)²
 *   δ2 = (o − y)/B, dW2 = aᵀδ2, db2 = Σ_rows δ2
 *   δ1 = (δ2 W2ᵀ) ⊙ 1{z ≥ 0}, dW1 = Xᵀδ1, db1 = Σ_rows δ1
 */
import { describe, expect, it } from 'vitest';
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
  it.each([1, 2, 3])('gradients equal the closed form (seed %i)', async (seed) => {
    const mod = await buildModule(housing);
    const [B, d] = mod.meta.inputs.x;
    const m = mod.meta.params.W1[1];
    const x = randomArray(B * d, seed);
    const y = randomArray(B, seed + 100, 2);
    const p = { W1: randomArray(d * m, seed + 1), b1: randomArray(m, seed + 2, 0.3), W2: randomArray(m, seed + 3), b2: randomArray(1, seed + 4) };
    const ref = algorithm3(mat(B, d, x), mat(B, 1, y), mat(d, m, p.W1), Float64Array.from(p.b1), mat(m, 1, p.W2), Float64Array.from(p.b2));
    const { loss, grads } = mod.gradient(p, { x, y });
    expect(loss).toBeCloseTo(ref.J, 5);
    for (const name of ['W1', 'b1', 'W2', 'b2'] as const) {
      expect(worstError(grads[name], ref[name], 1e-6, 1e-4), name).toBeLessThanOrEqual(1);
    }
  });
});
