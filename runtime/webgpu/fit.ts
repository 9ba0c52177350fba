/**
 * `train`, `evaluate` and `predict` for a WebGPU model, with the CPU runtime's options and
 * reports: the loops are runtime/fit's, shared with gradc/runtime/cpu, driven here over the
 * model's asynchronous calls. Each batch is uploaded as it is stepped on (for data kept on the
 * GPU, see `createDataset` and `trainSteps`); the params and the optimizer's state stay on the
 * GPU, and early stopping's best params are read back and uploaded again at the end.
 */
import type { Dataset } from '../cpu/data.ts';
import { evaluateLoop, fitLoop, predictLoop, runAsync, type FitOptions, type FitResult, type LoopBackend } from '../fit/loop.ts';
import type { GpuForwardModel, GpuModel, Tensors } from '../module.ts';
import { describe } from '../checks.ts';

export type { EarlyStopping, EpochReport, FitOptions as GpuTrainOptions, FitResult as GpuTrainResult, StepReport } from '../fit/loop.ts';

function gpuBackend(fn: string, model: unknown, training: boolean): LoopBackend {
  const m = model as Partial<GpuModel> | null;
  if (typeof m !== 'object' || m === null || typeof m.meta !== 'object' || typeof m.forward !== 'function') {
    throw new TypeError(`${fn}: expected a model from a .gpu.js module's createModel, got ${describe(model)}`);
  }
  if (training && typeof m.trainStep !== 'function') throw new TypeError(`${fn}: model '${m.meta.name}' was built forward-only and cannot train`);
  const gpu = m as GpuModel<Tensors, Tensors, Tensors, Tensors>;
  return {
    meta: gpu.meta,
    trainStep: (batch, learningRate) => gpu.trainStep(batch, learningRate),
    loss: (batch) => gpu.loss(batch),
    forward: (batch) => gpu.forward(batch),
    snapshot: () => gpu.getParams(),
    restore: (params) => gpu.setParams(params),
  };
}

/**
 * Mini-batch training of a GPU model over `data` (rows on the host, uploaded a batch at a time):
 * the CPU `train`'s options (epochs, seed, partial, validation, metrics, earlyStopping, onStep,
 * onEpoch) and report, the same shuffles for the same seed.
 */
export function train(model: GpuModel<any, any, any, any, any>, data: Dataset, options: FitOptions): Promise<FitResult> {
  return Promise.resolve().then(() => runAsync(fitLoop('train', gpuBackend('train', model, true), data, options)));
}

/** The mean per-example loss of a GPU model over every row of `data`, B rows a call. */
export function evaluate(model: GpuModel<any, any, any, any, any>, data: Dataset): Promise<number> {
  return Promise.resolve().then(() => runAsync(evaluateLoop('evaluate', gpuBackend('evaluate', model, true), data)));
}

/** Output `outputName` of a GPU model for every row of `data`, in calls of at most the model's batch rows. */
export function predict(model: GpuForwardModel<any, any, any>, data: Dataset, outputName: string): Promise<Float32Array> {
  return Promise.resolve().then(() => runAsync(predictLoop('predict', gpuBackend('predict', model, false), data, outputName)));
}
