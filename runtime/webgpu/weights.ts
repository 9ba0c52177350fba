/**
 * A GPU model's weights saved and restored in the files of gradc/runtime/cpu's saveParams
 * and loadParams (safetensors): a model trained on the GPU loads into the JS module, and back.
 *
 *   writeFileSync('digits.safetensors', await saveModel(digitsGpu, model));
 *   await loadModel(digitsGpu, freshModel, readFileSync('digits.safetensors'));
 */
import type { GpuForwardModel, GpuModel, ModuleMeta, OptimizerState, Tensors } from '../module.ts';
import { describe } from '../checks.ts';
import { loadParams, saveParams, type LoadParamsOptions } from '../cpu/weights.ts';

/** The host module a model was made from (`<name>.gpu.js`): saving and loading read its meta. */
export interface GpuWeightsModule {
  readonly meta: ModuleMeta;
}

type AnyGpuModel = GpuForwardModel | GpuModel;

function checkModel(fn: string, model: unknown): asserts model is AnyGpuModel {
  const m = model as Partial<GpuForwardModel> | null;
  if (typeof m?.getParams !== 'function' || typeof m.setParams !== 'function') {
    throw new TypeError(`${fn}: expected a GPU model (what createModel resolves to), got ${describe(model)}`);
  }
}

/** A model whose graph has an optimizer (not built forward-only) keeps optimizer state. */
const keepsState = (module: GpuWeightsModule, model: AnyGpuModel): model is GpuModel =>
  module.meta.optimizer !== undefined && typeof (model as Partial<GpuModel>).getOptimizerState === 'function';

/**
 * The model's params and, for a trainable model, its optimizer state (with the step count),
 * as the bytes of a safetensors file. Both are read in one go: no call made after this one
 * can change what it saves.
 */
export async function saveModel(module: GpuWeightsModule, model: AnyGpuModel): Promise<Uint8Array> {
  checkModel('saveModel', model);
  const [params, state] = await Promise.all([model.getParams(), keepsState(module, model) ? model.getOptimizerState() : undefined]);
  return saveParams(module, params, state);
}

/**
 * Restores a model from a safetensors file (see loadParams, which checks the file and whose
 * options it takes): its params and, for a trainable model, its optimizer state. A file
 * without state (saved from params alone) leaves a trainable model's optimizer as a fresh
 * model's: zeros at step 0. Nothing is written unless the whole file is good; `module` must
 * be the host module the model was created from.
 */
export async function loadModel(module: GpuWeightsModule, model: AnyGpuModel, bytes: Uint8Array | ArrayBuffer, options?: LoadParamsOptions): Promise<void> {
  checkModel('loadModel', model);
  const { params, state } = loadParams(module, bytes, options);
  const writes = [model.setParams(params)];
  if (keepsState(module, model)) writes.push(model.setOptimizerState(state ?? freshState(module.meta)));
  await Promise.all(writes);
}

/** The optimizer state of a model no step has run on: every slot zero (WebGPU zeroes new buffers). */
function freshState(meta: ModuleMeta): OptimizerState {
  const zeros = (): Tensors => Object.fromEntries(Object.entries(meta.params).map(([name, shape]) => [name, new Float32Array(shape.reduce((n, d) => n * d, 1))]));
  return { step: 0, ...Object.fromEntries((meta.optimizer?.slots ?? []).map((slot) => [slot, zeros()])) };
}
