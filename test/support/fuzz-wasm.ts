/**
 * The fuzzer's checks of the wasm target (kept apart from fuzz-checks.ts, which they use):
 * on one fuzzed graph, the wasm module against float64 central differences (the JS module's
 * check, run on it), against the JS module (forward, loss, gradient, a train step, with the
 * WGSL tolerances), and again with the bias of every sigmoid and tanh layer set to ±1e3, so
 * pre-activations reach ±1e3 and exp saturates. (Scaling the inputs instead would
 * also test float32 against float64 sums of ±1e3 terms that cancel: conditioning, not exp.)
 */
import { compile } from '../../compiler/compile.ts';
import { buildFuzzGraph, fuzzData, normalize, type FuzzSpec } from './fuzz-graph.ts';
import { checkJsAgainstReference, close, loadGenerated, type Built, type Reference } from './fuzz-checks.ts';
import type { Arrays, GeneratedModule } from './module.ts';
import type { WasmCpuModule } from '../../runtime/module.ts';
import { loadWasmGenerated } from './wasm.ts';
import { MATMUL_FLOAT32_SUMS, RULES, plant, reference64, type Rule } from './reference64.ts';
import type { GraphDef } from '../../compiler/index.ts';

export interface BuiltWithWasm extends Built {
  readonly wasm: GeneratedModule;
}

export function buildWithWasm(spec: FuzzSpec): BuiltWithWasm {
  const def = buildFuzzGraph(spec);
  const { files } = compile(def, { targets: ['js', 'wasm'] });
  const text = (name: string) => files.find((f) => f.name === name)!.contents;
  return {
    spec, def, ...fuzzData(def, spec),
    js: loadGenerated<GeneratedModule>(text(`${def.name}.js`)),
    wasm: loadWasmGenerated<GeneratedModule>(text(`${def.name}.wasm.js`)),
  };
}

/**
 * The wasm module of a fuzzed graph with every product of two row tiles split across threads
 * (`wasmSplitFlops: 0`): ten train steps, then forward and gradient, on 1, 2 and 3 threads
 * must give the same bits (and the module must really run on that many).
 */
export async function checkThreadsSameBits(spec: FuzzSpec): Promise<boolean> {
  const def = buildFuzzGraph(spec);
  const { files } = compile(def, { targets: ['wasm'], wasmSplitFlops: 0 });
  const text = files.find((f) => f.name === `${def.name}.wasm.js`)!.contents;
  // A graph whose products all have fewer than two row tiles has nothing to split.
  if (!text.includes('OnThreads')) return false;
  const m = loadWasmGenerated<WasmCpuModule>(text);
  // (Over a dynamic batch, fuzzData's inputs have dynamicRows rows.)
  const { params, inputs } = fuzzData(def, spec);
  const bitsOf = (arrays: Arrays) => Object.entries(arrays).map(([k, v]) => `${k}:${Array.from(new Uint32Array(v.slice().buffer)).join(',')}`).join(' ');
  let first: string | undefined;
  try {
    for (const threads of [1, 2, 3]) {
      if ((await m.useThreads(threads)) !== threads) throw new Error(`useThreads(${threads}) ran ${m.threads.threads}: ${m.threads.reason}`);
      const p = copy(params);
      const state = m.initOptimizerState?.();
      // A step the module rejects (a diverging fuzzed graph) must be rejected alike on every count.
      const losses: string[] = [];
      for (let step = 0; step < 10; step++) {
        try {
          losses.push(String(m.trainStep(p, inputs, 1e-3, state)));
        } catch (e) {
          losses.push((e as Error).message);
        }
      }
      const got = [losses.join(','), bitsOf(p), bitsOf(m.forward(p, { x: inputs.x })), bitsOf(m.gradient(p, inputs).grads)].join('\n');
      first ??= got;
      if (got !== first) throw new Error(`wasm on ${threads} threads differs from one thread after 10 train steps`);
    }
  } finally {
    await m.useThreads(1);
  }
  return true;
}

const copy = (a: Arrays): Arrays => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.slice()]));

