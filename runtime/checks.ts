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

function checkArray(fn: string, what: string, [name, length, shape]: Spec[number], v: unknown): Float32Array {
  const verb = v instanceof Float32Array ? 'have' : 'be a Float32Array of';
  const wanted = `${fn}: ${what}.${name} must ${verb} shape ${shape} (${length} values)`;
  if (!(v instanceof Float32Array)) throw new TypeError(`${wanted}, got ${v === undefined ? 'nothing' : describe(v)}`);
  if (v.length !== length) throw new RangeError(`${wanted}, got ${v.length} values`);
  return v;
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
      throw new TypeError(`${fn}: unknown ${what.slice(0, -1)} ${JSON.stringify(name)}; expected ${allowed.map((s) => s[0]).join(', ')}`);
    }
    names++;
  }
  const out = required.map((spec) => checkArray(fn, what, spec, has(given, spec[0]) ? given[spec[0]] : undefined));
  if (names > required.length) {
    for (const s of allowed) if (!named(required, s[0]) && has(given, s[0])) checkArray(fn, what, s, given[s[0]]);
  }
  return out as { [K in keyof S]: Float32Array };
}

/** Params must be finite, or one step spreads NaN everywhere; x·0 is 0 only for finite x: one multiply-add a value. */
export function checkFinite(fn: string, what: string, arrays: readonly Float32Array[], spec: Spec): void {
  let poison = 0;
  for (const v of arrays) for (let i = 0; i < v.length; i++) poison += v[i]! * 0;
  if (poison === 0) return;
  arrays.forEach((v, k) => {
    const i = v.findIndex((e) => !Number.isFinite(e));
    const why = 'params must be finite (NaN or Infinity would spread to every param in one step)';
    if (i >= 0) throw new RangeError(`${fn}: ${what}.${spec[k]![0]}[${i}] is ${v[i]}; ${why}`);
  });
}

export function checkRate(learningRate: unknown, fn = 'trainStep'): void {
  if (typeof learningRate !== 'number' || !Number.isFinite(learningRate) || learningRate <= 0) {
    throw new RangeError(`${fn}: learningRate must be a finite number > 0, got ${show(learningRate)}`);
  }
}
