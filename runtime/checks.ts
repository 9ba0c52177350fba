/**
 * Argument checks of the generated modules, written once: the WebGPU driver imports them, and
 * the compiler embeds this file's text (without `export`) in every generated JS module, which
 * imports nothing. Every record is read once, its names checked, its arrays validated, and
 * the arrays read are what the entry point computes on.
 */

/** [name, floats, shape as text, offset in its buffer] of each argument. */
export type Spec = readonly (readonly [name: string, length: number, shape: string, offset: number])[];

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
const typedArrayGetter = (key: PropertyKey) => Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Float32Array.prototype), key)!.get!;
const TYPED_TAG = typedArrayGetter(Symbol.toStringTag);
const TYPED_LENGTH = typedArrayGetter('length');
const TYPED_BUFFER = typedArrayGetter('buffer');
const TYPED_BYTE_OFFSET = typedArrayGetter('byteOffset');
export const lengthOf = (v: Float32Array): number => Reflect.apply(TYPED_LENGTH, v, []) as number;
export const isFloat32Array = (v: unknown): v is Float32Array => Reflect.apply(TYPED_TAG, v, []) === 'Float32Array';

function checkArray(fn: string, what: string, [name, length, shape]: Spec[number], v: unknown): Float32Array {
  const real = isFloat32Array(v);
  const wanted = `${fn}: ${what}.${name} must ${real ? 'have' : 'be a Float32Array of'} shape ${shape} (${length} values)`;
  if (!real) throw new TypeError(`${wanted}, got ${v === undefined ? 'nothing' : v instanceof Float32Array ? 'an object posing as one (a Proxy?)' : describe(v)}`);
  if (lengthOf(v) !== length) throw new RangeError(`${wanted}, got ${lengthOf(v)} values`);
  return v;
}

/**
 * Each array still has its length: a getter read after it may have resized, transferred or
 * detached its buffer.
 */
function checkLengths(fn: string, what: string, arrays: readonly Float32Array[], spec: Spec): void {
  for (let k = 0; k < arrays.length; k++) {
    const [name, length] = spec[k]!;
    if (lengthOf(arrays[k]!) === length) continue;
    const how = `to ${lengthOf(arrays[k]!)} values: its buffer was resized, transferred or detached`;
    throw new RangeError(`${fn}: ${what}.${name} changed length while the arguments were read (${how}); it must keep ${length}`);
  }
}

/** The arrays `required` names, each read from `record` once and checked; a name not `allowed` is a misspelling. */
export function take<S extends Spec>(fn: string, what: string, record: unknown, required: S, allowed: Spec): { [K in keyof S]: Float32Array } {
  if (typeof record !== 'object' || record === null || Array.isArray(record) || ArrayBuffer.isView(record)) {
    throw new TypeError(`${fn}: ${what} must be an object of Float32Arrays, got ${describe(record)}`);
  }
  const given = record as Record<string, unknown>;
  let names = 0;
  for (const name in given) {
    if (!named(allowed, name) && has(given, name)) {
      throw new TypeError(`${fn}: unknown ${what.replace(/s$/, '')} ${JSON.stringify(name)}; expected ${allowed.map((s) => s[0]).join(', ')}`);
    }
    names++;
  }
  const out = required.map((spec) => checkArray(fn, what, spec, has(given, spec[0]) ? given[spec[0]] : undefined));
  if (names > required.length) {
    for (const s of allowed) if (!named(required, s[0]) && has(given, s[0])) checkArray(fn, what, s, given[s[0]]);
  }
  checkLengths(fn, what, out, required);
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
  if (bad) throw new RangeError(`${fn}: ${bad}; ${what.split('.')[0]} must be finite (NaN or Infinity would spread to every param in one step)`);
}

/**
 * The optimizer state's arrays, slot by slot (each a record like params), read once and
 * checked, and the number of the step about to run.
 */
