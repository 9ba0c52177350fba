/**
 * Reads an ONNX model into a chain of layers gradc can express: from the one data input to
 * the one output, each node taking the previous node's value and constants (initializers or
 * `Constant` nodes). Each supported op is one rule in `RULES`; anything else is a one-line
 * error naming the op, the node and what is supported. See spec/onnx.md.
 */
import { GradcError, oneLine } from '../errors.ts';
import { DATA_TYPE, decodeModel, type AttributeProto, type ModelProto, type NodeProto, type TensorProto } from './proto.ts';

export const OPSETS = { min: 9, max: 21 } as const;

/** A constant tensor of the model, its values as numbers (floats rounded to f32 later). */
export interface Constant {
  readonly name: string;
  readonly dims: readonly number[];
  readonly values: Float64Array;
}

/** Where a layer came from, for the generated file's comments. */
export interface Origin {
  readonly node: string;
  readonly op: string;
  readonly note?: string;
}

export type Layer =
  /** Z = X·W (+ b): `W` is [in, out] in gradc's layout, alpha and transB applied; `b` is [out], beta applied. */
  | { readonly kind: 'dense'; readonly origins: Origin[]; readonly W: Float32Array; readonly shape: readonly [number, number]; b?: Float32Array }
  /** Z = X + b, a bias on its own. */
  | { readonly kind: 'bias'; readonly origins: Origin[]; readonly b: Float32Array }
  | { readonly kind: 'relu' | 'sigmoid' | 'tanh' | 'softmax' | 'logSoftmax'; readonly origins: Origin[] }
  /** Computes nothing in gradc (Identity, inference Dropout, Flatten or Reshape that keep one example per row). */
  | { readonly kind: 'pass'; readonly origins: Origin[] };

export interface Chain {
  /** The ONNX input: its name, and its shape flattened to [rows, features]; rows undefined where the axis is dynamic. */
  readonly input: { readonly name: string; readonly rows?: number; readonly features: number; readonly dims: readonly (number | string)[] };
  readonly output: { readonly name: string; readonly features: number };
  readonly layers: readonly Layer[];
  readonly opset: number;
  readonly producer: string;
}

/** The data flowing along the chain: its dims (the first being the rows, -1 when dynamic). */
interface Flow {
  dims: number[];
}

interface RuleContext {
  readonly node: NodeProto;
  readonly origin: Origin;
  readonly opset: number;
  readonly flow: Flow;
  /** The node's inputs after the data: constants, or undefined where absent. */
  readonly constant: (index: number) => Constant | undefined;
  readonly dataIndex: number;
  readonly layers: Layer[];
  readonly fail: (detail: string) => GradcError;
}

const features = (dims: readonly number[]) => dims.slice(1).reduce((n, d) => n * d, 1);
const dimsText = (dims: readonly number[]) => `[${dims.map((d) => (d < 0 ? 'batch' : d)).join(', ')}]`;

function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}
const intAttr = (node: NodeProto, name: string, fallback: number) => attr(node, name)?.i ?? fallback;
const floatAttr = (node: NodeProto, name: string, fallback: number) => attr(node, name)?.f ?? fallback;

function needRank2(c: RuleContext): void {
  if (c.flow.dims.length !== 2) throw c.fail(`its input is ${dimsText(c.flow.dims)}, but gradc imports it on [batch, features] only; flatten first`);
}

/** Softmax and LogSoftmax: over the last axis only (before opset 13 the default axis 1 is the last axis of [batch, features]). */
function lastAxis(c: RuleContext): void {
  needRank2(c);
  const axis = intAttr(c.node, 'axis', c.opset >= 13 ? -1 : 1);
  if (axis !== 1 && axis !== -1) throw c.fail(`axis ${axis} is not the last axis; gradc imports ${c.node.opType} over the last axis of [batch, features] only`);
}

/** A constant [n], [1, n], [1] or [] as a bias of n features, times `scale`. */
function biasOf(c: RuleContext, k: Constant, n: number, scale: number, what: string): Float32Array {
  const size = k.values.length;
  const rowLike = k.dims.length <= 1 || (k.dims.length === 2 && k.dims[0] === 1);
  if (!rowLike || (size !== n && size !== 1)) {
    throw c.fail(`${what} ${JSON.stringify(k.name)} is [${k.dims.join(', ')}], but gradc imports a bias of one value per feature ([${n}], [1, ${n}] or a scalar)`);
  }
  return Float32Array.from({ length: n }, (_, j) => scale * k.values[size === 1 ? 0 : j]);
}