/** Where JS is finite, wasm must be too; non-finite JS values (overflow at 1e3 scale) are not compared. */
function finiteWhereJsIs(what: string, wasm: Arrays, js: Arrays): Arrays {
  const keep: Arrays = {};
  for (const [name, v] of Object.entries(js)) {
    const w = wasm[name];
    for (let i = 0; i < v.length; i++) {
      if (Number.isFinite(v[i]) && !Number.isFinite(w[i])) throw new Error(`${what} ${name}[${i}]: wasm gives ${w[i]} where JS gives ${v[i]}`);
    }
    if (v.every(Number.isFinite)) keep[name] = v;
  }
  return keep;
}

/**
 * Forward and gradient against the JS module, within `close`'s tolerance with its scale at
 * least `floor`: by default 10× each array's own largest value (10⁻⁴ of it: wasm accumulates
 * in float32 where JS uses float64, so sums of a few hundred terms that cancel differ by that
 * much; central differences in float64 are the accuracy check), and for gradients at least
 * the loss's scale (10⁻⁵ of it: act′ of a nearly saturated unit, 1 − a² or a(1 − a) from a
 * float32 `a`, is float32 rounding — the WGSL target computes the very same values). Returns
 * the floors used.
 */
function againstJs(
  b: BuiltWithWasm, params: Arrays, inputs: Arrays, lossScale: number, what: string, given?: Record<string, number>, slack: Slack = {},
): Record<string, number> {
  const { js, wasm } = b;
  const forwardInputs = { x: inputs.x };
  const [fw, fj] = [wasm.forward(params, forwardInputs), js.forward(params, forwardInputs)];
  const [gw, gj] = [wasm.gradient(params, inputs), js.gradient(params, inputs)];
  const largest = (v: Float32Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  const scales = Object.fromEntries(Object.entries({ ...fj, ...gj.grads }).map(([k, v]) => [k, largest(v)]));
  const floor = given ?? Object.fromEntries(Object.entries(scales).map(([k, v]) => [k, k in gj.grads ? Math.max(10 * v, lossScale) : 10 * v]));
  close(`${what}forward (wasm)`, fw, finiteWhereJsIs(`${what}forward`, fw, fj), floor, slack);
  const lossTol = 1e-5 * lossScale + 1e-3 * Math.abs(gj.loss) + 1e-7;
  if (Number.isFinite(gj.loss) && !(Math.abs(gw.loss - gj.loss) <= lossTol)) throw new Error(`${what}loss: wasm gives ${gw.loss}, JS ${gj.loss}`);
  try {
    close(`${what}gradient (wasm)`, gw.grads, finiteWhereJsIs(`${what}gradient`, gw.grads, gj.grads), floor, slack);
  } catch (e) {
    if (!atKink(b, params, inputs, gj.grads, floor)) throw e;
    nonsmooth.count++;
  }
  return floor;
}

/** Per element of each output and gradient (by name), a further absolute tolerance. */
type Slack = Readonly<Record<string, ArrayLike<number>>>;

/**
 * What a backend that stores and sums in float32 may differ from float64 by, for each output
 * and gradient element (by name), where the graph is ill-conditioned in float32, four times
 * over: the largest move of the element, against the exact float64 reference, when every value
 * is stored as float32 with products summed in float32 (terms that cancel) and tanh computed by
 * the backends' formula in float32 (a 5 % error in a tanh output of 2.6e−7), and when each sigmoid or tanh output is one float32 ulp further from or nearer
 * to saturation (a tanh unit near z ≈ 9 rounds to 1 in one backend and not in the other, and
 * its 1 − a² is 0 or 1.2e−7) — as the ±1e3 check treats saturated units. `def` is a graph of
 * fixed shapes computing what the module computes at these arrays.
 */
export function float32Slack(def: GraphDef, params: Arrays, inputs: Arrays): Slack {
  const leaves = { ...params, ...inputs };
  const exact = reference64(def.ir, leaves);
  const ulp = (a: number) => (a === 0 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(Math.abs(a))) - 23));
  /** act′ from a float32 output moved one ulp toward (+1) or away from (−1) saturation. */
  const nudged = (name: 'sigmoid' | 'tanh', toward: number): Rule => ({
    ...RULES[name],
    backward: (dy, x, y, site) => {
      const a = y.map((v) => {
        const f = Math.fround(v);
        const edge = name === 'tanh' ? Math.sign(f) : f >= 0.5 ? 1 : 0;
        return Math.min(1, Math.max(name === 'tanh' ? -1 : 0, f + toward * Math.sign(edge - f || 1) * ulp(f)));
      });
      return RULES[name].backward(dy, x, a, site);
    },
  });
  // tanh as the backends write it, sign(z)·(1 − e)/(1 + e) with e = e^(−2|z|), in float32:
  // near z = 0, 1 − e keeps only float32's resolution at 1 (≈ 6e−8 absolute).
  const tanh32: Rule = {
    ...RULES.tanh,
    forward: ([x]) => x.map((z) => {
      const e = Math.fround(Math.exp(Math.fround(-2 * Math.abs(z))));
      return Math.sign(z) * Math.fround(Math.fround(1 - e) / Math.fround(1 + e));
    }),
  };
  const variants = [
    reference64(def.ir, leaves, { float32Storage: true, rules: plant({ matmul: MATMUL_FLOAT32_SUMS, tanh: tanh32 }) }),
    ...[1, -1].map((toward) => reference64(def.ir, leaves, { rules: plant({ sigmoid: nudged('sigmoid', toward), tanh: nudged('tanh', toward) }) })),
  ];
  const apart = (pick: (r: typeof exact) => Record<string, Float64Array>, k: string) =>
    pick(exact)[k].map((v, i) => 4 * Math.max(...variants.map((r) => Math.abs(v - pick(r)[k][i]) || 0)));
  return {
    ...Object.fromEntries(Object.keys(exact.outputs).map((k) => [k, apart((r) => r.outputs, k)])),
    ...Object.fromEntries(Object.keys(exact.grads).map((k) => [k, apart((r) => r.grads, k)])),
  };
}

