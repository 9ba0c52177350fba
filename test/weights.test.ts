/**
 * Saved weights (runtime/cpu saveParams/loadParams, runtime/webgpu saveModel/loadModel) in
 * the safetensors format: round trips of params and Adam state that training continues from
 * exactly; the bytes read by an independent reader (Python: struct, json, numpy), files laid
 * out as the Python `safetensors` package writes them read back; every bad file a one-line
 * error with nothing returned; and the GPU model saved and restored into a fresh GPU model
 * and into the JS module.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { adam, affine, graph, momentum, softmax, softmaxCrossEntropy, tanh, type GraphDef, type OptimizerDef } from '../compiler/index.ts';
import { loadParams, saveParams } from '../runtime/cpu/index.ts';
import { loadModel, saveModel } from '../runtime/webgpu/index.ts';
import type { GpuModel, OptimizerState } from '../runtime/module.ts';
import { buildBoth, gpuDevice, type GpuHostModule } from './support/gpu.ts';
import { buildModule, randomArray, type Arrays, type GeneratedModule } from './support/module.ts';

// Compile time only (npm run typecheck): for a typed module, loadParams gives its own Params.
type TypedIris = typeof import('./golden/iris.js');
export const typedLoad = (m: TypedIris, bytes: Uint8Array): ReturnType<TypedIris['initParams']> => loadParams(m, bytes).params;

const B = 6;
/** A 5-7-3 classifier: softmax cross-entropy, the given optimizer (none: SGD). */
function classifier(name: string, optimizer?: OptimizerDef): GraphDef {
  return graph(name, (g) => {
    const x = g.input('x', [B, 5]);
    const h = tanh(affine(x, g.param('W1', [5, 7]), g.param('b1', [7])));
    const z = affine(h, g.param('W2', [7, 3]), g.param('b2', [3]));
    g.output('probs', softmax(z));
    g.loss(softmaxCrossEntropy(z, g.input('y', [B, 3])));
    if (optimizer) g.optimizer(optimizer);
  });
}

function inputs(seed: number): Arrays {
  const y = new Float32Array(B * 3);
  for (let r = 0; r < B; r++) y[r * 3 + ((r + seed) % 3)] = 1;
  return { x: randomArray(B * 5, seed, 2), y };
}

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const bitsOf = (record: Arrays): Record<string, number[]> => Object.fromEntries(Object.entries(record).map(([k, v]) => [k, bits(v)]));
const copy = (p: Arrays): Arrays => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.slice()]));

/** Params and Adam state after `steps` steps. */
function trained(js: GeneratedModule, steps: number): { params: Arrays; state: OptimizerState<Arrays> } {
  const params = js.initParams(3);
  const state = js.initOptimizerState!() as OptimizerState<Arrays>;
  for (let s = 0; s < steps; s++) js.trainStep(params, inputs(s), 0.05, state);
  return { params, state };
}

// ---------------------------------------------------------------------------------------
// Files as the format's description lays them out, written here without gradc's encoder.
// ---------------------------------------------------------------------------------------
type Tensor = readonly [name: string, shape: readonly number[], values: ArrayLike<number>];

/** The header's UTF-8 padded with spaces to a multiple of 8 bytes, its u64 length before it, `data` after. */
function fileOf(header: string, data: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(header);
  const length = text.length + ((8 - (text.length % 8)) % 8);
  const out = new Uint8Array(8 + length + data.length).fill(0x20, 8, 8 + length);
  new DataView(out.buffer).setUint32(0, length, true);
  out.set(text, 8);
  out.set(data, 8 + length);
  return out;
}

/** Little-endian f32 bytes of each tensor, one after another. */
function dataOf(tensors: readonly Tensor[]): Uint8Array {
  const count = tensors.reduce((n, [, , v]) => n + v.length, 0);
  const out = new Uint8Array(count * 4);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const [, , values] of tensors) for (let i = 0; i < values.length; i++, at += 4) view.setFloat32(at, values[i], true);
  return out;
}

/**
 * What the Python `safetensors` package writes (`save_file(tensors, metadata=…)`): compact
 * JSON, `__metadata__` first (its keys in the order given: the package's own order is a
 * hash map's), the tensors sorted by name and stored in that order, spaces to a multiple of 8.
 */
