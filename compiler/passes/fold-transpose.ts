/**
 * Transpose folding: no transpose is ever materialized. A transposed matmul operand becomes
 * a flag, a transposed product swaps its operands ((AB)^T = B^T A^T), and two transposes
 * cancel. Afterwards no `transpose` node is live.
 */
import type { Graph } from '../ir/graph.ts';
import { rewrite } from './rewrite.ts';

export function foldTransposes(g: Graph): Graph {
  return rewrite(g, (n, [a, b], ctx) => {
    if (n.op === 'transpose') {
      const inner = ctx.node(a);
      if (inner.op === 'transpose') return inner.inputs[0];
      if (inner.op === 'matmul') {
        const [x, y] = inner.inputs;
        return ctx.emit('matmul', [y, x], flags(!inner.attrs.transB, !inner.attrs.transA), n);
      }
      return undefined;
    }
    if (n.op === 'matmul') {
      const [ta, tb] = [ctx.node(a), ctx.node(b)];
      if (ta.op !== 'transpose' && tb.op !== 'transpose') return undefined;
      const [x, transA] = ta.op === 'transpose' ? [ta.inputs[0], !n.attrs.transA] : [a, !!n.attrs.transA];
      const [y, transB] = tb.op === 'transpose' ? [tb.inputs[0], !n.attrs.transB] : [b, !!n.attrs.transB];
      return ctx.emit('matmul', [x, y], flags(transA, transB), n);
    }
    return undefined;
  });
}

/** Only set flags are stored, so equal products have equal attributes (for CSE and printing). */
function flags(transA: boolean, transB: boolean) {
  return { ...(transA ? { transA } : {}), ...(transB ? { transB } : {}) };
}
