/** Sums, and the broadcast that is their pullback. */
import { UserCall, applyOp } from '../dsl/scope.ts';
import type { Tensor } from '../dsl/tensor.ts';
import { shapeText, sizeOf } from '../ir/graph.ts';
import { s } from '../ir/scalar.ts';
import { broadcastKind, defineOp } from './registry.ts';

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
  return applyOp(call, 'mul', [total, 1 / sizeOf(x.shape)]);
}