function pythonLayout(tensors: readonly Tensor[], metadata?: readonly (readonly [string, string])[]): Uint8Array {
  const sorted = [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const fields = metadata ? [`"__metadata__":{${metadata.map(([k, v]) => `"${k}":"${v}"`).join(',')}}`] : [];
  let at = 0;
  for (const [name, shape, values] of sorted) {
    fields.push(`"${name}":{"dtype":"F32","shape":[${shape.join(',')}],"data_offsets":[${at},${at + values.length * 4}]}`);
    at += values.length * 4;
  }
  return fileOf(`{${fields.join(',')}}`, dataOf(sorted));
}

/** The module's params as tensors (and Adam's m and v as optimizer/<slot>/<param>). */
function tensorsOf(js: GeneratedModule, params: Arrays, state?: OptimizerState<Arrays>): Tensor[] {
  const out: Tensor[] = Object.entries(params).map(([name, v]) => [name, js.meta.params[name], v]);
  for (const slot of state ? ['m', 'v'] : []) {
    for (const [name, v] of Object.entries(state![slot] as Arrays)) out.push([`optimizer/${slot}/${name}`, js.meta.params[name], v]);
  }
  return out;
}

const graphMetadata = (js: GeneratedModule): [string, string][] => [['gradc.graph', js.meta.name], ['gradc.hash', js.meta.hash!]];

// ---------------------------------------------------------------------------------------
// The independent reader.
// ---------------------------------------------------------------------------------------
const tmp = mkdtempSync(join(tmpdir(), 'gradc-weights-'));
const READER = join(import.meta.dirname, 'support', 'safetensors_reader.py');
let files = 0;

interface PythonRead {
  header_length: number;
  header_text: string;
  trailing_spaces: number;
  metadata: Record<string, string> | null;
  order: string[];
  tensors: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number]; bits: number[] }>;
}

