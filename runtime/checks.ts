/**
 * The host code of the generated modules that does not depend on the graph, written once:
 * argument checks and the seeded generator of `initParams`. The WebGPU driver imports it; the
 * compiler writes it beside the JS and wasm modules it generates, as `gradc-host.ts` and
 * `gradc-host.js` (this text, header included), and each module imports the declarations it
 * calls from there, so a folder of generated modules depends on nothing else. Why the checks
 * are built as they are:
 *
 * - Every record is read once, its names checked against the graph's (others are misspellings),
 *   and the arrays read are the ones the entry point computes on.
 * - Arrays are recognised and measured with the engine's own typed-array getters, taken when the
 *   module loads. A Proxy of a Float32Array passes `instanceof` and may answer `length` and every
 *   element read with anything (or run code while it does); a subclass may redefine `length` and
 *   `buffer`. The getters read internal slots instead: the tag is 'Float32Array' for a real one,
 *   a subclass included, and undefined for a Proxy. Each is bound as a plain function of the
 *   array (`call` bound once), which V8 inlines where `Reflect.apply` allocated.
 * - Messages are built only when a check throws: a call that passes allocates nothing for them.
 * - A train step writes params (and optimizer state) in place, so none of them may share memory
 *   with another argument; inputs, only read, may share memory with each other (an
 *   autoencoder's target can be its input). Every length is checked again once all arguments
 *   are read, since a getter read later may have resized a buffer read before. A few arrays are
 *   compared pairwise; many are grouped by buffer and swept in order of where they start.
 *   Distinct SharedArrayBuffer objects over one memory look like different buffers here.
 * - Non-finite values are found with one multiply-add a value: x·0 is 0 only for finite x.
 */

/**
 * [name, floats, shape, offset in its buffer] of each argument; an input over a dynamic batch
 * adds its row width (0 for a fixed shape), and then holds 1 to floats / width rows; an input
 * that is a cross-entropy loss's labels adds which loss and the width of its rows (`Labels`).
 */
export type Spec = readonly (readonly [name: string, length: number, shape: string, offset: number, width?: number, labels?: Labels])[];

/**
 * Cross-entropy labels, checked on every call that reads them (one pass over the labels, no
 * allocation): a sigmoid's are each in [0, 1]; a softmax's are rows of `width` values in
 * [0, 1] that sum to 1 (its fused gradient softmax(z) − y assumes it). Class ids, or labels
 * counted from 1, then fail here rather than train on a meaningless loss.
 */
export type Labels = readonly [loss: 'sigmoid' | 'softmax', width: number];

/** How far a softmax label row's sum may stray from 1 (float rounding of soft labels). */
const ROW_SUM_TOLERANCE = 1e-3;

/** A rejected value in a message: its class or type (`describe`), or itself, strings quoted (`show`). */
export const describe = (v: unknown): string =>
  (v === null ? 'null' : typeof v === 'object' ? (v as object).constructor?.name ?? 'object' : typeof v);
export const show = (v: unknown): string =>
  (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'bigint' ? `${v}n (a BigInt, not a number)` : String(v));
const has = (record: object, name: string) => Object.prototype.hasOwnProperty.call(record, name);
const named = (spec: Spec, name: string) => spec.some((s) => s[0] === name);

/** The engine's typed-array getter `key`, as a function of the array. */
const typedArrayGetter = <T>(key: PropertyKey) => Function.prototype.call.bind(
  Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Float32Array.prototype), key)!.get!,
) as (v: unknown) => T;
const TYPED_TAG = typedArrayGetter<string | undefined>(Symbol.toStringTag);
const TYPED_BUFFER = typedArrayGetter<ArrayBufferLike>('buffer');
const TYPED_BYTE_OFFSET = typedArrayGetter<number>('byteOffset');
export const lengthOf: (v: Float32Array) => number = typedArrayGetter<number>('length');
export const isFloat32Array = (v: unknown): v is Float32Array => TYPED_TAG(v) === 'Float32Array';