function addDense(c: RuleContext, B: Constant, transB: boolean, alpha: number): Extract<Layer, { kind: 'dense' }> {
  needRank2(c);
  if (B.dims.length !== 2) throw c.fail(`its weight ${JSON.stringify(B.name)} is [${B.dims.join(', ')}], not a matrix`);
  const [inDim, outDim] = transB ? [B.dims[1], B.dims[0]] : [B.dims[0], B.dims[1]];
  const n = c.flow.dims[1];
  if (inDim !== n) {
    throw c.fail(`its weight ${JSON.stringify(B.name)} is [${B.dims.join(', ')}]${transB ? ' (transposed)' : ''}, which takes ${inDim} features, but its input has ${n}`);
  }
  // gradc's layout: W [in, out], row-major.
  const W = new Float32Array(inDim * outDim);
  for (let i = 0; i < inDim; i++) for (let j = 0; j < outDim; j++) W[i * outDim + j] = alpha * B.values[transB ? j * inDim + i : i * outDim + j];
  const layer = { kind: 'dense' as const, origins: [c.origin], W, shape: [inDim, outDim] as const };
  c.layers.push(layer);
  c.flow.dims = [c.flow.dims[0], outDim];
  return layer;
}

/** The rules, by op type: each checks the node and appends what it computes. */
const RULES: Record<string, (c: RuleContext) => void> = {
  Gemm(c) {
    if (c.dataIndex !== 0) throw c.fail('its data is input B; gradc imports Gemm with the data as A (Y = alpha·A·B + beta·C)');
    if (intAttr(c.node, 'transA', 0) !== 0) throw c.fail('transA=1 transposes the data (one example per column), which a chain of layers over [batch, features] cannot take');
    const B = c.constant(1);
    if (!B) throw c.fail('it has no weight B');
    const alpha = floatAttr(c.node, 'alpha', 1);
    const beta = floatAttr(c.node, 'beta', 1);
    const layer = addDense(c, B, intAttr(c.node, 'transB', 0) !== 0, alpha);
    const C = c.constant(2);
    if (C && beta !== 0) layer.b = biasOf(c, C, layer.shape[1], beta, 'its C');
  },
  MatMul(c) {
    if (c.dataIndex !== 0) throw c.fail('its data is the second operand; gradc imports X·W with the data first');
    const W = c.constant(1);
    if (!W) throw c.fail('it has no constant weight');
    addDense(c, W, false, 1);
  },
  Add(c) {
    needRank2(c);
    const k = c.constant(1 - c.dataIndex);
    if (!k) throw c.fail('it has no constant operand');
    const n = c.flow.dims[1];
    const b = biasOf(c, k, n, 1, 'the constant');
    const last = c.layers.at(-1);
    // MatMul then Add is one affine layer, as Gemm is.
    if (last?.kind === 'dense' && last.b === undefined) {
      last.b = b;
      last.origins.push(c.origin);
    } else {
      c.layers.push({ kind: 'bias', origins: [c.origin], b });
    }
  },
  Relu: (c) => void c.layers.push({ kind: 'relu', origins: [c.origin] }),
  Sigmoid: (c) => void c.layers.push({ kind: 'sigmoid', origins: [c.origin] }),
  Tanh: (c) => void c.layers.push({ kind: 'tanh', origins: [c.origin] }),
  Softmax(c) {
    lastAxis(c);
    c.layers.push({ kind: 'softmax', origins: [c.origin] });
  },
  LogSoftmax(c) {
    lastAxis(c);
    c.layers.push({ kind: 'logSoftmax', origins: [c.origin] });
  },
  Identity: (c) => void c.layers.push({ kind: 'pass', origins: [{ ...c.origin, note: 'nothing to compute' }] }),
  Dropout(c) {
    const training = c.constant(2);
    if (training && training.values[0] !== 0) throw c.fail('training_mode is true; gradc imports Dropout for inference (an identity)');
    c.layers.push({ kind: 'pass', origins: [{ ...c.origin, note: 'inference: an identity' }] });
  },
  Flatten(c) {
    const rank = c.flow.dims.length;
    const raw = intAttr(c.node, 'axis', 1);
    const axis = raw < 0 ? raw + rank : raw;
    if (axis !== 1) throw c.fail(`axis ${raw} would mix examples; gradc imports Flatten with axis 1 (one example per row)`);
    c.flow.dims = [c.flow.dims[0], features(c.flow.dims)];
    c.layers.push({ kind: 'pass', origins: [{ ...c.origin, note: `to ${dimsText(c.flow.dims)}` }] });
  },
  Reshape(c) {
    const shape = c.constant(1);
    if (!shape) throw c.fail('its shape is not a constant');
    const allowZero = intAttr(c.node, 'allowzero', 0) !== 0;
    const target = [...shape.values].map((d, i) => (d === 0 && !allowZero ? c.flow.dims[i] ?? NaN : d));
    const n = features(c.flow.dims);
    const rows = c.flow.dims[0];
    const keepsRows = target.length === 2 && (target[0] === rows || target[0] === -1) && (target[1] === n || (target[1] === -1 && target[0] === rows && rows > 0));
    if (!keepsRows) {
      throw c.fail(`it reshapes ${dimsText(c.flow.dims)} to [${[...shape.values].join(', ')}]; gradc imports a Reshape only to [batch, ${n}] (one example per row)`);
    }
    c.flow.dims = [rows, n];
    c.layers.push({ kind: 'pass', origins: [{ ...c.origin, note: `to ${dimsText(c.flow.dims)}` }] });
  },
};

