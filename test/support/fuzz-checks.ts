/**
 * The checks the fuzzer runs on one graph spec, and how a failure is reported: each throws
 * an Error that says what disagreed, and `reportCounterexample` turns fast-check's shrunk
 * spec into a graph file a person can rerun.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import type fc from 'fast-check';
import { compile } from '../../compiler/compile.ts';
import type { GraphDef } from '../../compiler/index.ts';
import { evaluate } from '../../compiler/ir/interpret.ts';
import { buildFuzzGraph, forwardCost, fuzzData, fuzzGraphFileText, type FuzzSpec } from './fuzz-graph.ts';
import type { GpuHostModule } from './gpu.ts';
import * as webgpuRuntime from '../../runtime/webgpu/index.ts';
import type { Arrays, GeneratedModule } from './module.ts';

/** Running totals, for the summary a fuzz run prints. */
export const stats = {
  graphs: 0,
  gpuGraphs: 0,
  fdElements: 0,
  fdDirections: 0,
  /** Elements where the FD estimate itself was unstable (a ReLU kink within ±h): not compared. */
  fdNonsmooth: 0,
  trainDecreased: 0,
  /** Steps where the gradient was too small for a decrease to show above float32 noise. */
  trainFlat: 0,
  /** Specs discarded because the float64 reference leaves float32 range. */
  discarded: 0,
};

/**
 * Imports generated JS from text as a CommonJS function, so thousands of modules (and their
 * arenas) can be garbage-collected; `import()` keeps every module alive.
 */
export function loadGenerated<T>(code: string): T {
  const cjs = transformSync(code, { format: 'cjs', loader: 'js', target: 'es2022' }).code;
  const module = { exports: {} as Record<string, unknown> };
  // A WebGPU host module imports its driver; nothing else may be imported.
  const require = (id: string) => {
    if (id === 'gradc/runtime/webgpu') return webgpuRuntime;
    throw new Error(`a generated module imports ${JSON.stringify(id)}`);
  };
  new Function('module', 'exports', 'require', cjs)(module, module.exports, require);
  return module.exports as T;
}

export interface Built {
  readonly spec: FuzzSpec;
  readonly def: GraphDef;
  readonly js: GeneratedModule;
  readonly gpu?: GpuHostModule;
  readonly params: Arrays;
  readonly inputs: Arrays;
}

export function build(spec: FuzzSpec, targets: readonly ('js' | 'wgsl')[] = ['js']): Built {
  const def = buildFuzzGraph(spec);
  const { files } = compile(def, { targets: [...targets] });
  const text = (name: string) => files.find((f) => f.name === name)!.contents;
  const js = loadGenerated<GeneratedModule>(text(`${def.name}.js`));
  const gpu = targets.includes('wgsl') ? loadGenerated<GpuHostModule>(text(`${def.name}.gpu.js`)) : undefined;
  return { spec, def, js, gpu, ...fuzzData(def, spec) };
}

const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};
const sumAbs = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return s;
};

