/**
 * PyTorch's layout and naming for saved weights: a state dict as `safetensors.torch`
 * writes it. `nn.Linear(in, out)` keeps `weight` as [out, in] and `bias` as [out], under
 * its module path (`0.weight`, `0.bias` in an `nn.Sequential`; `fc1.weight` in a named
 * module); gradc keeps W as [in, out] and b as [out], under the graph's names (`W1`, `b1`).
 *
 * A gradc graph's params are read as layers, in declaration order: a matrix W [in, out],
 * then the vector that follows it if it has `out` values (its bias). The mapping between
 * the two sides (`PyTorchNames`: gradc param → PyTorch tensor) is given, or inferred from
 * a file's tensors where that is unambiguous: each layer matched by shape to the one
 * PyTorch layer (`P.weight` [out, in] and, if the layer has a bias, `P.bias` [out]) that
 * fits it, or, where several fit, taken in order when PyTorch's module paths are numbered
 * (an nn.Sequential's). Any other case asks for the names, naming both sides' tensors.
 * Used by loadParams and saveParams (weights.ts) with the `pytorch` option.
 */
import type { ModuleMeta } from '../module.ts';
import type { NamedTensor, TensorEntry } from './safetensors.ts';
import { quote } from './safetensors.ts';

/** gradc param name → PyTorch tensor name, e.g. `{ W1: '0.weight', b1: '0.bias' }`. */
export type PyTorchNames = Readonly<Record<string, string>>;

export interface PyTorchOption {
  /** The mapping; inferred from the file's tensors when loading, `<k>.weight`/`<k>.bias` (k from 0) when saving, if omitted. */
  readonly names?: PyTorchNames;
}

interface Layer {
  readonly W: string;
  readonly b?: string;
  readonly inDim: number;
  readonly outDim: number;
}

const shapeText = (shape: readonly number[]) => `[${shape.join(',')}]`;

/** The graph's params as layers (W then its bias), and the params that are neither. */
function layersOf(meta: ModuleMeta): { layers: Layer[]; others: string[] } {
  const layers: Layer[] = [];
  const others: string[] = [];
  const entries = Object.entries(meta.params);
  for (let k = 0; k < entries.length; k++) {
    const [name, shape] = entries[k];
    if (shape.length !== 2) {
      others.push(name);
      continue;
    }
    const next = entries[k + 1];
    const hasBias = next !== undefined && next[1].length === 1 && next[1][0] === shape[1];
    layers.push({ W: name, b: hasBias ? next[0] : undefined, inDim: shape[0], outDim: shape[1] });
    if (hasBias) k++;
  }
  return { layers, others };
}

