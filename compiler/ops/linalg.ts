/**
 * Matrix products. Transposes exist in the IR only between autodiff and the
 * transpose-folding pass, which turns every one into a `transA`/`transB` flag.
 */
import { UserCall, applyOp, scopeOf } from '../dsl/scope.ts';
import { Tensor } from '../dsl/tensor.ts';
import type { Shape } from '../ir/graph.ts';
import { dimText, shapeText } from '../ir/graph.ts';
import { defineOp } from '../ir/op-registry.ts';

defineOp({
  name: 'matmul', kind: 'matmul', arity: 2,
  shape: ([a, b], { transA, transB }) => {
    for (const [i, t] of [a, b].entries()) {
      if (t.length !== 2) return { error: `{${i}} is ${shapeText(t)} but a matrix product needs two rank-2 operands` };
    }
    const [m, k] = transA ? [a[1], a[0]] : [a[0], a[1]];
    const [k2, n] = transB ? [b[1], b[0]] : [b[0], b[1]];
    if (k !== k2) return { error: `{0} is ${shapeText(a)} but {1} is ${shapeText(b)}: inner dimensions ${dimText(k)} and ${dimText(k2)} differ` };
    return [m, n];
  },
  // C = op(A)·op(B). dop(A) = G·op(B)^T, dop(B) = op(A)^T·G; a transposed operand's grad is transposed back.
  vjp: ({ node, grad, emit }) => {
    const [a, b] = node.inputs;
    const { transA, transB } = node.attrs;
    const opA = transA ? emit('transpose', [a]) : a;
    const opB = transB ? emit('transpose', [b]) : b;
    const dOpA = emit('matmul', [grad, emit('transpose', [opB])]);
    const dOpB = emit('matmul', [emit('transpose', [opA]), grad]);
    return [transA ? emit('transpose', [dOpA]) : dOpA, transB ? emit('transpose', [dOpB]) : dOpB];
  },
  doc: 'op(A)·op(B), where op transposes when `transA`/`transB` is set',
});

defineOp({
  name: 'transpose', kind: 'transpose', arity: 1,
  shape: ([a]) => (a.length === 2 ? [a[1], a[0]] : { error: `{0} is ${shapeText(a)} but transpose needs rank 2` }),
  vjp: ({ grad, emit }) => [emit('transpose', [grad])],
  doc: 'A^T (never emitted: folded into matmul)',
});

/** The matrix product `a·b` of `[m,k]` and `[k,n]`. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return applyOp(new UserCall('matmul'), 'matmul', [a, b]);
}

/**
 * An affine layer `Z = XW + b` (row-major: one example per row): `x` is `[batch,in]`, `W` is
 * `[in,out]`, `b` is `[out]`, added to every row.
 */
export function affine(x: Tensor, W: Tensor, b: Tensor): Tensor {
  const call = new UserCall('affine');
  scopeOf(call, [x, W, b]);
  const names = [x, W, b].map((t, i) => (t instanceof Tensor ? t.name : String(t ?? `arg${i}`)));
  [x, W, b].forEach((t, i) => {
    if (!(t instanceof Tensor)) call.fail(names, `argument ${i + 1} (${call.argText(i, names[i])}) is ${typeof t}, expected a tensor: affine takes the input, a weight param and a bias param`);
  });
  const arg = (i: number) => call.argText(i, names[i]);
  const fail = (detail: string) => call.fail(names, detail);
  const rank = (t: Tensor, i: number, r: number, what: string) => {
    if (t.shape.length !== r) fail(`${arg(i)} is ${shapeText(t.shape)} but ${what}`);
  };
  rank(x, 0, 2, 'the input of an affine layer must be [batch,in]');
  rank(W, 1, 2, 'the weight of an affine layer must be [in,out]');
  rank(b, 2, 1, 'the bias of an affine layer must be [out]');
  const [xs, ws, bs]: Shape[] = [x.shape, W.shape, b.shape];
  if (xs[1] !== ws[0]) fail(`${arg(0)} is ${shapeText(xs)} but ${arg(1)} is ${shapeText(ws)}`);
  if (bs[0] !== ws[1]) fail(`${arg(1)} is ${shapeText(ws)} but ${arg(2)} is ${shapeText(bs)}`);
  const base = call.nodeName('affine');
  const xw = applyOp(call, 'matmul', [x, W], {}, `${base}_xw`);
  return applyOp(call, 'add', [xw, b], {}, base);
}
