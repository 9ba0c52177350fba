/**
 * Turns an activation's two formulas into two elementwise ops, `name` and `name_grad`, and a
 * DSL function. `name_grad(g, v)` computes g ⊙ act'(·) from the input (v = z) or the
 * output (v = a), so the backward pass reads one stored tensor and fuses into its matmul.
 */
import { UserCall, applyOp } from '../dsl/scope.ts';
import type { Tensor } from '../dsl/tensor.ts';
import { s, type ScalarExpr } from '../ir/scalar.ts';
import { broadcastShape, defineOp } from '../ir/op-registry.ts';

export interface ActivationSpec {
  readonly name: string;
  readonly forward: (z: ScalarExpr) => ScalarExpr;
  readonly backwardFrom: 'input' | 'output';
  readonly backward: (g: ScalarExpr, v: ScalarExpr) => ScalarExpr;
}

export function defineActivation(spec: ActivationSpec): (x: Tensor) => Tensor {
  const gradOp = `${spec.name}_grad`;
  defineOp({
    name: spec.name, kind: 'elementwise', arity: 1, shape: broadcastShape,
    scalar: spec.forward(s.arg(0)),
    vjp: ({ node, grad, emit }) => [emit(gradOp, [grad, spec.backwardFrom === 'input' ? node.inputs[0] : node.id])],
    doc: `${spec.name}(z)`,
  });
  defineOp({
    name: gradOp, kind: 'elementwise', arity: 2, shape: broadcastShape,
    scalar: spec.backward(s.arg(0), s.arg(1)),
    doc: `g ⊙ ${spec.name}'(z), from ${spec.backwardFrom === 'input' ? 'z' : `a = ${spec.name}(z)`}`,
  });
  const apply = (x: Tensor): Tensor => applyOp(new UserCall(spec.name), spec.name, [x]);
  Object.defineProperty(apply, 'name', { value: spec.name });
  return apply;
}