export const SUPPORTED_OPS = Object.keys(RULES);
const SUPPORTED_TEXT = 'Gemm, MatMul + Add, Relu, Sigmoid, Tanh, Softmax and LogSoftmax over the last axis, Flatten, Identity, Dropout (inference) and constant Reshape';

/** The inputs each op takes after the data, which must be constants where present. */
const MAX_INPUTS: Record<string, number> = { Gemm: 3, MatMul: 2, Add: 2, Dropout: 3, Reshape: 2 };

/** Reads `bytes`, the contents of the ONNX file `file` (named in errors). */
export function readOnnx(file: string, bytes: Uint8Array): Chain {
  const fail = (detail: string) => new GradcError(file, detail);
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw fail(`not an ONNX model, or a corrupt one: the protobuf decoder says ${oneLine(e instanceof Error ? e.message : String(e))}`);
  }
  const graph = model.graph;
  if (!graph || !graph.node?.length || !graph.output?.length) throw fail('not an ONNX model, or a corrupt one: it has no graph with nodes and outputs');
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version;
  if (opset === undefined) throw fail('the model names no opset of the default ONNX domain');
  if (opset < OPSETS.min || opset > OPSETS.max) throw fail(`the model uses opset ${opset}; gradc imports opsets ${OPSETS.min} to ${OPSETS.max}`);

  const constants = new Map<string, Constant>();
  for (const t of graph.initializer ?? []) constants.set(t.name ?? '', tensorOf(fail, t));
  const nodes = graph.node;
  for (const node of nodes) {
    if (node.opType === 'Constant') {
      const value = attr(node, 'value')?.t;
      if (!value) throw fail(`Constant node ${JSON.stringify(node.name ?? '')} has no tensor value; gradc reads Constant nodes with a 'value' tensor`);
      constants.set(node.output?.[0] ?? '', tensorOf(fail, { ...value, name: node.output?.[0] }));
    }
  }
  const dataInputs = (graph.input ?? []).filter((v) => !constants.has(v.name ?? ''));
  if (dataInputs.length !== 1) throw fail(`the model has ${dataInputs.length} data inputs (${dataInputs.map((v) => JSON.stringify(v.name)).join(', ')}); gradc imports a chain of layers from one input to one output`);
  if (graph.output.length !== 1) throw fail(`the model has ${graph.output.length} outputs; gradc imports a chain of layers from one input to one output`);
  const input = dataInputs[0];
  const outputName = graph.output[0].name ?? '';
  const tensorType = input.type?.tensorType;
  if (tensorType?.elemType !== DATA_TYPE.float) throw fail(`input ${JSON.stringify(input.name)} is not a float32 tensor`);
  const inputDims = (tensorType.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue > 0 ? d.dimValue : d.dimParam || '?'));
  if (inputDims.length < 2) throw fail(`input ${JSON.stringify(input.name)} is [${inputDims.join(', ')}]; gradc imports models over [batch, features…]`);
  if (inputDims.slice(1).some((d) => typeof d !== 'number')) throw fail(`input ${JSON.stringify(input.name)} is [${inputDims.join(', ')}]: only its first (batch) axis may be dynamic`);
  const flow: Flow = { dims: inputDims.map((d) => (typeof d === 'number' ? d : -1)) };

  const consumers = new Map<string, NodeProto[]>();
  for (const node of nodes) {
    if (node.opType === 'Constant') continue;
    for (const name of node.input ?? []) if (name && !constants.has(name)) consumers.set(name, [...(consumers.get(name) ?? []), node]);
  }
  const notChain = (detail: string) => fail(`the model is not a chain of layers: ${detail}; gradc imports models where each node takes the previous node's output and constants`);
  const layers: Layer[] = [];
  const visited = new Set<NodeProto>();
  let current = input.name ?? '';
  while (current !== outputName || (consumers.get(current)?.length ?? 0) > 0) {
    const users = consumers.get(current) ?? [];
    if (current === outputName) throw notChain(`its output ${JSON.stringify(current)} also feeds node ${JSON.stringify(users[0].name ?? '')}`);
    if (users.length === 0) throw notChain(`value ${JSON.stringify(current)} feeds no node and is not the output`);
    if (users.length > 1) throw notChain(`value ${JSON.stringify(current)} feeds ${users.length} nodes (${users.map((u) => JSON.stringify(u.name ?? '')).join(', ')})`);
    const node = users[0];
    const op = node.opType ?? '';
    const origin = { node: node.name ?? '', op };
    const nodeFail = (detail: string) => fail(`node ${JSON.stringify(origin.node)} (${op}): ${detail}`);
    if (node.domain && node.domain !== 'ai.onnx') throw nodeFail(`its domain ${JSON.stringify(node.domain)} is not ONNX's default domain; gradc imports ${SUPPORTED_TEXT}`);
    const rule = RULES[op];
    if (!rule) throw fail(`node ${JSON.stringify(origin.node)} is a ${JSON.stringify(op)}, which gradc does not import; it imports ${SUPPORTED_TEXT}`);
    const inputs = node.input ?? [];
    const dataIndex = inputs.indexOf(current);
    const others = inputs.filter((name, i) => i !== dataIndex && name !== '' && !constants.has(name));
    if (others.length > 0) throw notChain(`node ${JSON.stringify(origin.node)} (${op}) takes ${JSON.stringify(others[0])} besides ${JSON.stringify(current)}, and it is not a constant`);
    if (inputs.length > (MAX_INPUTS[op] ?? 1)) throw nodeFail(`it has ${inputs.length} inputs, more than ${op} takes`);
    const needsConstant = op === 'MatMul' || op === 'Add';
    if (needsConstant && inputs.length !== 2) throw nodeFail('it needs a constant operand');
    rule({ node, origin, opset, flow, dataIndex, layers, fail: nodeFail, constant: (i) => (inputs[i] ? constants.get(inputs[i]) : undefined) });
    visited.add(node);
    const [out, ...extra] = node.output ?? [];
    const usedExtra = extra.find((name) => name && (consumers.has(name) || name === outputName));
    if (usedExtra) throw nodeFail(`its second output ${JSON.stringify(usedExtra)} is used; gradc imports its first output only`);
    current = out ?? '';
  }
  const stray = nodes.find((n) => n.opType !== 'Constant' && !visited.has(n));
  if (stray) throw notChain(`node ${JSON.stringify(stray.name ?? '')} (${stray.opType}) is not on the path from input ${JSON.stringify(input.name)} to output ${JSON.stringify(outputName)}`);
  if (flow.dims.length !== 2) throw fail(`the output is ${dimsText(flow.dims)}; gradc imports models whose output is [batch, features]`);
  const rows = flow.dims[0] > 0 ? flow.dims[0] : undefined;
  return {
    input: { name: input.name ?? '', rows, features: features(inputDims.map(Number)), dims: inputDims },
    output: { name: outputName, features: flow.dims[1] },
    layers,
    opset,
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
  };
}

