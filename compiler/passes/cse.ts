/**
 * Common-subexpression elimination: two nodes with the same op, inputs and attributes are
 * one node. Leaves other than constants are never merged (each input and param is distinct).
 */
import type { Graph, Node } from '../ir/graph.ts';
import { numberKey } from '../ir/scalar.ts';
import { rewrite } from './rewrite.ts';

export function eliminateCommonSubexpressions(g: Graph): Graph {
  const seen = new Map<string, number>();
  return rewrite(g, (n, inputs, ctx) => {
    if (n.op === 'input' || n.op === 'param') return undefined;
    const key = keyOf(n, inputs);
    const hit = seen.get(key);
    if (hit !== undefined) return hit;
    const id = ctx.out.push({ ...n, inputs });
    seen.set(key, id);
    return id;
  });
}

function keyOf(n: Node, inputs: readonly number[]): string {
  const a = n.attrs;
  const attrs = [a.value === undefined ? '' : numberKey(a.value), a.transA ? 'tA' : '', a.transB ? 'tB' : '', a.to ? a.to.join('x') : ''];
  return `${n.op}(${inputs.join(',')})[${n.shape.join('x')}]{${attrs.join(';')}}`;
}
