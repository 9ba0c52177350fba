/**
 * The wasm module on threads (runtime/threads.ts, kernels split by rows): the same bits for
 * 1, 2 and 3 threads after ten train steps, and the same outputs and gradients, on the
 * samples and on a bench network (kernels split wherever they have two row tiles, and where
 * the default split rule splits); the fallback reasons; and that a network too small for
 * threads is built without them.
 */
import { describe, expect, it } from 'vitest';
import { adam, affine, graph, relu, squaredLoss, tanh, type GraphDef } from '../compiler/index.ts';
import { compile } from '../compiler/compile.ts';
import { threadRows } from '../runtime/threads.ts';
import { randomArray, randomInputs } from './support/module.ts';
import { buildWasmModule } from './support/wasm.ts';
import { withLabels } from './support/loss-graphs.ts';
import { reference64 } from './support/reference64.ts';
import kink from '../samples/kink/kink.graph.ts';
import housing from '../samples/housing/housing.graph.ts';
import iris from '../samples/iris/iris.graph.ts';
import digits from '../samples/digits/digits.graph.ts';
import type { WasmCpuModule } from '../runtime/module.ts';

type Threaded = WasmCpuModule;

/** A 2-layer network with a batch of 37 rows (9 row tiles and a ragged one) and Adam's state. */
const ragged = graph('ragged', (g) => {
  const x = g.input('x', [37, 19]);
  const y = g.input('y', [37, 3]);
  const h = tanh(affine(x, g.param('W1', [19, 24], { init: 'he' }), g.param('b1', [24])));
  const o = affine(relu(affine(h, g.param('W2', [24, 12], { init: 'he' }), g.param('b2', [12]))), g.param('W3', [12, 3], { init: 'he' }), g.param('b3', [3]));
  g.output('o', o);
  g.loss(squaredLoss(o, y));
  g.optimizer(adam());
});

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Ten train steps, then forward and gradient, on `threads` threads: everything as raw bits. */
async function run(m: Threaded, threads: number, def: GraphDef): Promise<Record<string, number[]>> {
  expect(await m.useThreads(threads)).toBe(threads);
  expect(m.threads.threads).toBe(threads);
  const params = m.initParams(7);
  const inputs = withLabels(def, randomInputs(m.meta, 5));
  const state = m.initOptimizerState?.();
  const losses: number[] = [];
  for (let s = 0; s < 10; s++) losses.push(m.trainStep(params, inputs, 0.01, state));
  const out: Record<string, number[]> = { losses: bits(Float32Array.from(losses)) };
  for (const [k, v] of Object.entries(params)) out[`param ${k}`] = bits(v);
  for (const [k, v] of Object.entries(m.forward(params, inputs))) out[`output ${k}`] = bits(v);
  const g = m.gradient(params, inputs);
  for (const [k, v] of Object.entries(g.grads)) out[`grad ${k}`] = bits(v);
  return out;
}

const cases: Record<string, GraphDef> = { kink, housing, iris, digits, ragged };