/** An initializer or Constant's values, checked against its dims. */
function tensorOf(fail: (detail: string) => GradcError, t: TensorProto): Constant {
  const name = t.name ?? '';
  const dims = t.dims ?? [];
  const count = dims.reduce((n, d) => n * d, 1);
  if (t.dataLocation === 1) throw fail(`tensor ${JSON.stringify(name)} is stored in an external file; gradc reads models with their weights inside`);
  const raw = t.rawData;
  const view = raw && raw.length > 0 ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const fromRaw = (bytes: number, read: (at: number) => number) => {
    if (view!.byteLength !== count * bytes) throw fail(`tensor ${JSON.stringify(name)} is corrupt: ${view!.byteLength} bytes of data for [${dims.join(', ')}]`);
    return Float64Array.from({ length: count }, (_, i) => read(i * bytes));
  };
  let values: Float64Array;
  switch (t.dataType) {
    case DATA_TYPE.float: values = view ? fromRaw(4, (at) => view.getFloat32(at, true)) : Float64Array.from(t.floatData ?? []); break;
    case DATA_TYPE.double: values = view ? fromRaw(8, (at) => view.getFloat64(at, true)) : Float64Array.from(t.doubleData ?? []); break;
    case DATA_TYPE.int64: values = view ? fromRaw(8, (at) => Number(view.getBigInt64(at, true))) : Float64Array.from(t.int64Data ?? []); break;
    case DATA_TYPE.int32: values = view ? fromRaw(4, (at) => view.getInt32(at, true)) : Float64Array.from(t.int32Data ?? []); break;
    case DATA_TYPE.bool: values = view ? fromRaw(1, (at) => view.getUint8(at)) : Float64Array.from(t.int32Data ?? []); break;
    default: throw fail(`tensor ${JSON.stringify(name)} has ONNX data type ${t.dataType}; gradc reads float, double, int32, int64 and bool tensors`);
  }
  if (values.length !== count) throw fail(`tensor ${JSON.stringify(name)} is corrupt: ${values.length} values for [${dims.join(', ')}]`);
  return { name, dims, values };
}
