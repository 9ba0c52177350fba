/**
 * Argument checks of the generated modules, written once: the WebGPU driver imports them, and
 * the compiler embeds this file's text (without `export`) in every generated JS module, which
 * imports nothing. Every record is read once, its names checked, its arrays validated, and
 * the arrays read are what the entry point computes on.
 */

/**
 * [name, floats, shape as text, offset in its buffer] of each argument; and for an input
 * over a dynamic batch, its row width: it then holds any whole number of rows up to `floats`.
 */
export type Spec = readonly (readonly [name: string, length: number, shape: string, offset: number, width?: number])[];

/** A rejected value in a message: its class or type (`describe`), or itself, strings quoted (`show`). */
export const describe = (v: unknown): string =>
  (v === null ? 'null' : typeof v === 'object' ? (v as object).constructor?.name ?? 'object' : typeof v);
export const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));
const has = (record: object, name: string) => Object.prototype.hasOwnProperty.call(record, name);
const named = (spec: Spec, name: string) => spec.some((s) => s[0] === name);

/**
 * The engine's own typed-array accessors, taken when the module loads. A Proxy of a
 * Float32Array passes `instanceof` and may answer `length` and every element read with
 * anything (or run code while it does); a subclass may redefine `length` and `buffer`. These
 * read the array's internal slots instead: the tag is 'Float32Array' for a real one, a
 * subclass included, and undefined for a Proxy or anything else.
 */
// Each getter bound as a plain function of the array (`call` bound once, at load): V8 inlines
// these where `Reflect.apply(get, v, [])` allocated and called through.
const TYPED_ARRAY = Object.getPrototypeOf(Float32Array.prototype) as object;
const typedArrayGetter = <T>(key: PropertyKey) =>
  Function.prototype.call.bind(Object.getOwnPropertyDescriptor(TYPED_ARRAY, key)!.get!) as (v: unknown) => T;
const TYPED_TAG = typedArrayGetter<string | undefined>(Symbol.toStringTag);
const TYPED_BUFFER = typedArrayGetter<ArrayBufferLike>('buffer');
const TYPED_BYTE_OFFSET = typedArrayGetter<number>('byteOffset');
export const lengthOf: (v: Float32Array) => number = typedArrayGetter<number>('length');
export const isFloat32Array = (v: unknown): v is Float32Array => TYPED_TAG(v) === 'Float32Array';

function checkArray(fn: string, what: string, spec: Spec[number], v: unknown): Float32Array {
  const [, length, , , width] = spec;
  if (!isFloat32Array(v)) {
    const got = v === undefined ? 'nothing' : v instanceof Float32Array ? 'an object posing as one (a Proxy?)' : describe(v);
    throw new TypeError(`${wanted(fn, what, spec, false)}, got ${got}`);
  }
  const n = lengthOf(v);
  const fits = width ? n % width === 0 && n > 0 && n <= length : n === length;
  if (!fits) throw new RangeError(`${wanted(fn, what, spec, true)}, got ${n} values`);
  return v;
}

/** What an argument must be, for its error (built only when one is thrown: calls stay allocation-free). */
function wanted(fn: string, what: string, [name, length, shape, , width]: Spec[number], real: boolean): string {
  const values = width ? `1 to ${length / width} rows of ${width} values` : `${length} values`;
  return `${fn}: ${what}.${name} must ${real ? 'have' : 'be a Float32Array of'} shape ${shape} (${values})`;
}

/** `what.name` changed length after it was checked (a later getter resized or detached its buffer). */
function changedLength(fn: string, label: string, got: number, want: number): RangeError {
  const how = `to ${got} values: its buffer was resized, transferred or detached`;
  return new RangeError(`${fn}: ${label} changed length while the arguments were read (${how}); it must keep ${want}`);
}

/** The rows of a call on a dynamic batch: what its batch inputs hold, which must agree. */
export function rowsOf(fn: string, arrays: readonly Float32Array[], spec: Spec): number {
  let rows = 0;
  spec.forEach(([name, , , , width], k) => {
    if (!width) return;
    const r = lengthOf(arrays[k]!) / width;
    if (rows && r !== rows) {
      const why = 'every batch input needs the same rows';
      throw new RangeError(`${fn}: inputs.${name} has ${r} rows but the inputs before it have ${rows}; ${why}`);
    }
    rows = r;
  });
  return rows;
}

