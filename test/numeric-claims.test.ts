/**
 * The numerical promises of README and spec/, computed on every target — JS, wasm and WGSL
 * (WebGPU on SwiftShader) — against float64 closed forms written out here, independent of
 * golden files (a golden diff is a change detector that a reviewer regenerates):
 *
 * - both cross-entropies are finite, and exact to float32 rounding, for logits of ±1e3
 *   (the log-sum-exp is max-subtracted, the sigmoid form split on |z|), losses and gradients;
 * - sigmoid and tanh of ±1e3 are exactly 0/1 and ±1, with zero derivatives, not NaN;
 * - a loss over a dynamic batch (`g.batch(max)`) is scaled by 1/rows of the call, not 1/max.
 *
 * The exp/log approximations' error bounds of the wasm target (spec/wasm.md) are measured over
 * the f32 range in test/wasm-math.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { affine, graph, sigmoid, sigmoidCrossEntropy, softmaxCrossEntropy, sum, tanh, add, type GraphDef } from '../compiler/index.ts';
import { buildBoth, gpuDevice } from './support/gpu.ts';
import { buildWasmModule } from './support/wasm.ts';

const MAX = 4;
const C = 3;
/** Rows of logits with entries of ±1e3 beside small ones. */
const X = [
  [1e3, -1e3, 0.5],
  [-1e3, 1e3, 1e3],
  [0, -1e3, 2],
  [1e3, 1e3, -1e3],
];
const Y = [
  [1, 0, 0],
  [0, 0.3, 0.7],
  [0, 1, 0],
  [0.5, 0.5, 0],
];
const IDENTITY = Float32Array.from({ length: C * C }, (_, i) => (i % (C + 1) === 0 ? 1 : 0));

function ceNet(kind: 'softmax' | 'sigmoid'): GraphDef {
  return graph(`${kind}_claims`, (g) => {
    const B = g.batch(MAX);
    const z = affine(g.input('x', [B, C]), g.param('W', [C, C]), g.param('b', [C]));
    g.output('z', z);
    const y = g.input('y', [B, C]);
    g.loss(kind === 'softmax' ? softmaxCrossEntropy(z, y) : sigmoidCrossEntropy(z, y));
  });
}

/** The float64 loss and dJ/dz of each cross-entropy, averaged over the rows given. */
function closedForm(kind: 'softmax' | 'sigmoid', rows: number): { loss: number; dz: number[][] } {
  let loss = 0;
  const dz: number[][] = [];
  for (let i = 0; i < rows; i++) {
    const z = X[i];
    const y = Y[i];
    if (kind === 'softmax') {
      const max = Math.max(...z);
      const lse = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
      const ySum = y.reduce((a, b) => a + b, 0);
      z.forEach((v, j) => (loss += y[j] * (lse - v)));
      dz.push(z.map((v, j) => (Math.exp(v - lse) * ySum - y[j]) / rows));
    } else {
      z.forEach((v, j) => (loss += Math.max(v, 0) - v * y[j] + Math.log1p(Math.exp(-Math.abs(v)))));
      dz.push(z.map((v, j) => (1 / (1 + Math.exp(-v)) - y[j]) / rows));
    }
  }
  return { loss: loss / rows, dz };
}

const flat = (m: number[][], rows: number) => Float32Array.from(m.slice(0, rows).flat());

/** dJ/dW = xᵀ·dz and dJ/db = column sums of dz, for z = x·I + 0. */
function paramGrads(dz: number[][], rows: number): { W: number[]; b: number[] } {
  const W = new Array(C * C).fill(0);
  const b = new Array(C).fill(0);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < C; j++) {
      b[j] += dz[i][j];
      for (let k = 0; k < C; k++) W[k * C + j] += X[i][k] * dz[i][j];
    }
  }
  return { W, b };
}

interface Target {
  readonly name: string;
  gradient(def: GraphDef, params: Record<string, Float32Array>, inputs: Record<string, Float32Array>): Promise<{ loss: number; grads: Record<string, Float32Array> }>;
  forward(def: GraphDef, params: Record<string, Float32Array>, inputs: Record<string, Float32Array>): Promise<Record<string, Float32Array>>;
}

