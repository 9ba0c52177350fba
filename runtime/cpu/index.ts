/**
 * gradc's CPU runtime: drives generated modules (see model.ts for the ABI) over datasets —
 * SGD and mini-batch SGD, a training loop with callbacks, metrics and early stopping, evaluation,
 * batching, held-out splits, one-hot targets and accuracy, and a reader of numeric CSV tables.
 * Zero dependencies.
 */
export { Rng } from './rng.ts';
export { assertModel, batchLayout, sizeOfShape } from './model.ts';
export type { BatchLayout, GradientResult, Model, ModelMeta, ModelState, TensorRecord, Tensors } from './model.ts';
export { BatchIterator, checkDataset, permutation, rowWidth, shuffle, splitHoldout, takeRows } from './data.ts';
export type { BatchIteratorOptions, Dataset, HoldoutSplit, PartialBatchPolicy } from './data.ts';
export { columnStats, standardizeColumns } from './normalize.ts';
export type { ColumnStats } from './normalize.ts';
export { minibatchSgd, sgd } from './sgd.ts';
export type { MinibatchSgdOptions, MinibatchSgdResult, SgdOptions, SgdResult } from './sgd.ts';
export { evaluate, predict } from './evaluate.ts';
export { train } from './train.ts';
export type { EarlyStopping, EpochReport, StepReport, TrainOptions, TrainResult } from './train.ts';
export { METRICS, categoricalAccuracy, computeMetric, meanAbsoluteError, meanSquaredError, r2Score, type MetricName } from '../fit/metrics.ts';
export { parseCsv, selectColumns, type CsvOptions, type CsvTable } from './csv.ts';
export { accuracy, argmax, oneHot } from './classify.ts';
export { progressBar, formatRate, type Progress, type ProgressOptions } from './progress.ts';
export { loadParams, saveParams } from './weights.ts';
export type { LoadParamsOptions, LoadedWeights, SaveParamsOptions, WeightsModule } from './weights.ts';
export type { PyTorchNames, PyTorchOption } from './pytorch.ts';
