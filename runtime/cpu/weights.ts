/**
 * Saved weights: a module's params, and its optimizer's state, as a safetensors file
 * (see safetensors.ts), which Python's `safetensors` package, PyTorch and numpy read too.
 *
 *   writeFileSync('digits.safetensors', saveParams(digits, params, state));
 *   const { params, state } = loadParams(digits, readFileSync('digits.safetensors'));
 *
 * Tensors are named as the params (`W1`), and the optimizer's state slots as
 * `optimizer/<slot>/<param>` (`optimizer/m/W1`): param names never hold a `/`, so the two
 * cannot collide. `__metadata__` says which graph the weights belong to; loading checks it.
 * Both functions need only the module's `meta`, so a WebGPU host module serves as well as
 * the JS module (runtime/webgpu's saveModel and loadModel build on them).
 */
import { checkFinite, describe, take, takeState, type Spec } from '../checks.ts';
import type { ModuleMeta, OptimizerState, Tensors } from '../module.ts';
import { decodeSafetensors, encodeSafetensors, quote, readFloats, type NamedTensor, type TensorEntry } from './safetensors.ts';
import { checkPyTorchNames, defaultPyTorchNames, fromPyTorch, inferPyTorchNames, toPyTorch, type PyTorchOption } from './pytorch.ts';

/** What saving and loading read of a module: its meta. `P`, the params record, comes from `initParams` where the module has one. */
export interface WeightsModule<P = Tensors> {
  readonly meta: ModuleMeta;
  initParams?(seed?: number): P;
}

export interface LoadParamsOptions {
  /**
   * Loads weights saved for another graph (another name or hash, or a file without gradc's
   * metadata), as long as the params' names and shapes agree. Off by default: a graph that
   * changed may compute something else with the same params.
   */
  readonly allowOtherGraph?: boolean;
  /**
   * The file is a PyTorch state dict (pytorch.ts): Linear weights [out, in] named
   * `<layer>.weight`, biases `<layer>.bias`, no gradc metadata (and no optimizer state).
   * `true` infers which tensor is which param; `{ names }` says it.
   */
  readonly pytorch?: boolean | PyTorchOption;
}

export interface SaveParamsOptions {
  /**
   * Write a PyTorch state dict (pytorch.ts) instead: weights as [out, in], named by
   * `names` (gradc param → PyTorch tensor; default `<k>.weight`/`<k>.bias`), and no
   * metadata, as `safetensors.torch.save_file` writes a state dict.
   */
  readonly pytorch?: boolean | PyTorchOption;
}

export interface LoadedWeights<P = Tensors> {
  /** Fresh arrays, one per param of the module. */
  readonly params: P;
  /** Present when the file holds the state of the module's optimizer and that optimizer keeps state. */
  readonly state?: OptimizerState<P>;
}

/** The `__metadata__` keys saveParams writes. */
export const WEIGHTS_METADATA = {
  graph: 'gradc.graph',
  hash: 'gradc.hash',
  version: 'gradc.version',
  optimizer: 'gradc.optimizer',
  step: 'gradc.step',
} as const;

const STATE_PREFIX = 'optimizer/';
/** The tensor that holds a param's array of one optimizer state slot. */
export const stateTensorName = (slot: string, param: string): string => `${STATE_PREFIX}${slot}/${param}`;

/**
 * `params` (and the optimizer's `state`, as `initOptimizerState` or `getOptimizerState` give
 * it) as the bytes of a safetensors file; the same arguments always give the same bytes.
 * Params and state are checked as a train step checks them: every array of its shape,
 * every value finite.
 */
export function saveParams<P extends object>(module: WeightsModule<P>, params: P, state?: OptimizerState<P>, options?: SaveParamsOptions): Uint8Array {
  const fn = 'saveParams';
  const meta = metaOf(fn, module);
  const spec = paramSpec(meta);
  const arrays = take(fn, 'params', params, spec, spec);
  checkFinite(fn, 'params', arrays, spec);
  const pytorch = options?.pytorch;
  if (pytorch) {
    if (state !== undefined) throw new TypeError(`${fn}: a PyTorch state dict holds params only; pass state as undefined with { pytorch }`);
    const given = pytorch === true ? undefined : pytorch.names;
    const names = given === undefined ? defaultPyTorchNames(fn, meta) : checkPyTorchNames(fn, meta, given);
    return encodeSafetensors(toPyTorch(meta, names, arrays), {});
  }
  const tensors: NamedTensor[] = spec.map(([name], k) => ({ name, shape: meta.params[name], values: arrays[k] }));
  const metadata: Record<string, string> = { [WEIGHTS_METADATA.graph]: meta.name };
  if (meta.hash !== undefined) metadata[WEIGHTS_METADATA.hash] = meta.hash;
  if (meta.version !== undefined) metadata[WEIGHTS_METADATA.version] = meta.version;
  if (state !== undefined) {
    const { optimizer } = meta;
    if (!optimizer) throw new TypeError(`${fn}: model '${meta.name}' was built without an optimizer (forward-only), so it has no optimizer state to save; pass params alone`);
    const { t, arrays: slots } = takeState(fn, state, optimizer.slots, spec);
    metadata[WEIGHTS_METADATA.optimizer] = optimizer.name;
    metadata[WEIGHTS_METADATA.step] = String(t - 1);
    optimizer.slots.forEach((slot, s) => spec.forEach(([name], k) => tensors.push({ name: stateTensorName(slot, name), shape: meta.params[name], values: slots[s][k] })));
  }
  return encodeSafetensors(tensors, metadata);
}

