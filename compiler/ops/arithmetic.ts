/** Elementwise arithmetic, with scalar and row broadcasting (see `broadcastShape`). */
import { UserCall, applyOp, type Arg } from '../dsl/scope.ts';
import type { Tensor } from '../dsl/tensor.ts';
import { s } from '../ir/scalar.ts';
import { broadcastShape, defineOp } from '../ir/op-registry.ts';

const [x, y] = [s.arg(0), s.arg(1)];

defineOp({
  name: 'add', kind: 'elementwise', arity: 2, shape: broadcastShape, scalar: s.add(x, y),
  vjp: ({ grad }) => [grad, grad],
  doc: 'a + b',
});

defineOp({
  name: 'sub', kind: 'elementwise', arity: 2, shape: broadcastShape, scalar: s.sub(x, y),
  vjp: ({ grad, emit }) => [grad, emit('neg', [grad])],
  doc: 'a - b',
});

defineOp({
  name: 'mul', kind: 'elementwise', arity: 2, shape: broadcastShape, scalar: s.mul(x, y),
  vjp: ({ node, grad, emit }) => [emit('mul', [grad, node.inputs[1]]), emit('mul', [grad, node.inputs[0]])],
  doc: 'a ⊙ b (elementwise product)',
});

defineOp({
  name: 'div', kind: 'elementwise', arity: 2, shape: broadcastShape, scalar: s.div(x, y),
  // d(a/b) = g/b for a, −g·(a/b)/b for b (from the quotient itself, as every backend has it).
  vjp: ({ node, grad, emit }) => {
    const byB = emit('div', [grad, node.inputs[1]]);
    return [byB, emit('neg', [emit('mul', [byB, node.id])])];
  },
  doc: 'a / b',
});

defineOp({
  name: 'neg', kind: 'elementwise', arity: 1, shape: broadcastShape, scalar: s.neg(x),
  vjp: ({ grad, emit }) => [emit('neg', [grad])],
  doc: '-a',
});

/** `a + b`; `b` may be a row `[n]` added to every row of an `[m,n]` `a` (a bias), or a scalar. */
export function add(a: Arg, b: Arg): Tensor {
  return applyOp(new UserCall('add'), 'add', [a, b]);
}

/** `a - b`, broadcasting as `add`. */
export function sub(a: Arg, b: Arg): Tensor {
  return applyOp(new UserCall('sub'), 'sub', [a, b]);
}

/** Elementwise quotient `a / b`, broadcasting as `add`. */
export function div(a: Arg, b: Arg): Tensor {
  return applyOp(new UserCall('div'), 'div', [a, b]);
}

/** Elementwise product `a ⊙ b`, broadcasting as `add`. */
export function mul(a: Arg, b: Arg): Tensor {
  return applyOp(new UserCall('mul'), 'mul', [a, b]);
}