function checkArray(fn: string, what: string, spec: Spec[number], v: unknown): Float32Array {
  const n = isFloat32Array(v) ? lengthOf(v) : -1;
  const length = spec[1], width = spec[4];
  // A batch input's rows are checked against the maximum by rowsOf, once compared with the other inputs'.
  if (n >= 0 && (width ? n % width === 0 && n > 0 : n === length)) return v as Float32Array;
  const [name, , shape] = spec;
  const values = width ? `1 to ${length / width} rows of ${width} values` : `${length} values`;
  const must = `${fn}: ${what}.${name} must ${n >= 0 ? 'have' : 'be a Float32Array of'} shape ${shape} (${values}), got`;
  if (n === 0 && detached(v as Float32Array)) {
    throw new TypeError(`${must} a Float32Array whose buffer was detached (transferred, e.g. by postMessage, so it holds no values)`);
  }
  if (n >= 0) {
    const why = width ? (n > 0 ? `, not a whole number of rows of ${width}` : '') : labelWidth(spec, n);
    throw new RangeError(`${must} ${n} values${why}${classIds(spec)}`);
  }
  const got = v === undefined ? 'nothing' : v instanceof Float32Array ? 'an object posing as one (a Proxy?)' : describe(v);
  throw new TypeError(`${must} ${got}`);
}

/** Whether an array's buffer was detached: no view can be made over it then. */
function detached(v: Float32Array): boolean {
  try {
    new Uint8Array(TYPED_BUFFER(v), 0, 0);
    return false;
  } catch {
    return true;
  }
}

/**
 * The rows of a call on a dynamic batch: what its batch inputs hold, which must agree and be
 * at most the batch's maximum.
 */
export function rowsOf(fn: string, arrays: readonly Float32Array[], spec: Spec): number {
  let rows = 0, first = -1;
  for (let k = 0; k < spec.length; k++) {
    const width = spec[k]![4];
    if (!width) continue;
    const r = lengthOf(arrays[k]!) / width;
    if (first < 0) [rows, first] = [r, k];
    else if (r !== rows) throw new RangeError(`${fn}: ${rowMismatch(arrays, spec, first, k)}`);
  }
  const max = first < 0 ? 0 : spec[first]![1] / spec[first]![4]!;
  if (rows > max) {
    const [name, , shape] = spec[first]!;
    const split = `pass at most ${max} rows a call (train, evaluate and predict of gradc/runtime/cpu split a dataset into batches)`;
    throw new RangeError(`${fn}: inputs.${name} has ${rows} rows, more than the maximum ${max} of its shape ${shape}; ${split}`);
  }
  checkLabels(fn, arrays, spec, 'batch');
  return rows;
}

/**
 * Why two batch inputs disagree on rows, said as widths where one's values make whole rows of
 * another width for the other's rows (one-hot labels given to a one-output model), else as rows.
 */
export function rowMismatch(arrays: readonly Float32Array[], spec: Spec, i: number, j: number): string {
  const [ni, nj] = [lengthOf(arrays[i]!), lengthOf(arrays[j]!)];
  const [si, sj] = [spec[i]!, spec[j]!];
  const [ri, rj] = [ni / si[4]!, nj / sj[4]!];
  const width = (s: Spec[number], n: number, o: Spec[number], rows: number) => {
    const got = `inputs.${s[0]} has ${n} values, ${n / rows} a row for the ${rows} rows of inputs.${o[0]}`;
    return `${got}, but its shape ${s[2]} has ${s[4]} a row${classIds(s)}`;
  };
  if (nj % ri === 0) return width(sj, nj, si, ri);
  if (ni % rj === 0) return width(si, ni, sj, rj);
  const [got, other] = [`${rj} rows (${nj} values of shape ${sj[2]})`, `${ri} (${ni} values of shape ${si[2]})`];
  return `inputs.${sj[0]} has ${got} but inputs.${si[0]} has ${other}; every batch input needs the same rows`;
}

/** Labels of a fixed shape given `n` values: as widths, where they make whole rows of another width. */
function labelWidth(spec: Spec[number], n: number): string {
  const width = spec[5]?.[1];
  const rows = width ? spec[1] / width : 0;
  return rows && n % rows === 0 ? `, ${n / rows} a row for its ${rows} rows where its shape has ${width}` : '';
}

