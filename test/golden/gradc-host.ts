// gradc-host.ts — the host code shared by the JS and wasm modules gradc 0.1.0 generates, written beside them.
// Do not edit: regenerate with `gradc build`. It imports nothing; the modules import it.
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

/**
 * The wasm modules' threads, written once (shipped in the host file beside the modules, as
 * `checks.ts` is): a pool of workers (`worker_threads` in Node, Web Workers in browsers),
 * each instantiating the module's kernels over one shared `WebAssembly.Memory`, and the one
 * place a threaded module launches a kernel (`run`). How it works, and why:
 *
 * - The calls stay synchronous. The calling thread launches every kernel; a kernel the build
 *   split by rows (a matrix product worth it, see spec/wasm.md) is shared: the caller writes
 *   the job (kernel, rows, scalars) into a small control block, bumps its generation and
 *   wakes the workers, computes its own share, and waits for theirs by watching a counter
 *   with atomics. It spins (Atomics.wait may not block a browser's main thread), blocking
 *   only after a long spin where it may.
 * - Each thread computes whole rows of the output, each element in the same order as on one
 *   thread, and shares start at a multiple of 4 rows (the kernels' row tiles): results are the
 *   same bits for every thread count.
 * - Workers spin a little after each job (the next launch of a step follows within
 *   microseconds) and then block in Atomics.wait until the next one.
 * - The worker's code travels as text (a Blob URL in browsers, `eval` in Node): no bundler
 *   needs a worker file. Workers are unref'd in Node, so they never keep a program running.
 * - Where threads cannot run (no SharedArrayBuffer: a page that is not cross-origin isolated;
 *   no workers; a memory that cannot be shared), the module keeps running on one thread and
 *   `status.reason` says why.
 */

/**
 * The WebAssembly API this file uses, declared here: it is shipped in the host file, which a
 * project without DOM or Node types must type-check too, and TypeScript's ES libraries do not
 * declare WebAssembly.
 */
type WasmModule = object;
type WasmMemory = object;
declare const WebAssembly: {
  Memory: new (limits: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: object): Promise<{ exports: unknown }>;
};

/** What a wasm module reports of its threads: how many run its kernels, and why not more. */
export interface ThreadStatus {
  /** Threads running the kernels, the caller's included (1: the caller alone). */
  readonly threads: number;
  /** Why there are not as many as asked for (absent when there are). */
  readonly reason?: string;
}

/** The control block's int32 slots; the kernel's scalars follow as float64s from byte 64. */
const GEN = 0, DONE = 1, KERNEL = 2, ROWS = 3, COUNT = 4, ARGS = 5, STOP = 6, FAILED = 7;
const ARGS_AT = 64, MAX_ARGS = 16;
/** Rows a share starts at a multiple of: the kernels' row tile. */
const TILE_ROWS = 4;
/** Atomics.load polls before a waiting thread blocks (tens of microseconds). */
const SPINS = 20000;

/** The rows [start, end) of `rows` that thread `t` of `count` computes: whole tiles, the last ragged. */
export function threadRows(rows: number, t: number, count: number): [number, number] {
  const tiles = Math.ceil(rows / TILE_ROWS);
  const start = Math.floor((t * tiles) / count) * TILE_ROWS;
  const end = Math.min(rows, Math.floor(((t + 1) * tiles) / count) * TILE_ROWS);
  return [Math.min(start, rows), end];
}

/**
 * A worker's source, as text (so no build tool can rewrite it or make it reach names outside
 * it): instantiates the kernels over the shared memory, says it is ready, then runs its share
 * of every job (the rows of `threadRows`) until told to stop. `port` is Node's parentPort or
 * the worker's global scope.
 */
const WORKER_SOURCE = `
const start = (msg) => {
  const [GEN, DONE, KERNEL, ROWS, COUNT, ARGS, STOP, FAILED] = [${GEN}, ${DONE}, ${KERNEL}, ${ROWS}, ${COUNT}, ${ARGS}, ${STOP}, ${FAILED}];
  const exports = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory } }).exports;
  const ctl = new Int32Array(msg.control);
  const args = new Float64Array(msg.control, ${ARGS_AT}, ${MAX_ARGS});
  const tid = msg.tid;
  // The generation before saying ready: the first job comes after.
  let gen = Atomics.load(ctl, GEN);
  port.postMessage('ready');
  for (;;) {
    for (let spin = 0; Atomics.load(ctl, GEN) === gen; spin++) if (spin > ${SPINS}) Atomics.wait(ctl, GEN, gen);
    gen = Atomics.load(ctl, GEN);
    if (Atomics.load(ctl, STOP)) return;
    const count = ctl[COUNT], rows = ctl[ROWS];
    if (tid < count) {
      const tiles = Math.ceil(rows / ${TILE_ROWS});
      const r0 = Math.min(rows, Math.floor((tid * tiles) / count) * ${TILE_ROWS});
      const r1 = Math.min(rows, Math.floor(((tid + 1) * tiles) / count) * ${TILE_ROWS});
      if (r1 > r0) {
        const scalars = [r0, r1, tid];
        for (let i = 0; i < ctl[ARGS]; i++) scalars.push(args[i]);
        try {
          exports['k' + ctl[KERNEL]](...scalars);
        } catch (e) {
          Atomics.store(ctl, FAILED, 1);
          port.postMessage(String(e));
        }
      }
    }
    Atomics.add(ctl, DONE, 1);
    Atomics.notify(ctl, DONE);
  }
};
if (typeof port.once === 'function') port.once('message', start);
else port.onmessage = (e) => start(e.data);
`;

