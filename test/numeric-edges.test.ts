/**
 * Numeric edges, in the JS module and on WebGPU: pre-activations of magnitude 1e3 and 1e30,
 * zero inputs, ReLU exactly at 0 (relu'(0) = 1, spec/ops.md "The ReLU subgradient"), and
 * denormal inputs and params. Where the math is finite in float32, nothing may be NaN or
 * Inf; every value is compared with the graph's closed form in float64, derived by hand
 * (not with the compiler's backward graph, which would repeat a wrong derivative).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { add, affine, graph, relu, sigmoid, squaredLoss, sum, tanh } from '../compiler/index.ts';
import { planGraph } from '../compiler/kernels/plan.ts';
import { evaluate } from '../compiler/ir/interpret.ts';
import { reference64 } from './support/reference64.ts';
import { buildBoth, gpuDevice, type GpuModelLike } from './support/gpu.ts';
import type { Arrays, GeneratedModule } from './support/module.ts';
import { randomArray } from './support/module.ts';

const B = 4;
/**
 * Three branches over one input, one per activation. The loss sums each branch, so its
 * gradient stays finite even at |z| = 1e30: dJ/dW = xᵀ·act'(z), with |x| ≤ 1e30 and
 * act' ∈ [0, 1].
 */
const edges = graph('edges', (g) => {
  const x = g.input('x', [B, 2]);
  const r = relu(affine(x, g.param('Wr', [2, 3]), g.param('br', [3])));
  const s = sigmoid(affine(x, g.param('Ws', [2, 3]), g.param('bs', [3])));
  const t = tanh(affine(x, g.param('Wt', [2, 3]), g.param('bt', [3])));
  g.output('r', r);
  g.output('s', s);
  g.output('t', t);
  g.loss(add(add(sum(r), sum(s)), sum(t)));
});

/** ReLU into a squared loss: relu'(0) decides whether dJ/db is (o − y)/B or 0. */
const kink = graph('kink0', (g) => {
  const x = g.input('x', [B, 2]);
  const o = relu(affine(x, g.param('W', [2, 1]), g.param('b', [1])));
  g.output('o', o);
  g.loss(squaredLoss(o, g.input('y', [B, 1])));
});

/**
 * The edges graph in closed form, derived by hand (notes Algorithm 3 for one layer): for each
 * branch k with activation f, z = XW_k + b_k and J = Σ f(z), so dJ/dW_k = Xᵀ·f′(z) and
 * dJ/db_k = Σ_rows f′(z), with relu′(z) = 1{z ≥ 0}, σ′ = σ(1 − σ), tanh′ = 1 − tanh². In
 * float64, none of the compiler's code.
 */
const BRANCHES: Record<string, { f: (z: number) => number; df: (z: number) => number }> = {
  r: { f: (z) => Math.max(z, 0), df: (z) => (z >= 0 ? 1 : 0) },
  s: { f: (z) => 1 / (1 + Math.exp(-z)), df: (z) => (1 / (1 + Math.exp(-z))) * (1 - 1 / (1 + Math.exp(-z))) },
  t: { f: Math.tanh, df: (z) => 1 - Math.tanh(z) ** 2 },
};

function closedForm(params: Arrays, x: Float32Array) {
  const outputs: Record<string, Float64Array> = {};
  const grads: Record<string, Float64Array> = {};
  let loss = 0;
  for (const [k, { f, df }] of Object.entries(BRANCHES)) {
    const [W, b] = [params[`W${k}`], params[`b${k}`]];
    const a = new Float64Array(B * 3);
    const dW = new Float64Array(6);
    const db = new Float64Array(3);
    for (let i = 0; i < B; i++) {
      for (let j = 0; j < 3; j++) {
        const z = x[i * 2] * W[j] + x[i * 2 + 1] * W[3 + j] + b[j];
        a[i * 3 + j] = f(z);
        loss += f(z);
        db[j] += df(z);
        dW[j] += x[i * 2] * df(z);
        dW[3 + j] += x[i * 2 + 1] * df(z);
      }
    }
    outputs[k] = a;
    grads[`W${k}`] = dW;
    grads[`b${k}`] = db;
  }
  return { outputs, loss, grads };
}

