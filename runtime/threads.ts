/**
 * The wasm modules' threads, written once (shipped in the host file beside the modules, as
 * `checks.ts` is): a pool of workers (`worker_threads` in Node, Web Workers in browsers),
 * each instantiating the module's kernels over one shared `WebAssembly.Memory`, and the one
 * place a threaded module launches a kernel (`run`). How it works, and why:
 *
 * - The calls stay synchronous. The calling thread launches every kernel; a kernel the build
 *   split by rows (a matrix product worth it, see spec/wasm.md) is shared: the caller writes
 *   the job (kernel, rows, scalars) into a small control block, bumps its generation and
 *   wakes the workers, computes its own share, and waits for theirs by watching a counter
 *   with atomics. It spins (Atomics.wait may not block a browser's main thread), blocking
 *   only after a long spin where it may.
 * - Each thread computes whole rows of the output, each element in the same order as on one
 *   thread, and shares start at a multiple of 4 rows (the kernels' row tiles): results are the
 *   same bits for every thread count.
 * - Workers spin a little after each job (the next launch of a step follows within
 *   microseconds) and then block in Atomics.wait until the next one.
 * - The worker's code travels as text (a Blob URL in browsers, `eval` in Node): no bundler
 *   needs a worker file. Workers are unref'd in Node, so they never keep a program running.
 * - Where threads cannot run (no SharedArrayBuffer: a page that is not cross-origin isolated;
 *   no workers; a memory that cannot be shared), the module keeps running on one thread and
 *   `status.reason` says why.
 */

/**
 * The WebAssembly API this file uses, declared here: it is shipped in the host file, which a
 * project without DOM or Node types must type-check too, and TypeScript's ES libraries do not
 * declare WebAssembly.
 */
type WasmModule = object;
type WasmMemory = object;
declare const WebAssembly: {
  Memory: new (limits: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: object): Promise<{ exports: unknown }>;
};

/** What a wasm module reports of its threads: how many run its kernels, and why not more. */
export interface ThreadStatus {
  /** Threads running the kernels, the caller's included (1: the caller alone). */
  readonly threads: number;
  /** Why there are not as many as asked for (absent when there are). */
  readonly reason?: string;
}

/** The control block's int32 slots; the kernel's scalars follow as float64s from byte 64. */
const GEN = 0, DONE = 1, KERNEL = 2, ROWS = 3, COUNT = 4, ARGS = 5, STOP = 6, FAILED = 7;
const ARGS_AT = 64, MAX_ARGS = 16;
/** Rows a share starts at a multiple of: the kernels' row tile. */
const TILE_ROWS = 4;
/** Atomics.load polls before a waiting thread blocks (tens of microseconds). */
const SPINS = 20000;

/** The rows [start, end) of `rows` that thread `t` of `count` computes: whole tiles, the last ragged. */
export function threadRows(rows: number, t: number, count: number): [number, number] {
  const tiles = Math.ceil(rows / TILE_ROWS);
  const start = Math.floor((t * tiles) / count) * TILE_ROWS;
  const end = Math.min(rows, Math.floor(((t + 1) * tiles) / count) * TILE_ROWS);
  return [Math.min(start, rows), end];
}

/**
 * A worker's source, as text (so no build tool can rewrite it or make it reach names outside
 * it): instantiates the kernels over the shared memory, says it is ready, then runs its share
 * of every job (the rows of `threadRows`) until told to stop. `port` is Node's parentPort or
 * the worker's global scope.
 */
const WORKER_SOURCE = `
const start = (msg) => {
  const [GEN, DONE, KERNEL, ROWS, COUNT, ARGS, STOP, FAILED] = [${GEN}, ${DONE}, ${KERNEL}, ${ROWS}, ${COUNT}, ${ARGS}, ${STOP}, ${FAILED}];
  const exports = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory } }).exports;
  const ctl = new Int32Array(msg.control);
  const args = new Float64Array(msg.control, ${ARGS_AT}, ${MAX_ARGS});
  const tid = msg.tid;
  // The generation before saying ready: the first job comes after.
  let gen = Atomics.load(ctl, GEN);
  port.postMessage('ready');
  for (;;) {
    for (let spin = 0; Atomics.load(ctl, GEN) === gen; spin++) if (spin > ${SPINS}) Atomics.wait(ctl, GEN, gen);
    gen = Atomics.load(ctl, GEN);
    if (Atomics.load(ctl, STOP)) return;
    const count = ctl[COUNT], rows = ctl[ROWS];
    if (tid < count) {
      const tiles = Math.ceil(rows / ${TILE_ROWS});
      const r0 = Math.min(rows, Math.floor((tid * tiles) / count) * ${TILE_ROWS});
      const r1 = Math.min(rows, Math.floor(((tid + 1) * tiles) / count) * ${TILE_ROWS});
      if (r1 > r0) {
        const scalars = [r0, r1, tid];
        for (let i = 0; i < ctl[ARGS]; i++) scalars.push(args[i]);
        try {
          exports['k' + ctl[KERNEL]](...scalars);
        } catch (e) {
          Atomics.store(ctl, FAILED, 1);
          port.postMessage(String(e));
        }
      }
    }
    Atomics.add(ctl, DONE, 1);
    Atomics.notify(ctl, DONE);
  }
};
if (typeof port.once === 'function') port.once('message', start);
else port.onmessage = (e) => start(e.data);
`;

