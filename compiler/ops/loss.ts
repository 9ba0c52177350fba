/**
 * The squared loss over a batch in rows:
 * J = (1/B) Σ_i ½‖pred_i − target_i‖², summed over output columns, B the number of rows.
 */
import { UserCall, applyOp } from '../dsl/scope.ts';
import type { Tensor } from '../dsl/tensor.ts';
import type { Shape } from '../ir/graph.ts';
import { sameShape, shapeText } from '../ir/graph.ts';
import { s } from '../ir/scalar.ts';
import { broadcastShape, defineOp } from './registry.ts';

/** B: rows of a batch; a single example (rank 0 or 1) counts as one. */
const batchOf = (pred: Shape): number => (pred.length === 2 ? pred[0] : 1);
const [p, y, g] = [s.arg(0), s.arg(1), s.arg(2)];
const diff = s.sub(p, y);

defineOp({
  name: 'squared_loss', kind: 'reduce', arity: 2, reduce: { axis: 'all', combine: 'sum' },
  scalar: s.mul(s.mul(diff, diff), 0.5),
  reduceScale: ([pred]) => 1 / batchOf(pred),
  shape: ([a, b]) => (sameShape(a, b) ? [] : { error: `{0} is ${shapeText(a)} but {1} is ${shapeText(b)}` }),
  // dJ/dpred = (pred − target)/B: the output layer's delta, where backpropagation starts.
  vjp: ({ node, grad, emit, constant, inputShapes }) => {
    const scaled = emit('mul', [grad, constant(1 / batchOf(inputShapes[0]))]);
    const dPred = emit('squared_loss_grad', [node.inputs[0], node.inputs[1], scaled]);
    return [dPred, emit('neg', [dPred])];
  },
  doc: '(1/B) Σ ½(pred − target)², B = rows of pred',
});

defineOp({
  name: 'squared_loss_grad', kind: 'elementwise', arity: 3, shape: broadcastShape,
  scalar: s.mul(diff, g),
  doc: '(pred − target)·g: the output delta, g = dJ/dloss / B',
});

/** Mean squared loss over the batch, J = (1/B) Σᵢ ½‖predᵢ − targetᵢ‖²: a scalar. */
export function squaredLoss(pred: Tensor, target: Tensor): Tensor {
  return applyOp(new UserCall('squaredLoss'), 'squared_loss', [pred, target]);
}