/**
 * Where `got` differs from the float64 reference by more than float32 rounding, or is not
 * finite; undefined when it matches. `floor` is an absolute slack: a gradient sums B terms
 * of size |x|·act′, and act′ computed from a float32 activation near saturation (1 − a²
 * with a within 2⁻²⁴ of 1) is off by up to 2⁻²², so the floor is 2⁻²²·B·max|x|.
 */
function mismatch(what: string, got: Record<string, ArrayLike<number>>, want: Record<string, ArrayLike<number>>, floor = 0): string | undefined {
  for (const [name, w] of Object.entries(want)) {
    const a = got[name];
    if (!a || a.length !== w.length) return `${what} ${name}: ${a?.length} values, expected ${w.length}`;
    const scale = Math.max(...Array.from(w, Math.abs));
    for (let i = 0; i < w.length; i++) {
      if (!Number.isFinite(a[i])) return `${what} ${name}[${i}] = ${a[i]} (reference ${w[i]})`;
      const tol = 1e-5 * scale + 1e-4 * Math.abs(w[i]) + floor;
      if (!(Math.abs(a[i] - w[i]) <= tol)) return `${what} ${name}[${i}] = ${a[i]}, reference ${w[i]} (tolerance ${tol})`;
    }
  }
  return undefined;
}

function expectMatches(what: string, got: Record<string, ArrayLike<number>>, want: Record<string, ArrayLike<number>>, floor = 0): void {
  expect(mismatch(what, got, want, floor)).toBeUndefined();
}

const gradFloor = (x: Float32Array) => 2 ** -22 * B * Math.max(1, ...Array.from(x, Math.abs));

/** Float32 subnormals (|v| < 2⁻¹²⁶) replaced by 0: what a flush-to-zero GPU computes with. */
const flushed = (a: Arrays): Arrays =>
  Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.map((e) => (Math.abs(e) < 2 ** -126 ? 0 : e))]));

const fill = (n: number, v: number) => new Float32Array(n).fill(v);
const signs = (n: number, seed: number) => randomArray(n, seed).map((v) => (v < 0 ? -1 : 1));

interface Case {
  readonly params: Arrays;
  readonly x: Float32Array;
  /** Absolute slack: WGSL may flush denormals to zero. */
  readonly floor?: number;
}

const edgeParams = (w: (name: string) => Float32Array, b: (name: string) => Float32Array): Arrays =>
  Object.fromEntries(['r', 's', 't'].flatMap((k) => [[`W${k}`, w(k)], [`b${k}`, b(k)]]));

const CASES: Record<string, Case> = {
  // Weights of ±1 on inputs of ±scale: |z| reaches the scale, with both signs.
  'pre-activations of magnitude 1e3': { params: edgeParams((k) => signs(6, k.charCodeAt(0)), () => fill(3, 0.5)), x: randomArray(2 * B, 11, 1e3) },
  'pre-activations of magnitude 1e30': { params: edgeParams((k) => signs(6, k.charCodeAt(0)), () => fill(3, 0.5)), x: randomArray(2 * B, 12, 1e30) },
  'biases of magnitude 1e30': { params: edgeParams(() => randomArray(6, 3), (k) => signs(3, k.charCodeAt(0) + 1).map((v) => v * 1e30)), x: randomArray(2 * B, 13) },
  'zero inputs and zero biases (every z is exactly 0)': { params: edgeParams(() => randomArray(6, 4), () => fill(3, 0)), x: fill(2 * B, 0) },
  'zero inputs and zero params': { params: edgeParams(() => fill(6, 0), () => fill(3, 0)), x: fill(2 * B, 0) },
  'denormal inputs': { params: edgeParams((k) => signs(6, k.charCodeAt(0)), () => fill(3, 0)), x: randomArray(2 * B, 14, 1e-39), floor: 1e-37 },
  'denormal params': { params: edgeParams(() => randomArray(6, 5, 1e-39), () => randomArray(3, 6, 1e-40)), x: randomArray(2 * B, 15), floor: 1e-37 },
};

