/**
 * gradc's CPU runtime: drives generated modules (see model.ts for the ABI) over datasets
 * with the optimizers of the deep-learning notes. Zero dependencies.
 */
export { Rng } from './rng.ts';
export { assertModel, batchLayout, sizeOfShape } from './model.ts';
export type { BatchLayout, GradientResult, Model, ModelMeta, TensorRecord, Tensors } from './model.ts';
export { BatchIterator, checkDataset, permutation, rowWidth, shuffle, splitHoldout, takeRows } from './data.ts';
export type { BatchIteratorOptions, Dataset, HoldoutSplit, PartialBatchPolicy } from './data.ts';
export { columnStats, standardizeColumns } from './normalize.ts';
export type { ColumnStats } from './normalize.ts';
export { minibatchSgd, sgd } from './sgd.ts';
export type { MinibatchSgdOptions, MinibatchSgdResult, SgdOptions, SgdResult } from './sgd.ts';
export { evaluate, predict } from './evaluate.ts';
export { progressBar, formatRate, type Progress, type ProgressOptions } from './progress.ts';