/**
 * The params (and optimizer state) of a safetensors file, for `module`: fresh arrays of its
 * shapes. Throws a one-line RangeError (TypeError for an argument of the wrong kind) naming
 * what is wrong, and returns nothing, when the file is truncated or corrupt, was saved for
 * another graph (unless `allowOtherGraph`), lacks a tensor, holds one the module has no
 * place for or one of another shape, or holds a value that is not finite.
 *
 * The state is read when the file names the module's optimizer and that optimizer keeps
 * state; otherwise (a forward-only module, another optimizer) the file's `optimizer/…`
 * tensors are passed over.
 */
export function loadParams<P extends object = Tensors>(module: WeightsModule<P>, bytes: Uint8Array | ArrayBuffer, options?: LoadParamsOptions): LoadedWeights<P> {
  const fn = 'loadParams';
  const meta = metaOf(fn, module);
  const file = bytesOf(fn, bytes);
  const allowOtherGraph = readOptions(fn, options);
  const { metadata, tensors } = decodeSafetensors(fn, file);
  const spec = paramSpec(meta);
  const pytorch = (options as LoadParamsOptions | undefined)?.pytorch;
  if (pytorch) {
    const given = pytorch === true ? undefined : pytorch.names;
    const names = given === undefined ? inferPyTorchNames(fn, meta, tensors) : checkPyTorchNames(fn, meta, given);
    const params = fromPyTorch(fn, meta, names, tensors, readFloats);
    checkFinite(fn, 'params', spec.map(([name]) => params[name]), spec);
    return { params: params as P };
  }
  if (!allowOtherGraph) checkGraph(fn, meta, metadata);

  const optimizer = meta.optimizer;
  const slots = optimizer && optimizer.slots.length > 0 && metadata.get(WEIGHTS_METADATA.optimizer) === optimizer.name ? optimizer.slots : [];
  const wanted = new Map<string, string>(spec.map(([name]) => [name, name]));
  for (const slot of slots) for (const [name] of spec) wanted.set(stateTensorName(slot, name), name);
  const found = matchTensors(fn, meta, tensors, wanted);
  const step = slots.length > 0 ? readStep(fn, metadata) : 0;

  const read = (what: string, tensorName: (param: string) => string) => {
    const arrays = spec.map(([name]) => readFloats(found.get(tensorName(name))!.bytes));
    checkRead(fn, what, arrays, spec, optimizer?.name);
    return Object.fromEntries(spec.map(([name], k) => [name, arrays[k]]));
  };
  const params = read('params', (name) => name) as P;
  if (slots.length === 0) return { params };
  const state: Record<string, unknown> = { step };
  for (const slot of slots) state[slot] = read(`state.${slot}`, (name) => stateTensorName(slot, name));
  return { params, state: state as OptimizerState<P> };
}

/**
 * What was read, checked again as a train step would take it: every array exactly its param's
 * length (whatever the file's parsing let through), every value finite, and Adam's second
 * moment `v` never negative (its square root divides the step).
 */
function checkRead(fn: string, what: string, arrays: readonly Float32Array[], spec: Spec, optimizer: string | undefined): void {
  arrays.forEach((a, k) => {
    const [name, length] = spec[k];
    if (a.length !== length) throw new RangeError(`${fn}: the file is corrupt: ${what}.${name} holds ${a.length} values, but its shape needs ${length}`);
  });
  checkFinite(fn, what, arrays, spec);
  if (optimizer === 'adam' && what === 'state.v') {
    arrays.forEach((a, k) => {
      const at = a.findIndex((v) => v < 0);
      if (at >= 0) throw new RangeError(`${fn}: the file is corrupt: ${what}.${spec[k][0]}[${at}] is ${a[at]}, but Adam's second moment v is a mean of squares, never negative`);
    });
  }
}

/** The module's meta, enough of it checked to save and load by. */
function metaOf(fn: string, module: unknown): ModuleMeta {
  const meta = (module as { meta?: Partial<ModuleMeta> } | null)?.meta;
  if (typeof meta !== 'object' || meta === null || typeof meta.name !== 'string' || typeof meta.params !== 'object' || meta.params === null) {
    throw new TypeError(`${fn}: expected a gradc module (the generated JS module or WebGPU host module, whose meta names the params), got ${describe(module)}`);
  }
  return meta as ModuleMeta;
}

