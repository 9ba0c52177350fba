/**
 * Mini-batch SGD on any backend, behind one interface: the generated JS module's (or the
 * WebAssembly module's: the same API) `trainStep` on Float32Arrays, or the WebGPU host
 * module's `trainSteps`, which runs many steps in one submission over a training set kept on
 * the GPU. All shuffle the rows once per epoch with the same seeded generator, so the
 * backends take the same batches in the same order.
 */
import { Rng, permutation, takeRows, type Dataset, type Tensors } from '../../runtime/cpu/index.ts';
import type { GpuModule, JsModule, Variant } from './models.ts';

export type Backend = 'webgpu' | 'wasm' | 'js';

type GpuModel = Awaited<ReturnType<GpuModule['createModel']>>;
type GpuDataset = ReturnType<GpuModel['createDataset']>;

export interface Trainer {
  readonly backend: Backend;
  /** Mini-batches per epoch: the training rows divided by the graph's batch size. */
  readonly batchesPerEpoch: number;
  /** Steps taken since the params were initialized. */
  readonly step: number;
  /**
   * Runs `steps` SGD steps on consecutive mini-batches of the shuffled training set;
   * resolves to the loss of the last batch, before its update.
   */
  train(steps: number, learningRate: number): Promise<number>;
  /** The current params (read back from the GPU on WebGPU). */
  params(): Promise<Tensors>;
  /** Frees what the trainer holds (not the shared GPU model). */
  destroy(): void;
}

/** The order in which rows are visited: a fresh permutation every epoch. */
class Epochs {
  readonly batchesPerEpoch: number;
  /** Batches already taken in the current epoch. */
  cursor: number;
  order: Int32Array = new Int32Array(0);
  private readonly rng: Rng;

  constructor(readonly data: Dataset, readonly batch: number, seed: number) {
    this.batchesPerEpoch = Math.floor(data.count / batch);
    if (this.batchesPerEpoch < 1) throw new RangeError(`${data.count} training rows are fewer than one batch of ${batch}`);
    this.rng = new Rng(seed);
    this.cursor = this.batchesPerEpoch;
  }

  /** Starts a new epoch when the current one is used up; true if it did. */
  turn(): boolean {
    if (this.cursor < this.batchesPerEpoch) return false;
    this.order = permutation(this.data.count, this.rng);
    this.cursor = 0;
    return true;
  }
}

/** Generated JS or WebAssembly: one `trainStep` per mini-batch, gathered into buffers allocated once. */
export function cpuTrainer(variant: Variant, data: Dataset, seed: number, backend: 'js' | 'wasm'): Trainer {
  const { batch } = variant;
  const js = variant[backend];
  const params = js.initParams(seed) as Tensors;
  const epochs = new Epochs(data, batch, seed);
  const buffers = takeRows(data, new Int32Array(batch));
  let step = 0;
  return {
    backend,
    batchesPerEpoch: epochs.batchesPerEpoch,
    get step() {
      return step;
    },
    async train(steps, learningRate) {
      let loss = Number.NaN;
      for (let s = 0; s < steps; s++) {
        epochs.turn();
        takeRows(data, epochs.order, buffers, epochs.cursor * batch, batch);
        loss = js.trainStep(params, buffers, learningRate);
        epochs.cursor++;
        step++;
      }
      return loss;
    },
    async params() {
      return params;
    },
    destroy() {},
  };
}

/**
 * WebGPU: the epoch's shuffled rows are uploaded once as a GPU dataset, and each call runs
 * its steps in one submission (split only where an epoch ends), reading back one number.
 */
export async function gpuTrainer(model: GpuModel, variant: Variant, data: Dataset, seed: number): Promise<Trainer> {
  const { batch } = variant;
  await model.setParams((variant.js as JsModule).initParams(seed));
  const epochs = new Epochs(data, batch, seed);
  let dataset: GpuDataset | null = null;
  let step = 0;
  return {
    backend: 'webgpu',
    batchesPerEpoch: epochs.batchesPerEpoch,
    get step() {
      return step;
    },
    async train(steps, learningRate) {
      let loss = Number.NaN;
      let left = steps;
      while (left > 0) {
        if (epochs.turn()) {
          dataset?.destroy();
          dataset = model.createDataset(takeRows(data, epochs.order));
        }
        const n = Math.min(left, epochs.batchesPerEpoch - epochs.cursor);
        loss = await model.trainSteps(dataset!, { firstRow: epochs.cursor * batch, steps: n, learningRate });
        epochs.cursor += n;
        step += n;
        left -= n;
      }
      return loss;
    },
    params: () => model.getParams(),
    destroy() {
      dataset?.destroy();
      dataset = null;
    },
  };
}