/** What each loss's labels must be, and the hint for sigmoid labels given as class ids. */
const LABELS_ARE = {
  sigmoid: 'sigmoid cross-entropy labels are probabilities in [0, 1]',
  softmax: 'softmax cross-entropy labels are probabilities in [0, 1], each row summing to 1',
};
const SOFTMAX_ROWS = 'softmax cross-entropy labels are one distribution per row, summing to 1';
const SIGMOID_IDS = '; class ids? give 0 or 1 per output (for more than two classes, a softmax output and oneHot(ids, classes))';

/** The hint for labels given as class ids where a softmax's one-hot rows are expected. */
const classIds = (spec: Spec[number]): string =>
  (spec[5]?.[0] === 'softmax' ? `; class ids? pass oneHot(ids, ${spec[5][1]}) from gradc/runtime/cpu` : '');

/**
 * Throws, naming the first bad value, where an input holding cross-entropy labels (`Labels`)
 * holds something else. Checked once the shapes are known to fit: labels of a fixed shape by
 * `take` (`only` 'fixed'), a batch input's by `rowsOf` once the rows agree (`only` 'batch').
 */
export function checkLabels(fn: string, arrays: readonly Float32Array[], spec: Spec, only?: 'fixed' | 'batch'): void {
  for (let k = 0; k < spec.length; k++) {
    const labels = spec[k]![5];
    if (!labels || (only && (only === 'batch') !== !!spec[k]![4])) continue;
    const v = arrays[k]!, n = lengthOf(v);
    const [loss, width] = labels;
    let bad = -1, badRow = -1;
    if (loss === 'sigmoid') {
      for (let i = 0; i < n; i++) if (!(v[i]! >= 0 && v[i]! <= 1)) { bad = i; break; }
    } else {
      for (let i = 0, row = 0; i < n && bad < 0 && badRow < 0; row++) {
        let sum = 0;
        for (const end = i + width; i < end; i++) {
          const y = v[i]!;
          if (!(y >= 0 && y <= 1)) { bad = i; break; }
          sum += y;
        }
        if (bad < 0 && Math.abs(sum - 1) > ROW_SUM_TOLERANCE) badRow = row;
      }
    }
    if (bad < 0 && badRow < 0) continue;
    const name = `inputs.${spec[k]![0]}`;
    const ids = loss === 'softmax' ? classIds(spec[k]!) : SIGMOID_IDS;
    if (bad >= 0) throw new RangeError(`${fn}: ${name}[${bad}] is ${v[bad]}, but ${LABELS_ARE[loss]}${ids}`);
    let rowSum = 0;
    for (let i = badRow * width; i < (badRow + 1) * width; i++) rowSum += v[i]!;
    throw new RangeError(`${fn}: ${name} row ${badRow} sums to ${rowSum}, but ${SOFTMAX_ROWS}${ids}`);
  }
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
  const out: Float32Array[] = [];
  for (const spec of required) out.push(checkArray(fn, what, spec, has(given, spec[0]) ? given[spec[0]] : undefined));
  if (names > required.length) {
    for (const s of allowed) if (!named(required, s[0]) && has(given, s[0])) checkArray(fn, what, s, given[s[0]]);
  }
  checkLabels(fn, out, required, 'fixed');
  return out as { [K in keyof S]: Float32Array };
}

/** `what.name[i] is v` for the first element that is NaN or ±Infinity. */
function firstNonFinite(what: string, arrays: readonly Float32Array[], spec: Spec): string | undefined {
  // x·0 is 0 for every finite x and NaN otherwise: one sum finds any non-finite element
  // without a branch per element, in four running sums (a chain of dependent adds would wait
  // on each add's latency: S2's params took 0.2 ms with one, 0.11 ms with four).
  let poison = 0;
  for (const v of arrays) {
    const n = lengthOf(v);
    const whole = n - (n % 4);
    let [a, b, c, d] = [0, 0, 0, 0];
    for (let i = 0; i < whole; i += 4) {
      a += v[i]! * 0;
      b += v[i + 1]! * 0;
      c += v[i + 2]! * 0;
      d += v[i + 3]! * 0;
    }
    for (let i = whole; i < n; i++) a += v[i]! * 0;
    poison += a + b + c + d;
  }
  for (let k = 0; poison !== 0 && k < arrays.length; k++) {
    const v = arrays[k]!;
    for (let i = 0, n = lengthOf(v); i < n; i++) if (!Number.isFinite(v[i])) return `${what}.${spec[k]![0]}[${i}] is ${v[i]}`;
  }
  return undefined;
}

