/**
 * gradc's public API: what graph files import from 'gradc'.
 */
import './ops/all.ts';
export { graph, isGraphDef, type GraphContext, type GraphDef, type ParamOptions } from './dsl/graph.ts';
export { BatchDim, Tensor } from './dsl/tensor.ts';
export { add, sub, mul, div } from './ops/arithmetic.ts';
export { matmul, affine } from './ops/linalg.ts';
export { sum, mean } from './ops/reductions.ts';
export { squaredLoss, softmaxCrossEntropy, sigmoidCrossEntropy } from './ops/loss.ts';
export { rowSum, rowMax, softmax, stopGradient } from './ops/rows.ts';
export { sgd, momentum, adam } from './ops/optimizers.ts';
export type { OptimizerChoice, OptimizerDef } from './ir/optimizers.ts';
export * from './ops/activations.ts';
export { GradcError } from './errors.ts';
export type { Shape, InitKind } from './ir/graph.ts';