/** A worker, Node's or a browser's, as far as the pool uses it. */
interface AnyWorker {
  postMessage(m: unknown): void;
  terminate(): unknown;
}

/** What the pool reads of the host's globals (typed here: the host file needs neither DOM nor Node types). */
interface Host {
  readonly crossOriginIsolated?: boolean;
  readonly Worker?: new (url: string) => AnyWorker & { onmessage: unknown; onerror: unknown };
  readonly Blob: new (parts: string[], options: { type: string }) => object;
  readonly URL: { createObjectURL(blob: object): string; revokeObjectURL(url: string): void };
}
const host = globalThis as unknown as Host;

/** The reason where SharedArrayBuffer is missing (joined at run time: it is longer than a line). */
const NOT_ISOLATED = [
  'SharedArrayBuffer is unavailable: the page is not cross-origin isolated',
  '(serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)',
].join(' ');

/** A thread count must be a whole number >= 1. */
function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`useThreads: count must be a whole number >= 1, got ${String(count)}`);
}

/** Why threads cannot run here, or undefined where they can (SharedArrayBuffer and workers). */
function threadsUnavailable(): string | undefined {
  if (typeof SharedArrayBuffer === 'undefined' || host.crossOriginIsolated === false) {
    return NOT_ISOLATED;
  }
  return undefined;
}

/** Whether Atomics.wait may block this thread (not a browser's main thread). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

type NodeWorker = AnyWorker & { unref(): void; once(event: string, f: (x: { message?: string }) => void): void };
type NodeWorkers = { Worker: new (code: string, o: { eval: true }) => NodeWorker };

/** Node's worker_threads, where the host has no Web Workers (undefined where it has neither). */
async function nodeWorkers(): Promise<NodeWorkers | undefined> {
  if (typeof host.Worker === 'function') return undefined;
  // A computed specifier: bundlers building for browsers leave it alone.
  const id = 'node:worker_threads';
  try {
    return (await import(/* @vite-ignore */ /* webpackIgnore: true */ id)) as NodeWorkers;
  } catch {
    return undefined;
  }
}

/**
 * A worker running WORKER_SOURCE, resolved once it is ready (it posts when it has
 * instantiated the kernels): a Web Worker from a Blob URL where the host has them, else a
 * worker_threads Worker (Node; unref'd).
 */
async function startWorker(start: unknown): Promise<AnyWorker> {
  const node = await nodeWorkers();
  if (node) {
    const { Worker } = node;
    const w = new Worker(`const port = require('node:worker_threads').parentPort;\n${WORKER_SOURCE}`, { eval: true });
    w.unref();
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', (e) => reject(new Error(e.message)));
      w.postMessage(start);
    });
    return w;
  }
  if (typeof host.Worker !== 'function') throw new Error('this host has no workers');
  const url = host.URL.createObjectURL(new host.Blob([`const port = self;\n${WORKER_SOURCE}`], { type: 'text/javascript' }));
  const w = new host.Worker(url);
  try {
    await new Promise<void>((resolve, reject) => {
      w.onmessage = () => resolve();
      w.onerror = (e: { message?: string }) => reject(new Error(e.message || 'the worker failed to start'));
      w.postMessage(start);
    });
  } finally {
    host.URL.revokeObjectURL(url);
  }
  return w;
}

/**
 * The kernels of one wasm module and the threads that run them. `exports` are the current
 * instance's (its memory and kernels `k0`, `k1`, …); `run` launches one kernel.
 */
export class KernelThreads {
  status: ThreadStatus = { threads: 1, reason: 'useThreads has not been called' };
  private workers: AnyWorker[] = [];
  private ctl: Int32Array<ArrayBufferLike> = new Int32Array(4);
  private args: Float64Array<ArrayBufferLike> = new Float64Array(MAX_ARGS);
  private block = false;
  private generation: Promise<unknown> = Promise.resolve();