export function takeState(fn: string, state: unknown, slots: readonly string[], spec: Spec): { t: number; arrays: (readonly Float32Array[])[] } {
  const kind = `an optimizer state { step, ${slots.join(', ')} } (see initOptimizerState)`;
  if (typeof state !== 'object' || state === null || Array.isArray(state)) throw new TypeError(`${fn}: state must be ${kind}, got ${describe(state)}`);
  const given = state as Record<string, unknown>;
  const step = given.step;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) throw new TypeError(`${fn}: state.step must be a whole number ≥ 0, got ${show(step)}`);
  const arrays = slots.map((slot) => {
    const arrays = take(fn, `state.${slot}`, has(given, slot) ? given[slot] : undefined, spec, spec);
    checkFinite(fn, `state.${slot}`, arrays, spec);
    return arrays;
  });
  return { t: step + 1, arrays };
}

/**
 * A train step writes params (and state) in place: none of them may share memory with another
 * argument, or one write changes what another read sees (inputs, which are only read, may share
 * memory with each other: an autoencoder's target can be its input). Each must also still have
 * its length, since a getter of a later argument may have resized one read before. Arrays are
 * grouped by their buffer and swept in order of where they start, so the check is linear in
 * their number (but for the sort). Distinct SharedArrayBuffer objects over one memory (one
 * posted to a worker and back) look like different buffers here.
 */
export function checkDisjoint(fn: string, groups: readonly (readonly [what: string, arrays: readonly Float32Array[], spec: Spec])[]): void {
  type Span = { start: number; end: number; group: number; k: number; written: boolean };
  const byBuffer = new Map<unknown, Span[]>();
  for (let group = 0; group < groups.length; group++) {
    const [what, arrays, spec] = groups[group]!;
    checkLengths(fn, what, arrays, spec);
    for (let k = 0; k < arrays.length; k++) {
      const buffer: unknown = Reflect.apply(TYPED_BUFFER, arrays[k], []);
      const start = Reflect.apply(TYPED_BYTE_OFFSET, arrays[k], []) as number;
      const span = { start, end: start + 4 * spec[k]![1], group, k, written: what !== 'inputs' };
      const list = byBuffer.get(buffer);
      if (list) list.push(span);
      else byBuffer.set(buffer, [span]);
    }
  }
  const label = (s: Span) => `${groups[s.group]![0]}.${groups[s.group]![2][s.k]![0]}`;
  for (const list of byBuffer.values()) {
    if (list.length < 2) continue;
    list.sort((a, b) => a.start - b.start);
    // The spans seen so far that reach furthest: any of them, and any that is written.
    let any: Span | undefined;
    let written: Span | undefined;
    for (const span of list) {
      const other = written && span.start < written.end ? written : span.written && any && span.start < any.end ? any : undefined;
      if (other) {
        throw new TypeError(`${fn}: ${label(other)} and ${label(span)} share memory; a train step updates arrays in place, so pass separate arrays (copy one with .slice())`);
      }
      if (!any || span.end > any.end) any = span;
      if (span.written && (!written || span.end > written.end)) written = span;
    }
  }
}

/**
 * Why a train step was rejected (its new values were not all finite), for the error that says
 * nothing changed: the first non-finite input element, else a gradient that is not finite,
 * else the learning rate (`grads` undefined: the gradient was not read back, so either).
 */
export function rejectedStep(fn: string, t: number | undefined, inputs: readonly Float32Array[], spec: Spec, grads: Float32Array | undefined, learningRate: number): RangeError {
  const diverged = 'the gradient is not finite (the loss overflowed: params or inputs too large, or training diverged)';
  const cause = firstNonFinite('inputs', inputs, spec)
    ?? (grads === undefined
      ? `learningRate ${learningRate} is too large for this step, or ${diverged}`
      : firstNonFinite('', [grads], [['', 0, '', 0]]) ? diverged : `learningRate ${learningRate} is too large for this step`);
  return new RangeError(`${fn}: ${t === undefined ? 'the step' : `step ${t}`} was rejected, because it would make params or optimizer state NaN or ±Infinity: ${cause}. Nothing was changed`);
}

export function checkRate(learningRate: unknown, fn = 'trainStep'): void {
  if (typeof learningRate !== 'number' || !Number.isFinite(learningRate) || learningRate <= 0) {
    throw new RangeError(`${fn}: learningRate must be a finite number > 0, got ${show(learningRate)}`);
  }
}
