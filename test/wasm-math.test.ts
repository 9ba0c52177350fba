/**
 * The exp, log and log1p approximations of compiler/lowering/math.ts, as the wasm target runs them:
 * lowered into a kernel (vector and scalar forms), rendered and encoded by the wasm backend,
 * run over dense samples of the f32 range and checked against float64 Math.exp / Math.log / Math.log1p
 * within the documented bounds, and at the edges (saturation, zeros, infinities, NaN).
 */
import { describe, expect, it } from 'vitest';
import { encodeModule } from '../compiler/backends/wasm/instructions.ts';
import { renderWasmKernel } from '../compiler/backends/wasm/render.ts';
import type { LoweredKernel } from '../compiler/lowering/lir.ts';
import { load, loop, ref, store, unary } from '../compiler/lowering/lir.ts';
import { EXP_MAX_ERROR, LOG1P_MAX_ERROR, LOG_MAX_ERROR, approximateMath } from '../compiler/lowering/math.ts';
import { simplifyBody } from '../compiler/lowering/simplify.ts';

const N = 1 << 16;
const SRC = 0;
const DST = N * 4;

/** dst[i] = fn(src[i]) for i < N, four lanes at a time or one. */
function kernel(fn: 'exp' | 'log' | 'log1p', vector: boolean): LoweredKernel {
  const type = vector ? 'f32x4' : 'f32';
  const body = [loop('i', N, [store('dst', ref('i'), unary(fn, load('src', ref('i'), type)))], { step: vector ? 4 : 1 })];
  return {
    name: `${fn}_${type}`, doc: [], scalars: [], scratch: [],
    buffers: [{ name: 'src', access: 'read' }, { name: 'dst', access: 'write' }],
    body: simplifyBody(approximateMath(body)),
  };
}

const FORMS = (['exp', 'log', 'log1p'] as const).flatMap((fn) => [false, true].map((vector) => ({ fn, vector, name: `${fn}_${vector ? 'x4' : 'x1'}` })));
const { bytes } = encodeModule({
  header: [], pages: (2 * N * 4) / 65536,
  functions: FORMS.map((f) => renderWasmKernel(kernel(f.fn, f.vector), f.name, (b) => (b === 'src' ? SRC : DST), f.name)),
});
const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
const memory = instance.exports.memory as WebAssembly.Memory;
const heap = new Float32Array(memory.buffer);

/** Runs one form over `xs` (any length), returning f32 results. */
function run(name: string, xs: ArrayLike<number>): Float32Array {
  const out = new Float32Array(xs.length);
  for (let at = 0; at < xs.length; at += N) {
    const chunk = Math.min(N, xs.length - at);
    heap.fill(0, 0, N);
    for (let i = 0; i < chunk; i++) heap[i] = xs[at + i];
    (instance.exports[name] as () => void)();
    out.set(heap.subarray(N, N + chunk), at);
  }
  return out;
}

/** The largest relative error of `got` against float64 `f` of the (f32) inputs. */
function worstRelative(xs: Float32Array, got: Float32Array, f: (x: number) => number): { error: number; at: number } {
  let error = 0;
  let at = NaN;
  for (let i = 0; i < xs.length; i++) {
    const want = f(xs[i]);
    const e = Math.abs(got[i] - want) / Math.abs(want);
    if (!(e <= error)) {
      error = e;
      at = xs[i];
    }
  }
  return { error, at };
}

const evenly = (from: number, to: number, count: number) => Float32Array.from({ length: count }, (_, i) => from + ((to - from) * i) / (count - 1));