describe('JS module', () => {
  let js: GeneratedModule;
  beforeAll(async () => {
    js = (await buildBoth(edges)).js;
  });

  it.each(Object.entries(CASES))('%s: forward, loss and gradient are finite and match float64', (_, c) => {
    const want = closedForm(c.params, c.x);
    expectMatches('forward', js.forward(c.params, { x: c.x }), want.outputs, c.floor);
    const { loss, grads } = js.gradient(c.params, { x: c.x });
    expect(Number.isFinite(loss)).toBe(true);
    expect(Math.abs(loss - want.loss)).toBeLessThanOrEqual(1e-5 * Math.abs(want.loss) + (c.floor ?? 0) + 1e-6);
    expectMatches('gradient', grads, want.grads, (c.floor ?? 0) + gradFloor(c.x));
    // A train step keeps every param finite.
    const p = Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, v.slice()]));
    expect(Number.isFinite(js.trainStep(p, { x: c.x }, 1e-3))).toBe(true);
    for (const [k, v] of Object.entries(p)) expect(v.every(Number.isFinite), `params.${k} after a step`).toBe(true);
  });

  it('saturated activations are exact: sigmoid → 0 or 1, tanh → ±1, their gradients 0', () => {
    const c = CASES['pre-activations of magnitude 1e30'];
    const out = js.forward(c.params, { x: c.x });
    for (const v of out.s) expect([0, 1]).toContain(v);
    for (const v of out.t) expect([-1, 1]).toContain(v);
    const { grads } = js.gradient(c.params, { x: c.x });
    // dJ/dbs = Σ σ'(z) = Σ a(1 − a) = 0 when every a is 0 or 1; likewise 1 − tanh² = 0.
    expect(Array.from(grads.bs)).toEqual([0, 0, 0]);
    expect(Array.from(grads.bt)).toEqual([0, 0, 0]);
  });

  it('at z = 0 exactly: relu′(0) = 1, σ′(0) = 1/4, tanh′(0) = 1, so dJ/db = B, B/4, B', () => {
    const c = CASES['zero inputs and zero biases (every z is exactly 0)'];
    const { grads } = js.gradient(c.params, { x: c.x });
    expect(Array.from(grads.br)).toEqual([B, B, B]);
    expect(Array.from(grads.bs)).toEqual([B / 4, B / 4, B / 4]);
    expect(Array.from(grads.bt)).toEqual([B, B, B]);
    // x = 0: no weight gradient.
    for (const k of ['Wr', 'Ws', 'Wt']) expect(grads[k].every((v) => v === 0)).toBe(true);
  });
});

describe('where float32 overflows', () => {
  it('a loss past 3.4e38 is +Infinity, never NaN or a wrong finite number; the gradients stay finite', async () => {
    const net = graph('overflow', (g) => {
      const x = g.input('x', [2, 1]);
      const h = sigmoid(affine(x, g.param('W', [1, 1]), g.param('b', [1])));
      const o = affine(h, g.param('V', [1, 1]), g.param('c', [1]));
      g.output('o', o);
      g.loss(squaredLoss(o, g.input('y', [2, 1])));
    });
    const { js } = await buildBoth(net);
    const params = { W: new Float32Array([1e30]), b: new Float32Array([0]), V: new Float32Array([1e30]), c: new Float32Array([0]) };
    const inputs = { x: new Float32Array([1, -1]), y: new Float32Array([0, 0]) };
    // o = (1e30, 0): J = ¼·1e60 in float64, beyond float32.
    expect(reference64(net.ir, { ...params, ...inputs }).loss).toBeCloseTo(2.5e59, -55);
    const { loss, grads } = js.gradient(params, inputs);
    expect(loss).toBe(Infinity);
    // dJ/dV = dJ/dc = ½·1e30: representable, and exact.
    expect(grads.V[0]).toBeCloseTo(5e29, -24);
    expect(grads.c[0]).toBeCloseTo(5e29, -24);
    expect(Array.from(grads.W)).toEqual([0]);
  });
});