/** The arrays `required` names, each read from `record` once and checked; a name not `allowed` is a misspelling. */
export function take<S extends Spec>(
  fn: string, what: string, record: unknown, required: S, allowed: Spec,
): { [K in keyof S]: Float32Array } {
  if (typeof record !== 'object' || record === null || Array.isArray(record) || ArrayBuffer.isView(record)) {
    throw new TypeError(`${fn}: ${what} must be an object of Float32Arrays, got ${describe(record)}`);
  }
  const given = record as Record<string, unknown>;
  let names = 0;
  for (const name in given) {
    if (!named(allowed, name) && has(given, name)) {
      const expected = allowed.map((s) => s[0]).join(', ');
      throw new TypeError(`${fn}: unknown ${what.replace(/s$/, '')} ${JSON.stringify(name)}; expected ${expected}`);
    }
    names++;
  }
  const out = required.map((spec) => checkArray(fn, what, spec, has(given, spec[0]) ? given[spec[0]] : undefined));
  if (names > required.length) {
    for (const s of allowed) if (!named(required, s[0]) && has(given, s[0])) checkArray(fn, what, s, given[s[0]]);
  }
  // (A getter read after an array may resize its buffer: a train step, which writes, checks
  // every length again once all its arguments are read, in checkDisjoint.)
  return out as { [K in keyof S]: Float32Array };
}

/** `what.name[i] is v` for the first element that is NaN or ±Infinity; x·0 is 0 only for finite x: one multiply-add a value. */
function firstNonFinite(what: string, arrays: readonly Float32Array[], spec: Spec): string | undefined {
  let poison = 0;
  for (const v of arrays) for (let i = 0, n = lengthOf(v); i < n; i++) poison += v[i]! * 0;
  if (poison === 0) return undefined;
  for (let k = 0; k < arrays.length; k++) {
    const v = arrays[k]!;
    for (let i = 0, n = lengthOf(v); i < n; i++) if (!Number.isFinite(v[i])) return `${what}.${spec[k]![0]}[${i}] is ${v[i]}`;
  }
  return undefined;
}

/** Params (and optimizer state) must be finite, or one step spreads NaN everywhere. */
export function checkFinite(fn: string, what: string, arrays: readonly Float32Array[], spec: Spec): void {
  const bad = firstNonFinite(what, arrays, spec);
  if (bad) {
    throw new RangeError(`${fn}: ${bad}; ${what.split('.')[0]} must be finite (NaN or Infinity would spread to every param in one step)`);
  }
}

/**
 * The optimizer state's arrays, slot by slot (each a record like params), read once and
 * checked, and the number of the step about to run.
 */
export function takeState(
  fn: string, state: unknown, slots: readonly string[], spec: Spec,
): { t: number; arrays: (readonly Float32Array[])[] } {
  const kind = `an optimizer state { step, ${slots.join(', ')} } (see initOptimizerState)`;
  if (typeof state !== 'object' || state === null || Array.isArray(state)) {
    throw new TypeError(`${fn}: state must be ${kind}, got ${describe(state)}`);
  }
  const given = state as Record<string, unknown>;
  const step = given.step;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) {
    throw new TypeError(`${fn}: state.step must be a whole number ≥ 0, got ${show(step)}`);
  }
  const arrays = slots.map((slot) => {
    const arrays = take(fn, `state.${slot}`, has(given, slot) ? given[slot] : undefined, spec, spec);
    checkFinite(fn, `state.${slot}`, arrays, spec);
    return arrays;
  });
  return { t: step + 1, arrays };
}

/**
 * [label, floats] of each array a train step takes, in its order; a batch input's floats are
 * −width (it holds the call's rows × width).
 */
export type Disjoint = readonly (readonly [label: string, length: number])[];

