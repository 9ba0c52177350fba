/**
 * `npm run bench:gpu`: gradc's WebGPU model against TensorFlow.js's webgpu backend
 * (`@tensorflow/tfjs-backend-webgpu` 4.22) on the networks of bench/networks.ts, on one
 * adapter (Dawn in Node: SwiftShader where there is no GPU), after checking that both take the
 * same SGD step from the same params.
 *
 *   npm run bench:gpu                 # S1–S4
 *   npm run bench:gpu -- S2 S3        # some networks
 *   npm run bench:gpu -- --quick      # fewer rounds (development)
 *
 * Timed per train step, in the two loops users run: host-side batches, each step uploading
 * its batch and reading its loss back (gradc `trainStep`; TF.js new tensors, `minimize(…,
 * true)` and `data()`), and data kept on the GPU, `STEPS` steps with one read-back at the
 * end (gradc `trainSteps` over a GPU dataset; TF.js `minimize` on stored tensors). Rounds alternate between contenders; medians. SwiftShader
 * is a proxy for a GPU, not one: only ratios from the same run mean anything. Prints the
 * adapter, and writes bench/gpu-results.md.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nodeGpu } from '../runtime/webgpu/node.ts';
import { deviceDescriptor } from '../runtime/webgpu/device-browser.ts';
import type { CpuModule, GpuModel, GpuModule } from '../runtime/module.ts';
import { NETWORKS, flops, mlpGraph, type NetSpec } from './networks.ts';
import { median, randomArray, type Arrays } from './support.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const LEARNING_RATE = 1e-3;
const SEED = 1;

const args = process.argv.slice(2);
const quick = args.includes('--quick');
/** `--prebuilt <dir>`: the networks' modules built beforehand (`<name>.js`, `<name>.gpu.js`), for a machine without the compiler's dependencies. */
const prebuilt = args.includes('--prebuilt') ? args[args.indexOf('--prebuilt') + 1] : undefined;
const ids = args.filter((a, i) => !a.startsWith('-') && args[i - 1] !== '--prebuilt').map((a) => a.toUpperCase());
const specs = ids.length ? NETWORKS.filter((n) => ids.includes(n.id)) : [...NETWORKS];
const ROUNDS = quick ? 3 : 7;
/** Steps per timed sample, by network (a sample should take ~100 ms or more). */
const STEPS: Record<string, number> = quick ? { S1: 20, S2: 4, S3: 1, S4: 10 } : { S1: 50, S2: 10, S3: 2, S4: 25 };

// One GPU object for both: TensorFlow.js takes navigator.gpu; it must stay referenced.
const gpu = await nodeGpu();
(globalThis as { navigator?: unknown }).navigator = { gpu };
const { globals } = (await import('webgpu' as string)) as { globals: Record<string, unknown> };
Object.assign(globalThis, globals);
await import('@tensorflow/tfjs-backend-webgpu');
if (!(await tf.setBackend('webgpu'))) throw new Error('bench:gpu: TensorFlow.js could not start its webgpu backend');
await tf.ready();
const adapter = (await gpu.requestAdapter())!;
const info = adapter.info;
const adapterName = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') || 'unnamed adapter';
const device = await adapter.requestDevice(deviceDescriptor(adapter, {}));

const genDir = join(ROOT, 'bench', '.gen');
rmSync(genDir, { recursive: true, force: true });
mkdirSync(genDir, { recursive: true });

/** The network's JS module and WebGPU host module, built where `gradc/runtime/webgpu` resolves (this package). */
async function gradcModules(spec: NetSpec): Promise<{ gpu: GpuModule; js: CpuModule }> {
  if (prebuilt) {
    const load = (name: string) => import(pathToFileURL(join(prebuilt, name)).href);
    return { gpu: await load(`${spec.name}.gpu.js`), js: await load(`${spec.name}.js`) };
  }
  const { compile } = await import('../compiler/compile.ts');
  const { files } = compile(mlpGraph(spec), { targets: ['js', 'wgsl'] });
  for (const f of files) if (f.name === 'gradc-host.js') writeFileSync(join(genDir, f.name), f.contents);
  const load = async (name: string) => {
    const f = files.find((x) => x.name === name)!;
    writeFileSync(join(genDir, f.name), f.contents);
    return import(pathToFileURL(join(genDir, f.name)).href);
  };
  return { gpu: await load(`${spec.name}.gpu.js`), js: await load(`${spec.name}.js`) };
}

const ACT = { relu: tf.relu, tanh: tf.tanh, sigmoid: tf.sigmoid } as const;

/** The same MLP on TensorFlow.js's webgpu backend: variables, SGD, squared loss. */
class TfGpuMlp {
  private readonly vars: tf.Variable[] = [];
  private x: tf.Tensor2D;
  private y: tf.Tensor2D;
  private readonly optimizer = tf.train.sgd(LEARNING_RATE);

