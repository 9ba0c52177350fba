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
import { forwardValues, plant, reference64, RULES, type Rule } from './reference64.ts';
import { buildFuzzGraph, fuzzData, fuzzGraphFileText, type FuzzSpec } from './fuzz-graph.ts';
import type { GpuHostModule } from './gpu.ts';
import * as webgpuRuntime from '../../runtime/webgpu/index.ts';
import * as checksRuntime from '../../runtime/checks.ts';
import * as threadsRuntime from '../../runtime/threads.ts';
import type { Arrays, GeneratedModule } from './module.ts';

/** Running totals, for the summary a fuzz run prints. */
export const stats = {
  graphs: 0,
  gpuGraphs: 0,
  /** Graphs (with an optimizer drawn among sgd, momentum and adam) whose modules got every kind of hostile argument. */
  hostileGraphs: 0,
  /** Graphs with a dynamic batch checked against the same graph built for the call's rows. */
  dynamicGraphs: 0,
  threadGraphs: 0,
  /** Gradient elements compared with the independent reference. */
  gradientElements: 0,
  /** Central-difference checks of the reference's own reverse mode (directions and elements). */
  fdChecks: 0,
  /** Central-difference checks skipped because a ReLU changes sides within both steps tried. */
  fdNonsmooth: 0,
  /** References with a ReLU unit within float32 rounding of its kink that matters (compared with both slopes allowed). */
  nearKinks: 0,
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
  // A WebGPU host module imports its driver, a CPU module its host file; nothing else may be imported.
  const require = (id: string) => {
    if (id === 'gradc/runtime/webgpu') return webgpuRuntime;
    if (id === './gradc-host.js') return { ...checksRuntime, ...threadsRuntime };
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
  /** dJ/dparam, exact up to float64 rounding, by the independent reference (reference64.ts). */
  readonly grads: Record<string, Float64Array>;
  /**
   * How far each gradient element moves when every value is stored as float32: where it is
   * ill-conditioned in float32 (a saturated tanh or sigmoid), no float32 module can do better.
   */
  readonly storageError: Record<string, Float64Array>;
  /** How far each gradient element moves when ReLU units within float32 rounding of their kink switch sides. */
  readonly kinkError: Record<string, Float64Array>;
}

/** Options for `reference`: a planted wrong rule, for the fuzzer's self-test. */
export interface ReferenceOptions {
  readonly rules?: Readonly<Record<string, Rule>>;
}

/**
 * The float64 reference at the spec's data, by the independent evaluator (reference64.ts,
 * not the compiler's op table). Returns undefined (the spec is discarded) when some value
 * leaves the range where float32 can follow: past 1e15, products overflow float32.
 */
export function reference(b: Built, options: ReferenceOptions = {}): Reference | undefined {
  const g = b.def.ir;
  const leaves = { ...b.params, ...b.inputs };
  const exact = reference64(g, leaves, options);
  for (const v of exact.values) if (!(maxAbs(v) < 1e15)) return undefined;
  const stored = reference64(g, leaves, { ...options, float32Storage: true });
  const flipped = hasNearKinks(g, exact.values) ? reference64(g, leaves, { ...options, rules: reluFlippedNearKinks(options.rules ?? RULES) }) : exact;
  const out = exact.outputs[g.outputs[0].name];
  const loss = exact.loss;
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
    default: {
      // A cross-entropy of logits `out` against labels (an input, or computed: the loss's second
      // argument): float32 rounds each term at the size of its logits, the row's largest (the
      // log-sum-exp subtracts it) and log(1 + e^−|z|), weighted by the label.
      const labels = exact.values[g.nodes[g.loss!].inputs[1]];
      const width = out.length / Math.max(1, b.spec.dynamicRows ?? b.spec.batch);
      let s = 0;
      for (let r = 0; r < n / width; r++) {
        const row = out.subarray(r * width, (r + 1) * width);
        const top = maxAbs(row);
        for (let j = 0; j < width; j++) s += (Math.abs(labels[r * width + j]) + 1) * (Math.abs(row[j]) + top + 1);
      }
      lossScale = Math.abs(loss) + s / (n / width);
    }
  }
  const distance = (other: Record<string, Float64Array>) =>
    Object.fromEntries(Object.entries(exact.grads).map(([name, v]) => [name, v.map((x, i) => Math.abs(x - other[name][i]))]));
  const kinkError = distance(flipped.grads);
  if (Object.values(kinkError).some((e) => e.some((v) => v > 0))) stats.nearKinks++;
  return { loss, lossScale: lossScale + 1e-30, grads: exact.grads, storageError: distance(stored.grads), kinkError };
}

