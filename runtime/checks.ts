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

function checkArray(fn: string, what: string, [name, length, shape, , width]: Spec[number], v: unknown): Float32Array {
  const verb = v instanceof Float32Array ? 'have' : 'be a Float32Array of';
  const values = width ? `1 to ${length / width} rows of ${width} values` : `${length} values`;
  const wanted = `${fn}: ${what}.${name} must ${verb} shape ${shape} (${values})`;
  if (!(v instanceof Float32Array)) throw new TypeError(`${wanted}, got ${v === undefined ? 'nothing' : describe(v)}`);
  const fits = width ? v.length % width === 0 && v.length > 0 && v.length <= length : v.length === length;
  if (!fits) throw new RangeError(`${wanted}, got ${v.length} values`);
  return v;
}

/** The rows of a call on a dynamic batch: what its batch inputs hold, which must agree. */
export function rowsOf(fn: string, arrays: readonly Float32Array[], spec: Spec): number {
  let rows = 0;
  spec.forEach(([name, , , , width], k) => {
    if (!width) return;
    const r = arrays[k]!.length / width;
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
  return out as { [K in keyof S]: Float32Array };
}

/** `what.name[i] is v` for the first element that is NaN or ±Infinity; x·0 is 0 only for finite x: one multiply-add a value. */
function firstNonFinite(what: string, arrays: readonly Float32Array[], spec: Spec): string | undefined {
  let poison = 0;
  for (const v of arrays) for (let i = 0; i < v.length; i++) poison += v[i]! * 0;
  if (poison === 0) return undefined;
  for (let k = 0; k < arrays.length; k++) {
    const v = arrays[k]!;
    const i = v.findIndex((e) => !Number.isFinite(e));
    if (i >= 0) return `${what}.${spec[k]![0]}[${i}] is ${v[i]}`;
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
 * A train step writes params (and state) in place: no two of its arrays may share memory, or
 * one write changes what another read sees. `labels[i]` names `arrays[i]` in the error. A few
 * arrays are compared pairwise (no allocation); many are grouped by buffer and sorted by
 * where they start, so the check stays near-linear in their number.
 */
export function checkDisjoint(fn: string, arrays: readonly Float32Array[], labels: readonly string[]): void {
  const n = arrays.length;
  const buffers: ArrayBufferLike[] = [];
  for (let i = 0; i < n; i++) buffers.push(arrays[i]!.buffer);
  const check = (i: number, j: number) => {
    const [a, b] = [arrays[i]!, arrays[j]!];
    if (a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength) {
      const [a, b] = [labels[Math.min(i, j)], labels[Math.max(i, j)]];
      const why = 'a train step updates arrays in place, so pass separate arrays (copy one with .slice())';
      throw new TypeError(`${fn}: ${a} and ${b} share memory; ${why}`);
    }
  };
  if (n <= 32) {
    for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) if (buffers[i] === buffers[j]) check(i, j);
    return;
  }
  const byBuffer = new Map<ArrayBufferLike, number[]>();
  buffers.forEach((buffer, i) => {
    const list = byBuffer.get(buffer);
    if (list) list.push(i);
    else byBuffer.set(buffer, [i]);
  });
  for (const list of byBuffer.values()) {
    list.sort((i, j) => arrays[i]!.byteOffset - arrays[j]!.byteOffset);
    for (let k = 1; k < list.length; k++) check(list[k]!, list[k - 1]!);
  }
}

/**
 * Why a train step was rejected (its new values were not all finite), for the error that says
 * nothing changed: the first non-finite input element, else a gradient that is not finite,
 * else the learning rate (`grads` undefined: the gradient was not read back, so either).
 */
export function rejectedStep(
  fn: string, t: number | undefined, inputs: readonly Float32Array[], spec: Spec, grads: Float32Array | undefined, learningRate: number,
): RangeError {
  const diverged = 'the gradient is not finite (the loss overflowed: params or inputs too large, or training diverged)';
  const tooLarge = `learningRate ${learningRate} is too large for this step`;
  const finiteGradient = grads !== undefined && !firstNonFinite('', [grads], [['', 0, '', 0]]);
  const gradient = grads === undefined ? `${tooLarge}, or ${diverged}` : finiteGradient ? tooLarge : diverged;
  const cause = firstNonFinite('inputs', inputs, spec) ?? gradient;
  const step = t === undefined ? 'the step' : `step ${t}`;
  const why = 'because it would make params or optimizer state NaN or ±Infinity';
  return new RangeError(`${fn}: ${step} was rejected, ${why}: ${cause}. Nothing was changed`);
}

export function checkRate(learningRate: unknown, fn = 'trainStep'): void {
  if (typeof learningRate !== 'number' || !Number.isFinite(learningRate) || learningRate <= 0) {
    throw new RangeError(`${fn}: learningRate must be a finite number > 0, got ${show(learningRate)}`);
  }
}
