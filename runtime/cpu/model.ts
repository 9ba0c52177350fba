/**
 * The generated-module ABI as a structural type: what `gradc build` emits in `<name>.js`,
 * and what the CPU runtime drives. A module namespace (`await import('./gen/x.js')`) or a
 * hand-written object with the same members both satisfy it.
 *
 * All arrays are row-major Float32Arrays of exactly the declared shapes. Inputs are
 * batched: the first dimension of every input is the batch size B, fixed at build time.
 */

import type { CpuModule, Gradient, ModuleMeta, OptimizerState, Tensors } from '../module.ts';

export type { Tensors };

/**
 * A record of named Float32Arrays as a generated module's typed declarations (`<name>.d.ts`)
 * describe it: a per-graph interface such as `{ x: Float32Array; y: Float32Array }`, which
 * has no index signature and so is not a `Tensors`. The runtime types inputs and outputs this
 * loosely so that a statically imported, typed module satisfies `Model` as it is.
 */
export type TensorRecord = object;

/** A module's `meta` (gradc/module's `ModuleMeta`). */
export type ModelMeta = ModuleMeta;

export type GradientResult = Gradient<TensorRecord>;

/**
 * A generated module as the CPU runtime drives it: gradc/module's `CpuModule`, with inputs
 * and outputs typed loosely. `P` is its params record: `Tensors` for a module loaded
 * dynamically (see `assertModel`), the module's own `Params` interface when it is imported
 * statically, in which case the runtime functions infer it and keep params typed.
 */
export type Model<P extends TensorRecord = Tensors> = CpuModule<P, TensorRecord, TensorRecord, TensorRecord, ModelState>;

/** An optimizer's state as the runtime passes it through (gradc/module's `OptimizerState`). */
export type ModelState = OptimizerState<TensorRecord>;

const FUNCTIONS = ['initParams', 'forward', 'loss', 'gradient', 'trainStep'] as const;

/**
 * Checks at run time that `value` (typically a dynamically imported module) has the ABI's
 * members, so that a stale or foreign module fails here with its name rather than deep
 * inside a training loop.
 */
export function assertModel(value: unknown, label = 'model'): asserts value is Model {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${label}: expected a gradc module object, got ${value === null ? 'null' : typeof value}`);
  }
  const v = value as Record<string, unknown>;
  const missing = FUNCTIONS.filter((f) => typeof v[f] !== 'function');
  if (missing.length > 0) throw new TypeError(`${label}: missing function export(s) ${missing.join(', ')}`);
  const meta = v.meta as Record<string, unknown> | undefined;
  if (typeof meta !== 'object' || meta === null || typeof meta.name !== 'string') {
    throw new TypeError(`${label}: missing or malformed 'meta' export`);
  }
  for (const key of ['inputs', 'params', 'outputs'] as const) {
    if (typeof meta[key] !== 'object' || meta[key] === null) throw new TypeError(`${label}: meta.${key} is missing`);
  }
}

/** Number of elements of a shape (1 for a scalar). */
export function sizeOfShape(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The batch layout implied by a model's inputs. */
export interface BatchLayout {
  /** B, the first dimension shared by every input. */
  readonly batchSize: number;
  /** Elements per example (row) of each input: the product of its non-batch dims. */
  readonly rowWidths: Readonly<Record<string, number>>;
}

/**
 * Reads B and the per-row widths from `meta.inputs`. Throws when an input is a scalar
 * (it has no batch dimension) or when inputs disagree on B.
 */
export function batchLayout(meta: ModelMeta): BatchLayout {
  let batchSize = 0;
  let first = '';
  const rowWidths: Record<string, number> = {};
  for (const [name, shape] of Object.entries(meta.inputs)) {
    if (shape.length === 0) {
      throw new Error(`model '${meta.name}': input '${name}' is a scalar and has no batch dimension; the CPU runtime needs every input to be [B, …]`);
    }
    if (batchSize === 0) {
      batchSize = shape[0];
      first = name;
    } else if (shape[0] !== batchSize) {
      throw new Error(`model '${meta.name}': inputs disagree on the batch size: '${first}' has ${batchSize} rows but '${name}' has ${shape[0]}`);
    }
    rowWidths[name] = sizeOfShape(shape.slice(1));
  }
  if (batchSize === 0) throw new Error(`model '${meta.name}' has no inputs, so there is nothing to batch`);
  return { batchSize, rowWidths };
}