describe('ReLU exactly at 0 with nonzero inputs', () => {
  // x = (1, 1) per row, W = (1, 1), b = −2: z = 0 exactly in float32, so o = 0.
  const params = { W: new Float32Array([1, 1]), b: new Float32Array([-2]) };
  const x = fill(2 * B, 1);
  const y = new Float32Array([1, 2, 3, 4]);
  // J = (1/B) Σ ½(o − y)², dJ/do = (o − y)/B = −y/B; relu'(0) = 1 passes it through.
  const db = -(1 + 2 + 3 + 4) / B;

  it('gradient() takes relu′(0) = 1 (JS)', async () => {
    const { js } = await buildBoth(kink);
    expect(Array.from(js.forward(params, { x }).o)).toEqual([0, 0, 0, 0]);
    const { grads } = js.gradient(params, { x, y });
    expect(grads.b[0]).toBeCloseTo(db, 6);
    expect(Array.from(grads.W).map((v) => Number(v.toFixed(6)))).toEqual([db, db]);
    // The compiler's own backward graph, in float64, takes the same convention.
    const full = planGraph(kink).graph;
    const float64 = evaluate(full, { ...params, x, y }, full.grads!.map((r) => r.id));
    expect(float64.get(full.grads!.find((r) => r.name === 'b')!.id)![0]).toBeCloseTo(db, 12);
  });

  it('gradient() takes relu′(0) = 1 (WGSL)', async () => {
    const { gpu } = await buildBoth(kink);
    const model = await gpu.createModel(await gpuDevice());
    try {
      await model.setParams(params);
      const { grads } = await model.gradient({ x, y });
      expect(grads.b[0]).toBeCloseTo(db, 5);
      expect(grads.W[0]).toBeCloseTo(db, 5);
      expect(grads.W[1]).toBeCloseTo(db, 5);
    } finally {
      model.destroy();
    }
  });
});

describe('WGSL', () => {
  let model: GpuModelLike;
  beforeAll(async () => {
    const { gpu } = await buildBoth(edges);
    model = await gpu.createModel(await gpuDevice());
  }, 60_000);
  afterAll(() => model?.destroy());

  it.each(Object.entries(CASES))('%s: forward, loss and gradient are finite and match float64', async (_, c) => {
    // WGSL lets implementations flush subnormals to zero (SwiftShader does): then a
    // subnormal z reads as 0, and relu′ takes its value at 0. Either reading must match.
    const exact = closedForm(c.params, c.x);
    const f = flushed({ ...c.params, x: c.x });
    const ftz = closedForm(f, f.x);
    await model.setParams(c.params);
    const out = await model.forward({ x: c.x });
    const { loss, grads } = await model.gradient({ x: c.x });
    expect(Number.isFinite(loss)).toBe(true);
    const problems = [exact, ftz].map((want) =>
      mismatch('forward', out, want.outputs, c.floor)
      ?? mismatch('loss', { loss: [loss] }, { loss: [want.loss] }, (c.floor ?? 0) + 1e-5)
      ?? mismatch('gradient', grads, want.grads, (c.floor ?? 0) + gradFloor(c.x)));
    expect(problems[0] === undefined || problems[1] === undefined, `${problems[0]} (with subnormals flushed: ${problems[1]})`).toBe(true);
    expect(Number.isFinite(await model.trainStep({ x: c.x }, 1e-3))).toBe(true);
    for (const [k, v] of Object.entries(await model.getParams())) expect(v.every(Number.isFinite), `params.${k} after a step`).toBe(true);
  });

  it('at z = 0 exactly: relu′(0) = 1, σ′(0) = 1/4, tanh′(0) = 1', async () => {
    const c = CASES['zero inputs and zero biases (every z is exactly 0)'];
    await model.setParams(c.params);
    const { grads } = await model.gradient({ x: c.x });
    expect(Array.from(grads.br)).toEqual([B, B, B]);
    expect(Array.from(grads.bs)).toEqual([B / 4, B / 4, B / 4]);
    expect(Array.from(grads.bt)).toEqual([B, B, B]);
  });
});
