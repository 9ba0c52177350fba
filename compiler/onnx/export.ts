/**
 * A gradc graph's forward pass, with trained params, as an ONNX model (opset 17) that ONNX
 * runtimes run: each forward IR node reachable from the outputs is one ONNX node (`OPS`),
 * each param an initializer, the dynamic batch a symbolic `batch` axis. See spec/onnx.md.
 */
import type { GraphDef } from '../dsl/graph.ts';
import { GradcError } from '../errors.ts';
import { reachable, type Node, type Shape } from '../ir/graph.ts';
import { VERSION } from '../version.ts';
import { ATTRIBUTE_TYPE, DATA_TYPE, encodeModel, type AttributeProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.ts';

export const EXPORT_OPSET = 17;

export interface ToOnnxOptions {
  /** Outputs (by name) to also give as softmax probabilities over their last axis, as extra outputs `<name>_softmax`. */
  readonly softmax?: readonly string[];
}

type Emit = (op: string, inputs: string[], attrs?: AttributeProto[]) => void;

const ints = (name: string, values: number[]): AttributeProto => ({ name, ints: values, type: ATTRIBUTE_TYPE.ints });
const int = (name: string, i: number): AttributeProto => ({ name, i, type: ATTRIBUTE_TYPE.int });

/** How each forward IR op is written: ONNX nodes from the values of its inputs. */
const OPS: Record<string, (emit: Emit, inputs: string[], node: Node, constant: (values: number[], dims: number[], type?: number) => string) => void> = {
  add: (emit, x) => emit('Add', x),
  sub: (emit, x) => emit('Sub', x),
  mul: (emit, x) => emit('Mul', x),
  div: (emit, x) => emit('Div', x),
  neg: (emit, x) => emit('Neg', x),
  relu: (emit, x) => emit('Relu', x),
  sigmoid: (emit, x) => emit('Sigmoid', x),
  tanh: (emit, x) => emit('Tanh', x),
  exp: (emit, x) => emit('Exp', x),
  log: (emit, x) => emit('Log', x),
  stop_gradient: (emit, x) => emit('Identity', x),
  transpose: (emit, x) => emit('Transpose', x),
  // transA/transB are set by passes, not by the DSL; written as a Gemm, which takes both.
  matmul: (emit, x, node) => (node.attrs.transA || node.attrs.transB
    ? emit('Gemm', x, [int('transA', node.attrs.transA ? 1 : 0), int('transB', node.attrs.transB ? 1 : 0)])
    : emit('MatMul', x)),
  sum: (emit, x) => emit('ReduceSum', x, [int('keepdims', 0)]),
  row_sums: (emit, x, _node, constant) => emit('ReduceSum', [...x, constant([1], [1], DATA_TYPE.int64)], [int('keepdims', 1)]),
  column_sums: (emit, x, _node, constant) => emit('ReduceSum', [...x, constant([0], [1], DATA_TYPE.int64)], [int('keepdims', 0)]),
  row_max: (emit, x) => emit('ReduceMax', x, [ints('axes', [1]), int('keepdims', 1)]),
};

/** `[batch, n]` as ONNX dims: the dynamic batch (stored as −max) is the symbolic axis `batch`. */
function valueInfo(name: string, shape: Shape): ValueInfoProto {
  const dim = shape.map((d) => (d < 0 ? { dimParam: 'batch' } : { dimValue: d }));
  return { name, type: { tensorType: { elemType: DATA_TYPE.float, shape: { dim } } } };
}

function floatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorProto {
  const data = Float32Array.from(values);
  const rawData = new Uint8Array(data.length * 4);
  const view = new DataView(rawData.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return { name, dims, dataType: DATA_TYPE.float, rawData };
}

/**
 * The ONNX file (its bytes) of `def`'s forward pass with `params` (one Float32Array per
 * param, gradc's layout). Throws a GradcError naming the param or op when a param is
 * missing or of another length, or an output uses an op ONNX export does not write.
 */
export function toOnnx(def: GraphDef, params: Readonly<Record<string, Float32Array>>, options: ToOnnxOptions = {}): Uint8Array {
  const g = def.ir;
  const fail = (detail: string) => new GradcError(`toOnnx(${def.name})`, detail);
  const nodes: NodeProto[] = [];
  const initializer: TensorProto[] = [];
  const inputs: ValueInfoProto[] = [];
  const names = new Map<number, string>();
  let constants = 0;
  const constant = (values: number[], dims: number[], type: number = DATA_TYPE.float) => {
    const name = `/const${constants++}`;
    initializer.push(type === DATA_TYPE.int64 ? { name, dims, dataType: type, int64Data: values } : floatTensor(name, dims, values));
    return name;
  };
  const live = reachable(g, g.outputs.map((o) => o.id));
  for (const id of live) {
    const node = g.nodes[id];
    if (node.op === 'input') {
      names.set(id, node.attrs.leaf!);
      inputs.push(valueInfo(node.attrs.leaf!, node.shape));
    } else if (node.op === 'param') {
      const name = node.attrs.leaf!;
      const values = params[name];
      const size = node.shape.reduce((n, d) => n * d, 1);
      if (!(values instanceof Float32Array)) throw fail(`param ${JSON.stringify(name)} is missing: pass a Float32Array of ${size} values for [${node.shape.join(', ')}]`);
      if (values.length !== size) throw fail(`param ${JSON.stringify(name)} has ${values.length} values, but the graph declares it [${node.shape.join(', ')}] (${size} values)`);
      names.set(id, name);
      initializer.push(floatTensor(name, [...node.shape], values));
    } else if (node.op === 'const') {
      names.set(id, constant([node.attrs.value!], []));
    } else {
      const write = OPS[node.op];
      if (!write) throw fail(`node ${JSON.stringify(node.name)} is a ${node.op}, which ONNX export does not write; it writes ${['input', 'param', 'const', ...Object.keys(OPS)].join(', ')}`);
      const out = `/${node.name}`;
      names.set(id, out);
      write((op, ins, attribute) => nodes.push({ name: node.name, opType: op, input: ins, output: [out], attribute }), node.inputs.map((i) => names.get(i)!), node, constant);
    }
  }
  const outputs: ValueInfoProto[] = [];
  for (const o of g.outputs) {
    nodes.push({ name: `output ${o.name}`, opType: 'Identity', input: [names.get(o.id)!], output: [o.name] });
    outputs.push(valueInfo(o.name, g.nodes[o.id].shape));
  }
  for (const name of options.softmax ?? []) {
    const o = g.outputs.find((x) => x.name === name);
    if (!o) throw fail(`softmax: the graph has no output ${JSON.stringify(name)}; its outputs: ${g.outputs.map((x) => x.name).join(', ')}`);
    const shape = g.nodes[o.id].shape;
    if (shape.length !== 2) throw fail(`softmax: output ${JSON.stringify(name)} is [${shape.join(', ')}], not [batch, n]`);
    nodes.push({ name: `${name} softmax`, opType: 'Softmax', input: [name], output: [`${name}_softmax`], attribute: [int('axis', -1)] });
    outputs.push(valueInfo(`${name}_softmax`, shape));
  }
  return encodeModel({
    irVersion: 8,
    producerName: 'gradc',
    producerVersion: VERSION,
    opsetImport: [{ domain: '', version: EXPORT_OPSET }],
    graph: { name: def.name, node: nodes, initializer, input: inputs, output: outputs },
  });
}