/** A deterministic stream in [0, 1) for choosing which elements to check. */
function stream(seed: number): () => number {
  let x = (seed * 2654435761 + 97) >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

export interface Reference {
  readonly loss: number;
  /**
   * How large the loss's terms are, before they cancel: the scale of float32 rounding in
   * the loss (a sum of outputs can be near 0 while its terms are not).
   */
  readonly lossScale: number;
}

/**
 * The float64 reference at the spec's data. Returns undefined (the spec is discarded) when
 * some value leaves the range where float32 can follow: past 1e15, products overflow float32.
 */
export function reference(b: Built): Reference | undefined {
  const g = b.def.ir;
  const values = evaluate(g, { ...b.params, ...b.inputs }, g.nodes.map((n) => n.id));
  for (const v of values.values()) if (!(maxAbs(v) < 1e15)) return undefined;
  const out = values.get(g.outputs[0].id)!;
  const loss = values.get(g.loss!)![0];
  const n = out.length;
  const y = b.inputs.y;
  let lossScale: number;
  switch (b.spec.loss) {
    case 'squared': {
      const rows = b.spec.batch;
      let s = 0;
      for (let i = 0; i < n; i++) s += Math.abs(out[i]) * (Math.abs(out[i]) + Math.abs(y[i]));
      lossScale = Math.abs(loss) + s / rows;
      break;
    }
    case 'sum': lossScale = sumAbs(out); break;
    case 'mean': lossScale = sumAbs(out) / n; break;
    case 'meanSquare': lossScale = Math.abs(loss); break;
  }
  return { loss, lossScale: lossScale + 1e-30 };
}

/** Float64 copies of the params with one perturbation applied. */
function referenceLossAt(b: Built, params: Record<string, Float64Array>): number {
  const g = b.def.ir;
  return evaluate(g, { ...b.inputs, ...params }, [g.loss!]).get(g.loss!)![0];
}

/** Forward passes of the reference the FD check may spend, by the graph's size. */
const FD_BUDGET_MACS = 2e7;

/**
 * (a) The JS module's loss and gradient against float64 central differences of the
 * reference interpreter: on random directions through every param at once, and on a random
 * subset of single elements (all of them for small graphs).
 */
export function checkJsAgainstFiniteDifferences(b: Built, ref: Reference): void {
  const { js, params, inputs, def } = b;
  const { loss, grads } = js.gradient(params, inputs);
  const lossTol = 1e-5 * ref.lossScale + 1e-7;
  if (!(Math.abs(loss - ref.loss) <= lossTol)) {
    throw new Error(`loss: the JS module gives ${loss}, the float64 reference ${ref.loss} (tolerance ${lossTol.toExponential(2)})`);
  }
  for (const [name, gv] of Object.entries(grads)) {
    if (!gv.every(Number.isFinite)) throw new Error(`gradient: d${name} has a non-finite value in the JS module, where the reference is finite`);
  }
  const theta = Object.fromEntries(def.ir.params.map((p) => [p.name, Float64Array.from(params[p.name])]));
  const cost = Math.max(1, forwardCost(b.spec));
  let forwards = Math.max(6, Math.min(120, Math.floor(FD_BUDGET_MACS / cost)));
  const h = 1e-6;
  const noise = 1e-9 * (1 + Math.abs(ref.loss) + ref.lossScale);
  const central = (set: (t: number) => void, step: number) => {
    set(step);
    const up = referenceLossAt(b, theta);
    set(-step);
    const down = referenceLossAt(b, theta);
    set(0);
    return (up - down) / (2 * step);
  };
  const next = stream(b.spec.seed);

  // Directions: v with ±1 entries on every param element; J'(θ)·v = Σ g_i v_i.
  for (let d = 0; d < 2 && forwards >= 2; d++, forwards -= 2) {
    const v = Object.fromEntries(Object.entries(theta).map(([name, t]) => [name, Float64Array.from(t, () => (next() < 0.5 ? -1 : 1))]));
    const base = Object.fromEntries(Object.entries(theta).map(([name, t]) => [name, t.slice()]));
    const set = (s: number) => {
      for (const name of Object.keys(theta)) for (let i = 0; i < theta[name].length; i++) theta[name][i] = base[name][i] + s * v[name][i];
    };
    const fd = central(set, h);
    let dot = 0;
    let scale = 0;
    for (const name of Object.keys(theta)) {
      for (let i = 0; i < theta[name].length; i++) {
        dot += grads[name][i] * v[name][i];
        scale += Math.abs(grads[name][i]);
      }
    }
    const tol = 1e-3 * Math.abs(fd) + 1e-4 * scale + noise / h;
    // A disagreement counts only where the estimate is stable: with a ReLU kink within ±h,
    // central differences with h and h/4 differ, and the reference says nothing there.
    if (!(Math.abs(dot - fd) <= tol) && Math.abs(fd - central(set, h / 4)) > tol) {
      stats.fdNonsmooth++;
      continue;
    }
    stats.fdDirections++;
    if (!(Math.abs(dot - fd) <= tol)) {
      throw new Error(`gradient: along a random ±1 direction through every param, the JS module's ∇J·v is ${dot} but central differences of the reference give ${fd} (tolerance ${tol.toExponential(2)})`);
    }
  }

  // Single elements, spread over the params.
  const names = Object.keys(theta);
  const total = names.reduce((n, k) => n + theta[k].length, 0);
  const picks: [string, number][] = [];
  if (total * 2 <= forwards) {
    for (const name of names) for (let i = 0; i < theta[name].length; i++) picks.push([name, i]);
  } else {
    // Every param at least once, then random elements.
    for (const name of names) if (picks.length * 2 < forwards) picks.push([name, Math.floor(next() * theta[name].length)]);
    while (picks.length * 2 < forwards) {
      const name = names[Math.floor(next() * names.length)];
      picks.push([name, Math.floor(next() * theta[name].length)]);
    }
  }
  for (const [name, i] of picks) {
    const t = theta[name];
    const keep = t[i];
    const set = (s: number) => {
      t[i] = keep + s;
    };
    const fd = central(set, h);
    const js = grads[name][i];
    const tol = 1e-3 * Math.abs(fd) + 1e-4 * maxAbs(grads[name]) + noise / h;
    if (!(Math.abs(js - fd) <= tol) && Math.abs(fd - central(set, h / 4)) > tol) {
      stats.fdNonsmooth++;
      continue;
    }
    stats.fdElements++;
    if (!(Math.abs(js - fd) <= tol)) {
      throw new Error(`gradient: d${name}[${i}] is ${js} in the JS module but central differences of the reference give ${fd} (tolerance ${tol.toExponential(2)})`);
    }
  }
}

/**
 * (c) trainStep: returns the loss before the step, applies θ − α·∇J with the gradient that
 * gradient() returns, and for a small enough α lowers the loss. α starts where the first-order
 * decrease α‖∇J‖² is 1% of the loss's scale and halves while that decrease stays well above
 * float32 noise; some α in that range must lower the loss.
 */
export function checkTrainStep(b: Built, ref: Reference): void {
  const { js, params, inputs } = b;
  const { loss, grads } = js.gradient(params, inputs);
  let g2 = 0;
  for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) g2 += g[i] * g[i];
  const noise = 1e-6 * ref.lossScale + 1e-12;
  const copy = () => Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.slice()]));
  let lr = Math.min(1, (0.01 * ref.lossScale) / Math.max(g2, 1e-300));
  let tried = 0;
  let first = true;
  while (lr * g2 > 100 * noise && tried < 14) {
    tried++;
    const p = copy();
    const returned = js.trainStep(p, inputs, lr);
    if (!(Math.abs(returned - loss) <= 1e-6 * ref.lossScale + 1e-12)) {
      throw new Error(`trainStep returned ${returned} but the loss before the step is ${loss}`);
    }
    if (first) {
      // Updates are fused into the gradient kernels: each must equal θ − α·g exactly as
      // gradient() computes g, up to float32 rounding.
      first = false;
      for (const [name, theta] of Object.entries(params)) {
        const scale = maxAbs(grads[name]);
        for (let i = 0; i < theta.length; i++) {
          const want = theta[i] - lr * grads[name][i];
          const tol = lr * (1e-5 * scale + 1e-4 * Math.abs(grads[name][i])) + 2 ** -22 * Math.abs(want) + 1e-38;
          if (!(Math.abs(p[name][i] - want) <= tol)) {
            throw new Error(`trainStep: ${name}[${i}] became ${p[name][i]}, but θ − α·dJ/dθ from gradient() is ${want} (α = ${lr}, θ = ${theta[i]}, g = ${grads[name][i]})`);
          }
        }
      }
    }
    const after = js.loss(p, inputs);
    if (after < loss) {
      stats.trainDecreased++;
      return;
    }
    lr /= 2;
  }
  if (tried === 0) {
    stats.trainFlat++;
    return;
  }
  throw new Error(`trainStep did not lower the loss ${loss} for any of ${tried} learning rates down to ${lr * 2} (‖∇J‖² = ${g2})`);
}