/** Params (and optimizer state) must be finite, or one step spreads NaN everywhere. */
export function checkFinite(fn: string, what: string, arrays: readonly Float32Array[], spec: Spec): void {
  const bad = firstNonFinite(what, arrays, spec);
  if (bad) {
    const why = 'NaN or Infinity would spread to every param in one step';
    throw new RangeError(`${fn}: ${bad}; ${what.split('.')[0]} must be finite (${why})`);
  }
}

/** The optimizer state's arrays, slot by slot (each a record like params), checked, and the number of the step about to run. */
export function takeState<Slots extends readonly string[], S extends Spec>(
  fn: string, state: unknown, slots: Slots, spec: S,
): { t: number; arrays: { [K in keyof Slots]: { [J in keyof S]: Float32Array } } } {
  if (typeof state !== 'object' || state === null || Array.isArray(state)) {
    const kind = `an optimizer state { step, ${slots.join(', ')} } (see initOptimizerState)`;
    throw new TypeError(`${fn}: state must be ${kind}, got ${describe(state)}`);
  }
  const given = state as Record<string, unknown>;
  const step = given.step;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) {
    throw new TypeError(`${fn}: state.step must be a whole number ≥ 0, got ${show(step)}`);
  }
  for (const key in given) {
    if (key !== 'step' && !slots.includes(key) && has(given, key)) {
      const kind = `{ step${slots.map((s) => `, ${s}`).join('')} }`;
      throw new TypeError(`${fn}: unknown state slot ${JSON.stringify(key)}; this optimizer's state is ${kind}`);
    }
  }
  // A train step writes state.step after the update: a state it cannot write is refused first.
  if (fn === 'trainStep' && !writable(given, 'step')) {
    const why = 'the state is frozen, or step is read-only';
    const fix = 'pass a state the call can update, as initOptimizerState() gives';
    throw new TypeError(`${fn}: state.step cannot be written (${why}), so the step could not be counted; ${fix}`);
  }
  const arrays = slots.map((slot) => {
    const arrays = take(fn, `state.${slot}`, has(given, slot) ? given[slot] : undefined, spec, spec);
    checkFinite(fn, `state.${slot}`, arrays, spec);
    return arrays;
  });
  // Typed per slot and param, so a generated module's destructuring of fixed arity type-checks under noUncheckedIndexedAccess.
  return { t: step + 1, arrays: arrays as { [K in keyof Slots]: { [J in keyof S]: Float32Array } } };
}

/** Whether an assignment to `record[key]` would take: a writable own property, or a setter, on an object not frozen. */
function writable(record: object, key: string): boolean {
  for (let o: object | null = record; o !== null; o = Object.getPrototypeOf(o)) {
    const d = Object.getOwnPropertyDescriptor(o, key);
    if (d) return d.set !== undefined || (d.writable === true && (o !== record || !Object.isFrozen(record)));
  }
  return Object.isExtensible(record);
}

/** [label, floats] of each array a train step takes, in its order; a batch input's floats are −width (rows × width). */
export type Disjoint = readonly (readonly [label: string, length: number])[];

/**
 * Throws if an array a train step writes shares memory with another argument, or if one no
 * longer has its length.
 */
