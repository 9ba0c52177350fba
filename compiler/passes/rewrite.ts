/**
 * The one mechanism every pass uses: rebuild a graph node by node, in order, letting a rule
 * replace a node by an existing one (or by new nodes) given its already-rewritten inputs.
 * Roots follow their nodes. The input graph is never modified.
 */
import { NodeList } from '../ir/builder.ts';
import type { Graph, Node } from '../ir/graph.ts';

export interface RewriteContext {
  readonly out: NodeList;
  /** Node in the new list by id. */
  node(id: number): Node;
  /** Adds a node (shape inferred), named after `like`. */
  emit(op: string, inputs: readonly number[], attrs: Node['attrs'], like: Node): number;
}

/** Returns the id in the new list that stands for `node`, or undefined to copy it unchanged. */
export type Rule = (node: Node, inputs: readonly number[], ctx: RewriteContext) => number | undefined;

export function rewrite(g: Graph, rule: Rule, keep?: ReadonlySet<number>): Graph {
  const out = new NodeList();
  const map = new Int32Array(g.nodes.length).fill(-1);
  const ctx: RewriteContext = {
    out,
    node: (id) => out.nodes[id],
    emit: (op, inputs, attrs, like) => out.add(op, inputs, attrs, like.name, like.loc),
  };
  for (const n of g.nodes) {
    if (keep && !keep.has(n.id)) continue;
    const inputs = n.inputs.map((i) => map[i]);
    const replaced = rule(n, inputs, ctx);
    map[n.id] = replaced ?? out.push({ ...n, inputs });
  }
  const remap = <T extends { id: number }>(list: readonly T[] | undefined) => list?.map((r) => ({ ...r, id: map[r.id] }));
  return {
    ...g,
    nodes: out.nodes,
    inputs: remap(g.inputs)!,
    params: remap(g.params)!,
    outputs: remap(g.outputs)!,
    loss: g.loss === undefined ? undefined : map[g.loss],
    grads: remap(g.grads),
  };
}
