/**
 * The log1p primitive (compiler/ir/scalar.ts), added through spec/kernels.md's "Adding a scalar
 * primitive" steps: sigmoid cross-entropy's softplus-like term log(1 + e^−|z|) is log1p(e^−|z|),
 * which stays e^−|z| where that is below f32's epsilon (|z| > 16.6). There log(1 + e) rounds
 * 1 + e to 1 and gives 0: a confident, correct classifier's loss read 0 on wasm and WebGPU.
 * Each target's loss is checked against the float64 closed form (Math.log1p, written here), and
 * the targets against each other; the wasm approximation's own bound is in wasm-math.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { affine, graph, sigmoidCrossEntropy } from '../compiler/index.ts';
import { evalScalar, s } from '../compiler/ir/scalar.ts';
import { buildBoth, gpuDevice } from './support/gpu.ts';
import { buildWasmModule } from './support/wasm.ts';

const B = 6;
/** z = x·w + b, one column: with w = 1 and b = 0, z is x. */
const confident = graph('confident', (g) => {
  const z = affine(g.input('x', [B, 1]), g.param('w', [1, 1]), g.param('b', [1]));
  g.output('z', z);
  g.loss(sigmoidCrossEntropy(z, g.input('y', [B, 1])));
});
const params = { w: Float32Array.of(1), b: Float32Array.of(0) };

const CASES = {
  // Labels the logits agree with, far out: every term is e^−|z| alone (4e−8 down to 9e−14),
  // which log(1 + e) in f32 loses entirely (the loss would read 0).
  'confident logits (e^−|z| below f32 epsilon)': { x: Float32Array.of(20, -20, 30, -17, 25, -18), y: Float32Array.of(1, 0, 1, 0, 1, 0) },
  // Both sides of the approximation's switch (e^−|z| = √2 − 1 at |z| = 0.88) and of zero.
  'moderate logits, labels either way': { x: Float32Array.of(-3, -0.9, -0.5, 0, 0.86, 2), y: Float32Array.of(1, 0, 1, 0, 1, 1) },
};

/** J = (1/B) Σ max(z, 0) − z·y + log1p(e^−|z|), in float64. */
const closedForm = (x: Float32Array, y: Float32Array): number =>
  x.reduce((acc, z, i) => acc + Math.max(z, 0) - z * y[i] + Math.log1p(Math.exp(-Math.abs(z))), 0) / B;

describe('log1p: sigmoid cross-entropy', () => {
  it('the scalar primitive means Math.log1p in float64 (interpreter and reference checks)', () => {
    expect(evalScalar(s.log1p(s.arg(0)), [1e-20])).toBe(1e-20);
    expect(evalScalar(s.log1p(s.arg(0)), [-1])).toBe(-Infinity);
  });

  it.each(Object.entries(CASES))('%s: the JS, wasm and WebGPU losses match the float64 closed form', async (_, { x, y }) => {
    const want = closedForm(x, y);
    const { js, gpu } = await buildBoth(confident);
    const wasm = await buildWasmModule(confident);
    const model = await gpu.createModel(await gpuDevice());
    try {
      await model.setParams(params);
      const losses = {
        js: js.loss(params, { x, y }),
        wasm: wasm.loss(params, { x, y }),
        wgsl: (await model.gradient({ x, y })).loss,
      };
      // 1e−4 relative: the GPU's exp may be a few ulp off per unit of |z| (WGSL's bound).
      for (const [target, loss] of Object.entries(losses)) expect(Math.abs(loss - want), `${target}: ${loss} against ${want}`).toBeLessThanOrEqual(1e-4 * want);
      // And the CPU targets tighter: wasm's exp and log1p are within 2e−7 each.
      expect(Math.abs(losses.wasm - want)).toBeLessThanOrEqual(2e-6 * want);
      expect(Math.abs(losses.js - want)).toBeLessThanOrEqual(2e-6 * want);
    } finally {
      model.destroy();
    }
  });
});