/** Graphs where wasm and JS disagreed only at a kink (see `atKink`): counted, not failed. */
export const nonsmooth = { count: 0 };

/**
 * Whether the JS module's own gradient jumps when the inputs move by a relative 1e-5 either
 * way: then some ReLU's pre-activation is within rounding of its kink, where float32 and
 * float64 sums may take different sides (relu′ 1 or 0), and a disagreement says nothing.
 */
function atKink(b: BuiltWithWasm, params: Arrays, inputs: Arrays, grads: Arrays, floor: Record<string, number>): boolean {
  return [1, -1].some((sign) => {
    const moved = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.map((x) => x * (1 + sign * 1e-5))]));
    try {
      close('', b.js.gradient(params, moved).grads, grads, floor);
      return false;
    } catch {
      return true;
    }
  });
}

export function checkWasmAgainstJsAndFiniteDifferences(b: BuiltWithWasm, ref: Reference): void {
  const slack = float32Slack(b.def, b.params, b.inputs);
  // Check (a), its storage allowance widened by what float32 sums and saturated units may move.
  const storageError = Object.fromEntries(Object.entries(ref.storageError).map(([k, v]) => [k, v.map((e, i) => Math.max(e, slack[k]?.[i] ?? 0))]));
  try {
    checkJsAgainstReference({ ...b, js: b.wasm }, { ...ref, storageError });
  } catch (e) {
    throw new Error(`the wasm module: ${(e as Error).message.replace(/the JS module/g, 'the wasm module')}`);
  }
  const scales = againstJs(b, b.params, b.inputs, ref.lossScale, '', undefined, slack);
  const lr = 1e-3;
  const [pw, pj] = [copy(b.params), copy(b.params)];
  const [lw, lj] = [b.wasm.trainStep(pw, b.inputs, lr), b.js.trainStep(pj, b.inputs, lr)];
  if (!(Math.abs(lw - lj) <= 1e-5 * ref.lossScale + 1e-3 * Math.abs(lj) + 1e-7)) throw new Error(`trainStep: wasm returns the loss ${lw}, JS ${lj}`);
  close('params after a train step (wasm)', pw, pj);
  // Pre-activations of ±1e3: the bias of every sigmoid or tanh layer (b1, b2, … in
  // fuzz-graph.ts) ±1e3, its sign kept. Units then sit deep in saturation, where act′ is
  // exactly 0 in float32, rather than at |z| ≈ 10, where act′ ≈ 1e−5 is float32 rounding in any
  // backend. Other layers keep theirs: ±1e3 through relu or linear layers only grows sums of
  // ±1e3 terms that cancel, where float32 against float64 is all a test would measure.
  const saturates = new Set(normalize(b.spec).layers.flatMap((l, i) => (l.act === 'sigmoid' || l.act === 'tanh' ? [`b${i + 1}`] : [])));
  const saturating = Object.fromEntries(Object.entries(b.params).map(([k, v]) => [k, saturates.has(k) ? v.map((x) => Math.sign(x) * 1e3) : v]));
  // Units near saturation (|z| ≈ 5–15) remain, where act′ = a(1 − a) from a float32 `a` is good
  // to 1e−3 or worse in any backend (float64 or float32 evaluation moves `a` by an ulp): absolute
  // errors are then held to 10× the unsaturated run's.
  const loose = Object.fromEntries(Object.entries(scales).map(([k, v]) => [k, 10 * v]));
  againstJs(b, saturating, b.inputs, 1e6 * ref.lossScale, 'biases ±1e3: ', loose);
}