/** [name, floats, shape as text, 0] of every param, as the argument checks take them. */
function paramSpec(meta: ModuleMeta): Spec {
  return Object.entries(meta.params).map(([name, shape]) => [name, shape.reduce((n, d) => n * d, 1), shapeText(shape), 0] as const);
}

const shapeText = (shape: readonly number[]) => `[${shape.join(',')}]`;

function bytesOf(fn: string, bytes: unknown): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw new TypeError(`${fn}: bytes must be a Uint8Array or an ArrayBuffer (the contents of a .safetensors file), got ${describe(bytes)}`);
}

const OPTIONS: readonly (keyof LoadParamsOptions)[] = ['allowOtherGraph', 'pytorch'];

function readOptions(fn: string, options: unknown): boolean {
  if (options === undefined) return false;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new TypeError(`${fn}: options must be an object { allowOtherGraph?, pytorch? }, got ${describe(options)}`);
  const unknown = Object.keys(options).find((k) => !(OPTIONS as readonly string[]).includes(k));
  if (unknown !== undefined) throw new TypeError(`${fn}: unknown option ${quote(unknown)}; the options are ${OPTIONS.join(', ')}`);
  const { allowOtherGraph, pytorch } = options as LoadParamsOptions;
  if (pytorch !== undefined && typeof pytorch !== 'boolean' && (typeof pytorch !== 'object' || pytorch === null || Array.isArray(pytorch))) {
    throw new TypeError(`${fn}: pytorch must be true, false or { names }, got ${describe(pytorch)}`);
  }
  if (allowOtherGraph !== undefined && typeof allowOtherGraph !== 'boolean') throw new TypeError(`${fn}: allowOtherGraph must be true or false, got ${describe(allowOtherGraph)}`);
  return allowOtherGraph === true;
}

const OTHER_GRAPH = 'pass { allowOtherGraph: true } to load them anyway when its params have the same names and shapes';

/** The file must be for this graph: the same name and, where the module has one, the same hash. */
function checkGraph(fn: string, meta: ModuleMeta, metadata: ReadonlyMap<string, string>): void {
  const graph = metadata.get(WEIGHTS_METADATA.graph);
  const hash = metadata.get(WEIGHTS_METADATA.hash);
  if (graph === undefined) {
    throw new RangeError(`${fn}: the file does not say which graph its weights are for (its __metadata__ has no ${WEIGHTS_METADATA.graph}, so saveParams did not write it); ${OTHER_GRAPH}`);
  }
  if (graph === meta.name && (meta.hash === undefined || hash === meta.hash)) return;
  const hashOf = (h: string | undefined) => (h === undefined ? 'no hash' : `hash ${quote(h)}`);
  throw new RangeError(`${fn}: the file holds the weights of graph ${quote(graph)} (${hashOf(hash)}), not of model ${quote(meta.name)} (${hashOf(meta.hash)}); if the graph changed but kept its params (or gradc changed), ${OTHER_GRAPH}`);
}

/**
 * The file's tensors by name, each `wanted` one present with its param's shape; any other
 * tensor is an error, but for optimizer state this module does not read.
 */
function matchTensors(fn: string, meta: ModuleMeta, tensors: readonly TensorEntry[], wanted: ReadonlyMap<string, string>): Map<string, TensorEntry> {
  const found = new Map<string, TensorEntry>();
  const unknown: string[] = [];
  for (const tensor of tensors) {
    const param = wanted.get(tensor.name);
    if (param === undefined) {
      if (!tensor.name.startsWith(STATE_PREFIX)) unknown.push(tensor.name);
      continue;
    }
    const shape = meta.params[param];
    if (shapeText(tensor.shape) !== shapeText(shape)) {
      throw new RangeError(`${fn}: tensor ${quote(tensor.name)} has shape ${shapeText(tensor.shape)}, but model '${meta.name}' declares param ${param} as ${shapeText(shape)}`);
    }
    found.set(tensor.name, tensor);
  }
  const missing = [...wanted.keys()].filter((name) => !found.has(name));
  const list = (names: string[]) => `${names.slice(0, 5).map(quote).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`;
  const extra = unknown.length === 0 ? '' : `, and holds ${list(unknown)}, which model '${meta.name}' has no param for`;
  if (missing.length > 0) throw new RangeError(`${fn}: the file has no tensor ${list(missing)}, which model '${meta.name}' needs${extra}`);
  if (unknown.length > 0) throw new RangeError(`${fn}: the file holds tensor ${list(unknown)}, which model '${meta.name}' has no param for (its params: ${Object.keys(meta.params).join(', ')})`);
  return found;
}

/** The optimizer's step count, which the state needs (Adam's bias correction depends on it). */
function readStep(fn: string, metadata: ReadonlyMap<string, string>): number {
  const text = metadata.get(WEIGHTS_METADATA.step);
  const step = text !== undefined && /^(0|[1-9][0-9]*)$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(step)) {
    throw new RangeError(`${fn}: the header is corrupt: __metadata__ ${WEIGHTS_METADATA.step} is ${text === undefined ? 'missing' : quote(text)}, but the optimizer state needs its step count as a whole number`);
  }
  return step;
}
