/**
 * `npm run bench`: gradc's generated JS and wasm modules against TensorFlow.js (its CPU and
 * its WebAssembly backends), onnxruntime-web (WebAssembly, the step as one ONNX graph) and a
 * hand-written Float32Array implementation, on the networks of bench/networks.ts, for a
 * train step (forward + backward + SGD) and for forward only. Also times a whole-process
 * `gradc build` of S2, and what the train step's checks cost (the same step with them cut
 * out of the generated module).
 *
 *   npm run bench                        # everything
 *   npm run bench -- S1 S2               # some networks
 *   npm run bench -- --quick             # fewer, shorter rounds (development)
 *   npm run bench -- --checks            # only the cost of the checks (prints; writes nothing)
 *   npm run bench -- --readme            # also update docs/performance.md's results section
 *
 * Prints a table and writes bench/results.md. A benchmark, never a timed test: it fails
 * only when a contender computes something different from gradc.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HandMlp } from './handwritten.ts';
import { measure, type Contender, type Timing, type TimingOptions } from './measure.ts';
import { NETWORKS, describe, flops, mlpGraph, paramNames, type NetSpec } from './networks.ts';
import { buildModule, checkAgreement, cloneArrays, DisagreementError, median, randomArray, removeTempDir, withoutTrainChecks, type Arrays, type GeneratedModule, type TrainCheck } from './support.ts';
import { TfMlp, initTfjs, tfMemory } from './tfjs.ts';
import { OrtMlp, initOrt } from './ort.ts';
import type { SideRow, ThreadRow } from './threads.ts';
import { ROOT, RESULTS_FILE, readmeSection, updateReadme } from './update-readme.ts';

const SEED = 1;
const LEARNING_RATE = 1e-3;
/** Agreement tolerance, relative to the largest magnitude of each compared array (float32). */
const RTOL = 1e-3;
const CONTENDERS = ['gradc', 'wasm', 'tfjs', 'tfjsWasm', 'ort', 'hand'] as const;
type Name = (typeof CONTENDERS)[number];
/** How each contender is named in the tables. */
const LABEL: Record<Name, string> = { gradc: 'gradc JS', wasm: 'gradc wasm', tfjs: 'tfjs cpu', tfjsWasm: 'tfjs wasm', ort: 'ort wasm', hand: 'hand' };
type Mode = 'train' | 'forward';

const FULL: TimingOptions = { roundMs: 100, maxRounds: 11, minSamples: 5, slowBudgetMs: 2000, warmupMs: 300, maxWarmupMs: 3000, skipWarmupAboveMs: 2000 };
const QUICK: TimingOptions = { roundMs: 40, maxRounds: 5, minSamples: 3, slowBudgetMs: 300, warmupMs: 100, maxWarmupMs: 1000, skipWarmupAboveMs: 300 };

interface Row {
  readonly spec: NetSpec;
  readonly mode: Mode;
  readonly t: Record<Name, Timing>;
  /** The wasm module's copies per step (arguments in, updated params out), measured alone. */
  readonly copyMs: number;
}

/**
 * What the wasm module's copying costs per step, measured on its own: `Float32Array.set` of
 * every param and input into a WebAssembly memory, and for a train step every param back out,
 * as the module's entry points do (median of rounds of ~50 ms).
 */
function measureCopies(spec: NetSpec, mode: Mode): number {
  const sizes = { params: paramNames(spec).map((n, i) => (n.startsWith('W') ? spec.widths[(i >> 1)] * spec.widths[(i >> 1) + 1] : spec.widths[(i >> 1) + 1])), inputs: [spec.batch * spec.widths[0], ...(mode === 'train' ? [spec.batch * spec.widths.at(-1)!] : [])] };
  const all = [...sizes.params, ...sizes.inputs];
  const total = all.reduce((a, b) => a + b, 0);
  const heap = new Float32Array(new WebAssembly.Memory({ initial: Math.ceil((total * 4) / 65536) + 1 }).buffer);
  const arrays = all.map((n, i) => randomArray(n, i + 11));
  const params = arrays.slice(0, sizes.params.length);
  const once = () => {
    let at = 0;
    for (const a of arrays) {
      heap.set(a, at);
      at += a.length;
    }
    if (mode === 'train') {
      at = 0;
      for (const p of params) {
        p.set(heap.subarray(at, at + p.length));
        at += p.length;
      }
    }
  };
  const samples: number[] = [];
  for (let r = 0; r < 7; r++) {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 50) {
      once();
      n++;
    }
    samples.push((performance.now() - t0) / n);
  }
  return median(samples);
}

interface BuildTime {
  readonly runsMs: number[];
  readonly medianMs: number;
}

