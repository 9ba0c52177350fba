/**
 * The threaded columns of `npm run bench`, run by bench/run.ts as two child processes per
 * network, one a side:
 * - `gradc`: gradc's wasm module on one thread and on N (`useThreads`), interleaved
 *   (bench/measure.ts), train step and forward, after checking that N threads leave the same
 *   params as one, bit for bit;
 * - `ort`: onnxruntime-web's wasm backend with `numThreads` N (ONNX Runtime reads its thread
 *   count once per process), after checking that its gradient agrees with gradc's.
 * Apart, because once ONNX Runtime's pool has run, its threads keep a core busy for the life of
 * the process: in one process with it, gradc's 2-thread S2 train step measured 8.5–8.8 ms
 * against 6.6–6.8 on one thread; in a process of its own, 3.7 ms.
 *
 *   tsx bench/threads.ts S2 2 gradc|ort [--quick]     # prints one JSON line: SideRow[]
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

/** One side's medians (µs per step) by mode: gradc's `wasm1` and `wasmN`, or `ortN`. */
export interface SideRow {
  readonly mode: 'train' | 'forward';
  readonly times: Readonly<Record<string, number>>;
  /** What gradc's module said of its threads (gradc's side). */
  readonly status?: string;
}

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

async function benchSide(spec: NetSpec, threads: number, side: 'gradc' | 'ort', options: TimingOptions): Promise<SideRow[]> {
  const def = mlpGraph(spec);
  const x = randomArray(spec.batch * spec.widths[0], 2 * SEED + 1);
  const y = randomArray(spec.batch * spec.widths.at(-1)!, 2 * SEED + 2);
  const inputs = { x, y };
  let sink = 0;
  const timeModes = async (modes: [SideRow['mode'], Contender[]][], status?: string): Promise<SideRow[]> => {
    const rows: SideRow[] = [];
    for (const [mode, contenders] of modes) {
      const timed = await measure(contenders, options);
      rows.push({ mode, times: Object.fromEntries(timed.map((t) => [t.name, t.medianMs * 1000])), ...(status ? { status } : {}) });
    }
    if (!Number.isFinite(sink)) console.error(`bench: ${spec.id}: a loss or output was not finite`);
    return rows;
  };
  try {
    if (side === 'ort') {
      const reference = (await buildModule(def, false, 'wasm')).module as Threaded;
      const params0 = reference.initParams(SEED);
      const ortm = await OrtMlp.create(spec, params0, x, y, LEARNING_RATE, threads);
      try {
        const want = reference.gradient(params0, inputs);
        const got = await ortm.gradient();
        checkAgreement(`${spec.id} gradient`, `onnxruntime-web (${threads} threads)`, [{ name: 'loss', got: [got.loss], want: [want.loss] }, ...Object.keys(want.grads).map((n) => ({ name: `d${n}`, got: got.grads[n], want: want.grads[n] }))], RTOL);
        return await timeModes([
          ['train', [{ name: 'ortN', step: async () => void (sink += await ortm.trainStep()) }]],
          ['forward', [{ name: 'ortN', step: async () => void (sink += (await ortm.forward())[0]) }]],
        ]);
      } finally {
        await ortm.dispose();
      }
    }
    // Two copies of each module (each import its own instance): one stays on one thread.
    const [train1, trainN, fwd1, fwdN] = (await Promise.all([false, false, true, true].map((f) => buildModule(def, f, 'wasm')))).map((b) => b.module as Threaded);
    await trainN.useThreads(threads);
    await fwdN.useThreads(threads);
    const status = `${trainN.threads.threads} thread(s)${trainN.threads.reason ? `: ${trainN.threads.reason}` : ''}`;
    const params0 = train1.initParams(SEED);
    const [p1, pN] = [cloneArrays(params0), cloneArrays(params0)];
    for (let s = 0; s < 3; s++) {
      train1.trainStep(p1, inputs, LEARNING_RATE);
      trainN.trainStep(pN, inputs, LEARNING_RATE);
    }
    for (const k of Object.keys(p1)) {
      if (p1[k].some((v, i) => !Object.is(v, pN[k][i]))) throw new Error(`bench: ${spec.id}: gradc wasm on ${threads} threads leaves other params than on one (${k})`);
    }
    return await timeModes([
      ['train', [
        { name: 'wasm1', step: () => void (sink += train1.trainStep(p1, inputs, LEARNING_RATE)) },
        { name: 'wasmN', step: () => void (sink += trainN.trainStep(pN, inputs, LEARNING_RATE)) },
      ]],
      ['forward', [
        { name: 'wasm1', step: () => void (sink += fwd1.forward(p1, { x }).o[0]) },
        { name: 'wasmN', step: () => void (sink += fwdN.forward(pN, { x }).o[0]) },
      ]],
    ], status);
  } finally {
    removeTempDir();
  }
}

const QUICK: TimingOptions = { roundMs: 40, maxRounds: 5, minSamples: 3, slowBudgetMs: 300, warmupMs: 100, maxWarmupMs: 1000, skipWarmupAboveMs: 300 };
const FULL: TimingOptions = { roundMs: 100, maxRounds: 11, minSamples: 5, slowBudgetMs: 2000, warmupMs: 300, maxWarmupMs: 3000, skipWarmupAboveMs: 2000 };

const [id, count, side, ...rest] = process.argv.slice(2);
const spec = NETWORKS.find((n) => n.id === id);
const threads = Number(count);
if (!spec || !Number.isInteger(threads) || threads < 1 || (side !== 'gradc' && side !== 'ort')) {
  console.error('usage: tsx bench/threads.ts <S1|S2|S3|S4> <threads> <gradc|ort> [--quick]');
  process.exit(2);
}
console.log(JSON.stringify(await benchSide(spec, threads, side, rest.includes('--quick') ? QUICK : FULL)));
process.exit(0);
