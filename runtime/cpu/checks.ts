/**
 * Argument checks shared by the training and evaluation entry points, so that a bad
 * option or a dataset that does not fit the model fails at the call with a message naming
 * the function and the option, not as NaNs or out-of-range reads later.
 */
import { checkDataset, type Dataset } from './data.ts';
import { batchLayout, type ModelMeta } from './model.ts';

export function checkLearningRate(fn: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${fn}: learningRate must be a finite number > 0, got ${String(value)}`);
  }
  return value;
}

export function checkCount(fn: string, key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`${fn}: ${key} must be an integer ≥ 1, got ${String(value)}`);
  }
  return value;
}

export function checkSeed(fn: string, value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${fn}: seed must be a safe integer, got ${String(value)}`);
  }
  return value;
}

export function checkCallback<F>(fn: string, key: string, value: F | undefined): F | undefined {
  if (value !== undefined && typeof value !== 'function') throw new TypeError(`${fn}: ${key} must be a function, got ${typeof value}`);
  return value;
}

export function checkParams(fn: string, meta: ModelMeta, params: unknown): void {
  if (typeof params !== 'object' || params === null) throw new TypeError(`${fn}: params must be the record initParams returned`);
  for (const name of Object.keys(meta.params)) {
    if (!((params as Record<string, unknown>)[name] instanceof Float32Array)) {
      throw new TypeError(`${fn}: params has no Float32Array '${name}' (model '${meta.name}' declares it)`);
    }
  }
}

/**
 * B and the model inputs to gather from `data`, after checking that the dataset holds
 * every model input (or, with `optional`, any subset of them) with the row width the model
 * declares.
 */
export function modelBatching(fn: string, meta: ModelMeta, data: Dataset, optional = false): { batchSize: number; names: string[] } {
  checkDataset(data, `${fn}: dataset`);
  const { batchSize, rowWidths } = batchLayout(meta);
  const names: string[] = [];
  for (const [name, width] of Object.entries(rowWidths)) {
    const values = data.inputs[name];
    if (values === undefined) {
      if (optional) continue;
      const has = Object.keys(data.inputs).map((n) => `'${n}'`).join(', ') || 'none';
      throw new Error(`${fn}: model '${meta.name}' needs input '${name}', which the dataset lacks (it has ${has})`);
    }
    const got = values.length / data.count;
    if (got !== width) {
      throw new Error(`${fn}: input '${name}' of model '${meta.name}' has ${width} value(s) per example but the dataset has ${got}`);
    }
    names.push(name);
  }
  return { batchSize, names };
}