interface Target {
  readonly what: string;
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean;
}

/** The train step as generated, then with some of its checks cut out (`withoutTrainChecks`). */
const CHECK_VARIANTS = [
  ['as generated', []],
  ['without the update check', ['update']],
  ['without the argument scans', ['arguments']],
  ['without either', ['update', 'arguments']],
] as const satisfies readonly (readonly [string, readonly TrainCheck[]])[];

interface CheckRow {
  readonly spec: NetSpec;
  readonly t: readonly Timing[];
}

const USAGE = 'usage: npm run bench -- [S1 S2 S3 S4] [--quick] [--checks] [--readme] [--threads N (default 2; 1: no threaded columns)]';

function parseArgs(argv: readonly string[]): { specs: NetSpec[]; quick: boolean; readme: boolean; checksOnly: boolean; threads: number } {
  let quick = false;
  let threads = 2;
  let readme = false;
  let checksOnly = false;
  const ids: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--threads' && /^[1-9]\d*$/.test(argv[i + 1] ?? '')) threads = Number(argv[++i]);
    else if (a === '--quick') quick = true;
    else if (a === '--readme') readme = true;
    else if (a === '--checks') checksOnly = true;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (!a.startsWith('-') && NETWORKS.some((n) => n.id === a.toUpperCase())) ids.push(a.toUpperCase());
    else {
      console.error(`bench: unknown argument ${JSON.stringify(a)}\n${USAGE}`);
      process.exit(2);
    }
  }
  const specs = ids.length ? NETWORKS.filter((n) => ids.includes(n.id)) : [...NETWORKS];
  if (checksOnly && readme) {
    console.error(`bench: --checks writes nothing, so it cannot update docs/performance.md\n${USAGE}`);
    process.exit(2);
  }
  return { specs, quick, readme, checksOnly, threads };
}

// ---- formatting ---------------------------------------------------------------------------