/** A worker, Node's or a browser's, as far as the pool uses it. */
interface AnyWorker {
  postMessage(m: unknown): void;
  terminate(): unknown;
}

/** What the pool reads of the host's globals (typed here: the host file needs neither DOM nor Node types). */
interface Host {
  readonly crossOriginIsolated?: boolean;
  readonly Worker?: new (url: string) => AnyWorker & { onmessage: unknown; onerror: unknown };
  readonly Blob: new (parts: string[], options: { type: string }) => object;
  readonly URL: { createObjectURL(blob: object): string; revokeObjectURL(url: string): void };
}
const host = globalThis as unknown as Host;

/** The reason where SharedArrayBuffer is missing (joined at run time: it is longer than a line). */
const NOT_ISOLATED = [
  'SharedArrayBuffer is unavailable: the page is not cross-origin isolated',
  '(serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)',
].join(' ');

/** A thread count must be a whole number >= 1. */
function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`useThreads: count must be a whole number >= 1, got ${String(count)}`);
}

/** Why threads cannot run here, or undefined where they can (SharedArrayBuffer and workers). */
function threadsUnavailable(): string | undefined {
  if (typeof SharedArrayBuffer === 'undefined' || host.crossOriginIsolated === false) {
    return NOT_ISOLATED;
  }
  return undefined;
}

/** Whether Atomics.wait may block this thread (not a browser's main thread). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

type NodeWorker = AnyWorker & { unref(): void; once(event: string, f: (x: { message?: string }) => void): void };
type NodeWorkers = { Worker: new (code: string, o: { eval: true }) => NodeWorker };

/** Node's worker_threads, where the host has no Web Workers (undefined where it has neither). */
async function nodeWorkers(): Promise<NodeWorkers | undefined> {
  if (typeof host.Worker === 'function') return undefined;
  // A computed specifier: bundlers building for browsers leave it alone.
  const id = 'node:worker_threads';
  try {
    return (await import(/* @vite-ignore */ /* webpackIgnore: true */ id)) as NodeWorkers;
  } catch {
    return undefined;
  }
}

/**
 * A worker running WORKER_SOURCE, resolved once it is ready (it posts when it has
 * instantiated the kernels): a Web Worker from a Blob URL where the host has them, else a
 * worker_threads Worker (Node; unref'd).
 */
async function startWorker(start: unknown): Promise<AnyWorker> {
  const node = await nodeWorkers();
  if (node) {
    const { Worker } = node;
    const w = new Worker(`const port = require('node:worker_threads').parentPort;\n${WORKER_SOURCE}`, { eval: true });
    w.unref();
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', (e) => reject(new Error(e.message)));
      w.postMessage(start);
    });
    return w;
  }
  if (typeof host.Worker !== 'function') throw new Error('this host has no workers');
  const url = host.URL.createObjectURL(new host.Blob([`const port = self;\n${WORKER_SOURCE}`], { type: 'text/javascript' }));
  const w = new host.Worker(url);
  try {
    await new Promise<void>((resolve, reject) => {
      w.onmessage = () => resolve();
      w.onerror = (e: { message?: string }) => reject(new Error(e.message || 'the worker failed to start'));
      w.postMessage(start);
    });
  } finally {
    host.URL.revokeObjectURL(url);
  }
  return w;
}

/**
 * The kernels of one wasm module and the threads that run them. `exports` are the current
 * instance's (its memory and kernels `k0`, `k1`, …); `run` launches one kernel.
 */
export class KernelThreads {
  status: ThreadStatus = { threads: 1, reason: 'useThreads has not been called' };
  private workers: AnyWorker[] = [];
  private ctl: Int32Array<ArrayBufferLike> = new Int32Array(4);
  private args: Float64Array<ArrayBufferLike> = new Float64Array(MAX_ARGS);
  private block = false;
  private generation: Promise<unknown> = Promise.resolve();