/** Module paths compared as PyTorch numbers them: numeric parts by value (`2` before `10`). */
function naturalCompare(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const [x, y] = [pa[i], pb[i]];
    const numeric = /^\d+$/.test(x) && /^\d+$/.test(y);
    const c = numeric ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

/** The PyTorch name of each gradc param, inferred from the file's tensors. */
export function inferPyTorchNames(fn: string, meta: ModuleMeta, tensors: readonly TensorEntry[]): PyTorchNames {
  const { layers, others } = layersOf(meta);
  const asked = `pass { pytorch: { names: { ${layers[0] ? `${layers[0].W}: '0.weight', …` : '…'} } } } to say which tensor is which`;
  if (others.length > 0) throw new RangeError(`${fn}: param ${others[0]} ${shapeText(meta.params[others[0]])} of model '${meta.name}' is not part of a Linear layer (a weight [in, out] and its bias [out]), so its PyTorch name cannot be inferred; ${asked}`);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const groups = [...new Set(tensors.filter((t) => t.name.endsWith('.weight')).map((t) => t.name.slice(0, -'.weight'.length)))].sort(naturalCompare);
  const list = tensors.map((t) => `${quote(t.name)} ${shapeText(t.shape)}`).join(', ');
  const fits = (layer: Layer, group: string) => {
    const w = byName.get(`${group}.weight`)!;
    const b = byName.get(`${group}.bias`);
    return shapeText(w.shape) === shapeText([layer.outDim, layer.inDim]) && (layer.b === undefined ? b === undefined : b !== undefined && shapeText(b.shape) === shapeText([layer.outDim]));
  };
  const gradcText = (l: Layer) => `${l.W} ${shapeText([l.inDim, l.outDim])}${l.b ? ` and ${l.b} [${l.outDim}]` : ''}`;
  if (groups.length !== layers.length || tensors.length !== groups.length + layers.filter((l) => l.b).length) {
    throw new RangeError(`${fn}: model '${meta.name}' has ${layers.length} Linear layers (${layers.map(gradcText).join('; ')}), but the file holds ${list}; ${asked}`);
  }
  const numbered = groups.every((g) => /^\d+$/.test(g.split('.').at(-1)!));
  const names: Record<string, string> = {};
  const used = new Set<string>();
  layers.forEach((layer, k) => {
    const candidates = groups.filter((g) => fits(layer, g));
    const group = candidates.length === 1 ? candidates[0] : numbered && fits(layer, groups[k]) ? groups[k] : undefined;
    if (group === undefined || used.has(group)) {
      const why = candidates.length === 0 ? `no PyTorch layer in the file fits it (PyTorch keeps it as weight ${shapeText([layer.outDim, layer.inDim])}${layer.b ? `, bias [${layer.outDim}]` : ', no bias'})` : `it fits ${candidates.map((c) => quote(c)).join(' and ')} alike`;
      throw new RangeError(`${fn}: layer ${gradcText(layer)} of model '${meta.name}': ${why}; the file holds ${list}; ${asked}`);
    }
    used.add(group);
    names[layer.W] = `${group}.weight`;
    if (layer.b) names[layer.b] = `${group}.bias`;
  });
  return names;
}

/** Names for saving when none are given: `<k>.weight` and `<k>.bias` for the k-th layer, from 0. */
export function defaultPyTorchNames(fn: string, meta: ModuleMeta): PyTorchNames {
  const { layers, others } = layersOf(meta);
  if (others.length > 0) throw new RangeError(`${fn}: param ${others[0]} ${shapeText(meta.params[others[0]])} of model '${meta.name}' is not part of a Linear layer; pass { pytorch: { names } } naming every param's PyTorch tensor`);
  return Object.fromEntries(layers.flatMap((l, k) => [[l.W, `${k}.weight`], ...(l.b ? [[l.b, `${k}.bias`]] : [])]));
}

/** Checks `names` covers every param once, naming what is wrong. */
export function checkPyTorchNames(fn: string, meta: ModuleMeta, names: unknown): PyTorchNames {
  if (typeof names !== 'object' || names === null || Array.isArray(names)) throw new TypeError(`${fn}: pytorch.names must be an object { <gradc param>: '<PyTorch tensor>' }, got ${names === null ? 'null' : typeof names}`);
  const record = names as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(key in meta.params)) throw new RangeError(`${fn}: pytorch.names names ${quote(key)}, which model '${meta.name}' has no param for (its params: ${Object.keys(meta.params).join(', ')})`);
    if (typeof record[key] !== 'string') throw new TypeError(`${fn}: pytorch.names.${key} must be a string (a PyTorch tensor name), got ${typeof record[key]}`);
  }
  const missing = Object.keys(meta.params).find((p) => !(p in record));
  if (missing) throw new RangeError(`${fn}: pytorch.names has no PyTorch name for param ${missing} ${shapeText(meta.params[missing])}`);
  const seen = new Map<string, string>();
  for (const [param, torch] of Object.entries(record) as [string, string][]) {
    if (seen.has(torch)) throw new RangeError(`${fn}: pytorch.names gives params ${seen.get(torch)} and ${param} the same PyTorch name ${quote(torch)}`);
    seen.set(torch, param);
  }
  return record as PyTorchNames;
}

/** A param's PyTorch shape: a weight [in, out] is [out, in]; anything else as is. */
const torchShape = (shape: readonly number[]) => (shape.length === 2 ? [shape[1], shape[0]] : [...shape]);

/** [rows, cols] row-major → [cols, rows] row-major. */
function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = values[i * cols + j];
  return out;
}

/** gradc params in PyTorch's layout and names, ready for encodeSafetensors. */
export function toPyTorch(meta: ModuleMeta, names: PyTorchNames, arrays: readonly Float32Array[]): NamedTensor[] {
  return Object.entries(meta.params).map(([param, shape], k) => ({
    name: names[param],
    shape: torchShape(shape),
    values: shape.length === 2 ? transpose(arrays[k], shape[0], shape[1]) : arrays[k],
  }));
}

/**
 * Each param's tensor from a PyTorch-layout file: checked against the param's PyTorch
 * shape (naming both sides' names and shapes), weights transposed to gradc's layout.
 * `read` turns a tensor's bytes into floats.
 */
export function fromPyTorch(fn: string, meta: ModuleMeta, names: PyTorchNames, tensors: readonly TensorEntry[], read: (bytes: Uint8Array) => Float32Array): Record<string, Float32Array> {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const wanted = new Set(Object.values(names));
  const extra = tensors.find((t) => !wanted.has(t.name));
  if (extra) throw new RangeError(`${fn}: the file holds tensor ${quote(extra.name)} ${shapeText(extra.shape)}, which no param of model '${meta.name}' is mapped to (the mapping: ${Object.entries(names).map(([p, t]) => `${p} ← ${quote(t)}`).join(', ')})`);
  const out: Record<string, Float32Array> = {};
  for (const [param, shape] of Object.entries(meta.params)) {
    const tensor = byName.get(names[param]);
    const want = torchShape(shape);
    if (!tensor) throw new RangeError(`${fn}: the file has no tensor ${quote(names[param])}, which param ${param} ${shapeText(shape)} (PyTorch ${shapeText(want)}) is mapped to`);
    if (shapeText(tensor.shape) !== shapeText(want)) {
      throw new RangeError(`${fn}: tensor ${quote(tensor.name)} is ${shapeText(tensor.shape)}, but param ${param} of model '${meta.name}' is ${shapeText(shape)}, which PyTorch keeps as ${shapeText(want)}`);
    }
    const values = read(tensor.bytes);
    out[param] = shape.length === 2 ? transpose(values, shape[1], shape[0]) : values;
  }
  return out;
}
