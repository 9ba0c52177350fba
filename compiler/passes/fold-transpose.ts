/**
 * Transpose folding: no transpose is ever materialized. A transposed matmul operand becomes
 * a flag, two transposes cancel, and a transposed product that something other than a
 * product reads swaps its operands ((AB)^T = B^T A^T). A transposed product that only
 * products read is left to them, as a flag on the product itself: swapping it would compute
 * the product a second time, transposed (with a batch of rows as its columns, after
 * backpropagating through a weight used twice). Afterwards no `transpose` node is live.
 */
import type { Graph } from '../ir/graph.ts';
import { rewrite } from './rewrite.ts';

export function foldTransposes(g: Graph): Graph {
  const readOnlyByProducts = transposesReadOnlyByProducts(g);
  return rewrite(g, (n, [a, b], ctx) => {
    if (n.op === 'transpose') {
      const inner = ctx.node(a);
      if (inner.op === 'transpose') return inner.inputs[0];
      if (inner.op === 'matmul' && !readOnlyByProducts.has(n.id)) {
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

/** The transposes whose every reader is a matmul (which takes them as a flag), not a root. */
function transposesReadOnlyByProducts(g: Graph): Set<number> {
  const out = new Set(g.nodes.filter((n) => n.op === 'transpose').map((n) => n.id));
  for (const n of g.nodes) if (n.op !== 'matmul') for (const i of n.inputs) out.delete(i);
  const roots = [...g.outputs, ...(g.grads ?? []), ...(g.loss === undefined ? [] : [{ id: g.loss }])];
  for (const r of roots) out.delete(r.id);
  return out;
}

/** Only set flags are stored, so equal products have equal attributes (for CSE and printing). */
function flags(transA: boolean, transB: boolean) {
  return { ...(transA ? { transA } : {}), ...(transB ? { transB } : {}) };
}
