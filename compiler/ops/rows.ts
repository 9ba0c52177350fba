/**
 * Per-row values: each row's sum or maximum as a column `[m,1]` (which broadcasts back across
 * the row's columns), the softmax of each row, and `stop_gradient`, the identity that no
 * gradient flows through (a max subtracted only for numerical stability).
 */
import { UserCall, applyOp } from '../dsl/scope.ts';
import type { Tensor } from '../dsl/tensor.ts';
import { shapeText } from '../ir/graph.ts';
import { s } from '../ir/scalar.ts';
import { broadcastShape, defineOp, type ShapeRule } from '../ir/op-registry.ts';

const perRow: ShapeRule = ([a]) => (a.length === 2 ? [a[0], 1] : { error: `{0} is ${shapeText(a)} but a per-row value needs rank 2 ([rows, columns])` });

defineOp({
  name: 'row_sums', kind: 'reduce', arity: 1, reduce: { axis: 'withinRows', combine: 'sum' }, scalar: s.arg(0),
  shape: perRow,
  vjp: ({ grad, emit, inputShapes }) => [emit('broadcast', [grad], { to: inputShapes[0] })],
  doc: 'the sum of each row: [m,n] → [m,1]',
});

defineOp({
  name: 'row_max', kind: 'reduce', arity: 1, reduce: { axis: 'withinRows', combine: 'max' }, scalar: s.arg(0),
  shape: perRow,
  // The gradient goes to every element equal to its row's maximum.
  vjp: ({ node, grad, emit }) => [emit('row_max_grad', [node.inputs[0], node.id, grad])],
  doc: 'the maximum of each row: [m,n] → [m,1]',
});

defineOp({
  name: 'row_max_grad', kind: 'elementwise', arity: 3, shape: broadcastShape,
  scalar: s.ifGe(s.arg(0), s.arg(1), s.arg(2), 0),
  doc: 'g where x is its row maximum, else 0',
});

defineOp({
  name: 'stop_gradient', kind: 'elementwise', arity: 1, shape: broadcastShape, scalar: s.arg(0),
  vjp: () => [null],
  noGradient: { 0: 'by definition: it marks a value that only stabilizes a computation (a max subtracted)' },
  doc: 'x, with no gradient flowing back through it',
});

/** The sum of each row of `x` ([m,n]), as a column [m,1]. */
export function rowSum(x: Tensor): Tensor {
  return applyOp(new UserCall('rowSum'), 'row_sums', [x]);
}

/** The maximum of each row of `x` ([m,n]), as a column [m,1]. */
export function rowMax(x: Tensor): Tensor {
  return applyOp(new UserCall('rowMax'), 'row_max', [x]);
}

/** `x` with no gradient flowing back through it (for values that only stabilize a computation). */
export function stopGradient(x: Tensor): Tensor {
  return applyOp(new UserCall('stopGradient'), 'stop_gradient', [x]);
}

/**
 * softmax of each row, e^(x − max) / Σ e^(x − max): never overflows, whatever the scale of
 * `x`. Its gradient comes from the ops it is made of (the max is only a stabilizer).
 */
export function softmax(x: Tensor): Tensor {
  const call = new UserCall('softmax');
  const base = call.nodeName('softmax');
  const max = applyOp(call, 'stop_gradient', [applyOp(call, 'row_max', [x], {}, `${base}_max`)], {}, `${base}_max`);
  const e = applyOp(call, 'exp', [applyOp(call, 'sub', [x, max], {}, `${base}_shifted`)], {}, `${base}_exp`);
  return applyOp(call, 'div', [e, applyOp(call, 'row_sums', [e], {}, `${base}_sum`)], {}, base);
}
