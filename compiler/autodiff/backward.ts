/**
 * Symbolic reverse-mode differentiation (backpropagation). Appends to the forward
 * graph, in the same IR, the nodes that compute dJ/dparam for every param: walking the
 * forward nodes from the loss back to the leaves, each op's pullback (its `vjp`, defined
 * beside the op) turns dJ/d(node) into dJ/d(input). Nothing is evaluated.
 */
import { GradcError } from '../errors.ts';
import { NodeList } from '../ir/builder.ts';
import type { Graph, Node } from '../ir/graph.ts';
import { reachable, sameShape } from '../ir/graph.ts';
import { broadcastKind, opDef, type Scale } from '../ir/op-registry.ts';

export function differentiate(g: Graph): Graph {
  if (g.loss === undefined) {
    throw new GradcError(`graph '${g.name}'`, 'has no loss, so it has no gradients: call g.loss(…) in the graph, or build with --forward-only', g.loc);
  }
  const list = new NodeList();
  for (const n of g.nodes) list.push(n);
  const nodes = list.nodes;

  // Only nodes that depend on a param and feed the loss carry a gradient.
  const feedsLoss = new Set(reachable(g, [g.loss]));
  const needs = new Uint8Array(g.nodes.length);
  for (const n of g.nodes) {
    needs[n.id] = feedsLoss.has(n.id) && (n.op === 'param' || n.inputs.some((i) => needs[i])) ? 1 : 0;
  }

  const contributions = new Map<number, number[]>();
  const contribute = (id: number, grad: number) => {
    const list = contributions.get(id);
    if (list) list.push(grad);
    else contributions.set(id, [grad]);
  };
  const constant = (value: Scale) => (typeof value === 'number'
    ? list.push({ op: 'const', inputs: [], attrs: { value }, shape: [], name: 'c' })
    : list.push({ op: 'batch_scale', inputs: [], attrs: { value: value.perRows }, shape: [], name: 'per_row' }));
  contribute(g.loss, constant(1));

  const total = new Map<number, number>();
  const named = new Set<number>();
  for (let id = g.loss; id >= 0; id--) {
    const parts = contributions.get(id);
    if (!needs[id] || !parts) continue;
    const node = nodes[id];
    let grad = parts[0];
    for (const p of parts.slice(1)) grad = list.add('add', [grad, p], {}, `d_${node.name}`);
    if (grad >= g.nodes.length && !named.has(grad) && nodes[grad].op !== 'const') {
      // The first tensor a gradient node stands for names it: d_h is dJ/dh.
      list.rename(grad, `d_${node.name}`);
      named.add(grad);
    }
    total.set(id, grad);
    const def = opDef(node.op);
    if (def.kind === 'leaf') continue;
    if (!def.vjp) throw new Error(`internal: op '${node.op}' has no pullback`);
    const inputGrads = def.vjp({
      node,
      grad,
      inputShapes: node.inputs.map((i) => nodes[i].shape),
      emit: (op, inputs, attrs = {}) => list.add(op, inputs, attrs, `d_${node.name}_${op}`, node.loc),
      constant,
    });
    node.inputs.forEach((input, k) => {
      const d = inputGrads[k];
      if (!needs[input] || d === null || d === undefined) return;
      contribute(input, unbroadcast(list, d, nodes[input]));
    });
  }

  const grads = g.params.map(({ name, id }) => {
    const d = total.get(id);
    // A param that reaches an output but not the loss: its gradient is zero.
    return { name, id: d ?? list.add('broadcast', [constant(0)], { to: nodes[id].shape }, `d_${name}`) };
  });
  return { ...g, nodes: list.nodes, grads };
}

/** Sums a gradient of a broadcast result back to the shape of the input that was broadcast. */
function unbroadcast(list: NodeList, grad: number, input: Node): number {
  const shape = list.nodes[grad].shape;
  if (sameShape(shape, input.shape)) return grad;
  const kind = broadcastKind(input.shape, shape);
  if (kind === 'row') return list.add('column_sums', [grad], {}, `d_${input.name}`);
  if (kind === 'column') return list.add('row_sums', [grad], {}, `d_${input.name}`);
  if (kind === 'scalar') return list.add('sum', [grad], {}, `d_${input.name}`);
  throw new Error(`internal: gradient of shape [${shape}] for input ${input.name} [${input.shape}]`);
}