const us = (ms: number): string => {
  const v = ms * 1000;
  if (v < 100) return v.toFixed(2);
  if (v < 1000) return v.toFixed(1);
  return Math.round(v).toLocaleString('en-US');
};
const ratio = (x: number): string => `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
const gflops = (spec: NetSpec, mode: Mode, ms: number): string => {
  const v = flops(spec, mode) / (ms * 1e6);
  return v >= 0.1 ? v.toFixed(2) : v.toPrecision(2);
};
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function table(header: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function resultsTable(rows: readonly Row[]): string {
  return table(
    ['network', 'mode', ...CONTENDERS.map((c) => `${LABEL[c]} µs`), 'JS GFLOP/s', 'wasm GFLOP/s', 'JS ×tfjs', 'JS ×hand', 'wasm ×JS'],
    rows.map((r) => [
      `${r.spec.id} ${r.spec.widths.join('-')} ${r.spec.activation} B=${r.spec.batch}`,
      r.mode,
      ...CONTENDERS.map((c) => us(r.t[c].medianMs)),
      gflops(r.spec, r.mode, r.t.gradc.medianMs),
      gflops(r.spec, r.mode, r.t.wasm.medianMs),
      ratio(r.t.tfjs.medianMs / r.t.gradc.medianMs),
      ratio(r.t.hand.medianMs / r.t.gradc.medianMs),
      ratio(r.t.gradc.medianMs / r.t.wasm.medianMs),
    ]),
    ['l', 'l', ...CONTENDERS.map(() => 'r' as const), 'r', 'r', 'r', 'r', 'r'],
  );
}

/** The wasm module's copies against its step. */
function copiesTable(rows: readonly Row[]): string {
  return table(
    ['network', 'mode', 'copies µs', 'wasm step µs', 'share'],
    rows.map((r) => [r.spec.id, r.mode, us(r.copyMs), us(r.t.wasm.medianMs), pct(r.copyMs / r.t.wasm.medianMs)]),
    ['l', 'l', 'r', 'r', 'r'],
  );
}

/** GFLOP/s of every contender. */
function gflopsTable(rows: readonly Row[]): string {
  return table(
    ['network', 'mode', ...CONTENDERS.map((c) => LABEL[c])],
    rows.map((r) => [r.spec.id, r.mode, ...CONTENDERS.map((c) => gflops(r.spec, r.mode, r.t[c].medianMs))]),
    ['l', 'l', ...CONTENDERS.map(() => 'r' as const)],
  );
}

function detailTable(rows: readonly Row[]): string {
  return table(
    ['network', 'mode', 'contender', 'samples × steps', 'median µs', 'min µs', 'spread (MAD)', 'GFLOP/s'],
    rows.flatMap((r) =>
      CONTENDERS.map((c) => [r.spec.id, r.mode, LABEL[c], `${r.t[c].samples.length} × ${r.t[c].stepsPerSample}`, us(r.t[c].medianMs), us(r.t[c].minMs), pct(r.t[c].relSpread), gflops(r.spec, r.mode, r.t[c].medianMs)]),
    ),
    ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r'],
  );
}

function checksTable(rows: readonly CheckRow[]): string {
  const over = (r: CheckRow, without: number) => pct(r.t[0].medianMs / r.t[without].medianMs - 1);
  return table(
    ['network', ...CHECK_VARIANTS.map(([name]) => `${name} µs`), 'both checks cost', 'update check', 'argument scans'],
    rows.map((r) => [`${r.spec.id} ${r.spec.widths.join('-')} B=${r.spec.batch}`, ...r.t.map((t) => us(t.medianMs)), over(r, 3), over(r, 1), over(r, 2)]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

function targets(rows: readonly Row[], build: BuildTime | undefined): Target[] {
  const out: Target[] = [];
  for (const r of rows.filter((x) => x.mode === 'train')) {
    const first = r.spec.id === 'S1';
    const vsTf = r.t.tfjs.medianMs / r.t.gradc.medianMs;
    const vsHand = r.t.hand.medianMs / r.t.gradc.medianMs;
    const tfGoal = first ? 25 : 5;
    const handGoal = first ? 1 : 3;
    out.push({ what: `${r.spec.id} train step vs tfjs`, goal: `≥ ${tfGoal}×`, measured: ratio(vsTf), met: vsTf >= tfGoal });
    out.push({ what: `${r.spec.id} train step vs hand-written`, goal: first ? '≥ 1× (not slower)' : `≥ ${handGoal}×`, measured: ratio(vsHand), met: vsHand >= handGoal });
  }
  // The wasm target (issue 14).
  for (const r of rows) {
    const t = r.t;
    if (r.spec.id === 'S1') {
      if (r.mode === 'train') out.push({ what: 'S1 wasm train step vs JS', goal: '≤ 1.33× JS\'s time', measured: `${(t.wasm.medianMs / t.gradc.medianMs).toFixed(2)}×`, met: t.wasm.medianMs <= 1.33 * t.gradc.medianMs });
      continue;
    }
    if (r.mode === 'train') {
      const g = flops(r.spec, 'train') / (t.wasm.medianMs * 1e6);
      out.push({ what: `${r.spec.id} wasm train step`, goal: '≥ 15 GFLOP/s', measured: `${g.toFixed(1)} GFLOP/s`, met: g >= 15 });
      out.push({ what: `${r.spec.id} wasm train step vs JS`, goal: '≥ 5×', measured: ratio(t.gradc.medianMs / t.wasm.medianMs), met: t.gradc.medianMs >= 5 * t.wasm.medianMs });
      out.push({ what: `${r.spec.id} wasm train step vs onnxruntime-web`, goal: '≥ 1×', measured: ratio(t.ort.medianMs / t.wasm.medianMs), met: t.ort.medianMs >= t.wasm.medianMs });
    } else {
      out.push({ what: `${r.spec.id} wasm forward vs tfjs wasm`, goal: '≥ 1.2×', measured: ratio(t.tfjsWasm.medianMs / t.wasm.medianMs), met: t.tfjsWasm.medianMs >= 1.2 * t.wasm.medianMs });
    }
  }
  if (build) out.push({ what: 'S2 `gradc build` (whole process)', goal: '< 1 s', measured: `${(build.medianMs / 1000).toFixed(2)} s`, met: build.medianMs < 1000 });
  return out;
}

/**
 * bench/threads.ts for one network, one child process a side (see there why apart): gradc wasm
 * on 1 and `threads` threads interleaved, then onnxruntime-web on `threads`.
 */
function benchThreads(spec: NetSpec, threads: number, quick: boolean): ThreadRow[] {
  const side = (which: 'gradc' | 'ort'): SideRow[] => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'threads.ts'), spec.id, String(threads), which, ...(quick ? ['--quick'] : [])], { cwd: ROOT, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`bench: ${spec.id} on ${threads} threads (${which}) failed (exit ${run.status}):\n${run.stderr}${run.stdout}`);
    return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as SideRow[];
  };
  const [gradc, ort] = [side('gradc'), side('ort')];
  const rows = gradc.map((g): ThreadRow => {
    const o = ort.find((r) => r.mode === g.mode)!;
    return { id: spec.id, mode: g.mode, threads, wasm1: g.times.wasm1!, wasmN: g.times.wasmN!, ortN: o.times.ortN!, status: g.status ?? '' };
  });
  for (const r of rows) console.log(`${spec.id} ${r.mode.padEnd(7)} gradc wasm 1 thread ${us(r.wasm1 / 1000)} µs, ${threads} threads ${us(r.wasmN / 1000)} µs (${ratio(r.wasm1 / r.wasmN)}), ort wasm ${threads} threads ${us(r.ortN / 1000)} µs [${r.status}]`);
  return rows;
}

function threadsTable(rows: readonly ThreadRow[]): string {
  const n = rows[0]?.threads ?? 2;
  return table(
    ['network', 'mode', 'gradc wasm 1 thread µs', `gradc wasm ${n} threads µs`, `ort wasm ${n} threads µs`, `${n} threads ×1`, `×ort ${n} threads`, 'gradc threads'],
    rows.map((r) => [r.id, r.mode, us(r.wasm1 / 1000), us(r.wasmN / 1000), us(r.ortN / 1000), ratio(r.wasm1 / r.wasmN), ratio(r.ortN / r.wasmN), r.status]),
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
}

/** Issue 21's targets: S2 and S3 on N threads ≥ 1.7× one thread and ≥ onnxruntime-web on N; S1 and S4 no slower than one thread. */
function threadTargets(rows: readonly ThreadRow[]): Target[] {
  return rows.flatMap((r): Target[] => {
    const what = `${r.id} wasm ${r.mode} on ${r.threads} threads`;
    const speedup = r.wasm1 / r.wasmN;
    if (r.id === 'S1' || r.id === 'S4') return [{ what: `${what} vs 1 thread`, goal: '≥ 1× (no slower)', measured: ratio(speedup), met: speedup >= 0.97 }];
    if (r.id !== 'S2' && r.id !== 'S3') return [];
    return [
      { what: `${what} vs 1 thread`, goal: '≥ 1.7×', measured: ratio(speedup), met: speedup >= 1.7 },
      { what: `${what} vs onnxruntime-web on ${r.threads}`, goal: '≥ 1×', measured: ratio(r.ortN / r.wasmN), met: r.ortN >= r.wasmN },
    ];
  });
}

function targetsTable(ts: readonly Target[]): string {
  return table(['target', 'goal', 'measured', ''], ts.map((t) => [t.what, t.goal, t.measured, t.met ? 'met' : 'MISSED']), ['l', 'l', 'r', 'l']);
}

// ---- measurements -------------------------------------------------------------------------

/**
 * `node dist/cli.js build bench/graphs/s2.graph.ts --out <tmp>`, timed as a whole process.
 * The module it writes must be the same network as S2 of bench/networks.ts (same shapes, same
 * initial params, same loss); node names may differ, so the graph hashes may too.
 */
async function measureBuild(runs: number): Promise<BuildTime> {
  const cli = join(ROOT, 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error(`bench: ${cli} is missing; run node scripts/build.mjs first (npm run bench does)`);
  const out = mkdtempSync(join(tmpdir(), 'gradc-bench-build-'));
  try {
    const runsMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [cli, 'build', 'bench/graphs/s2.graph.ts', '--out', out], { cwd: ROOT, encoding: 'utf8' });
      runsMs.push(performance.now() - t0);
      if (r.status !== 0) throw new Error(`bench: gradc build of bench/graphs/s2.graph.ts failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
    }
    const s2 = NETWORKS.find((n) => n.id === 'S2')!;
    const built = (await import(pathToFileURL(join(out, `${s2.name}.js`)).href)) as GeneratedModule;
    const ref = (await buildModule(mlpGraph(s2), false)).module;
    const same = (what: string, ok: boolean): void => {
      if (!ok) throw new Error(`bench: bench/graphs/s2.graph.ts is not the same network as S2 of bench/networks.ts: its ${what} differ`);
    };
    const shapes = (m: GeneratedModule): string => JSON.stringify([m.meta.inputs, m.meta.params, m.meta.outputs]);
    same('shapes', shapes(built) === shapes(ref));
    const p = built.initParams(SEED);
    const q = ref.initParams(SEED);
    same('initial params', Object.keys(q).every((k) => p[k]?.length === q[k].length && p[k].every((v, i) => v === q[k][i])));
    const inputs = { x: randomArray(s2.batch * s2.widths[0], 7), y: randomArray(s2.batch * s2.widths[s2.widths.length - 1], 8) };
    const a = built.loss(p, inputs);
    const b = ref.loss(q, inputs);
    same('losses', Math.abs(a - b) <= 1e-6 * Math.abs(b));
    return { runsMs, medianMs: median(runsMs) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function split(spec: NetSpec, p: Arrays): { W: Float32Array[]; b: Float32Array[] } {
  const W: Float32Array[] = [];
  const b: Float32Array[] = [];
  for (let l = 1; l < spec.widths.length; l++) {
    W.push(p[`W${l}`]);
    b.push(p[`b${l}`]);
  }
  return { W, b };
}

const elapsed = <T>(f: () => T): [T, number] => {
  const t0 = performance.now();
  const v = f();
  return [v, performance.now() - t0];
};

async function benchNetwork(spec: NetSpec, options: TimingOptions): Promise<Row[]> {
  const def = mlpGraph(spec);
  const train = await buildModule(def, false);
  const fwd = await buildModule(def, true);
  const wasmTrain = await buildModule(def, false, 'wasm');
  const wasmFwd = await buildModule(def, true, 'wasm');
  console.log(`${spec.id} ${describe(spec)}: compiled in ${train.compileMs.toFixed(0)} ms (forward-only build ${fwd.compileMs.toFixed(0)} ms; wasm ${wasmTrain.compileMs.toFixed(0)} ms)`);

  const params0 = train.module.initParams(SEED);
  const names = paramNames(spec);
  if (Object.keys(params0).join() !== names.join()) throw new Error(`bench: ${spec.id}: gradc params are ${Object.keys(params0).join(', ')}, expected ${names.join(', ')}`);
  const x = randomArray(spec.batch * spec.widths[0], 2 * SEED + 1);
  const y = randomArray(spec.batch * spec.widths[spec.widths.length - 1], 2 * SEED + 2);
  const inputs = { x, y };
  const forwardInputs = { x };

  // Every contender starts from gradc's initParams(SEED), each on its own copy.
  const gp = cloneArrays(params0);
  const wp = cloneArrays(params0);
  const tfm = new TfMlp(spec, params0, x, y, LEARNING_RATE, 'cpu');
  const tfw = new TfMlp(spec, params0, x, y, LEARNING_RATE, 'wasm');
  const ortm = await OrtMlp.create(spec, params0, x, y, LEARNING_RATE);
  const hp = cloneArrays(params0);
  const { W, b } = split(spec, hp);
  const hand = new HandMlp(spec.batch, spec.widths, spec.activation, W, b);

  try {
    // ---- agreement, on the initial params (it also warms up every code path) ----
    const [ref, gradcGradMs] = elapsed(() => train.module.gradient(gp, inputs));
    const [wg, wasmGradMs] = elapsed(() => wasmTrain.module.gradient(wp, inputs));
    const [tg, tfGradMs] = elapsed(() => tfm.gradient());
    const [twg, tfwGradMs] = elapsed(() => tfw.gradient());
    const t0 = performance.now();
    const og = await ortm.gradient();
    const ortGradMs = performance.now() - t0;
    const [handLoss, handGradMs] = elapsed(() => hand.gradient(x, y));
    const handGrads: Arrays = {};
    W.forEach((_, l) => {
      handGrads[`W${l + 1}`] = hand.dW[l];
      handGrads[`b${l + 1}`] = hand.db[l];
    });
    const pairs = (loss: number, grads: Arrays) => [{ name: 'loss', got: [loss], want: [ref.loss] }, ...names.map((n) => ({ name: `d${n}`, got: grads[n], want: ref.grads[n] }))];
    const err: Partial<Record<Name, [number, number]>> = {};
    const peers: [Name, string, number, Arrays][] = [
      ['wasm', 'gradc wasm', wg.loss, wg.grads], ['tfjs', 'tfjs', tg.loss, tg.grads], ['tfjsWasm', 'tfjs wasm', twg.loss, twg.grads],
      ['ort', 'onnxruntime-web', og.loss, og.grads], ['hand', 'hand-written', handLoss, handGrads],
    ];
    for (const [name, label, loss, grads] of peers) err[name] = [checkAgreement(`${spec.id} gradient`, label, pairs(loss, grads), RTOL), 0];

    const [gradcOut, gradcFwdMs] = elapsed(() => fwd.module.forward(gp, forwardInputs).o);
    const [wasmOut, wasmFwdMs] = elapsed(() => wasmFwd.module.forward(wp, forwardInputs).o.slice());
    const [tfOut, tfFwdMs] = elapsed(() => tfm.forward().slice());
    const [tfwOut, tfwFwdMs] = elapsed(() => tfw.forward().slice());
    const t1 = performance.now();
    const ortOut = (await ortm.forward()).slice();
    const ortFwdMs = performance.now() - t1;
    const [handOut, handFwdMs] = elapsed(() => hand.forward(x).slice());
    const outs: [Name, string, Float32Array][] = [['wasm', 'gradc wasm', wasmOut], ['tfjs', 'tfjs', tfOut], ['tfjsWasm', 'tfjs wasm', tfwOut], ['ort', 'onnxruntime-web', ortOut], ['hand', 'hand-written', handOut]];
    for (const [name, label, out] of outs) err[name]![1] = checkAgreement(`${spec.id} forward`, label, [{ name: 'o', got: out, want: gradcOut }], RTOL);
    console.log(
      `${spec.id}: peers agree with gradc JS (loss ${ref.loss.toPrecision(6)}; worst relative error, gradient / forward: ${outs.map(([n]) => `${LABEL[n]} ${err[n]![0].toExponential(1)} / ${err[n]![1].toExponential(1)}`).join(', ')})`,
    );

    // ---- timing ----
    const lastLoss: Record<Name, number> = { gradc: NaN, wasm: NaN, tfjs: NaN, tfjsWasm: NaN, ort: NaN, hand: NaN };
    const trainSteps: Contender[] = [
      { name: 'gradc', estimateMs: gradcGradMs, step: () => void (lastLoss.gradc = train.module.trainStep(gp, inputs, LEARNING_RATE)) },
      { name: 'wasm', estimateMs: wasmGradMs, step: () => void (lastLoss.wasm = wasmTrain.module.trainStep(wp, inputs, LEARNING_RATE)) },
      { name: 'tfjs', estimateMs: tfGradMs, step: () => void (lastLoss.tfjs = tfm.trainStep()) },
      { name: 'tfjsWasm', estimateMs: tfwGradMs, step: () => void (lastLoss.tfjsWasm = tfw.trainStep()) },
      { name: 'ort', estimateMs: ortGradMs, step: async () => void (lastLoss.ort = await ortm.trainStep()) },
      { name: 'hand', estimateMs: handGradMs, step: () => void (lastLoss.hand = hand.trainStep(x, y, LEARNING_RATE)) },
    ];
    let sink = 0;
    const forwardSteps: Contender[] = [
      { name: 'gradc', estimateMs: gradcFwdMs, step: () => void (sink += fwd.module.forward(gp, forwardInputs).o[0]) },
      { name: 'wasm', estimateMs: wasmFwdMs, step: () => void (sink += wasmFwd.module.forward(wp, forwardInputs).o[0]) },
      { name: 'tfjs', estimateMs: tfFwdMs, step: () => void (sink += tfm.forward()[0]) },
      { name: 'tfjsWasm', estimateMs: tfwFwdMs, step: () => void (sink += tfw.forward()[0]) },
      { name: 'ort', estimateMs: ortFwdMs, step: async () => void (sink += (await ortm.forward())[0]) },
      { name: 'hand', estimateMs: handFwdMs, step: () => void (sink += hand.forward(x)[0]) },
    ];

    const rows: Row[] = [];
    for (const [mode, contenders] of [['train', trainSteps], ['forward', forwardSteps]] as const) {
      const before = tfMemory().numTensors;
      const t2 = performance.now();
      const timings = await measure(contenders, options);
      const after = tfMemory().numTensors;
      if (after !== before) throw new Error(`bench: ${spec.id} ${mode}: tfjs leaks tensors (${before} before timing, ${after} after)`);
      const t = Object.fromEntries(timings.map((x) => [x.name, x])) as Record<Name, Timing>;
      rows.push({ spec, mode, t, copyMs: measureCopies(spec, mode) });
      console.log(
        `${spec.id} ${mode.padEnd(7)} ${CONTENDERS.map((c) => `${LABEL[c]} ${us(t[c].medianMs)} µs (${t[c].samples.length}×${t[c].stepsPerSample}, ±${pct(t[c].relSpread)})`).join('  ')}  [${((performance.now() - t2) / 1000).toFixed(1)} s]`,
      );
    }
    for (const c of CONTENDERS) {
      if (!Number.isFinite(lastLoss[c])) throw new Error(`bench: ${spec.id}: ${c}'s loss became ${lastLoss[c]} while training`);
    }
    if (Number.isNaN(sink)) console.warn(`bench: ${spec.id}: a forward output was NaN`);
    return rows;
  } finally {
    tfm.dispose();
    tfw.dispose();
    await ortm.dispose();
  }
}

/**
 * The train step as generated against the same step with its checks cut out, interleaved.
 * Every variant must leave the params exactly as the generated one does, or the bench aborts.
 */
async function benchChecks(spec: NetSpec, options: TimingOptions): Promise<CheckRow> {
  const def = mlpGraph(spec);
  const modules = await Promise.all(CHECK_VARIANTS.map(async ([, cut]) => (await buildModule(def, false, 'js', (js) => (cut.length ? withoutTrainChecks(js, cut) : js))).module));
  const inputs = { x: randomArray(spec.batch * spec.widths[0], 2 * SEED + 1), y: randomArray(spec.batch * spec.widths[spec.widths.length - 1], 2 * SEED + 2) };
  const params = modules.map((m) => m.initParams(SEED));
  const [ref, ...others] = params.map((p, i) => (modules[i].trainStep(p, inputs, LEARNING_RATE), p));
  others.forEach((p, i) => {
    if (Object.keys(ref).some((k) => ref[k].some((v, j) => !Object.is(v, p[k][j])))) {
      throw new DisagreementError(`${spec.id}: the train step ${CHECK_VARIANTS[i + 1][0]} leaves different params`);
    }
  });
  const timings = await measure(CHECK_VARIANTS.map(([name], i) => ({ name, step: () => void modules[i].trainStep(params[i], inputs, LEARNING_RATE) })), options);
  const row = { spec, t: CHECK_VARIANTS.map(([name]) => timings.find((t) => t.name === name)!) };
  console.log(`${spec.id} checks: ${row.t.map((t) => `${t.name} ${us(t.medianMs)} µs`).join(', ')}`);
  return row;
}

// ---- main ---------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { specs, quick, readme, checksOnly, threads } = parseArgs(process.argv.slice(2));
  const options = quick ? QUICK : FULL;
  if (checksOnly) {
    const checks: CheckRow[] = [];
    for (const spec of specs) checks.push(await benchChecks(spec, options));
    removeTempDir();
    console.log(`\nThe train step's checks (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${loadavg()[0].toFixed(2)} on ${cpus().length} cores):\n\n${checksTable(checks)}`);
    return;
  }
  const tf = await initTfjs();
  const cpu = cpus();
  const when = new Date();
  const env = {
    date: `${when.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    node: process.version,
    cpu: `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores`,
    tfjs: `TensorFlow.js ${tf.version} (cpu and wasm backends; wasm with SIMD, one thread)`,
    ort: `onnxruntime-web ${initOrt().version} (wasm, SIMD, one thread)`,
  };
  console.log(`gradc bench${quick ? ' --quick' : ''}: ${specs.map((s) => s.id).join(' ')}; ${env.date}; Node ${env.node}; ${env.cpu}; ${env.tfjs}; ${env.ort}`);
  const started = performance.now();
  const loadStart = loadavg()[0];
  if (loadStart > cpu.length * 0.5) console.warn(`bench: warning: the machine is busy (load average ${loadStart.toFixed(2)} on ${cpu.length} cores); timings will be noisy`);

  let build: BuildTime | undefined;
  if (specs.some((s) => s.id === 'S2')) {
    build = await measureBuild(3);
    console.log(`S2 build: gradc build bench/graphs/s2.graph.ts as a whole process: median ${(build.medianMs / 1000).toFixed(2)} s (runs ${build.runsMs.map((m) => (m / 1000).toFixed(2)).join(', ')} s)`);
  }

  const rows: Row[] = [];
  const checks: CheckRow[] = [];
  const threadRows: ThreadRow[] = [];
  for (const spec of specs) {
    rows.push(...(await benchNetwork(spec, options)));
    checks.push(await benchChecks(spec, options));
    if (threads > 1) threadRows.push(...benchThreads(spec, threads, quick));
  }
  removeTempDir();
  const total = (performance.now() - started) / 1000;
  const loadEnd = loadavg()[0];
  const busy = Math.max(loadStart, loadEnd) > cpu.length * 0.75;
  const loadText = `load average (1 min) ${loadStart.toFixed(2)} at the start, ${loadEnd.toFixed(2)} at the end, on ${cpu.length} cores`;

  const ts = [...targets(rows, build), ...threadTargets(threadRows)];
  const results = resultsTable(rows);
  const threadText = threadRows.length ? threadsTable(threadRows) : '';
  const targetText = targetsTable(ts);
  console.log(`\n${results}\n\n${threadText ? `${threadText}\n\n` : ''}${targetText}\n\nTotal ${total.toFixed(0)} s; ${loadText}${busy ? ': the machine was busy, so timings are noisy' : ''}.`);

  const partial = specs.length < NETWORKS.length;
  const md = [
    '# gradc benchmark results',
    '',
    `Measured ${env.date} with \`npm run bench${quick ? ' -- --quick' : ''}${partial ? ` ${specs.map((s) => s.id).join(' ')}` : ''}\`` +
      ` on ${env.cpu}, Node ${env.node}, ${env.tfjs}, ${env.ort}.` +
      (quick ? ' **Quick run (fewer, shorter rounds): for development, not for quoting.**' : '') +
      ` Total ${total.toFixed(0)} s; ${loadText}${busy ? ' (**busy machine: noisy timings**)' : ''}.`,
    '',
    'Median time per step (µs) of a train step (forward + backward + SGD update) and of a forward pass,',
    'f32, row-major, squared loss J = (1/B) Σᵢ ½‖oᵢ − yᵢ‖². GFLOP/s counts 2·m·n·k per matmul (a train',
    'step adds dW for every layer and dA for every layer but the first). JS ×tfjs and JS ×hand are the',
    'peer\'s time over gradc JS\'s, wasm ×JS gradc JS\'s over gradc wasm\'s: above 1× the latter is faster.',
    '',
    results,
    '',
    'GFLOP/s of every contender:',
    '',
    gflopsTable(rows),
    '',
    'The wasm module copies the caller\'s params and inputs into its memory on every call, and a train step\'s',
    'updated params back out; those copies alone (`Float32Array.set` of the same arrays, measured apart), against the step:',
    '',
    copiesTable(rows),
    '',
    ...(threadText ? [
      `On ${threads} threads (spec/wasm.md, Threads): gradc's wasm module with \`useThreads(${threads})\` against the same module on one`,
      `thread (the two interleaved) and onnxruntime-web with \`ort.env.wasm.numThreads = ${threads}\`, each side in a child process of its own per network (once ONNX Runtime's pool has run, its threads keep a core busy for the life of the process; and ONNX Runtime`,
      'takes one thread count a process); gradc on N threads leaves the same params as on one, bit for bit, or the bench aborts.',
      `The machine has ${cpu.length} cores: with other work running, threads fight it for them.`,
      '',
      threadText,
      '',
    ] : []),
    ...(build ? [`S2 build: \`gradc build bench/graphs/s2.graph.ts\` as a whole process (\`node dist/cli.js\`), median of ${build.runsMs.length}: **${(build.medianMs / 1000).toFixed(2)} s**.`, ''] : []),
    'Targets:',
    '',
    targetText,
    '',
    'What the train step\'s checks cost (spec/abi.md, "What a train step checks"): the same step with some of',
    'them cut out of the generated module, timed interleaved; every variant leaves the same params. The',
    'update check computes every new value once more before any is written; the argument scans test every',
    'param for NaN and ±Infinity and every written array for shared memory. Percentages: the time over the',
    'step without them.',
    '',
    checksTable(checks),
    '',
    '<details><summary>Method and per-contender detail</summary>',
    '',
    '- **gradc JS / wasm**: each network is built in process from `bench/networks.ts` with `compile()`, and the',
    '  emitted `<name>.js` (`<name>.wasm.js`) is imported from a temp folder; `trainStep(params, {x, y}, lr)`, and',
    '  `forward(params, {x})` of the network\'s `--forward-only` build. The wasm module copies params and inputs into',
    '  its memory and the updated params back out on every call: that is in its times.',
    `- **tfjs cpu / tfjs wasm**: ${env.tfjs}, \`tf.variable\` params, \`tf.train.sgd(lr).minimize(f, true)\` (the loss is`,
    '  read back), and a tidied forward read back with `dataSync()`; one engine, each model switching to its backend.',
    `- **ort wasm**: ${env.ort}; the train step is one ONNX graph (forward, backward, SGD; \`bench/onnx.ts\`), its updated`,
    '  params fed back as the next step\'s inputs; forward is a forward-only graph. `session.run` is asynchronous.',
    '- **hand**: `bench/handwritten.ts`, preallocated buffers, i-k-j matmuls, transposed products by index arithmetic.',
    `- All start from gradc's \`initParams(${SEED})\`; before timing, each peer's loss, gradients and forward output must`,
    `  match gradc's \`gradient()\` / \`forward()\` within a relative error of ${RTOL} (max-norm), or the bench aborts.`,
    `- Round-robin rounds (rotating order) after a warm-up; each round runs a batch of steps of ~${options.roundMs} ms per`,
    `  contender and gives one sample; up to ${options.maxRounds} rounds, at least ${options.minSamples} samples for slow contenders.`,
    '',
    detailTable(rows),
    '',
    '</details>',
    '',
  ].join('\n');
  writeFileSync(RESULTS_FILE, md);
  console.log(`Wrote ${RESULTS_FILE}.`);
  if (readme) {
    if (quick || partial) console.warn('bench: note: updating docs/performance.md with a quick or partial run');
    updateReadme(readmeSection(md));
  }
}

main().catch((e: unknown) => {
  removeTempDir();
  if (e instanceof DisagreementError) {
    console.error(`\nbench: ABORTED, results would be meaningless: ${e.message}`);
  } else {
    console.error(e instanceof Error ? (e.message.startsWith('bench:') ? e.message : e.stack) : e);
  }
  process.exit(1);
});