  constructor(private readonly spec: NetSpec, params: Arrays, x: Float32Array, y: Float32Array) {
    const { widths, batch } = spec;
    for (let l = 1; l < widths.length; l++) {
      this.vars.push(tf.variable(tf.tensor2d(params[`W${l}`], [widths[l - 1], widths[l]])), tf.variable(tf.tensor1d(params[`b${l}`])));
    }
    this.x = tf.tensor2d(x, [batch, widths[0]]);
    this.y = tf.tensor2d(y, [batch, widths[widths.length - 1]]);
  }

  private loss = (): tf.Scalar => {
    let h: tf.Tensor = this.x;
    const L = this.vars.length / 2;
    for (let l = 0; l < L; l++) {
      const z = tf.add(tf.matMul(h, this.vars[2 * l]), this.vars[2 * l + 1]);
      h = l < L - 1 ? ACT[this.spec.activation](z) : z;
    }
    return tf.mul(0.5, tf.mean(tf.sum(tf.square(tf.sub(h, this.y)), 1))) as tf.Scalar;
  };

  /** One step on the stored batch, or on `batch` uploaded from host memory for this step. */
  async step(batch?: { x: Float32Array; y: Float32Array }): Promise<number> {
    const [x0, y0] = [this.x, this.y];
    if (batch) {
      const { widths, batch: rows } = this.spec;
      this.x = tf.tensor2d(batch.x, [rows, widths[0]]);
      this.y = tf.tensor2d(batch.y, [rows, widths[widths.length - 1]]);
    }
    const cost = this.optimizer.minimize(this.loss, true, this.vars)!;
    const value = (await cost.data())[0];
    cost.dispose();
    if (batch) {
      tf.dispose([this.x, this.y]);
      [this.x, this.y] = [x0, y0];
    }
    return value;
  }

  async steps(n: number): Promise<void> {
    for (let s = 0; s < n; s++) this.optimizer.minimize(this.loss, false, this.vars);
    await this.vars[0].data();
  }

  async params(): Promise<Arrays> {
    const out: Arrays = {};
    for (let l = 0; l < this.vars.length / 2; l++) {
      out[`W${l + 1}`] = (await this.vars[2 * l].data()) as Float32Array;
      out[`b${l + 1}`] = (await this.vars[2 * l + 1].data()) as Float32Array;
    }
    return out;
  }

  dispose(): void {
    tf.dispose([...this.vars, this.x, this.y]);
    this.optimizer.dispose();
  }
}

/** The largest difference relative to the largest magnitude, over every array. */
function disagreement(a: Arrays, b: Arrays): number {
  let worst = 0;
  for (const k of Object.keys(a)) {
    const scale = b[k].reduce((m, v) => Math.max(m, Math.abs(v)), 1e-6);
    for (let i = 0; i < a[k].length; i++) worst = Math.max(worst, Math.abs(a[k][i] - b[k][i]) / scale);
  }
  return worst;
}

async function timeRounds(contenders: Record<string, () => Promise<unknown>>, steps: number): Promise<Record<string, number>> {
  const names = Object.keys(contenders);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) await contenders[n]();
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < names.length; i++) {
      const n = names[(r + i) % names.length];
      const t0 = performance.now();
      await contenders[n]();
      samples[n].push((performance.now() - t0) / steps);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(samples[n])]));
}

interface Row { spec: NetSpec; mode: string; gradc: number; tfjs: number }
const rows: Row[] = [];

/**
 * What a step with a host-side batch pays on this adapter besides its kernels, whoever runs
 * it: writing the batch's bytes to a buffer, by `writeBuffer` (gradc's driver; Dawn stages it
 * in its own ring of upload buffers) or through a fresh buffer mapped at creation and copied
 * (TensorFlow.js's way), each waited for; and one read-back round trip (a copy of 8 bytes into
 * a mappable buffer, `mapAsync`). Medians of `ROUNDS`.
 */