const TARGETS: readonly Target[] = [
  { name: 'JS', gradient: async (def, p, i) => (await buildBoth(def)).js.gradient(p, i), forward: async (def, p, i) => (await buildBoth(def)).js.forward(p, i) },
  { name: 'wasm', gradient: async (def, p, i) => (await buildWasmModule(def)).gradient(p, i), forward: async (def, p, i) => (await buildWasmModule(def)).forward(p, i) },
  {
    name: 'WGSL',
    gradient: async (def, p, i) => {
      const model = await (await buildBoth(def)).gpu.createModel(await gpuDevice());
      try {
        await model.setParams(p);
        return await model.gradient(i);
      } finally {
        model.destroy();
      }
    },
    forward: async (def, p, i) => {
      const model = await (await buildBoth(def)).gpu.createModel(await gpuDevice());
      try {
        await model.setParams(p);
        return await model.forward(i);
      } finally {
        model.destroy();
      }
    },
  },
];

/** |got − want| ≤ 1e-5·|want| + 1e-4·scale for every element, scale the largest |want|. */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  const scale = Math.max(1, ...Array.from(want, Math.abs));
  for (let i = 0; i < want.length; i++) {
    expect(Number.isFinite(got[i]), `${what}[${i}] = ${got[i]} is finite`).toBe(true);
    expect(Math.abs(got[i] - want[i]), `${what}[${i}]: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(1e-5 * Math.abs(want[i]) + 1e-4 * scale);
  }
}

describe.each(TARGETS)('$name', (target) => {
  describe.each(['softmax', 'sigmoid'] as const)('%s cross-entropy at logits of ±1e3', (kind) => {
    it.each([MAX, 3, 1])('over %i rows of a batch of up to 4: finite, the closed form, scaled by 1/rows', async (rows) => {
      const def = ceNet(kind);
      const want = closedForm(kind, rows);
      const grads = paramGrads(want.dz, rows);
      const got = await target.gradient(def, { W: IDENTITY, b: new Float32Array(C) }, { x: flat(X, rows), y: flat(Y, rows) });
      expect(Number.isFinite(got.loss), `loss ${got.loss}`).toBe(true);
      expect(Math.abs(got.loss - want.loss), `loss ${got.loss} vs ${want.loss}`).toBeLessThanOrEqual(1e-5 * want.loss + 1e-4);
      expectClose(got.grads.b, grads.b, 'dJ/db');
      expectClose(got.grads.W, grads.W, 'dJ/dW');
    });
  });

  it('sigmoid and tanh of ±1e3 are exactly 0/1 and ±1, their derivatives 0', async () => {
    const def = graph('saturated_claims', (g) => {
      const z = affine(g.input('x', [MAX, C]), g.param('W', [C, C]), g.param('b', [C]));
      const s = sigmoid(z);
      const t = tanh(z);
      g.output('s', s);
      g.output('t', t);
      g.loss(add(sum(s), sum(t)));
    });
    const x = Float32Array.from(X.flat().map((v) => (Math.abs(v) < 1e3 ? v + 1e3 : v)));
    const params = { W: IDENTITY, b: new Float32Array(C) };
    const out = await target.forward(def, params, { x });
    expect(Array.from(out.s)).toEqual(Array.from(x, (v) => (v > 0 ? 1 : 0)));
    expect(Array.from(out.t)).toEqual(Array.from(x, (v) => (v > 0 ? 1 : -1)));
    const { loss, grads } = await target.gradient(def, params, { x });
    expect(loss).toBe(Array.from(x).reduce((a, v) => a + (v > 0 ? 2 : -1), 0));
    // x + 0 turns a −0 into 0: the sign of a zero derivative is not a promise.
    expect(Array.from(grads.b, (v) => v + 0)).toEqual([0, 0, 0]);
    expect(Array.from(grads.W, (v) => v + 0)).toEqual(new Array(C * C).fill(0));
  });
});
