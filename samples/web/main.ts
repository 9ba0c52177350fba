/**
 * The page: picks a backend (WebGPU when navigator.gpu yields an adapter, the generated JS
 * otherwise; `?backend=wasm` or `?backend=js` in the URL, or the picker, asks for the
 * WebAssembly or the JS module), trains the chosen network a few SGD steps per animation
 * frame, and redraws the loss curve and the fit after every frame.
 *
 * For tests and the curious, the page exposes its state: `document.body.dataset.backend`
 * ('webgpu', 'wasm' or 'js'), `dataset.state` ('loading', 'ready', 'running', 'paused',
 * 'diverged', 'error'), and `window.gradcDemo` with the loss history.
 */
import { evaluate, type Tensors } from '../../runtime/cpu/index.ts';
import { drawLoss, thin, type LossPoint } from './loss-chart.ts';
import { DEMOS, type Demo, type DemoId, type GpuModule, type Variant } from './models.ts';
import { cpuTrainer, gpuTrainer, type Backend, type Trainer } from './trainer.ts';

type State = 'loading' | 'ready' | 'running' | 'paused' | 'diverged' | 'error';
type GpuModel = Awaited<ReturnType<GpuModule['createModel']>>;

const SEED = 1;
const SPEEDS = [1, 2, 4, 8, 16, 32, 64];

const byId = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no #${id}`);
  return el as T;
};

const ui = {
  backend: byId('backend'),
  backendNote: byId('backend-note'),
  backendChoice: byId<HTMLSelectElement>('backend-choice'),
  threadsChoice: byId<HTMLSelectElement>('threads-choice'),
  model: byId<HTMLSelectElement>('model'),
  about: byId('about'),
  rate: byId<HTMLInputElement>('rate'),
  rateValue: byId<HTMLOutputElement>('rate-value'),
  batch: byId<HTMLSelectElement>('batch'),
  speed: byId<HTMLSelectElement>('speed'),
  start: byId<HTMLButtonElement>('start'),
  reset: byId<HTMLButtonElement>('reset'),
  status: byId('status'),
  step: byId('stat-step'),
  epoch: byId('stat-epoch'),
  loss: byId('stat-loss'),
  batchLoss: byId('stat-batch-loss'),
  speedStat: byId('stat-speed'),
  lossChart: byId<HTMLCanvasElement>('loss-chart'),
  fitChart: byId<HTMLCanvasElement>('fit-chart'),
  fitTitle: byId('fit-title'),
  fitNote: byId('fit-note'),
  importLine: byId('import-line'),
};

let backend: Backend = 'js';
let device: GPUDevice | null = null;
const gpuModels = new Map<Variant, Promise<GpuModel>>();

let demo: Demo = DEMOS[0];
let variant: Variant = demo.variants.find((v) => v.batch === demo.defaults.batch) ?? demo.variants[0];
let trainer: Trainer | null = null;
let history: LossPoint[] = [];
let lastParams: Tensors | null = null;
let state: State = 'loading';
/** Bumped by every reset: a training loop or setup of an older generation stops. */
let generation = 0;
/** The training loop, or the setup, in flight; the next one starts after it. */
let busy: Promise<void> = Promise.resolve();

function setState(next: State, message?: string): void {
  state = next;
  document.body.dataset.state = next;
  const running = next === 'running';
  ui.start.textContent = running ? 'Pause' : next === 'paused' ? 'Resume' : 'Start';
  ui.start.classList.toggle('running', running);
  ui.start.disabled = next === 'loading' || next === 'diverged' || next === 'error';
  ui.reset.disabled = next === 'loading' || next === 'error';
  ui.model.disabled = ui.batch.disabled = next === 'loading' || next === 'error';
  ui.status.textContent = message ?? {
    loading: 'Preparing…',
    ready: 'Ready: press Start.',
    running: 'Training…',
    paused: 'Paused.',
    diverged: 'The loss blew up: lower the learning rate and press Reset.',
    error: 'Something went wrong.',
  }[next];
  ui.status.className = `status ${next}`;
}