async function transferCosts(bytes: number): Promise<{ upload: number; mappedUpload: number; readBack: number }> {
  const usage = (globals as { GPUBufferUsage: Record<string, number> }).GPUBufferUsage;
  const target = device.createBuffer({ size: bytes, usage: usage.STORAGE | usage.COPY_DST | usage.COPY_SRC });
  const readable = device.createBuffer({ size: 8, usage: usage.MAP_READ | usage.COPY_DST });
  const data = new Float32Array(bytes / 4).fill(1);
  const time = async (fn: () => Promise<void>) => {
    const samples: number[] = [];
    for (let r = 0; r < ROUNDS + 1; r++) {
      const t0 = performance.now();
      await fn();
      if (r > 0) samples.push(performance.now() - t0);
    }
    return median(samples);
  };
  const upload = await time(async () => {
    device.queue.writeBuffer(target, 0, data);
    await device.queue.onSubmittedWorkDone();
  });
  const mappedUpload = await time(async () => {
    const staging = device.createBuffer({ size: bytes, usage: usage.MAP_WRITE | usage.COPY_SRC, mappedAtCreation: true });
    new Float32Array(staging.getMappedRange()).set(data);
    staging.unmap();
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(staging, 0, target, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    staging.destroy();
  });
  const readBack = await time(async () => {
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(target, 0, readable, 0, 8);
    device.queue.submit([encoder.finish()]);
    await readable.mapAsync(1 /* READ */);
    readable.unmap();
  });
  target.destroy();
  readable.destroy();
  return { upload, mappedUpload, readBack };
}
const transfers: string[] = [];
console.log(`bench:gpu on ${adapterName}; TensorFlow.js ${tf.version.tfjs} (${tf.getBackend()})`);
for (const spec of specs) {
  const { batch, widths } = spec;
  const x = randomArray(batch * widths[0], 7);
  const y = randomArray(batch * widths[widths.length - 1], 8);
  const { gpu: mod, js: jsModule } = await gradcModules(spec);
  const params: Arrays = jsModule.initParams(SEED);
  const model: GpuModel = await mod.createModel(device);
  await model.setParams(params);
  const tfm = new TfGpuMlp(spec, params, x, y);

  // Agreement: one step from the same params gives the same loss and the same params.
  const [lg, lt] = [await model.trainStep({ x, y }, LEARNING_RATE), await tfm.step()];
  const diff = disagreement(await model.getParams(), await tfm.params());
  if (Math.abs(lg - lt) > 1e-3 * Math.max(1, Math.abs(lt)) || diff > 1e-3) {
    throw new Error(`bench:gpu: ${spec.id}: gradc and TensorFlow.js disagree (loss ${lg} vs ${lt}, params differ by ${diff.toExponential(2)} of their scale)`);
  }

  const batchBytes = 4 * (x.length + y.length);
  const cost = await transferCosts(batchBytes);
  transfers.push(`| ${spec.id} | ${(batchBytes / 1024).toFixed(1)} KiB | ${cost.upload.toFixed(3)} | ${cost.mappedUpload.toFixed(3)} | ${cost.readBack.toFixed(3)} |`);

  const n = STEPS[spec.id];
  const dataset = model.createDataset({ x: tileRows(x, n), y: tileRows(y, n) });
  // A loop over host-side batches: each step uploads its batch and reads its loss back.
  const each = await timeRounds({
    gradc: async () => { for (let s = 0; s < n; s++) await model.trainStep({ x, y }, LEARNING_RATE); },
    tfjs: async () => { for (let s = 0; s < n; s++) await tfm.step({ x, y }); },
  }, n);
  rows.push({ spec, mode: 'train, batch uploaded and loss read every step', gradc: each.gradc, tfjs: each.tfjs });
  const batched = await timeRounds({
    gradc: () => model.trainSteps(dataset, { firstRow: 0, steps: n, learningRate: LEARNING_RATE }),
    tfjs: () => tfm.steps(n),
  }, n);
  rows.push({ spec, mode: `train, data on the GPU, ${n} steps a read`, gradc: batched.gradc, tfjs: batched.tfjs });
  console.log(`${spec.id}: ${rows.slice(-2).map((r) => `${r.mode}: gradc ${r.gradc.toFixed(2)} ms, tfjs ${r.tfjs.toFixed(2)} ms (${(r.tfjs / r.gradc).toFixed(2)}×)`).join('; ')}`);
  dataset.destroy();
  model.destroy();
  tfm.dispose();
}

/** `times` copies of a batch's rows, one after another. */
function tileRows(a: Float32Array, times: number): Float32Array {
  const out = new Float32Array(a.length * times);
  for (let t = 0; t < times; t++) out.set(a, t * a.length);
  return out;
}

const table = [
  '| network | mode | gradc ms/step | tfjs ms/step | gradc GFLOP/s | ×tfjs |',
  '| --- | --- | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.spec.id} ${r.spec.widths.join('-')} ${r.spec.activation} B=${r.spec.batch} | ${r.mode} | ${r.gradc.toFixed(3)} | ${r.tfjs.toFixed(3)} | ${(flops(r.spec, 'train') / (r.gradc * 1e6)).toFixed(2)} | ${(r.tfjs / r.gradc).toFixed(2)}× |`),
].join('\n');
const transferTable = [
  "What a step with a host-side batch pays besides its kernels, on this adapter: the batch's upload, waited for, by `writeBuffer`",
  '(what the driver does) or through a buffer mapped at creation and copied (what TensorFlow.js does); one 8-byte read-back round trip:',
  '',
  '| network | batch (x and y) | writeBuffer ms | mapped-buffer upload ms | read-back ms |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...transfers,
].join('\n');
const text = `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench:gpu${quick ? ' -- --quick' : ''}\` on ${adapterName}; TensorFlow.js ${tf.version.tfjs} webgpu. Medians of ${ROUNDS} rounds; ×tfjs is TensorFlow.js's time over gradc's.\n\n${table}\n\n${transferTable}\n`;
console.log(`\n${text}`);
writeFileSync(join(ROOT, 'bench', quick ? 'gpu-results-quick.md' : 'gpu-results.md'), text);
device.destroy();
rmSync(genDir, { recursive: true, force: true });
process.exit(0);