/**
 * A train step writes params (and state) in place: none of them may share memory with another
 * argument, or one write changes what another read sees (inputs, which are only read, may share
 * memory with each other: an autoencoder's target can be its input). Each must also still have
 * its length, since a getter of a later argument may have resized one read before. Lengths and
 * buffers are read with the engine's own accessors (a subclass may lie). A few arrays are
 * compared pairwise (no allocation); many are grouped by buffer and swept in order of where
 * they start. Distinct SharedArrayBuffer objects over one memory (one posted to a worker and
 * back) look like different buffers here.
 */
export function checkDisjoint(fn: string, arrays: readonly Float32Array[], disjoint: Disjoint, rows = 0): void {
  const n = arrays.length;
  const buffers: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const [label, size] = disjoint[i]!;
    const [got, want] = [lengthOf(arrays[i]!), size >= 0 ? size : rows * -size];
    if (got !== want) throw changedLength(fn, label, got, want);
    buffers.push(TYPED_BUFFER(arrays[i]));
  }
  const start = (i: number) => TYPED_BYTE_OFFSET(arrays[i]);
  const end = (i: number) => start(i) + 4 * lengthOf(arrays[i]!);
  const written = (i: number) => !disjoint[i]![0].startsWith('inputs.');
  const fail = (i: number, j: number) => {
    const [a, b] = [disjoint[Math.min(i, j)]![0], disjoint[Math.max(i, j)]![0]];
    const why = 'a train step updates arrays in place, so pass separate arrays (copy one with .slice())';
    return new TypeError(`${fn}: ${a} and ${b} share memory; ${why}`);
  };
  if (n <= 32) {
    for (let i = 1; i < n; i++) {
      for (let j = 0; j < i; j++) {
        if (buffers[i] === buffers[j] && (written(i) || written(j)) && start(i) < end(j) && start(j) < end(i)) throw fail(i, j);
      }
    }
    return;
  }
  const byBuffer = new Map<unknown, number[]>();
  buffers.forEach((buffer, i) => {
    const list = byBuffer.get(buffer);
    if (list) list.push(i);
    else byBuffer.set(buffer, [i]);
  });
  for (const list of byBuffer.values()) {
    list.sort((i, j) => start(i) - start(j));
    // The arrays seen so far that reach furthest: any of them, and any that is written.
    let any = -1;
    let write = -1;
    for (const i of list) {
      const other = write >= 0 && start(i) < end(write) ? write : written(i) && any >= 0 && start(i) < end(any) ? any : -1;
      if (other >= 0) throw fail(other, i);
      if (any < 0 || end(i) > end(any)) any = i;
      if (written(i) && (write < 0 || end(i) > end(write))) write = i;
    }
  }
}

/**
 * Why a train step was rejected (its new values were not all finite), for the error that says
 * nothing changed: the first non-finite input element, else a gradient that is not finite,
 * else the learning rate (`grads` undefined: the gradient was not read back, so either).
 */
export function rejectedStep(
  fn: string, t: number | undefined, inputs: readonly Float32Array[], spec: Spec, grads: Float32Array | undefined, learningRate: number,
  by?: string,
): RangeError {
  const diverged = 'the gradient is not finite (the loss overflowed: params or inputs too large, or training diverged)';
  const tooLarge = `learningRate ${learningRate} is too large for this step`;
  const finiteGradient = grads !== undefined && !firstNonFinite('', [grads], [['', 0, '', 0]]);
  const gradient = grads === undefined ? `${tooLarge}, or ${diverged}` : finiteGradient ? tooLarge : diverged;
  const cause = firstNonFinite('inputs', inputs, spec) ?? gradient;
  const step = t === undefined ? 'the step' : by ? `step ${t}, run by ${by},` : `step ${t}`;
  const why = 'because it would make params or optimizer state NaN or ±Infinity';
  return new RangeError(`${fn}: ${step} was rejected, ${why}: ${cause}. Nothing was changed`);
}

export function checkRate(learningRate: unknown, fn = 'trainStep'): void {
  if (typeof learningRate !== 'number' || !Number.isFinite(learningRate) || learningRate <= 0) {
    throw new RangeError(`${fn}: learningRate must be a finite number > 0, got ${show(learningRate)}`);
  }
}
