/**
 * A graph with a dynamic batch (`g.batch(max)`) at a given number of rows: what a call with
 * that many rows computes, as a graph of fixed shapes. The float64 reference evaluates it;
 * the tests compare a module built once for the max against it at every row count.
 */
import type { Graph, Shape } from './graph.ts';
import { isBatchDim, shapeText } from './graph.ts';

/** Every batch dimension becomes `rows`, every `batch_scale` the constant value/rows. Ids are kept. */
export function atRows(g: Graph, rows: number): Graph {
  if (g.batch === undefined) return g;
  const fixed = (shape: Shape) => shape.map((d) => (isBatchDim(d) ? rows : d));
  const nodes = g.nodes.map((n) => {
    if (n.op === 'batch_scale') return { ...n, op: 'const', attrs: { value: n.attrs.value! / rows } };
    return { ...n, shape: fixed(n.shape), attrs: n.attrs.to ? { ...n.attrs, to: fixed(n.attrs.to) } : n.attrs };
  });
  const { batch: _, ...rest } = g;
  return { ...rest, nodes };
}

/** The rows of a call: each batch input's length over its row width, all equal, from 1 to the max. */
export function rowsOf(g: Graph, lengths: Readonly<Record<string, { readonly length: number } | undefined>>): number {
  const counts = g.inputs.flatMap((r) => {
    const shape = g.nodes[r.id].shape;
    if (!isBatchDim(shape[0])) return [];
    const given = lengths[r.name]?.length ?? 0;
    const rows = given / shape[1];
    if (!Number.isInteger(rows) || rows < 1 || rows > g.batch!) throw new Error(`reference: input ${r.name} ${shapeText(shape)} has ${given} values`);
    return [rows];
  });
  if (counts.some((c) => c !== counts[0])) throw new Error(`reference: the batch inputs give different row counts (${counts.join(', ')})`);
  return counts[0];
}