/** Within float32 rounding of a ReLU's kink: |z| at most 10⁻⁶ of the largest |z| of its node. */
const nearKink = (z: Float64Array) => {
  const limit = 1e-6 * maxAbs(z);
  return (i: number) => Math.abs(z[i]) <= limit;
};

function hasNearKinks(g: Built['def']['ir'], values: readonly Float64Array[]): boolean {
  return g.nodes.some((n) => n.op === 'relu' && values[n.inputs[0]].some((_, i, z) => nearKink(z)(i)));
}

/** The rules with relu′ taken from the other side of the kink for units near it: float32 may put them on either side. */
function reluFlippedNearKinks(rules: Readonly<Record<string, Rule>>): Record<string, Rule> {
  const relu = rules.relu;
  return plant({
    relu: {
      backward: (dy, x, y, site) => {
        const [dx] = relu.backward(dy, x, y, site);
        const near = nearKink(x[0]);
        return [dx.map((d, i) => (near(i) ? (d === 0 ? dy[i] : 0) : d))];
      },
    },
  }, rules);
}

/**
 * The tolerance of a float32 gradient element against the exact one: 2·10⁻⁴ of itself plus
 * 2·10⁻⁵ of its param's largest gradient (the scale float32 rounding in sums works at), plus
 * what float32 storage and near-kink ReLU units move it by. In 1,200 fuzzed graphs sampled
 * to choose these constants the largest error was a quarter of this; a param whose gradients
 * are all small is held to its own scale, not the loss's.
 */
export function gradientTolerance(ref: Reference, name: string, i: number, largest = maxAbs(ref.grads[name])): number {
  return 2e-4 * Math.abs(ref.grads[name][i]) + 2e-5 * largest + 4 * ref.storageError[name][i] + 4 * ref.kinkError[name][i] + 1e-37;
}

/**
 * (a) The JS module's loss and every element of its gradient against the independent float64
 * reference (reference64.ts): exact reverse mode of hand-written rules, not the compiler's.
 */
export function checkJsAgainstReference(b: Built, ref: Reference): void {
  const { loss, grads } = b.js.gradient(b.params, b.inputs);
  const lossTol = 1e-5 * ref.lossScale + 1e-7;
  if (!(Math.abs(loss - ref.loss) <= lossTol)) {
    throw new Error(`loss: the JS module gives ${loss}, the float64 reference ${ref.loss} (tolerance ${lossTol.toExponential(2)})`);
  }
  for (const [name, want] of Object.entries(ref.grads)) {
    const got = grads[name];
    // The param's largest gradient once, not once an element (that was quadratic in its size).
    const largest = maxAbs(want);
    for (let i = 0; i < want.length; i++) {
      const tol = gradientTolerance(ref, name, i, largest);
      if (!(Math.abs(got[i] - want[i]) <= tol)) {
        throw new Error(`gradient: d${name}[${i}] is ${got[i]} in the JS module but ${want[i]} in the float64 reference (tolerance ${tol.toExponential(2)})`);
      }
    }
    stats.gradientElements += want.length;
  }
}

/**
 * (a′) The reference's own reverse mode against central differences of its forward pass, in
 * float64: ∇J·v on random ±1 directions through every param at once, and one element of
 * each param. Differences with steps h and h/2 are combined (Richardson: (4·D(h/2) − D(h))/3)
 * to cancel the h² term, large along a direction that moves every weight of a deep graph at
 * once. A difference counts only where no ReLU changes sides within the step, which is
 * checked exactly (the sign of every ReLU input at θ ± h); where one does, steps 100× smaller
 * are tried, and if those cross too the check is skipped ("nonsmooth"). The tolerance: 10⁻⁵
 * of the derivative's scale, what float64 rounding allows (the loss's terms carry ~10⁻¹²
 * relative error, divided by h, three times over in the combination), and a tenth of
 * |D(h) − D(h/2)| for what the combination leaves of higher orders.
 */