/** f32 on the GPU against the JS backend: |gpu − js| ≤ 1e-5·scale + 1e-3·|js|, as in wgsl.test.ts. */
export function close(what: string, gpu: Arrays, js: Arrays, floor: Readonly<Record<string, number>> = {}): void {
  for (const name of Object.keys(js)) {
    const scale = Math.max(1e-3, floor[name] ?? 0, maxAbs(js[name]));
    const a = gpu[name];
    const bb = js[name];
    if (!a || a.length !== bb.length) throw new Error(`${what} ${name}: the GPU returned ${a?.length} values, JS ${bb.length}`);
    for (let i = 0; i < bb.length; i++) {
      if (!(Math.abs(a[i] - bb[i]) <= 1e-5 * scale + 1e-3 * Math.abs(bb[i]))) {
        throw new Error(`${what} ${name}[${i}]: the GPU gives ${a[i]}, JS ${bb[i]} (scale ${scale})`);
      }
    }
  }
}

/** (b) The WGSL backend against the JS backend: forward, loss, gradient, one train step. */
export async function checkGpuAgainstJs(b: Built, ref: Reference, device: GPUDevice): Promise<void> {
  const { js, gpu, inputs } = b;
  const params = Object.fromEntries(Object.entries(b.params).map(([k, v]) => [k, v.slice()]));
  const model = await gpu!.createModel(device);
  try {
    await model.setParams(params);
    const forwardInputs = { x: inputs.x };
    close('forward', await model.forward(forwardInputs), js.forward(params, forwardInputs));
    const g = await model.gradient(inputs);
    const want = js.gradient(params, inputs);
    const lossTol = 1e-5 * ref.lossScale + 1e-3 * Math.abs(want.loss) + 1e-7;
    if (!(Math.abs(g.loss - want.loss) <= lossTol)) throw new Error(`loss: the GPU gives ${g.loss}, JS ${want.loss}`);
    close('gradient', g.grads, want.grads);
    const lr = 1e-3;
    const before = await model.trainStep(inputs, lr);
    const jsBefore = js.trainStep(params, inputs, lr);
    if (!(Math.abs(before - jsBefore) <= lossTol)) throw new Error(`trainStep: the GPU returns the loss ${before}, JS ${jsBefore}`);
    close('params after a train step', await model.getParams(), params);
  } finally {
    model.destroy();
  }
}

