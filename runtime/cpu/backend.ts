/**
 * A generated JS or wasm module and its params as the shared loops drive them (runtime/fit):
 * every call answers at once, params are updated in place, and the optimizer's state is the
 * caller's or a fresh one.
 */
import type { LoopBackend } from '../fit/loop.ts';
import type { Model, ModelState as OptimizerState, TensorRecord, Tensors } from './model.ts';

/** The state a run updates: the caller's, or a fresh one where the model's optimizer keeps state. */
export function optimizerState<P extends TensorRecord>(fn: string, model: Model<P>, given: OptimizerState | undefined): OptimizerState | undefined {
  if (given !== undefined) return given;
  if (!model.meta.optimizer?.slots.length) return undefined;
  if (typeof model.initOptimizerState !== 'function') throw new TypeError(`${fn}: model '${model.meta.name}' uses ${model.meta.optimizer.name} but has no initOptimizerState`);
  return model.initOptimizerState();
}

export function cpuBackend<P extends TensorRecord>(model: Model<P>, params: P, state?: OptimizerState): LoopBackend {
  const record = params as unknown as Tensors;
  return {
    meta: model.meta,
    trainStep: (batch, learningRate) => model.trainStep(params, batch, learningRate, state),
    loss: (batch) => model.loss(params, batch),
    forward: (batch) => model.forward(params, batch) as object,
    snapshot: () => Object.fromEntries(Object.keys(model.meta.params).map((name) => [name, record[name]!.slice()])),
    // In place: the caller's params record is the model's params.
    restore: (saved) => {
      for (const name of Object.keys(saved)) record[name]!.set(saved[name]!);
    },
  };
}
