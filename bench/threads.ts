/**
 * The threaded columns of `npm run bench`, run by bench/run.ts as a child process per network
 * (ONNX Runtime reads its thread count once per process): gradc's wasm module on one thread
 * and on N (`useThreads`), interleaved (bench/measure.ts), then onnxruntime-web's wasm backend
 * with `numThreads` N on its own, train step and forward. Checks first that gradc on N threads leaves the
 * same params as on one, bit for bit, and that ONNX Runtime on N agrees with gradc.
 *
 *   tsx bench/threads.ts S2 2 [--quick]     # prints one JSON line: ThreadRow[]
 */
import { measure, type Contender, type TimingOptions } from './measure.ts';
import { NETWORKS, mlpGraph, type NetSpec } from './networks.ts';
import { buildModule, checkAgreement, cloneArrays, randomArray, removeTempDir, type GeneratedModule } from './support.ts';
import { OrtMlp } from './ort.ts';

const SEED = 1;
const LEARNING_RATE = 1e-3;
const RTOL = 1e-3;

/** What a threaded module adds to `GeneratedModule` (spec/wasm.md, Threads). */
type Threaded = GeneratedModule & { useThreads(count: number): Promise<number>; readonly threads: { readonly threads: number; readonly reason?: string } };

export interface ThreadRow {
  readonly id: string;
  readonly mode: 'train' | 'forward';
  readonly threads: number;
  /** Median µs per step: gradc wasm on one thread, on `threads`, onnxruntime-web on `threads`. */
  readonly wasm1: number;
  readonly wasmN: number;
  readonly ortN: number;
  /** What gradc's module said of its threads (a reason where it runs fewer). */
  readonly status: string;
}

async function benchThreads(spec: NetSpec, threads: number, options: TimingOptions): Promise<ThreadRow[]> {
  const def = mlpGraph(spec);
  // Two copies of each module (each import its own instance): one stays on one thread.
  const [train1, trainN, fwd1, fwdN] = (await Promise.all([false, false, true, true].map((f) => buildModule(def, f, 'wasm')))).map((b) => b.module as Threaded);
  await trainN.useThreads(threads);
  await fwdN.useThreads(threads);
  const status = `${trainN.threads.threads} thread(s)${trainN.threads.reason ? `: ${trainN.threads.reason}` : ''}`;
  const params0 = train1.initParams(SEED);
  const x = randomArray(spec.batch * spec.widths[0], 2 * SEED + 1);
  const y = randomArray(spec.batch * spec.widths.at(-1)!, 2 * SEED + 2);
  const inputs = { x, y };
  const [p1, pN] = [cloneArrays(params0), cloneArrays(params0)];
  for (let s = 0; s < 3; s++) {
    train1.trainStep(p1, inputs, LEARNING_RATE);
    trainN.trainStep(pN, inputs, LEARNING_RATE);
  }
  for (const k of Object.keys(p1)) {
    if (p1[k].some((v, i) => !Object.is(v, pN[k][i]))) throw new Error(`bench: ${spec.id}: gradc wasm on ${threads} threads leaves other params than on one (${k})`);
  }
  const ortm = await OrtMlp.create(spec, params0, x, y, LEARNING_RATE, threads);
  try {
    const want = train1.gradient(params0, inputs);
    const got = await ortm.gradient();
    checkAgreement(`${spec.id} gradient`, `onnxruntime-web (${threads} threads)`, [{ name: 'loss', got: [got.loss], want: [want.loss] }, ...Object.keys(want.grads).map((n) => ({ name: `d${n}`, got: got.grads[n], want: want.grads[n] }))], RTOL);
    let sink = 0;
    const modes: [ThreadRow['mode'], Contender[]][] = [
      ['train', [
        { name: 'wasm1', step: () => void (sink += train1.trainStep(p1, inputs, LEARNING_RATE)) },
        { name: 'wasmN', step: () => void (sink += trainN.trainStep(pN, inputs, LEARNING_RATE)) },
        { name: 'ortN', step: async () => void (sink += await ortm.trainStep()) },
      ]],
      ['forward', [
        { name: 'wasm1', step: () => void (sink += fwd1.forward(p1, { x }).o[0]) },
        { name: 'wasmN', step: () => void (sink += fwdN.forward(pN, { x }).o[0]) },
        { name: 'ortN', step: async () => void (sink += (await ortm.forward())[0]) },
      ]],
    ];
    const rows: ThreadRow[] = [];
    for (const [mode, contenders] of modes) {
      // gradc on 1 and N threads interleaved, onnxruntime-web apart: its pool's threads spin on
      // after each step and took the second core from the gradc step that followed (S2 on 2
      // threads measured 1.02x interleaved with it, 1.5-1.7x without).
      const gradc = contenders.filter((c) => c.name !== 'ortN');
      const ort = contenders.filter((c) => c.name === 'ortN');
      const timed = [...(await measure(gradc, options)), ...(await measure(ort, options))];
      const t = Object.fromEntries(timed.map((x) => [x.name, x.medianMs * 1000]));
      rows.push({ id: spec.id, mode, threads, wasm1: t.wasm1, wasmN: t.wasmN, ortN: t.ortN, status });
    }
    if (!Number.isFinite(sink)) console.error(`bench: ${spec.id}: a loss or output was not finite`);
    return rows;
  } finally {
    await ortm.dispose();
    removeTempDir();
  }
}

const QUICK: TimingOptions = { roundMs: 40, maxRounds: 5, minSamples: 3, slowBudgetMs: 300, warmupMs: 100, maxWarmupMs: 1000, skipWarmupAboveMs: 300 };
const FULL: TimingOptions = { roundMs: 100, maxRounds: 11, minSamples: 5, slowBudgetMs: 2000, warmupMs: 300, maxWarmupMs: 3000, skipWarmupAboveMs: 2000 };

const [id, count, ...rest] = process.argv.slice(2);
const spec = NETWORKS.find((n) => n.id === id);
const threads = Number(count);
if (!spec || !Number.isInteger(threads) || threads < 1) {
  console.error('usage: tsx bench/threads.ts <S1|S2|S3|S4> <threads> [--quick]');
  process.exit(2);
}
console.log(JSON.stringify(await benchThreads(spec, threads, rest.includes('--quick') ? QUICK : FULL)));
process.exit(0);