/** The message for a failed property: the error, the repro graph file, and how to replay. */
export function reportCounterexample(details: fc.RunDetails<[FuzzSpec]>, what: string): string {
  const [spec] = details.counterexample!;
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  const replay = `GRADC_FUZZ_SEED=${details.seed} GRADC_FUZZ_PATH=${details.counterexamplePath} npx vitest run test/fuzz.test.ts -t '${what}'`;
  const text = fuzzGraphFileText(spec, 'repro', [
    `gradc fuzz counterexample (${what}), after ${details.numRuns} graphs and ${details.numShrinks} shrinks:`,
    ...error.split('\n').map((l) => `  ${l}`),
    `Data: params and inputs from fuzzData(def, spec) in test/support/fuzz-graph.ts (seed ${spec.seed}).`,
    `Replay: ${replay}`,
    `Or check this spec alone: GRADC_FUZZ_SPEC='${JSON.stringify(spec)}' npx vitest run test/fuzz.test.ts -t '${what}'`,
  ]);
  const file = join(tmpdir(), `gradc-fuzz-repro-${details.seed}.graph.ts`);
  try {
    writeFileSync(file, text);
  } catch {
    // Printing it below is what matters.
  }
  return `fuzz counterexample (${what}); written to ${file}:\n\n${text}`;
}