export function checkDisjoint(fn: string, arrays: readonly Float32Array[], disjoint: Disjoint, rows = 0): void {
  const buffers: unknown[] = [];
  for (let i = 0; i < arrays.length; i++) {
    const [label, size] = disjoint[i]!;
    const got = lengthOf(arrays[i]!), want = size >= 0 ? size : rows * -size;
    if (got !== want) {
      const how = `to ${got} values: its buffer was resized, transferred or detached`;
      throw new RangeError(`${fn}: ${label} changed length while the arguments were read (${how}); it must keep ${want}`);
    }
    buffers.push(TYPED_BUFFER(arrays[i]));
  }
  const start = (i: number) => TYPED_BYTE_OFFSET(arrays[i]);
  const end = (i: number) => start(i) + 4 * lengthOf(arrays[i]!);
  const written = (i: number) => !disjoint[i]![0].startsWith('inputs.');
  const overlap = (i: number, j: number) => buffers[i] === buffers[j] && start(i) < end(j) && start(j) < end(i);
  const fail = (i: number, j: number) => {
    const why = 'a train step updates arrays in place, so pass separate arrays (copy one with .slice())';
    return new TypeError(`${fn}: ${disjoint[Math.min(i, j)]![0]} and ${disjoint[Math.max(i, j)]![0]} share memory; ${why}`);
  };
  if (arrays.length <= 32) {
    for (let i = 1; i < arrays.length; i++) {
      for (let j = 0; j < i; j++) if (overlap(i, j) && (written(i) || written(j))) throw fail(i, j);
    }
    return;
  }
  const byBuffer = new Map<unknown, number[]>();
  buffers.forEach((buffer, i) => (byBuffer.get(buffer)?.push(i) ?? byBuffer.set(buffer, [i])));
  for (const list of byBuffer.values()) {
    // The arrays swept so far that reach furthest: any of them, and any written one.
    let [any, write] = [-1, -1];
    for (const i of list.sort((a, b) => start(a) - start(b))) {
      if (write >= 0 && start(i) < end(write)) throw fail(write, i);
      if (written(i) && any >= 0 && start(i) < end(any)) throw fail(any, i);
      if (any < 0 || end(i) > end(any)) any = i;
      if (written(i) && (write < 0 || end(i) > end(write))) write = i;
    }
  }
}

/**
 * Why a train step was rejected (a new value was not finite), for the error that says nothing
 * changed: the first non-finite input, else the gradient, else the learning rate (`grads`
 * undefined: the gradient was not read back, so either).
 */
export function rejectedStep(
  fn: string, t: number | undefined, inputs: readonly Float32Array[], spec: Spec, grads: Float32Array | undefined,
  learningRate: number, by?: string,
): RangeError {
  const diverged = 'the gradient is not finite (the loss overflowed: params or inputs too large, or training diverged)';
  const tooLarge = `learningRate ${learningRate} is too large for this step`;
  const gradient = !grads ? `${tooLarge}, or ${diverged}` : firstNonFinite('', [grads], [['', 0, '', 0]]) ? diverged : tooLarge;
  const cause = firstNonFinite('inputs', inputs, spec) ?? gradient;
  const step = t === undefined ? 'the step' : by ? `step ${t}, run by ${by},` : `step ${t}`;
  const why = 'because it would make params or optimizer state NaN or ±Infinity';
  return new RangeError(`${fn}: ${step} was rejected, ${why}: ${cause}. Nothing was changed`);
}

export function checkRate(learningRate: unknown, fn = 'trainStep', noState?: [string, unknown]): void {
  if (typeof learningRate !== 'number' || !Number.isFinite(learningRate) || learningRate <= 0) {
    throw new RangeError(`${fn}: learningRate must be a finite number > 0, got ${show(learningRate)}`);
  }
  const [opt, state] = noState ?? [];
  if (state !== undefined) {
    const takes = `${fn} takes (params, inputs, learningRate)`;
    throw new TypeError(`${fn}: the ${opt} optimizer keeps no state, so ${takes}; got a fourth argument (${describe(state)})`);
  }
}

export function checkSeed(seed: unknown): void {
  if (typeof seed !== 'number' || !Number.isInteger(seed)) {
    throw new TypeError(`initParams: seed must be an integer, got ${show(seed)}`);
  }
}

/** A 32-bit xorshift generator, seeded through an integer hash; returns values in (0, 1). */
export function makeRng(seed: number): () => number {
  let x = Math.imul(seed ^ 0x5bd1e995, 0x2c1b3c6d) ^ 0x68e31da4;
  x = Math.imul(x ^ (x >>> 16), 0x297a2d39) | 0 || 0x1234567;
  return () => {
    x ^= x << 13, x ^= x >>> 17, x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Normal(0, std²) samples by the Box–Muller transform. */
export function fillNormal(out: Float32Array, next: () => number, std: number): void {
  for (let i = 0; i < out.length; i++) out[i] = std * Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
}