function fail(error: unknown): void {
  const text = error instanceof Error ? error.message : String(error);
  console.error(error);
  setState('error', `Error: ${text}`);
}

/** The threads the URL asks the WebAssembly modules to use (`?threads=2`; 1 when absent). */
const requestedThreads = (): number => {
  const n = Number(new URLSearchParams(location.search).get('threads') ?? '1');
  return Number.isInteger(n) && n >= 1 && n <= 64 ? n : 1;
};

/** A wasm module's threads (spec/wasm.md): the JS module's API plus these. */
type Threaded = { useThreads(count: number): Promise<number>; readonly threads: { readonly threads: number; readonly reason?: string } };

/** Asks every WebAssembly module for `count` threads; says how many the current one runs, and why not more. */
async function useWasmThreads(count: number): Promise<string> {
  const modules = DEMOS.flatMap((d) => d.variants.map((v) => v.wasm as unknown as Threaded));
  await Promise.all(modules.map((m) => m.useThreads(count)));
  const { threads, reason } = modules[0]!.threads;
  document.body.dataset.threads = String(threads);
  return `${threads} thread${threads === 1 ? '' : 's'}${reason ? ` (${reason})` : ''}`;
}

/** The backend the URL asks for, if any (`?backend=js`, `?backend=wasm`). */
const requestedBackend = (): 'js' | 'wasm' | undefined => {
  const b = new URLSearchParams(location.search).get('backend');
  return b === 'js' || b === 'wasm' ? b : undefined;
};