function python(mode: 'read' | 'write', file: string, input?: string): string {
  const r = spawnSync('python3', [READER, mode, file], { input, encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`python3 ${mode}: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

function pythonRead(bytes: Uint8Array): PythonRead {
  const file = join(tmp, `${files++}.safetensors`);
  writeFileSync(file, bytes);
  return JSON.parse(python('read', file)) as PythonRead;
}

function pythonWrite(tensors: readonly Tensor[], metadata: Record<string, string> | null): Uint8Array {
  const file = join(tmp, `${files++}.safetensors`);
  const spec = { metadata, tensors: Object.fromEntries(tensors.map(([name, shape, v]) => [name, { shape, bits: bits(Float32Array.from(v)) }])) };
  python('write', file, JSON.stringify(spec));
  return new Uint8Array(readFileSync(file));
}

let js: GeneratedModule;
beforeAll(async () => {
  js = await buildModule(classifier('saved', adam()));
});

describe('saveParams and loadParams', () => {
  it('round trip params and Adam state: equal bits, the step, and training continues exactly as it would have', () => {
    const { params, state } = trained(js, 3);
    const bytes = saveParams(js, params, state);
    const loaded = loadParams(js, bytes);
    expect(bitsOf(loaded.params)).toEqual(bitsOf(params));
    expect(loaded.state!.step).toBe(3);
    for (const slot of ['m', 'v']) expect(bitsOf(loaded.state![slot] as Arrays), slot).toEqual(bitsOf(state[slot] as Arrays));
    expect(Object.keys(loaded.state!).sort()).toEqual(['m', 'step', 'v']);
    // Two more steps from the file and from memory: the same params, bit for bit.
    const resumed = loaded.params as Arrays;
    for (const s of [3, 4]) {
      js.trainStep(params, inputs(s), 0.05, state);
      js.trainStep(resumed, inputs(s), 0.05, loaded.state);
    }
    expect(bitsOf(resumed)).toEqual(bitsOf(params));
  });

  it('loads fresh arrays: changing the file afterwards changes nothing', () => {
    const { params } = trained(js, 1);
    const bytes = saveParams(js, params);
    const loaded = loadParams(js, bytes).params as Arrays;
    const before = bitsOf(loaded);
    bytes.fill(0, bytes.length - 100);
    expect(bitsOf(loaded)).toEqual(before);
    expect(loaded.W1.buffer).not.toBe(bytes.buffer);
  });

  it('params alone: no state in the file, none loaded; an ArrayBuffer loads as a Uint8Array does', () => {
    const { params } = trained(js, 2);
    const bytes = saveParams(js, params);
    const loaded = loadParams(js, bytes.slice().buffer);
    expect(loaded.state).toBeUndefined();
    expect(bitsOf(loaded.params as Arrays)).toEqual(bitsOf(params));
    expect(pythonRead(bytes).metadata).toEqual({ 'gradc.graph': 'saved', 'gradc.hash': js.meta.hash, 'gradc.version': js.meta.version });
  });

  it('the same params and state give the same bytes; saving what was loaded gives them again', () => {
    const { params, state } = trained(js, 2);
    const bytes = saveParams(js, params, state);
    expect(saveParams(js, copy(params), state)).toEqual(bytes);
    const loaded = loadParams(js, bytes);
    expect(saveParams(js, loaded.params, loaded.state)).toEqual(bytes);
  });

  it('a forward-only module loads the params of a trained file and passes its optimizer state over', async () => {
    const forwardOnly = await buildModule(classifier('saved', adam()), { forwardOnly: true });
    expect(forwardOnly.meta.hash).toBe(js.meta.hash);
    const { params, state } = trained(js, 2);
    const loaded = loadParams(forwardOnly, saveParams(js, params, state));
    expect(loaded.state).toBeUndefined();
    expect(bitsOf(loaded.params as Arrays)).toEqual(bitsOf(params));
    expect(() => saveParams(forwardOnly, params, state)).toThrow(/^saveParams: model 'saved' was built without an optimizer \(forward-only\), so it has no optimizer state to save; pass params alone$/);
  });

  it('SGD keeps no state: the step is saved, no state tensors, nothing to load', async () => {
    const sgdModule = await buildModule(classifier('saved_sgd'));
    const params = sgdModule.initParams(1);
    const bytes = saveParams(sgdModule, params, { step: 7 });
    const read = pythonRead(bytes);
    expect(read.metadata).toMatchObject({ 'gradc.optimizer': 'sgd', 'gradc.step': '7' });
    expect(read.order).toEqual(['W1', 'W2', 'b1', 'b2']);
    expect(loadParams(sgdModule, bytes).state).toBeUndefined();
  });
});

describe('the bytes, read by an independent reader (Python: struct, json, numpy)', () => {
  it('a gradc file: header length, metadata, tensor names, shapes, offsets and every value\'s bits', () => {
    const { params, state } = trained(js, 3);
    const read = pythonRead(saveParams(js, params, state));
    expect(read.header_length % 8).toBe(0);
    expect(read.header_text.startsWith('{"__metadata__":{')).toBe(true);
    expect(read.trailing_spaces).toBeLessThan(8);
    expect(read.metadata).toEqual({
      'gradc.graph': 'saved',
      'gradc.hash': js.meta.hash,
      'gradc.version': '0.1.0',
      'gradc.optimizer': 'adam',
      'gradc.step': '3',
    });
    expect(read.order).toEqual([
      'W1', 'W2', 'b1', 'b2',
      'optimizer/m/W1', 'optimizer/m/W2', 'optimizer/m/b1', 'optimizer/m/b2',
      'optimizer/v/W1', 'optimizer/v/W2', 'optimizer/v/b1', 'optimizer/v/b2',
    ]);
    expect(read.tensors.W1).toMatchObject({ dtype: 'F32', shape: [5, 7], data_offsets: [0, 140] });
    expect(read.tensors.W2).toMatchObject({ dtype: 'F32', shape: [7, 3], data_offsets: [140, 224] });
    expect(read.tensors.b1).toMatchObject({ dtype: 'F32', shape: [7], data_offsets: [224, 252] });
    expect(read.tensors['optimizer/v/b2']).toMatchObject({ dtype: 'F32', shape: [3], data_offsets: [780, 792] });
    for (const [name, v] of Object.entries(params)) expect(read.tensors[name].bits, name).toEqual(bits(v));
    for (const slot of ['m', 'v']) {
      for (const [name, v] of Object.entries(state[slot] as Arrays)) expect(read.tensors[`optimizer/${slot}/${name}`].bits, `${slot} ${name}`).toEqual(bits(v));
    }
  });

  it('gradc writes the very bytes the reference layout gives (Python\'s writer, and the layout built here by hand)', () => {
    const { params, state } = trained(js, 3);
    const metadata = { 'gradc.graph': 'saved', 'gradc.hash': js.meta.hash!, 'gradc.optimizer': 'adam', 'gradc.step': '3', 'gradc.version': '0.1.0' };
    const gradc = saveParams(js, params, state);
    const tensors = tensorsOf(js, params, state);
    expect(pythonWrite(tensors, metadata)).toEqual(gradc);
    expect(pythonLayout(tensors, Object.entries(metadata))).toEqual(gradc);
  });

  it('the header is padded with 0 to 7 spaces, as the reference pads it: step counts of 1 to 8 digits give every padding', () => {
    const { params, state } = trained(js, 1);
    const paddings = new Set<number>();
    for (let digits = 1; digits <= 8; digits++) {
      const step = 10 ** (digits - 1);
      const gradc = saveParams(js, params, { ...state, step });
      const metadata: [string, string][] = [...graphMetadata(js), ['gradc.optimizer', 'adam'], ['gradc.step', String(step)], ['gradc.version', '0.1.0']];
      expect(gradc, `step ${step}`).toEqual(pythonLayout(tensorsOf(js, params, state), metadata));
      paddings.add(pythonRead(gradc).trailing_spaces);
    }
    expect([...paddings].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('a file as Python\'s safetensors writes it (metadata keys in another order) loads, params and state', () => {
    const { params, state } = trained(js, 4);
    const metadata: [string, string][] = [['gradc.step', '4'], ['format', 'np'], ['gradc.optimizer', 'adam'], ...graphMetadata(js)];
    const loaded = loadParams(js, pythonLayout(tensorsOf(js, params, state), metadata));
    expect(bitsOf(loaded.params as Arrays)).toEqual(bitsOf(params));
    expect(loaded.state!.step).toBe(4);
    expect(bitsOf(loaded.state!.v as Arrays)).toEqual(bitsOf(state.v as Arrays));
  });

  it('a file Python wrote loads; one without gradc\'s metadata (exported from elsewhere) loads by name with allowOtherGraph', () => {
    const { params } = trained(js, 1);
    const written = pythonWrite(tensorsOf(js, params), Object.fromEntries(graphMetadata(js)));
    expect(bitsOf(loadParams(js, written).params as Arrays)).toEqual(bitsOf(params));
    const bare = pythonWrite(tensorsOf(js, params), null);
    expect(() => loadParams(js, bare)).toThrow(/^loadParams: the file does not say which graph its weights are for \(its __metadata__ has no gradc\.graph, so saveParams did not write it\); pass \{ allowOtherGraph: true \} to load them anyway when its params have the same names and shapes$/);
    expect(bitsOf(loadParams(js, bare, { allowOtherGraph: true }).params as Arrays)).toEqual(bitsOf(params));
  });

  it('tensors in any header order, and a header padded beyond 8 bytes, load: only the offsets place the data', () => {
    const { params } = trained(js, 1);
    const order: Tensor[] = [['b2', [3], params.b2], ['W1', [5, 7], params.W1], ['b1', [7], params.b1], ['W2', [7, 3], params.W2]];
    let at = 0;
    const fields = order.map(([name, shape, v]) => `"${name}":{"shape":[${shape.join(',')}],"data_offsets":[${at},${(at += v.length * 4)}],"dtype":"F32"}`);
    const header = `{${fields.reverse().join(',')},"__metadata__":{"gradc.hash":"${js.meta.hash}","gradc.graph":"saved"}}                `;
    const loaded = loadParams(js, fileOf(header, dataOf(order)));
    expect(bitsOf(loaded.params as Arrays)).toEqual(bitsOf(params));
  });
});

describe('bad files: a one-line error naming what is wrong, nothing returned', () => {
  let good: Uint8Array;
  let params: Arrays;
  const meta = () => graphMetadata(js);
  const meta$ = () => `"__metadata__":{"gradc.graph":"saved","gradc.hash":"${js.meta.hash}"}`;
  const f32 = (n: number) => new Uint8Array(n * 4);
  beforeAll(() => {
    params = trained(js, 2).params;
    good = pythonLayout(tensorsOf(js, params), meta());
  });
  const dataBytes = () => good.length - 8 - Number(new DataView(good.buffer).getBigUint64(0, true));
  const withParams = (change: (p: Tensor[]) => Tensor[], metadata = meta()) => pythonLayout(change(tensorsOf(js, params)), metadata);

  const cases: [string, () => unknown, RegExp][] = [
    ['not bytes: a Float32Array', () => loadParams(js, new Float32Array(4) as never), /^loadParams: bytes must be a Uint8Array or an ArrayBuffer \(the contents of a \.safetensors file\), got Float32Array$/],
    ['not bytes: a path', () => loadParams(js, 'saved.safetensors' as never), /^loadParams: bytes must be a Uint8Array or an ArrayBuffer .*, got string$/],
    ['not a module', () => loadParams({} as never, good), /^loadParams: expected a gradc module \(the generated JS module or WebGPU host module, whose meta names the params\), got Object$/],
    ['a misspelt option', () => loadParams(js, good, { allowOtherGraphs: true } as never), /^loadParams: unknown option "allowOtherGraphs"; the options are allowOtherGraph, pytorch$/],
    ['an option of the wrong type', () => loadParams(js, good, { allowOtherGraph: 'yes' } as never), /^loadParams: allowOtherGraph must be true or false, got string$/],
    ['empty', () => loadParams(js, new Uint8Array(0)), /^loadParams: the file is truncated: it has 0 bytes, fewer than the 8 that give its header's length$/],
    ['shorter than 8 bytes', () => loadParams(js, good.subarray(0, 7)), /^loadParams: the file is truncated: it has 7 bytes, fewer than the 8/],
    ['a header longer than the file', () => loadParams(js, good.subarray(0, 40)), /^loadParams: the file is truncated, or not a safetensors file: its header should be \d+ bytes long, but only 32 bytes follow the length$/],
    ['not a safetensors file', () => loadParams(js, new TextEncoder().encode('PK\u0003\u0004 a zip file, not weights')), /^loadParams: the header is corrupt, or not a safetensors file: it should be \d+ bytes long/],
    ...[1, 2, 3, 4].map((short): [string, () => unknown, RegExp] => [
      `data ${short} byte${short > 1 ? 's' : ''} short of the last tensor's end`,
      () => loadParams(js, fileOf(`{${meta$()},"b1":{"dtype":"F32","shape":[7],"data_offsets":[0,28]}}`, new Uint8Array(28 - short))),
      new RegExp(`^loadParams: the file is truncated: tensor "b1" ends at data byte 28, but the file holds only ${28 - short} bytes of data$`),
    ]),
    ['data offsets past the end', () => loadParams(js, good.subarray(0, good.length - 8)), /^loadParams: the file is truncated: tensor "b2" ends at data byte 264, but the file holds only 256 bytes of data$/],
    ['bytes after the last tensor', () => loadParams(js, fileOf(`{${meta$()},"b2":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}`, f32(4))), /^loadParams: the file is corrupt: its last 4 bytes of data belong to no tensor$/],
    ['a header that is not an object', () => loadParams(js, fileOf('[1,2]', f32(0))), /^loadParams: the header is corrupt: it does not start with '\{' \(is this a safetensors file\?\)$/],
    ['a header that is not JSON', () => loadParams(js, fileOf('{"W1":{"dtype":"F32",', f32(0))), /^loadParams: the header is corrupt: it is not JSON$/],
    ['a header that is not UTF-8', () => {
      const bytes = fileOf('{"W~":1}', f32(0));
      bytes[bytes.indexOf(0x7e)] = 0xff;
      return loadParams(js, bytes);
    }, /^loadParams: the header is corrupt: it is not UTF-8$/],
    ['a header over the format\'s 100 MB limit (600 MiB declared)', () => {
      const bytes = fileOf('{}', f32(0));
      new DataView(bytes.buffer).setBigUint64(0, 600n * 2n ** 20n, true);
      return loadParams(js, bytes);
    }, /^loadParams: the header is corrupt, or not a safetensors file: it should be 629145600 bytes long, over the format's limit of 100000000 bytes \(100 MB, as the reference implementation\)$/],
    ['a tensor named twice', () => loadParams(js, fileOf('{"b1":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b1":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', f32(2))),
      /^loadParams: the header is corrupt: it has the key "b1" twice$/],
    ['a metadata key given twice (gradc.step "0" then "5")', () => loadParams(js, fileOf('{"__metadata__":{"gradc.step":"0","gradc.step":"5"}}', f32(0))),
      /^loadParams: the header is corrupt: __metadata__ has the key "gradc\.step" twice$/],
    ['a tensor entry with a key twice', () => loadParams(js, fileOf('{"b1":{"dtype":"F32","shape":[1],"shape":[1],"data_offsets":[0,4]}}', f32(1))),
      /^loadParams: the header is corrupt: tensor "b1" has the key "shape" twice$/],
    ['data offsets of 2^60', () => loadParams(js, fileOf('{"b1":{"dtype":"F32","shape":[1],"data_offsets":[1152921504606846976,1152921504606846980]}}', f32(1))),
      /^loadParams: the header is corrupt: tensor "b1" has data_offsets \[1152921504606847000,1152921504606847000\], far beyond the end of any file \(offsets over 2\^53 bytes\)$/],
    ['a negative value in Adam\'s v', () => {
      const { state } = trained(js, 1);
      (state.v as Arrays).W2[3] = -0.5;
      return loadParams(js, pythonLayout(tensorsOf(js, params, state), [...meta(), ['gradc.optimizer', 'adam'], ['gradc.step', '1']]));
    }, /^loadParams: the file is corrupt: state\.v\.W2\[3\] is -0\.5, but Adam's second moment v is a mean of squares, never negative$/],
    ['__metadata__ not an object', () => loadParams(js, fileOf('{"__metadata__":"saved"}', f32(0))), /^loadParams: the header is corrupt: __metadata__ is a string, not an object of strings$/],
    ['a metadata value that is not a string', () => loadParams(js, fileOf('{"__metadata__":{"gradc.step":3}}', f32(0))), /^loadParams: the header is corrupt: __metadata__ "gradc\.step" is a number; the format allows only strings there$/],
    ['a tensor entry that is not an object', () => loadParams(js, fileOf(`{${meta$()},"W1":[0,140]}`, f32(35))), /^loadParams: the header is corrupt: tensor "W1" is an array, not \{ dtype, shape, data_offsets \}$/],
    ['no dtype', () => loadParams(js, fileOf('{"b1":{"shape":[7],"data_offsets":[0,28]}}', f32(7))), /^loadParams: the header is corrupt: tensor "b1" has no dtype string \(got undefined\)$/],
    ['dtype F64', () => loadParams(js, fileOf('{"b1":{"dtype":"F64","shape":[7],"data_offsets":[0,56]}}', f32(14))), /^loadParams: tensor "b1" has dtype "F64", but gradc's params are F32: convert the tensor to 32-bit floats before saving \(numpy: \.astype\(np\.float32\), PyTorch: \.float\(\)\)$/],
    ['a shape that is not a list of counts', () => loadParams(js, fileOf('{"b1":{"dtype":"F32","shape":[7,-1],"data_offsets":[0,28]}}', f32(7))), /^loadParams: the header is corrupt: tensor "b1" has shape \[7,-1\], not a list of whole numbers ≥ 0$/],
    ['offsets out of order', () => loadParams(js, fileOf('{"b1":{"dtype":"F32","shape":[7],"data_offsets":[28,0]}}', f32(7))), /^loadParams: the header is corrupt: tensor "b1" has data_offsets \[28,0\], not \[begin, end\] with whole numbers 0 ≤ begin ≤ end$/],
    ['offsets that are not two numbers', () => loadParams(js, fileOf('{"b1":{"dtype":"F32","shape":[7],"data_offsets":["0",28]}}', f32(7))), /^loadParams: the header is corrupt: tensor "b1" has data_offsets \[\\"0\\",28\], not \[begin, end\]/],
    ['offsets that mismatch the shape', () => loadParams(js, fileOf('{"b1":{"dtype":"F32","shape":[7],"data_offsets":[0,24]}}', f32(6))), /^loadParams: the header is corrupt: tensor "b1" has data_offsets \[0,24\], 24 bytes, but shape \[7\] of F32 needs 28$/],
    ['overlapping tensors', () => loadParams(js, fileOf('{"b1":{"dtype":"F32","shape":[7],"data_offsets":[0,28]},"b2":{"dtype":"F32","shape":[3],"data_offsets":[20,32]}}', f32(8))), /^loadParams: the header is corrupt: tensors "b1" and "b2" overlap \("b2" starts at data byte 20, before 28\)$/],
    ['a gap between tensors', () => loadParams(js, fileOf('{"b1":{"dtype":"F32","shape":[7],"data_offsets":[0,28]},"b2":{"dtype":"F32","shape":[3],"data_offsets":[32,44]}}', f32(11))), /^loadParams: the header is corrupt: data bytes 28 to 32 between tensors "b1" and "b2" belong to no tensor \(tensors must cover the data, with no gaps\)$/],
    ['data before the first tensor', () => loadParams(js, fileOf('{"b2":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}}', f32(4))), /^loadParams: the header is corrupt: data bytes 0 to 4 before tensor "b2" belong to no tensor/],
    ['a file for another graph (name)', () => loadParams(js, withParams((p) => p, [['gradc.graph', 'iris'], ['gradc.hash', '8217ca43d791']])),
      /^loadParams: the file holds the weights of graph "iris" \(hash "8217ca43d791"\), not of model "saved" \(hash "[0-9a-f]{12}"\); if the graph changed but kept its params \(or gradc changed\), pass \{ allowOtherGraph: true \} to load them anyway when its params have the same names and shapes$/],
    ['a file for another version of the graph (hash)', () => loadParams(js, withParams((p) => p, [['gradc.graph', 'saved'], ['gradc.hash', '000000000000']])),
      /^loadParams: the file holds the weights of graph "saved" \(hash "000000000000"\), not of model "saved" \(hash "[0-9a-f]{12}"\)/],
    ['a file with the graph\'s name but no hash', () => loadParams(js, withParams((p) => p, [['gradc.graph', 'saved']])), /^loadParams: the file holds the weights of graph "saved" \(no hash\), not of model "saved" \(hash /],
    ['a tensor with the wrong shape', () => loadParams(js, withParams((p) => p.map((t) => (t[0] === 'W1' ? ['W1', [7, 5], t[2]] : t)))), /^loadParams: tensor "W1" has shape \[7,5\], but model 'saved' declares param W1 as \[5,7\]$/],
    ['a missing tensor', () => loadParams(js, withParams((p) => p.filter((t) => t[0] !== 'b2'))), /^loadParams: the file has no tensor "b2", which model 'saved' needs$/],
    ['a renamed tensor', () => loadParams(js, withParams((p) => p.map((t) => (t[0] === 'b2' ? ['bias2', t[1], t[2]] : t)))), /^loadParams: the file has no tensor "b2", which model 'saved' needs, and holds "bias2", which model 'saved' has no param for$/],
    ['an unknown tensor', () => loadParams(js, withParams((p) => [...p, ['W9', [2], [1, 2]]])), /^loadParams: the file holds tensor "W9", which model 'saved' has no param for \(its params: W1, b1, W2, b2\)$/],
    ['a missing state tensor', () => loadParams(js, withParams((p) => [...p, ...tensorsOf(js, params, trained(js, 1).state).filter((t) => t[0].startsWith('optimizer/') && t[0] !== 'optimizer/v/b2')], [...meta(), ['gradc.optimizer', 'adam'], ['gradc.step', '1']])),
      /^loadParams: the file has no tensor "optimizer\/v\/b2", which model 'saved' needs$/],
    ['state without its step', () => loadParams(js, pythonLayout(tensorsOf(js, params, trained(js, 1).state), [...meta(), ['gradc.optimizer', 'adam']])),
      /^loadParams: the header is corrupt: __metadata__ gradc\.step is missing, but the optimizer state needs its step count as a whole number$/],
    ['a step that is not a whole number', () => loadParams(js, pythonLayout(tensorsOf(js, params, trained(js, 1).state), [...meta(), ['gradc.optimizer', 'adam'], ['gradc.step', '1.5']])),
      /^loadParams: the header is corrupt: __metadata__ gradc\.step is "1\.5", but/],
    ['a NaN param', () => loadParams(js, withParams((p) => p.map((t) => (t[0] === 'W2' ? ['W2', t[1], Float32Array.from(t[2], (v, i) => (i === 4 ? NaN : v))] : t)))),
      /^loadParams: params\.W2\[4\] is NaN; params must be finite \(NaN or Infinity would spread to every param in one step\)$/],
    ['an infinite state value', () => {
      const { state } = trained(js, 1);
      (state.v as Arrays).b1[2] = Infinity;
      return loadParams(js, pythonLayout(tensorsOf(js, params, state), [...meta(), ['gradc.optimizer', 'adam'], ['gradc.step', '1']]));
    }, /^loadParams: state\.v\.b1\[2\] is Infinity; state must be finite/],
    ['a hostile tensor name stays on one line, escaped', () => loadParams(js, withParams((p) => [...p, ['evil\\n\u202ename', [1], [0]]])), /^loadParams: the file holds tensor "evil\\n\\u202ename", which model/],
  ];
  it.each(cases)('%s', (_, run, message) => {
    let error: unknown;
    let result: unknown;
    try {
      result = run();
    } catch (e) {
      error = e;
    }
    expect(result).toBeUndefined();
    expect(error).toBeInstanceOf(Error);
    const { message: text } = error as Error;
    expect(text).toMatch(message);
    expect(text).not.toMatch(/[\n\r\u2028\u2029\u202e]/);
    expect((error as Error).constructor === TypeError || (error as Error).constructor === RangeError, (error as Error).constructor.name).toBe(true);
  });

  it('a file cut short by any number of bytes is refused, naming the truncation; 1 to 4 bytes short too', () => {
    const saved = saveParams(js, trained(js, 2).params, trained(js, 2).state);
    for (let cut = 1; cut < saved.length; cut++) {
      expect(() => loadParams(js, saved.subarray(0, saved.length - cut)), `${cut} bytes cut`).toThrow(/^loadParams: the file is truncated/);
    }
    for (let cut = 1; cut <= 4; cut++) {
      expect(() => loadParams(js, saved.subarray(0, saved.length - cut))).toThrow(new RegExp(`^loadParams: the file is truncated: tensor "optimizer/v/b2" ends at data byte (\\d+), but the file holds only \\d+ bytes of data$`));
    }
    expect(bitsOf(loadParams(js, saved).params as Arrays)).toEqual(bitsOf(trained(js, 2).params));
  });

  it('the good file the cases start from loads, and so does a file for another graph with allowOtherGraph', () => {
    expect(dataBytes()).toBe(264);
    expect(bitsOf(loadParams(js, good).params as Arrays)).toEqual(bitsOf(params));
    const other = withParams((p) => p, [['gradc.graph', 'saved'], ['gradc.hash', '000000000000']]);
    expect(bitsOf(loadParams(js, other, { allowOtherGraph: true }).params as Arrays)).toEqual(bitsOf(params));
  });

  it('with allowOtherGraph, the state of another optimizer is passed over, and everything else is still checked', async () => {
    const momentumModule = await buildModule(classifier('saved_m', momentum()));
    const { params: p, state } = trained(js, 2);
    const adamFile = saveParams(js, p, state);
    const loaded = loadParams(momentumModule, adamFile, { allowOtherGraph: true });
    expect(loaded.state).toBeUndefined();
    expect(bitsOf(loaded.params as Arrays)).toEqual(bitsOf(p));
    expect(() => loadParams(momentumModule, adamFile)).toThrow(/^loadParams: the file holds the weights of graph "saved" .*not of model "saved_m"/);
    const wrongShape = withParams((t) => t.map((x) => (x[0] === 'b1' ? ['b1', [1, 7], x[2]] : x)));
    expect(() => loadParams(js, wrongShape, { allowOtherGraph: true })).toThrow(/tensor "b1" has shape \[1,7\], but model 'saved' declares param b1 as \[7\]/);
  });

  it('saveParams checks params and state as a train step does', () => {
    const p = trained(js, 1).params;
    expect(() => saveParams(js, { ...p, W1: undefined } as never)).toThrow(/^saveParams: params\.W1 must be a Float32Array of shape \[5,7\] \(35 values\), got nothing$/);
    expect(() => saveParams(js, { ...p, b1: new Float32Array(6) })).toThrow(/^saveParams: params\.b1 must have shape \[7\] \(7 values\), got 6 values$/);
    expect(() => saveParams(js, { ...p, extra: new Float32Array(1) })).toThrow(/^saveParams: unknown param "extra"; expected W1, b1, W2, b2$/);
    expect(() => saveParams(js, { ...p, b2: new Float32Array([0, -Infinity, 0]) })).toThrow(/^saveParams: params\.b2\[1\] is -Infinity; params must be finite/);
    expect(() => saveParams(js, p, { step: -1 } as never)).toThrow(/^saveParams: state\.step must be a whole number ≥ 0, got -1$/);
    expect(() => saveParams(js, p, { step: 0, m: {} } as never)).toThrow(/^saveParams: state\.m\.W1 must be a Float32Array/);
    expect(() => saveParams(null as never, p)).toThrow(/^saveParams: expected a gradc module .*, got null$/);
  });
});

describe('the GPU model, saved and restored (WebGPU on SwiftShader)', () => {
  let gpu: GpuHostModule;
  let gpuJs: GeneratedModule;
  let device: GPUDevice;
  const models: GpuModel[] = [];
  const create = async () => {
    const m = await gpu.createModel(device);
    models.push(m);
    return m;
  };
  beforeAll(async () => {
    ({ js: gpuJs, gpu } = await buildBoth(classifier('saved_gpu', adam())));
    device = await gpuDevice();
    return () => models.forEach((m) => m.destroy());
  });

  async function trainedOnGpu(steps: number): Promise<GpuModel> {
    const model = await create();
    await model.setParams(gpuJs.initParams(4));
    for (let s = 0; s < steps; s++) await model.trainStep(inputs(s), 0.05);
    return model;
  }

  it('saveModel → loadModel into a fresh GPU model: the same params, state and forward outputs, and the same next step', async () => {
    const model = await trainedOnGpu(3);
    const bytes = await saveModel(gpu, model);
    const fresh = await create();
    await loadModel(gpu, fresh, bytes);
    expect(bitsOf(await fresh.getParams())).toEqual(bitsOf(await model.getParams()));
    const [a, b] = [await model.getOptimizerState(), await fresh.getOptimizerState()];
    expect(b.step).toBe(3);
    for (const slot of ['m', 'v']) expect(bitsOf(b[slot] as Arrays), slot).toEqual(bitsOf(a[slot] as Arrays));
    const x = { x: inputs(9).x };
    expect(bitsOf(await fresh.forward(x))).toEqual(bitsOf(await model.forward(x)));
    expect(await fresh.trainStep(inputs(3), 0.05)).toBe(await model.trainStep(inputs(3), 0.05));
    expect(bitsOf(await fresh.getParams())).toEqual(bitsOf(await model.getParams()));
  });

  it('a GPU file loads into the JS module (the same forward outputs, to f32 rounding) and a JS file into a GPU model (exactly)', async () => {
    const model = await trainedOnGpu(2);
    const gpuParams = await model.getParams();
    const loaded = loadParams(gpuJs, await saveModel(gpu, model));
    expect(bitsOf(loaded.params as Arrays)).toEqual(bitsOf(gpuParams));
    expect(loaded.state!.step).toBe(2);
    const x = inputs(5).x;
    const onCpu = gpuJs.forward(loaded.params, { x }).probs;
    const onGpu = (await model.forward({ x })).probs;
    for (let i = 0; i < onCpu.length; i++) expect(Math.abs(onCpu[i] - onGpu[i]), `probs[${i}]`).toBeLessThanOrEqual(1e-5);

    const { params, state } = trained(gpuJs, 3);
    const fresh = await create();
    await loadModel(gpu, fresh, saveParams(gpuJs, params, state));
    expect(bitsOf(await fresh.getParams())).toEqual(bitsOf(params));
    const back = await fresh.getOptimizerState();
    expect(back.step).toBe(3);
    expect(bitsOf(back.m as Arrays)).toEqual(bitsOf(state.m as Arrays));
  });

  it('a file of params alone leaves a trained model\'s optimizer as a fresh model\'s: step 0, zeros', async () => {
    const model = await trainedOnGpu(2);
    const { params } = trained(gpuJs, 1);
    await loadModel(gpu, model, saveParams(gpuJs, params));
    const state = await model.getOptimizerState();
    expect(state.step).toBe(0);
    for (const slot of ['m', 'v']) for (const [name, v] of Object.entries(state[slot] as Arrays)) expect(v.every((e) => e === 0), `${slot} ${name}`).toBe(true);
    expect(bitsOf(await model.getParams())).toEqual(bitsOf(params));
  });

  it('a bad file rejects and leaves the model as it was', async () => {
    const model = await trainedOnGpu(2);
    const before = bitsOf(await model.getParams());
    const stateBefore = await model.getOptimizerState();
    const { params, state } = trained(gpuJs, 1);
    (state.m as Arrays).W2[0] = NaN;
    const bad = pythonLayout(tensorsOf(gpuJs, params, state), [...graphMetadata(gpuJs), ['gradc.optimizer', 'adam'], ['gradc.step', '1']]);
    await expect(loadModel(gpu, model, bad)).rejects.toThrow(/^loadParams: state\.m\.W2\[0\] is NaN/);
    await expect(loadModel(gpu, model, bad.subarray(0, 100))).rejects.toThrow(/^loadParams: the file is truncated/);
    await expect(loadModel(gpu, {} as never, bad)).rejects.toThrow(/^loadModel: expected a GPU model \(what createModel resolves to\), got Object$/);
    await expect(saveModel(gpu, null as never)).rejects.toThrow(/^saveModel: expected a GPU model .*, got null$/);
    expect(bitsOf(await model.getParams())).toEqual(before);
    const stateAfter = await model.getOptimizerState();
    expect(stateAfter.step).toBe(2);
    expect(bitsOf(stateAfter.v as Arrays)).toEqual(bitsOf(stateBefore.v as Arrays));
  });

  it('a forward-only GPU model loads a trained model\'s file (the state passed over) and computes the same outputs', async () => {
    const { gpu: forwardOnly } = await buildBoth(classifier('saved_gpu', adam()), { forwardOnly: true });
    const model = await trainedOnGpu(2);
    const bytes = await saveModel(gpu, model);
    const inference = await forwardOnly.createModel(device);
    try {
      await loadModel(forwardOnly, inference, bytes);
      const x = { x: inputs(7).x };
      expect(bitsOf(await inference.forward(x))).toEqual(bitsOf(await model.forward(x)));
      expect(pythonRead(await saveModel(forwardOnly, inference)).order).toEqual(['W1', 'W2', 'b1', 'b2']);
    } finally {
      inference.destroy();
    }
  });
});