  /**
   * `bytes`: the module's binary, whose memory import's limits flags are at `limitsAt`;
   * `exports`: its one-thread instance; `maxThreads`: how many the build made room for.
   */
  constructor(
    public exports: Record<string, unknown>, private readonly bytes: () => Uint8Array, private readonly limitsAt: number,
    private readonly pages: number, private readonly maxThreads: number,
  ) {}

  get threads(): number {
    return this.status.threads;
  }

  /** Runs the module's kernels on `count` threads from now on (1: the caller alone); resolves to how many run. */
  use(count: number): Promise<number> {
    checkCount(count);
    const next = this.generation.then(() => this.start(count));
    this.generation = next.catch(() => undefined);
    return next;
  }

  private async start(count: number): Promise<number> {
    this.stop();
    if (count === 1) return this.report(1, undefined);
    const why = threadsUnavailable();
    if (why) return this.report(1, why);
    const n = Math.min(count, this.maxThreads);
    const capped = n < count ? `the module was built for at most ${this.maxThreads} threads` : undefined;
    let memory: WasmMemory;
    let module: WasmModule;
    try {
      memory = new WebAssembly.Memory({ initial: this.pages, maximum: this.pages, shared: true });
      const bytes = this.bytes().slice();
      bytes[this.limitsAt] = 0x03;
      module = await WebAssembly.compile(bytes);
    } catch (e) {
      return this.report(1, `a shared WebAssembly.Memory cannot be made here: ${(e as Error).message}`);
    }
    const control = new SharedArrayBuffer(ARGS_AT + MAX_ARGS * 8);
    const workers: AnyWorker[] = [];
    try {
      const instance = await WebAssembly.instantiate(module, { env: { memory } });
      for (let tid = 1; tid < n; tid++) workers.push(await startWorker({ module, memory, control, tid }));
      this.exports = instance.exports as Record<string, unknown>;
    } catch (e) {
      for (const w of workers) w.terminate();
      return this.report(1, `the workers could not start: ${(e as Error).message}`);
    }
    this.workers = workers;
    this.ctl = new Int32Array(control);
    this.args = new Float64Array(control, ARGS_AT, MAX_ARGS);
    this.block = canBlock();
    return this.report(n, capped);
  }

  private report(threads: number, reason: string | undefined): number {
    this.status = reason === undefined ? { threads } : { threads, reason };
    return threads;
  }

  /** Stops the workers (they finish no job: none runs between calls). */
  private stop(): void {
    if (!this.workers.length) return;
    Atomics.store(this.ctl, STOP, 1);
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
    for (const w of this.workers) w.terminate();
    this.workers = [];
  }

  /**
   * Launches kernel `k<kernel>` with `scalars`: whole on this thread where `rows` is 0 (a
   * kernel not split), else its `rows` output rows shared by every thread (the kernel then
   * takes r0, r1 and the thread's index before the scalars).
   */
  run(kernel: number, rows: number, ...scalars: number[]): void {
    const fn = this.exports[`k${kernel}`] as (...a: number[]) => void;
    const count = this.workers.length + 1;
    if (rows === 0) return fn(...scalars);
    if (count === 1) return fn(0, rows, 0, ...scalars);
    const { ctl, args } = this;
    ctl[KERNEL] = kernel;
    ctl[ROWS] = rows;
    ctl[COUNT] = count;
    ctl[ARGS] = scalars.length;
    for (let i = 0; i < scalars.length; i++) args[i] = scalars[i]!;
    Atomics.store(ctl, DONE, 0);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
    const [r0, r1] = threadRows(rows, 0, count);
    if (r1 > r0) fn(r0, r1, 0, ...scalars);
    const others = count - 1;
    for (let spin = 0; ; spin++) {
      const done = Atomics.load(ctl, DONE);
      if (done >= others) break;
      if (this.block && spin > SPINS) Atomics.wait(ctl, DONE, done, 1);
    }
    if (Atomics.load(ctl, FAILED)) throw new Error(`wasm kernel k${kernel} failed on a worker thread`);
  }
}

/** The threads of a wasm module whose kernels are too small for threads to pay. */
export function noThreads(): { status: ThreadStatus; use(count: number): Promise<number> } {
  const status: ThreadStatus = { threads: 1, reason: 'no kernel of this graph is large enough for threads to pay: it runs on one thread' };
  return {
    status,
    use: (count: number) => {
      checkCount(count);
      return Promise.resolve(1);
    },
  };
}
