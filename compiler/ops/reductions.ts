/** Sums, and the broadcast that is their pullback. */
import { UserCall, applyOp } from '../dsl/scope.ts';
import { Tensor } from '../dsl/tensor.ts';
import { isBatchDim, shapeText, sizeOf } from '../ir/graph.ts';
import { s } from '../ir/scalar.ts';
import { broadcastKind, defineOp } from '../ir/op-registry.ts';

defineOp({
  name: 'sum', kind: 'reduce', arity: 1, reduce: { axis: 'all', combine: 'sum' }, scalar: s.arg(0),
  shape: () => [],
  vjp: ({ grad, emit, inputShapes }) => [emit('broadcast', [grad], { to: inputShapes[0] })],
  doc: 'the sum of all elements (a scalar)',
});

defineOp({
  name: 'column_sums', kind: 'reduce', arity: 1, reduce: { axis: 'overRows', combine: 'sum' }, scalar: s.arg(0),
  shape: ([a]) => (a.length === 2 ? [a[1]] : { error: `{0} is ${shapeText(a)} but column sums need rank 2` }),
  vjp: ({ grad, emit, inputShapes }) => [emit('broadcast', [grad], { to: inputShapes[0] })],
  doc: 'column sums: [m,n] → [n] (the bias gradient, `db`)',
});

defineOp({
  name: 'broadcast', kind: 'elementwise', arity: 1, scalar: s.arg(0),
  shape: ([a], { to }) =>
    to && broadcastKind(a, to) ? to : { error: `{0} is ${shapeText(a)} and cannot be broadcast to ${shapeText(to ?? [])}` },
  vjp: ({ grad }) => [grad],
  doc: 'a scalar, a row or a column repeated to the shape `to`',
});

/** The sum of all elements of `x`, a scalar. */
export function sum(x: Tensor): Tensor {
  return applyOp(new UserCall('sum'), 'sum', [x]);
}

/** The mean of all elements of `x`, a scalar. */
export function mean(x: Tensor): Tensor {
  const call = new UserCall('mean');
  const total = applyOp(call, 'sum', [x], {}, `${call.nodeName('mean')}_sum`);
  // Over a dynamic batch [B, n], size(x) = rows · n: 1/size is a factor per row, 1/n.
  if (!isBatchDim(x.shape[0] ?? 1)) return applyOp(call, 'mul', [total, 1 / sizeOf(x.shape)]);
  const perRows = x.scope.list.push({ op: 'batch_scale', inputs: [], attrs: { value: 1 / x.shape[1] }, shape: [], name: 'per_row', loc: call.loc });
  return applyOp(call, 'mul', [total, new Tensor(x.scope, perRows)]);
}