export function checkReferenceAgainstFiniteDifferences(b: Built, ref: Reference, options: ReferenceOptions = {}): void {
  const { def, params } = b;
  const g = def.ir;
  const theta = Object.fromEntries(g.params.map((p) => [p.name, Float64Array.from(params[p.name])]));
  const relus = g.nodes.filter((n) => n.op === 'relu').map((n) => n.inputs[0]);
  const evaluateAt = () => {
    const values = forwardValues(g, { ...b.inputs, ...theta }, options);
    return { loss: values[g.loss!][0], sides: relus.map((id) => Array.from(values[id], (z) => (z >= 0 ? '1' : '0')).join('')).join('|') };
  };
  /** The central difference with step h, or undefined when a ReLU changes sides within ±h. */
  const central = (set: (t: number) => void, h: number) => {
    set(h);
    const up = evaluateAt();
    set(-h);
    const down = evaluateAt();
    set(0);
    return up.sides === down.sides ? (up.loss - down.loss) / (2 * h) : undefined;
  };
  const next = stream(b.spec.seed);
  const compare = (what: string, set: (t: number) => void, want: number, magnitude: number) => {
    for (const h of [1e-5, 1e-7]) {
      const [coarse, fine] = [central(set, h), central(set, h / 2)];
      if (coarse === undefined || fine === undefined) continue;
      const fd = (4 * fine - coarse) / 3;
      const tol = 1e-5 * (Math.abs(fd) + magnitude) + (3e-12 * ref.lossScale) / h + 0.1 * Math.abs(coarse - fine);
      stats.fdChecks++;
      if (!(Math.abs(want - fd) <= tol)) {
        throw new Error(`reference: ${what} is ${want} by its reverse mode but central differences of its forward pass give ${fd} (h = ${h} and ${h / 2}, tolerance ${tol.toExponential(2)})`);
      }
      return;
    }
    stats.fdNonsmooth++;
  };
  // A direction v with ±1 entries on every param element: J'(θ)·v = Σ g_i v_i.
  for (let d = 0; d < 2; d++) {
    const v = Object.fromEntries(Object.entries(theta).map(([name, t]) => [name, Float64Array.from(t, () => (next() < 0.5 ? -1 : 1))]));
    const base = Object.fromEntries(Object.entries(theta).map(([name, t]) => [name, t.slice()]));
    let dot = 0;
    let magnitude = 0;
    for (const name of Object.keys(theta)) {
      for (let i = 0; i < theta[name].length; i++) {
        dot += ref.grads[name][i] * v[name][i];
        magnitude += Math.abs(ref.grads[name][i]);
      }
    }
    compare('∇J·v along a random ±1 direction', (s) => {
      for (const name of Object.keys(theta)) for (let i = 0; i < theta[name].length; i++) theta[name][i] = base[name][i] + s * v[name][i];
    }, dot, magnitude);
  }
  // One element of each param.
  for (const name of Object.keys(theta)) {
    const t = theta[name];
    const i = Math.floor(next() * t.length);
    const keep = t[i];
    compare(`d${name}[${i}]`, (s) => {
      t[i] = keep + s;
    }, ref.grads[name][i], maxAbs(ref.grads[name]));
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
export function close(what: string, gpu: Arrays, js: Arrays, floor: Readonly<Record<string, number>> = {}, slack: Readonly<Record<string, ArrayLike<number>>> = {}): void {
  for (const name of Object.keys(js)) {
    const scale = Math.max(1e-3, floor[name] ?? 0, maxAbs(js[name]));
    const a = gpu[name];
    const bb = js[name];
    if (!a || a.length !== bb.length) throw new Error(`${what} ${name}: the GPU returned ${a?.length} values, JS ${bb.length}`);
    for (let i = 0; i < bb.length; i++) {
      if (!(Math.abs(a[i] - bb[i]) <= 1e-5 * scale + 1e-3 * Math.abs(bb[i]) + (slack[name]?.[i] ?? 0))) {
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