/**
 * A dynamic batch (`g.batch(max)`, spec.dynamicRows): the module built for up to `batch` rows,
 * called with `dynamicRows`, must compute what the module built for exactly that many rows
 * computes — forward, loss, gradient and a train step — to float rounding (the loops are the
 * same, run to the call's rows; 1/B is 1/rows at run time); its wasm twin must agree with it
 * as any wasm module agrees with JS.
 */
export function checkDynamicBatch(dyn: BuiltWithWasm, fixed: Built, ref: Reference): void {
  const rows = dyn.spec.dynamicRows!;
  const { params, inputs } = fixed;
  const what = `a module for up to ${dyn.spec.batch} rows, called with ${rows}`;
  const same = (part: string, got: Arrays, want: Arrays) => {
    for (const [name, v] of Object.entries(want)) {
      const scale = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      if (got[name]?.length !== v.length) throw new Error(`${what}: ${part} ${name} has ${got[name]?.length} values, the module for ${rows} rows ${v.length}`);
      for (let i = 0; i < v.length; i++) {
        if (!(Math.abs(got[name][i] - v[i]) <= 1e-6 * scale + 1e-5 * Math.abs(v[i]) + 1e-30)) {
          throw new Error(`${what}: ${part} ${name}[${i}] is ${got[name][i]}, but ${v[i]} in the module built for ${rows} rows`);
        }
      }
    }
  };
  const forwardInputs = { x: inputs.x };
  same('forward', dyn.js.forward(params, forwardInputs), fixed.js.forward(params, forwardInputs));
  const [gd, gf] = [dyn.js.gradient(params, inputs), fixed.js.gradient(params, inputs)];
  if (!(Math.abs(gd.loss - gf.loss) <= 1e-6 * Math.abs(gf.loss) + 1e-12)) throw new Error(`${what}: the loss is ${gd.loss}, but ${gf.loss} in the module built for ${rows} rows`);
  same('gradient', gd.grads, gf.grads);
  const [pd, pf] = [copy(params), copy(params)];
  dyn.js.trainStep(pd, inputs, 1e-3, dyn.js.initOptimizerState?.());
  fixed.js.trainStep(pf, inputs, 1e-3, fixed.js.initOptimizerState?.());
  same('params after a train step', pd, pf);
  againstJs({ ...dyn, params, inputs }, params, inputs, ref.lossScale, `${what} (wasm): `, undefined, float32Slack(fixed.def, params, inputs));
}