describe('exp and log approximations (lowering/math.ts) on the wasm target', () => {
  for (const vector of [false, true]) {
    const form = (fn: string) => `${fn}_${vector ? 'x4' : 'x1'}`;

    it(`exp (${vector ? 'f32x4' : 'f32'}): relative error ≤ ${EXP_MAX_ERROR} on [−86.9, 88.7]`, () => {
      const xs = evenly(-86.9, 88.7, 600_001);
      const { error, at } = worstRelative(xs, run(form('exp'), xs), Math.exp);
      expect(error, `worst at x = ${at}`).toBeLessThanOrEqual(EXP_MAX_ERROR);
      // And not loose by an order of magnitude: the bound is the measured error, rounded up.
      expect(error).toBeGreaterThan(EXP_MAX_ERROR / 10);
    });

    it(`exp (${vector ? 'f32x4' : 'f32'}): saturates to 0 and ∞, keeps NaN`, () => {
      const xs = [-Infinity, -1e30, -1e3, -100, -87.5, 88.8, 100, 1e3, 1e30, Infinity, NaN, 0, -0];
      const got = run(form('exp'), xs);
      expect([...got]).toEqual([0, 0, 0, 0, 0, Infinity, Infinity, Infinity, Infinity, Infinity, NaN, 1, 1]);
      // Just inside the range: finite, and close to the true values (3.4e38 near the top).
      const edge = run(form('exp'), [88.72, -86.9]);
      expect(edge[0] / Math.exp(Math.fround(88.72))).toBeCloseTo(1, 6);
      expect(edge[1] / Math.exp(Math.fround(-86.9))).toBeCloseTo(1, 5);
    });

    it(`log (${vector ? 'f32x4' : 'f32'}): relative error ≤ ${LOG_MAX_ERROR} over positive f32, subnormals included`, () => {
      // Bit patterns from the smallest subnormal to the largest finite, stepping by a prime; away from 1 (where log → 0).
      const bits = new Uint32Array(700_000);
      for (let i = 0; i < bits.length; i++) bits[i] = 1 + Math.floor((i * 0x7f7fffff) / bits.length) + (i % 7);
      const xs = new Float32Array(bits.buffer).filter((x) => Math.abs(x - 1) > 1e-2);
      const { error, at } = worstRelative(xs, run(form('log'), xs), Math.log);
      expect(error, `worst at x = ${at}`).toBeLessThanOrEqual(LOG_MAX_ERROR);
      expect(error).toBeGreaterThan(LOG_MAX_ERROR / 10);
      // Near 1, the absolute error is what counts.
      const near = evenly(0.99, 1.01, 20_001);
      const got = run(form('log'), near);
      for (let i = 0; i < near.length; i++) expect(Math.abs(got[i] - Math.log(near[i]))).toBeLessThanOrEqual(1e-7 * Math.abs(Math.log(near[i])) + 1e-9);
    });

    it(`log (${vector ? 'f32x4' : 'f32'}): log 0 = −∞, log ∞ = ∞, NaN below 0 and for NaN`, () => {
      const got = run(form('log'), [0, -0, Infinity, -1, -Infinity, NaN, 1]);
      expect([...got]).toEqual([-Infinity, -Infinity, Infinity, NaN, NaN, NaN, 0]);
    });

    it(`log1p (${vector ? 'f32x4' : 'f32'}): relative error ≤ ${LOG1P_MAX_ERROR} over (−1, f32 max], tiny x included`, () => {
      // Dense near 0 and across both ends of the polynomial's interval [√½ − 1, √2 − 1), then
      // positive f32 by bit patterns (tiny to the largest), each also negated where above −1.
      const bits = new Uint32Array(300_000);
      for (let i = 0; i < bits.length; i++) bits[i] = 1 + Math.floor((i * 0x7f7fffff) / bits.length) + (i % 7);
      const positive = new Float32Array(bits.buffer);
      const xs = Float32Array.from([...evenly(-0.999, 2, 400_001), ...evenly(-1e-3, 1e-3, 20_001), ...positive, ...positive.filter((x) => x < 1).map((x) => -x)])
        .filter((x) => x !== 0);
      const { error, at } = worstRelative(xs, run(form('log1p'), xs), Math.log1p);
      expect(error, `worst at x = ${at}`).toBeLessThanOrEqual(LOG1P_MAX_ERROR);
      expect(error).toBeGreaterThan(LOG1P_MAX_ERROR / 10);
      // Where log(1 + x) would round 1 + x to 1 and give 0, log1p keeps x.
      expect([...run(form('log1p'), [1e-10, -1e-10, 2 ** -30])]).toEqual([Math.fround(1e-10), Math.fround(-1e-10), 2 ** -30]);
    });

    it(`log1p (${vector ? 'f32x4' : 'f32'}): log1p(−1) = −∞, ∞ at ∞, NaN below −1 and for NaN, ±0 kept`, () => {
      const got = run(form('log1p'), [-1, Infinity, -2, -Infinity, NaN, 0]);
      expect([...got]).toEqual([-Infinity, Infinity, NaN, NaN, NaN, 0]);
      expect(Object.is(run(form('log1p'), [-0])[0], -0)).toBe(true);
    });
  }
});