  /**
   * `bytes`: the module's binary, whose memory import's limits flags are at `limitsAt`;
   * `exports`: its one-thread instance; `maxThreads`: how many the build made room for.
   */
  constructor(
    public exports: Record<string, unknown>, private readonly bytes: () => Uint8Array, private readonly limitsAt: number,
    private readonly pages: number, private readonly maxThreads: number,
  ) {}

  get threads(): number {
    return this.status.threads;
  }

  /** Runs the module's kernels on `count` threads from now on (1: the caller alone); resolves to how many run. */
  use(count: number): Promise<number> {
    checkCount(count);
    const next = this.generation.then(() => this.start(count));
    this.generation = next.catch(() => undefined);
    return next;
  }

  private async start(count: number): Promise<number> {
    this.stop();
    if (count === 1) return this.report(1, undefined);
    const why = threadsUnavailable();
    if (why) return this.report(1, why);
    const n = Math.min(count, this.maxThreads);
    const capped = n < count ? `the module was built for at most ${this.maxThreads} threads` : undefined;
    let memory: WasmMemory;
    let module: WasmModule;
    try {
      memory = new WebAssembly.Memory({ initial: this.pages, maximum: this.pages, shared: true });
      const bytes = this.bytes().slice();
      bytes[this.limitsAt] = 0x03;
      module = await WebAssembly.compile(bytes);
    } catch (e) {
      return this.report(1, `a shared WebAssembly.Memory cannot be made here: ${(e as Error).message}`);
    }
    const control = new SharedArrayBuffer(ARGS_AT + MAX_ARGS * 8);
    const workers: AnyWorker[] = [];
    try {
      const instance = await WebAssembly.instantiate(module, { env: { memory } });
      for (let tid = 1; tid < n; tid++) workers.push(await startWorker({ module, memory, control, tid }));
      this.exports = instance.exports as Record<string, unknown>;
    } catch (e) {
      for (const w of workers) w.terminate();
      return this.report(1, `the workers could not start: ${(e as Error).message}`);
    }
    this.workers = workers;
    this.ctl = new Int32Array(control);
    this.args = new Float64Array(control, ARGS_AT, MAX_ARGS);
    this.block = canBlock();
    return this.report(n, capped);
  }

  private report(threads: number, reason: string | undefined): number {
    this.status = reason === undefined ? { threads } : { threads, reason };
    return threads;
  }

  /** Stops the workers (they finish no job: none runs between calls). */
  private stop(): void {
    if (!this.workers.length) return;
    Atomics.store(this.ctl, STOP, 1);
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
    for (const w of this.workers) w.terminate();
    this.workers = [];
  }

  /**
   * Launches kernel `k<kernel>` with `scalars`: whole on this thread where `rows` is 0 (a
   * kernel not split), else its `rows` output rows shared by every thread (the kernel then
   * takes r0, r1 and the thread's index before the scalars).
   */
  run(kernel: number, rows: number, ...scalars: number[]): void {
    const fn = this.exports[`k${kernel}`] as (...a: number[]) => void;
    const count = this.workers.length + 1;
    if (rows === 0) return fn(...scalars);
    if (count === 1) return fn(0, rows, 0, ...scalars);
    const { ctl, args } = this;
    ctl[KERNEL] = kernel;
    ctl[ROWS] = rows;
    ctl[COUNT] = count;
    ctl[ARGS] = scalars.length;
    for (let i = 0; i < scalars.length; i++) args[i] = scalars[i]!;
    Atomics.store(ctl, DONE, 0);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
    const [r0, r1] = threadRows(rows, 0, count);
    if (r1 > r0) fn(r0, r1, 0, ...scalars);
    const others = count - 1;
    for (let spin = 0; ; spin++) {
      const done = Atomics.load(ctl, DONE);
      if (done >= others) break;
      if (this.block && spin > SPINS) Atomics.wait(ctl, DONE, done, 1);
    }
    if (Atomics.load(ctl, FAILED)) throw new Error(`wasm kernel k${kernel} failed on a worker thread`);
  }
}

/** The threads of a wasm module whose kernels are too small for threads to pay. */
export function noThreads(): { status: ThreadStatus; use(count: number): Promise<number> } {
  const status: ThreadStatus = { threads: 1, reason: 'no kernel of this graph is large enough for threads to pay: it runs on one thread' };
  return {
    status,
    use: (count: number) => {
      checkCount(count);
      return Promise.resolve(1);
    },
  };
}
