/**
 * The bench's MLP as ONNX graphs, written from scratch (no Python here to export one): a
 * forward graph, and a whole training step — forward, backward by hand (the same formulas as
 * bench/handwritten.ts) and the SGD update — as one graph whose outputs are the loss and the
 * updated params, fed back as inputs on the next step. Serialized by the compiler's own ONNX
 * schema (compiler/onnx/proto.ts, protobufjs), opset 13.
 */
import { ATTRIBUTE_TYPE, DATA_TYPE, encodeModel, type NodeProto, type TensorProto, type ValueInfoProto } from '../compiler/onnx/proto.ts';
import type { Activation, NetSpec } from './networks.ts';

/** TensorProto: dims, data type, name, raw little-endian data. */
function tensor(name: string, dims: readonly number[], data: Float32Array | BigInt64Array): TensorProto {
  const dataType = data instanceof Float32Array ? DATA_TYPE.float : DATA_TYPE.int64;
  return { dims: [...dims], dataType, name, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** ValueInfoProto of a float tensor of a fixed shape. */
function valueInfo(name: string, dims: readonly number[]): ValueInfoProto {
  return { name, type: { tensorType: { elemType: DATA_TYPE.float, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

type Attr = { readonly name: string; readonly int: number };

// ---- Graph building ----

class Graph {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private count = 0;

  /** A node `op(inputs)` with fresh output names; returns them. */
  op(opType: string, inputs: readonly string[], attrs: readonly Attr[] = [], outputs = 1): string[] {
    const outs = Array.from({ length: outputs }, () => `t${this.count++}`);
    this.named(opType, inputs, outs, attrs);
    return outs;
  }

  one(opType: string, inputs: readonly string[], attrs: readonly Attr[] = []): string {
    return this.op(opType, inputs, attrs)[0];
  }

  /** A node writing the given output names. */
  named(opType: string, inputs: readonly string[], outputs: readonly string[], attrs: readonly Attr[] = []): void {
    const attribute = attrs.map((a) => ({ name: a.name, i: a.int, type: ATTRIBUTE_TYPE.int }));
    this.nodes.push({ input: [...inputs], output: [...outputs], name: `n${this.nodes.length}`, opType, attribute });
  }

  constant(value: number): string {
    const name = `c${this.initializers.length}`;
    this.initializers.push(tensor(name, [], Float32Array.of(value)));
    return name;
  }

  axes(values: readonly number[]): string {
    const name = `axes${this.initializers.length}`;
    this.initializers.push(tensor(name, [values.length], BigInt64Array.from(values.map(BigInt))));
    return name;
  }

  model(input: ValueInfoProto[], output: ValueInfoProto[]): Uint8Array {
    const graph = { node: this.nodes, name: 'gradc_bench', initializer: this.initializers, input, output };
    return encodeModel({ irVersion: 8, producerName: 'gradc bench', graph, opsetImport: [{ domain: '', version: 13 }] });
  }
}

const ACT: Record<Activation, string> = { relu: 'Relu', tanh: 'Tanh', sigmoid: 'Sigmoid' };

/** The layers' shapes: W{l} [in, out], b{l} [out]. */
function paramInfos(spec: NetSpec): ValueInfoProto[] {
  const out: ValueInfoProto[] = [];
  for (let l = 1; l < spec.widths.length; l++) out.push(valueInfo(`W${l}`, [spec.widths[l - 1], spec.widths[l]]), valueInfo(`b${l}`, [spec.widths[l]]));
  return out;
}

/** Forward: h_l = act(h_{l−1}·W_l + b_l), the last layer linear. Returns [zs, hs] by layer (hs[0] = x). */
function forwardNodes(g: Graph, spec: NetSpec): { z: string[]; h: string[] } {
  const L = spec.widths.length - 1;
  const z: string[] = [''];
  const h = ['x'];
  for (let l = 1; l <= L; l++) {
    z.push(g.one('Gemm', [h[l - 1], `W${l}`, `b${l}`]));
    h.push(l < L ? g.one(ACT[spec.activation], [z[l]]) : z[l]);
  }
  return { z, h };
}

/** The forward graph: inputs x and the params, output o. */
export function forwardModel(spec: NetSpec): Uint8Array {
  const g = new Graph();
  const { h } = forwardNodes(g, spec);
  const o = valueInfo('o', [spec.batch, spec.widths.at(-1)!]);
  g.named('Identity', [h.at(-1)!], ['o']);
  return g.model([valueInfo('x', [spec.batch, spec.widths[0]]), ...paramInfos(spec)], [o]);
}

/**
 * One SGD step: inputs x, y and the params; outputs `loss` (J = (1/B) Σ ½‖o − y‖², before the
 * update) and `W{l}_next`, `b{l}_next` = param − lr·gradient. With `learningRate` undefined,
 * the gradient instead: outputs `loss`, `dW{l}`, `db{l}` (for the agreement check).
 */
export function trainModel(spec: NetSpec, learningRate?: number): Uint8Array {
  const g = new Graph();
  const L = spec.widths.length - 1;
  const { h } = forwardNodes(g, spec);
  const diff = g.one('Sub', [h[L], 'y']);
  const sum = g.one('ReduceSum', [g.one('Mul', [diff, diff]), g.axes([0, 1])], [{ name: 'keepdims', int: 0 }]);
  g.named('Mul', [sum, g.constant(0.5 / spec.batch)], ['loss']);
  const lr = learningRate === undefined ? '' : g.constant(learningRate);
  let one = '';
  const oneConst = () => (one ||= g.constant(1));
  // δ_L = (o − y)/B; then for each layer dW = h_{l−1}ᵀ·δ, db = Σ_rows δ, δ_{l−1} = (δ·W_lᵀ) ⊙ act′.
  let delta = g.one('Mul', [diff, g.constant(1 / spec.batch)]);
  const rows = g.axes([0]);
  for (let l = L; l >= 1; l--) {
    const dW = g.one('Gemm', [h[l - 1], delta], [{ name: 'transA', int: 1 }]);
    const db = g.one('ReduceSum', [delta, rows], [{ name: 'keepdims', int: 0 }]);
    if (l > 1) {
      const dh = g.one('Gemm', [delta, `W${l}`], [{ name: 'transB', int: 1 }]);
      const a = h[l - 1];
      const slope = spec.activation === 'relu' ? g.one('Cast', [g.one('Greater', [a, g.constant(0)])], [{ name: 'to', int: DATA_TYPE.float }])
        : spec.activation === 'tanh' ? g.one('Sub', [oneConst(), g.one('Mul', [a, a])])
          : g.one('Mul', [a, g.one('Sub', [oneConst(), a])]);
      delta = g.one('Mul', [dh, slope]);
    }
    if (lr) {
      g.named('Sub', [`W${l}`, g.one('Mul', [dW, lr])], [`W${l}_next`]);
      g.named('Sub', [`b${l}`, g.one('Mul', [db, lr])], [`b${l}_next`]);
    } else {
      g.named('Identity', [dW], [`dW${l}`]);
      g.named('Identity', [db], [`db${l}`]);
    }
  }
  const [w, b] = lr ? ['W{}_next', 'b{}_next'] : ['dW{}', 'db{}'];
  const outputs = [valueInfo('loss', [])];
  for (let l = 1; l <= L; l++) outputs.push(valueInfo(w.replace('{}', String(l)), [spec.widths[l - 1], spec.widths[l]]), valueInfo(b.replace('{}', String(l)), [spec.widths[l]]));
  return g.model([valueInfo('x', [spec.batch, spec.widths[0]]), valueInfo('y', [spec.batch, spec.widths[L]]), ...paramInfos(spec)], outputs);
}
