/**
 * The float64 reference evaluator of the IR: the semantics every backend is tested
 * against, and the function finite differences are taken of. Written for clarity, not speed.
 */
import { COMBINES, broadcastKind, opDef } from './op-registry.ts';
import type { Graph, Node } from './graph.ts';
import { reachable, sizeOf } from './graph.ts';
import { evalScalar } from './scalar.ts';
import { atRows, rowsOf } from './batch.ts';

export type Values = Readonly<Record<string, ArrayLike<number>>>;

/**
 * Evaluates the nodes `wanted` needs, given arrays for the inputs and params by name. A graph
 * with a dynamic batch is evaluated at the rows its inputs give (see `atRows`).
 */
export function evaluate(graph: Graph, leaves: Values, wanted: readonly number[]): Map<number, Float64Array> {
  const g = graph.batch === undefined ? graph : atRows(graph, rowsOf(graph, leaves));
  const values = new Map<number, Float64Array>();
  for (const id of reachable(g, wanted)) {
    const n = g.nodes[id];
    values.set(id, evalNode(n, n.inputs.map((i) => values.get(i)!), g, leaves));
  }
  return values;
}

function evalNode(n: Node, ins: Float64Array[], g: Graph, leaves: Values): Float64Array {
  const def = opDef(n.op);
  const size = sizeOf(n.shape);
  const out = new Float64Array(size);
  const cols = n.shape.length === 2 ? n.shape[1] : size;
  switch (def.kind) {
    case 'leaf': {
      if (n.op === 'const') return out.fill(n.attrs.value!);
      const given = leaves[n.attrs.leaf!];
      if (!given || given.length !== size) throw new Error(`reference: ${n.op} '${n.attrs.leaf}' needs ${size} values`);
      return Float64Array.from(given);
    }
    case 'elementwise': {
      const readers = n.inputs.map((inputId, k) => reader(g.nodes[inputId], n, ins[k], cols));
      const args = new Float64Array(ins.length);
      for (let i = 0; i < size; i++) {
        for (let k = 0; k < readers.length; k++) args[k] = readers[k](i);
        out[i] = evalScalar(def.scalar!, args);
      }
      return out;
    }
    case 'reduce': {
      const inShape = g.nodes[n.inputs[0]].shape;
      const total = sizeOf(inShape);
      const inCols = inShape.length === 2 ? inShape[1] : total;
      const scale = def.reduceScale ? def.reduceScale(n.inputs.map((i) => g.nodes[i].shape)) : 1;
      if (typeof scale !== 'number') throw new Error('internal: a per-row scale in a graph of fixed shapes');
      const { axis, combine } = def.reduce!;
      const slot = (i: number) => (axis === 'overRows' ? i % inCols : axis === 'withinRows' ? Math.floor(i / inCols) : 0);
      const join = combine === 'sum' ? (a: number, b: number) => a + b : Math.max;
      out.fill(COMBINES[combine].identity);
      // The terms have the first input's shape; the others broadcast to it (the softmax
      // cross-entropy's per-row log-sum-exp is a column).
      const over = g.nodes[n.inputs[0]];
      const readers = n.inputs.map((inputId, k) => reader(g.nodes[inputId], over, ins[k], inCols));
      const args = new Float64Array(ins.length);
      for (let i = 0; i < total; i++) {
        for (let k = 0; k < ins.length; k++) args[k] = readers[k](i);
        out[slot(i)] = join(out[slot(i)], evalScalar(def.scalar!, args));
      }
      for (let i = 0; i < size; i++) out[i] *= scale;
      return out;
    }
    case 'matmul': {
      const [a, b] = n.inputs.map((i) => g.nodes[i].shape);
      const { transA, transB } = n.attrs;
      const [m, nn] = n.shape;
      const k = transA ? a[0] : a[1];
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < nn; j++) {
          let acc = 0;
          for (let p = 0; p < k; p++) {
            const av = transA ? ins[0][p * a[1] + i] : ins[0][i * a[1] + p];
            const bv = transB ? ins[1][j * b[1] + p] : ins[1][p * b[1] + j];
            acc += av * bv;
          }
          out[i * nn + j] = acc;
        }
      }
      return out;
    }
    case 'transpose': {
      const [r, c] = g.nodes[n.inputs[0]].shape;
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = ins[0][i * c + j];
      return out;
    }
  }
}

/** Element i of the output reads this element of a (possibly broadcast) input. */
function reader(input: Node, out: Node, values: Float64Array, cols: number): (i: number) => number {
  switch (broadcastKind(input.shape, out.shape)) {
    case 'same': return (i) => values[i];
    case 'scalar': return () => values[0];
    case 'row': return (i) => values[i % cols];
    case 'column': return (i) => values[Math.floor(i / cols)];
    default: throw new Error(`reference: ${input.name} cannot be broadcast to ${out.name}`);
  }
}