describe('wasm threads', () => {
  for (const [name, def] of Object.entries(cases)) {
    it(`${name}: the same bits on 1, 2 and 3 threads (every product of two row tiles split)`, async () => {
      const m = (await buildWasmModule(def, { wasmSplitFlops: 0 })) as Threaded;
      const one = await run(m, 1, def);
      const two = await run(m, 2, def);
      const three = await run(m, 3, def);
      expect(Object.keys(one).length).toBeGreaterThan(3);
      expect(two).toEqual(one);
      expect(three).toEqual(one);
      await m.useThreads(1);
    }, 60_000);
  }

  it('ragged on 2 and 3 threads: output and gradient agree with the float64 reference (every row counted once)', async () => {
    // Not the same bits as one thread (a rule both could break alike) but an oracle of its own:
    // a row computed twice, or by no thread, moves the sums far beyond float32 rounding.
    const m = (await buildWasmModule(ragged, { wasmSplitFlops: 0 })) as Threaded;
    const params = m.initParams(3);
    const inputs = randomInputs(m.meta, 4);
    const ref = reference64(ragged.ir, { ...params, ...inputs });
    try {
      for (const threads of [2, 3]) {
        expect(await m.useThreads(threads)).toBe(threads);
        const got = { ...m.forward(params, inputs), ...m.gradient(params, inputs).grads };
        for (const [name, want] of Object.entries({ ...ref.outputs, ...ref.grads })) {
          const scale = want.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
          const worst = Math.max(...Array.from(want, (v, i) => Math.abs(got[name][i] - v)));
          expect(worst, `${name} on ${threads} threads`).toBeLessThanOrEqual(1e-4 * scale + 1e-7);
        }
      }
    } finally {
      await m.useThreads(1);
    }
  }, 60_000);

  it('splits a product that pays by default, and S1 (4-3-1) has no threads at all', () => {
    const wasmOf = (def: GraphDef) => compile(def, { targets: ['wasm'] }).files.find((f) => f.name === `${def.name}.wasm.ts`)!.contents;
    const wide = graph('wide', (g) => {
      const x = g.input('x', [256, 784]);
      const y = g.input('y', [256, 10]);
      const o = affine(relu(affine(x, g.param('W1', [784, 256]), g.param('b1', [256]))), g.param('W2', [256, 10]), g.param('b2', [10]));
      g.output('o', o);
      g.loss(squaredLoss(o, y));
    });
    const wideText = wasmOf(wide);
    expect(wideText).toMatch(/pool\.run\(\d+, 256\); \/\/ k_\w+, 256 shared by the threads/);
    // Its update is worth splitting too (203,536 elements: 200,704 + 256 + 2,560 + 10 padded
    // to 16, each region 64-byte aligned): both passes share every element.
    expect(wideText).toMatch(/pool\.run\(\d+, 203536, s0\); \/\/ k_sgd_check/);
    expect(wideText).toMatch(/pool\.run\(\d+, 203536, s0\); \/\/ k_sgd\b/);
    const s1 = graph('s1', (g) => {
      const x = g.input('x', [64, 4]);
      const y = g.input('y', [64, 1]);
      const o = affine(relu(affine(x, g.param('W1', [4, 3]), g.param('b1', [3]))), g.param('W2', [3, 1]), g.param('b2', [1]));
      g.output('o', o);
      g.loss(squaredLoss(o, y));
    });
    const text = wasmOf(s1);
    expect(text).not.toContain('shared by the threads');
    expect(text).not.toContain('pool.run');
    expect(text).toContain('const pool = noThreads();');
  });

  it('a module too small for threads keeps one and says why', async () => {
    const m = (await buildWasmModule(kink)) as Threaded;
    expect(await m.useThreads(4)).toBe(1);
    expect(m.threads).toEqual({ threads: 1, reason: expect.stringMatching(/too small|large enough/) });
  });

  it('refuses a thread count that is not a whole number >= 1', async () => {
    const m = (await buildWasmModule(ragged, { wasmSplitFlops: 0 })) as Threaded;
    await expect(m.useThreads(0)).rejects.toThrow(/count must be a whole number >= 1, got 0/);
    await expect(m.useThreads(1.5)).rejects.toThrow(/got 1.5/);
    await expect(((await buildWasmModule(kink)) as Threaded).useThreads(-1)).rejects.toThrow(/got -1/);
  });

  it('falls back to one thread, with the reason, where SharedArrayBuffer is missing', async () => {
    const m = (await buildWasmModule(ragged, { wasmSplitFlops: 0 })) as Threaded;
    const saved = globalThis.SharedArrayBuffer;
    // @ts-expect-error: a host without SharedArrayBuffer (a page that is not cross-origin isolated)
    delete globalThis.SharedArrayBuffer;
    try {
      expect(await m.useThreads(2)).toBe(1);
    } finally {
      globalThis.SharedArrayBuffer = saved;
    }
    expect(m.threads.threads).toBe(1);
    expect(m.threads.reason).toMatch(/SharedArrayBuffer is unavailable: the page is not cross-origin isolated/);
    const params = m.initParams(1);
    expect(Number.isFinite(m.trainStep(params, randomInputs(m.meta, 1), 0.01, m.initOptimizerState?.()))).toBe(true);
  });

  it('shares rows in whole tiles of 4, every row once, for any count', () => {
    for (const rows of [1, 3, 4, 5, 37, 256, 1023]) {
      for (const count of [1, 2, 3, 7, 16]) {
        const seen = new Array(rows).fill(0);
        for (let t = 0; t < count; t++) {
          const [r0, r1] = threadRows(rows, t, count);
          expect(r0 % 4).toBe(0);
          for (let r = r0; r < r1; r++) seen[r]++;
        }
        expect(seen.every((n) => n === 1), `${rows} rows on ${count}`).toBe(true);
      }
    }
    expect(randomArray(1, 1).length).toBe(1);
  });
});