/** WebGPU if navigator.gpu yields an adapter and a device; otherwise why not. */
async function detectBackend(): Promise<{ device: GPUDevice; adapter: string } | { reason: string }> {
  const asked = requestedBackend();
  if (asked) return { reason: `the ${asked === 'js' ? 'JS' : 'WebAssembly'} backend was asked for in the URL (?backend=${asked})` };
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { reason: 'this browser has no WebGPU (navigator.gpu is missing)' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { reason: 'navigator.gpu returned no adapter (in Chromium, try --enable-unsafe-webgpu)' };
    const dev = await adapter.requestDevice({ label: 'gradc demo' });
    dev.addEventListener('uncapturederror', (e) => console.error(`WebGPU: ${(e as GPUUncapturedErrorEvent).error.message}`));
    void dev.lost.then((info) => {
      if (info.reason !== 'destroyed') fail(new Error(`the GPU device was lost (${info.message}); reload the page`));
    });
    const info = adapter.info;
    const name = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ');
    return { device: dev, adapter: name || 'unnamed adapter' };
  } catch (e) {
    return { reason: `WebGPU failed to start: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** The GPU model of a compiled graph: pipelines are built once per graph and kept. */
function gpuModel(v: Variant): Promise<GpuModel> {
  let model = gpuModels.get(v);
  if (!model) {
    model = v.gpu.createModel(device!);
    gpuModels.set(v, model);
  }
  return model;
}

const learningRate = (): number => Number((10 ** Number(ui.rate.value)).toPrecision(2));
const stepsPerFrame = (): number => Number(ui.speed.value);
const fmt = (v: number | undefined): string => (v === undefined ? '—' : Number.isFinite(v) ? v.toPrecision(4) : String(v));

function record(params: Tensors, batchLoss?: number): LossPoint {
  const point: LossPoint = {
    step: trainer!.step,
    train: evaluate(variant.js, params, demo.train),
    holdout: demo.holdout ? evaluate(variant.js, params, demo.holdout) : undefined,
    batch: batchLoss,
  };
  history.push(point);
  thin(history);
  return point;
}

function draw(): void {
  drawLoss(ui.lossChart, history, demo.holdout !== undefined);
  if (lastParams) ui.fitNote.textContent = demo.drawFit(ui.fitChart, variant, lastParams);
  const last = history[history.length - 1];
  ui.step.textContent = String(trainer?.step ?? 0);
  ui.epoch.textContent = trainer ? (trainer.step / trainer.batchesPerEpoch).toFixed(1) : '0';
  ui.loss.textContent = fmt(last?.train);
  ui.batchLoss.textContent = fmt(last?.batch);
}

/** The footer's import: the graph file and the backend's module actually in use. */
function showImport(): void {
  const query = { webgpu: 'gradc-gpu', wasm: 'gradc-wasm', js: 'gradc' }[backend];
  ui.importLine.textContent = `import * as ${demo.id} from '${variant.source}?${query}'`;
}

/** Fresh params for the current model and batch size; clears the history. */
function reset(): Promise<void> {
  const gen = ++generation;
  showImport();
  // The `gradc inspect --html` page of the graph now trained (serve.ts writes one per graph).
  byId<HTMLAnchorElement>('inspect').href = `inspect-${demo.id}-${variant.batch}.html`;
  setState('loading');
  const previous = busy;
  busy = (async () => {
    await previous;
    if (gen !== generation) return;
    trainer?.destroy();
    trainer = null;
    history = [];
    lastParams = null;
    try {
      const t = backend === 'webgpu' ? await gpuTrainer(await gpuModel(variant), variant, demo.train, SEED) : cpuTrainer(variant, demo.train, SEED, backend);
      const params = await t.params();
      if (gen !== generation) {
        t.destroy();
        return;
      }
      trainer = t;
      lastParams = params;
      record(params);
      ui.speedStat.textContent = '—';
      draw();
      setState('ready');
    } catch (e) {
      fail(e);
    }
  })();
  return busy;
}

const nextFrame = (): Promise<number> => new Promise((resolve) => requestAnimationFrame(resolve));

/**
 * Trains a few steps a frame until paused. Steps per second count only the time spent in the
 * steps (on WebGPU, until their loss is read back), not the wait for the next frame, the
 * loss evaluation or the drawing: with several steps a frame, each backend shows its own
 * speed rather than the display's frame rate.
 */
async function train(gen: number): Promise<void> {
  let since = performance.now();
  let stepsSince = 0;
  let trainingMs = 0;
  while (state === 'running' && gen === generation && trainer) {
    await nextFrame();
    if (state !== 'running' || gen !== generation) return;
    const t = trainer;
    const before = t.step;
    try {
      const began = performance.now();
      const batchLoss = await t.train(stepsPerFrame(), learningRate());
      trainingMs += performance.now() - began;
      const params = await t.params();
      if (gen !== generation) return;
      lastParams = params;
      const point = record(params, batchLoss);
      draw();
      stepsSince += t.step - before;
      const now = performance.now();
      if (now - since > 500) {
        ui.speedStat.textContent = `${Math.round((stepsSince * 1000) / trainingMs).toLocaleString('en-US')}`;
        since = now;
        stepsSince = 0;
        trainingMs = 0;
      }
      if (!Number.isFinite(point.train) || point.train > 1e6) {
        setState('diverged');
        return;
      }
    } catch (e) {
      fail(e);
      return;
    }
  }
}

function start(): void {
  if (state !== 'ready' && state !== 'paused') return;
  setState('running');
  const gen = generation;
  busy = busy.then(() => train(gen));
}

function pause(): void {
  if (state === 'running') setState('paused');
}

function chooseModel(id: DemoId): Promise<void> {
  demo = DEMOS.find((d) => d.id === id) ?? DEMOS[0];
  ui.model.value = demo.id;
  ui.about.textContent = demo.about;
  ui.fitTitle.textContent = demo.fitTitle;
  ui.batch.replaceChildren(...demo.variants.map((v) => new Option(String(v.batch), String(v.batch))));
  variant = demo.variants.find((v) => v.batch === demo.defaults.batch) ?? demo.variants[0];
  ui.batch.value = String(variant.batch);
  ui.rate.value = String(Math.log10(demo.defaults.learningRate));
  ui.rateValue.textContent = String(learningRate());
  ui.speed.value = String(demo.defaults.stepsPerFrame);
  document.body.dataset.model = demo.id;
  return reset();
}

function chooseBatch(batch: number): Promise<void> {
  variant = demo.variants.find((v) => v.batch === batch) ?? variant;
  return reset();
}

async function main(): Promise<void> {
  setState('loading', 'Looking for a WebGPU adapter…');
  ui.model.replaceChildren(...DEMOS.map((d) => new Option(d.label, d.id)));
  ui.speed.replaceChildren(...SPEEDS.map((s) => new Option(String(s), String(s))));

  const found = await detectBackend();
  if ('device' in found) {
    backend = 'webgpu';
    device = found.device;
    ui.backend.textContent = 'WebGPU';
    ui.backendNote.textContent = `Training runs in WGSL compute shaders on ${found.adapter}.`;
  } else if (requestedBackend() === 'wasm') {
    backend = 'wasm';
    ui.backend.textContent = 'WebAssembly';
    const threads = await useWasmThreads(requestedThreads());
    ui.backendNote.textContent = `Training runs in the generated WebAssembly (SIMD) on ${threads}: ${found.reason}.`;
  } else {
    backend = 'js';
    ui.backend.textContent = 'JS backend';
    ui.backendNote.textContent = `Training runs in the generated JavaScript: ${found.reason}.`;
  }
  ui.backend.className = `badge ${backend}`;
  document.body.dataset.backend = backend;
  // Another backend: the page reloads with it in the URL (WebGPU devices are not given back).
  ui.backendChoice.value = requestedBackend() ?? 'auto';
  ui.backendChoice.addEventListener('change', () => {
    const params = new URLSearchParams(location.search);
    if (ui.backendChoice.value === 'auto') params.delete('backend');
    else params.set('backend', ui.backendChoice.value);
    location.search = params.toString();
  });

  // Threads for the WebAssembly modules: the page reloads with them in the URL.
  ui.threadsChoice.value = String(requestedThreads());
  ui.threadsChoice.addEventListener('change', () => {
    const params = new URLSearchParams(location.search);
    params.set('threads', ui.threadsChoice.value);
    location.search = params.toString();
  });

  ui.model.addEventListener('change', () => void chooseModel(ui.model.value as DemoId));
  ui.batch.addEventListener('change', () => void chooseBatch(Number(ui.batch.value)));
  ui.rate.addEventListener('input', () => (ui.rateValue.textContent = String(learningRate())));
  ui.start.addEventListener('click', () => (state === 'running' ? pause() : start()));
  ui.reset.addEventListener('click', () => void reset());
  new ResizeObserver(() => draw()).observe(ui.lossChart);

  const requested = new URLSearchParams(location.search).get('model');
  await chooseModel(requested === 'housing' ? 'housing' : 'kink');
}

declare global {
  interface Window {
    /** The page's state, for tests and the console. */
    gradcDemo: {
      readonly backend: Backend;
      readonly state: State;
      readonly model: DemoId;
      readonly batch: number;
      readonly learningRate: number;
      readonly step: number;
      /** Loss after every frame: J over the training set (and held-out set), and the last mini-batch's. */
      readonly history: LossPoint[];
      chooseModel(id: DemoId): Promise<void>;
      chooseBatch(batch: number): Promise<void>;
      start(): void;
      pause(): void;
      reset(): Promise<void>;
    };
  }
}

window.gradcDemo = {
  get backend() {
    return backend;
  },
  get state() {
    return state;
  },
  get model() {
    return demo.id;
  },
  get batch() {
    return variant.batch;
  },
  get learningRate() {
    return learningRate();
  },
  get step() {
    return trainer?.step ?? 0;
  },
  get history() {
    return history.map((p) => ({ ...p }));
  },
  chooseModel,
  chooseBatch,
  start,
  pause,
  reset,
};

main().catch(fail);
