/**
 * The squared loss over a batch in rows:
 * J = (1/B) Σ_i ½‖pred_i − target_i‖², summed over output columns, B the number of rows.
 */
import { UserCall, applyOp, scopeOf } from '../dsl/scope.ts';
import type { Tensor } from '../dsl/tensor.ts';
import { sameShape, shapeText } from '../ir/graph.ts';
import { s } from '../ir/scalar.ts';
import { broadcastShape, defineOp, perRow, type ShapeRule } from '../ir/op-registry.ts';
import { log1pExpNegAbs, stableSigmoid } from './scalar-helpers.ts';

const [p, y, g] = [s.arg(0), s.arg(1), s.arg(2)];
const diff = s.sub(p, y);

defineOp({
  name: 'squared_loss', kind: 'reduce', arity: 2, reduce: { axis: 'all', combine: 'sum' },
  scalar: s.mul(s.mul(diff, diff), 0.5),
  reduceScale: ([pred]) => perRow(pred),
  shape: ([a, b]) => (sameShape(a, b) ? [] : { error: `{0} is ${shapeText(a)} but {1} is ${shapeText(b)}` }),
  // dJ/dpred = (pred − target)/B: the output layer's delta, where backpropagation starts.
  vjp: ({ node, grad, emit, constant, inputShapes }) => {
    const scaled = emit('mul', [grad, constant(perRow(inputShapes[0]))]);
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

/** Both cross-entropies read the logits and labels alike: same shapes, rank 2. */
const sameLogits: ShapeRule = ([z, t]) => (sameShape(z, t) ? [] : { error: `{0} is ${shapeText(z)} but {1} is ${shapeText(t)}` });

// Softmax cross-entropy from the logits z, the labels y and each row's log-sum-exp l:
// J = (1/B) Σ_i Σ_j y_ij (l_i − z_ij), which is −(1/B) Σ_i Σ_j y_ij log softmax(z_i)_j.
const [z, lbl, lse] = [s.arg(0), s.arg(1), s.arg(2)];
defineOp({
  name: 'softmax_ce', kind: 'reduce', arity: 3, reduce: { axis: 'all', combine: 'sum' },
  scalar: s.mul(lbl, s.sub(lse, z)),
  reduceScale: ([logits]) => perRow(logits),
  shape: ([a, b, l]) => (sameShape(a, b) && a.length === 2 && sameShape(l, [a[0], 1]) ? [] : { error: `{0} is ${shapeText(a)} but {1} is ${shapeText(b)}` }),
  // dJ/dz = (softmax(z)·Σ_k y_k − y)/B with softmax(z) = e^(z − l): the log-sum-exp's own
  // dependence on z is folded in here (so its input gets no gradient), exact for labels of any
  // row sum, not only distributions. dJ/dy = (l − z)/B.
  vjp: ({ node, grad, emit, constant, inputShapes }) => {
    const scaled = emit('mul', [grad, constant(perRow(inputShapes[0]))]);
    const [logits, labels, l] = node.inputs;
    const labelSums = emit('row_sums', [labels]);
    return [emit('softmax_ce_grad', [logits, labels, l, labelSums, scaled]), emit('softmax_ce_label_grad', [logits, l, scaled]), null];
  },
  noGradient: { 2: "folded into the logits' gradient: the log-sum-exp is made of the logits, and softmax_ce_grad includes its derivative" },
  doc: '(1/B) Σ y·(lse − z): softmax cross-entropy from logits z, labels y and each row\'s log-sum-exp',
});

defineOp({
  name: 'softmax_ce_grad', kind: 'elementwise', arity: 5, shape: broadcastShape,
  scalar: s.mul(s.sub(s.mul(s.exp(s.sub(z, lse)), s.arg(3)), lbl), s.arg(4)),
  doc: '(softmax(z)·Σy − y)·g, softmax(z) = e^(z − lse)',
});

defineOp({
  name: 'softmax_ce_label_grad', kind: 'elementwise', arity: 3, shape: broadcastShape,
  scalar: s.mul(s.sub(s.arg(1), s.arg(0)), s.arg(2)),
  doc: '(lse − z)·g: the softmax cross-entropy by its labels',
});

// Sigmoid cross-entropy, stable for every z: max(z, 0) − z·y + log(1 + e^−|z|) per element.
const [zz, yy, gg] = [s.arg(0), s.arg(1), s.arg(2)];
defineOp({
  name: 'sigmoid_ce', kind: 'reduce', arity: 2, reduce: { axis: 'all', combine: 'sum' },
  scalar: s.add(s.sub(s.max(zz, 0), s.mul(zz, yy)), log1pExpNegAbs(zz)),
  reduceScale: ([logits]) => perRow(logits),
  shape: sameLogits,
  // dJ/dz = (σ(z) − y)/B, σ computed without overflow; dJ/dy = −z/B.
  vjp: ({ node, grad, emit, constant, inputShapes }) => {
    const scaled = emit('mul', [grad, constant(perRow(inputShapes[0]))]);
    const [logits, labels] = node.inputs;
    return [emit('sigmoid_ce_grad', [logits, labels, scaled]), emit('neg', [emit('mul', [logits, scaled])])];
  },
  doc: '(1/B) Σ [max(z,0) − z·y + log(1 + e^−|z|)]: sigmoid cross-entropy from logits z and labels y',
});

defineOp({
  name: 'sigmoid_ce_grad', kind: 'elementwise', arity: 3, shape: broadcastShape,
  scalar: s.mul(s.sub(stableSigmoid(zz), yy), gg),
  doc: '(σ(z) − y)·g',
});

/**
 * Softmax cross-entropy of each row of `logits` against `labels` (rows of probabilities,
 * usually one-hot), averaged over the B rows: J = −(1/B) Σ_i Σ_j y_ij log softmax(z_i)_j,
 * computed from each row's log-sum-exp (max-subtracted, so finite for any logits). Its
 * gradient is (softmax(z) − y)/B.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const call = new UserCall('softmaxCrossEntropy');
  scopeOf(call, [logits, labels]);
  const base = call.nodeName('softmax_ce');
  if (logits.shape.length !== 2) call.fail([logits.name, labels.name], `${call.argText(0, logits.name)} is ${shapeText(logits.shape)} but the logits must be [rows, classes]`);
  const max = applyOp(call, 'stop_gradient', [applyOp(call, 'row_max', [logits], {}, `${base}_max`)], {}, `${base}_max`);
  const shifted = applyOp(call, 'exp', [applyOp(call, 'sub', [logits, max], {}, `${base}_shifted`)], {}, `${base}_exp`);
  const l = applyOp(call, 'add', [max, applyOp(call, 'log', [applyOp(call, 'row_sums', [shifted], {}, `${base}_sum`)], {}, `${base}_log`)], {}, `${base}_lse`);
  return applyOp(call, 'softmax_ce', [logits, labels, l], {}, base);
}

/**
 * Sigmoid cross-entropy of every element of `logits` against `labels` in [0, 1], summed over
 * the columns and averaged over the B rows: J = (1/B) Σ [max(z,0) − z·y + log(1 + e^−|z|)],
 * finite for any logits. Its gradient is (σ(z) − y)/B.
 */
export function sigmoidCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  return applyOp(new UserCall('sigmoidCrossEntropy'), 'sigmoid_ce', [logits, labels]);
}
