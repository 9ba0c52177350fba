/**
 * Momentum and Adam against a second oracle, PyTorch (test/optimizers.test.ts has TensorFlow.js):
 * test/fixtures/torch-optim/torch-optim.json holds what torch.optim.SGD(momentum=μ) and
 * torch.optim.Adam computed, in float64, over six steps of two small graphs (written by
 * make_fixtures.py beside it, with Debian's python3-torch; CI reads the JSON only). gradc's
 * JS, wasm and WGSL train steps, from the same params and data, must give the same params after
 * every step and the same optimizer state at the end. A step counted wrong (Adam's bias
 * correction a step off), a momentum applied twice or ε inside the square root moves some
 * param by far more than the tolerance, float32 rounding over six steps (1e-4 of each param's
 * scale).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { adam, affine, graph, momentum, relu, softmaxCrossEntropy, squaredLoss, tanh, type GraphDef } from '../compiler/index.ts';
import { buildBoth, gpuDevice } from './support/gpu.ts';
import { buildWasmModule } from './support/wasm.ts';
import type { Arrays, GeneratedModule } from './support/module.ts';

interface Case {
  readonly graph: 'regression' | 'classifier';
  readonly optimizer: string;
  readonly options: { kind: 'momentum'; momentum: number } | { kind: 'adam'; beta1: number; beta2: number; epsilon: number };
  readonly learningRate: number;
  readonly batch: number;
  readonly params: Record<string, number[]>;
  readonly x: [number, number];
  readonly y: [number, number];
  readonly init: Record<string, number[]>;
  readonly inputs: { x: number[]; y: number[] };
  readonly losses: number[];
  readonly after: Record<string, number[]>[];
  readonly state: Record<string, Record<string, number[]>>;
}

const FIXTURE = fileURLToPath(new URL('./fixtures/torch-optim/torch-optim.json', import.meta.url));
const { cases, steps } = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { cases: Case[]; steps: number };

/** The graph make_fixtures.py runs in PyTorch, declared with gradc's DSL. */
function defOf(c: Case, name: string): GraphDef {
  return graph(name, (g) => {
    const p = (n: string) => g.param(n, c.params[n] as [number, number] | [number]);
    const x = g.input('x', c.x);
    const y = g.input('y', c.y);
    const h = tanh(affine(x, p('W1'), p('b1')));
    const o = c.options;
    g.optimizer(o.kind === 'momentum' ? momentum({ momentum: o.momentum }) : adam({ beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon }));
    if (c.graph === 'regression') {
      const out = affine(h, p('W2'), p('b2'));
      g.output('o', out);
      g.loss(squaredLoss(out, y));
    } else {
      const z = affine(relu(affine(h, p('W2'), p('b2'))), p('W3'), p('b3'));
      g.output('z', z);
      g.loss(softmaxCrossEntropy(z, y));
    }
  });
}

const f32 = (r: Record<string, number[]>): Arrays => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Float32Array.from(v)]));
const inputsOf = (c: Case): Arrays => f32(c.inputs);

/** Every element within 1e-4 of its param's largest value plus 1e-4 of itself: float32 rounding over six steps. */
function expectClose(got: Arrays, want: Record<string, number[]>, what: string): void {
  for (const [name, w] of Object.entries(want)) {
    const scale = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const g = got[name];
    expect(g?.length, `${what} ${name}`).toBe(w.length);
    for (let i = 0; i < w.length; i++) {
      const tol = 1e-4 * scale + 1e-4 * Math.abs(w[i]) + 1e-7;
      if (!(Math.abs(g[i] - w[i]) <= tol)) expect.fail(`${what}: ${name}[${i}] is ${g[i]}, but PyTorch's ${w[i]} (tolerance ${tol.toExponential(1)})`);
    }
  }
}

it('the fixture covers momentum and Adam on both graphs, six steps each, from PyTorch', () => {
  expect(steps).toBe(6);
  expect(new Set(cases.map((c) => `${c.graph} ${c.options.kind}`))).toEqual(new Set(['regression momentum', 'regression adam', 'classifier momentum', 'classifier adam']));
  for (const c of cases) expect(c.after).toHaveLength(steps);
});

describe.each(cases.map((c, i) => [`${c.graph}, ${c.optimizer}`, c, i] as const))('%s', (_, c, i) => {
  const def = defOf(c, `torch_${i}`);
  const stateOf = (got: Record<string, unknown>) => Object.fromEntries(Object.keys(c.state).map((slot) => [slot, got[slot] as Arrays]));

  const cpuSteps = (mod: GeneratedModule, what: string) => {
    const params = f32(c.init);
    const state = mod.initOptimizerState!();
    for (let s = 0; s < steps; s++) {
      const loss = mod.trainStep(params, inputsOf(c), c.learningRate, state);
      expect(Math.abs(loss - c.losses[s]), `${what} loss before step ${s + 1}`).toBeLessThanOrEqual(1e-5 * Math.abs(c.losses[s]) + 1e-6);
      expectClose(params, c.after[s], `${what}, params after step ${s + 1}`);
    }
    expect((state as { step: number }).step).toBe(steps);
    for (const [slot, want] of Object.entries(c.state)) expectClose(stateOf(state as never)[slot], want, `${what}, state.${slot} after ${steps} steps`);
  };

  it('JS and wasm train steps give PyTorch\'s params after every step, and its state', async () => {
    const { js } = await buildBoth(def);
    cpuSteps(js, 'JS');
    cpuSteps(await buildWasmModule(def), 'wasm');
  }, 60_000);

  it('WGSL train steps (WebGPU) give PyTorch\'s params after every step, and its state', async () => {
    const { gpu } = await buildBoth(def);
    const model = await gpu.createModel(await gpuDevice());
    try {
      await model.setParams(f32(c.init));
      for (let s = 0; s < steps; s++) {
        const loss = await model.trainStep(inputsOf(c), c.learningRate);
        expect(Math.abs(loss - c.losses[s]), `WGSL loss before step ${s + 1}`).toBeLessThanOrEqual(1e-5 * Math.abs(c.losses[s]) + 1e-6);
        expectClose(await model.getParams() as Arrays, c.after[s], `WGSL, params after step ${s + 1}`);
      }
      const state = await model.getOptimizerState() as Record<string, unknown>;
      expect(state.step).toBe(steps);
      for (const [slot, want] of Object.entries(c.state)) expectClose(stateOf(state)[slot], want, `WGSL, state.${slot} after ${steps} steps`);
    } finally {
      model.destroy();
    }
  }, 120_000);
});
