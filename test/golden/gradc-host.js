// gradc-host.ts — the host code shared by the JS and wasm modules gradc 0.1.0 generates, written beside them.
// Do not edit: regenerate with `gradc build`. It imports nothing; the modules import it.
const ROW_SUM_TOLERANCE = 1e-3;
const describe = (v) => v === null ? "null" : typeof v === "object" ? v.constructor?.name ?? "object" : typeof v;
const show = (v) => typeof v === "string" ? JSON.stringify(v) : typeof v === "bigint" ? `${v}n (a BigInt, not a number)` : String(v);
const has = (record, name) => Object.prototype.hasOwnProperty.call(record, name);
const named = (spec, name) => spec.some((s) => s[0] === name);
const typedArrayGetter = (key) => Function.prototype.call.bind(
  Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Float32Array.prototype), key).get
);
const TYPED_TAG = typedArrayGetter(Symbol.toStringTag);
const TYPED_BUFFER = typedArrayGetter("buffer");
const TYPED_BYTE_OFFSET = typedArrayGetter("byteOffset");
const lengthOf = typedArrayGetter("length");
const isFloat32Array = (v) => TYPED_TAG(v) === "Float32Array";
function checkArray(fn, what, spec, v) {
  const n = isFloat32Array(v) ? lengthOf(v) : -1;
  const length = spec[1], width = spec[4];
  if (n >= 0 && (width ? n % width === 0 && n > 0 : n === length)) return v;
  const [name, , shape] = spec;
  const values = width ? `1 to ${length / width} rows of ${width} values` : `${length} values`;
  const must = `${fn}: ${what}.${name} must ${n >= 0 ? "have" : "be a Float32Array of"} shape ${shape} (${values}), got`;
  if (n === 0 && detached(v)) {
    throw new TypeError(`${must} a Float32Array whose buffer was detached (transferred, e.g. by postMessage, so it holds no values)`);
  }
  if (n >= 0) {
    const why = width ? n > 0 ? `, not a whole number of rows of ${width}` : "" : labelWidth(spec, n);
    throw new RangeError(`${must} ${n} values${why}${classIds(spec)}`);
  }
  const got = v === void 0 ? "nothing" : v instanceof Float32Array ? "an object posing as one (a Proxy?)" : describe(v);
  throw new TypeError(`${must} ${got}`);
}
function detached(v) {
  try {
    new Uint8Array(TYPED_BUFFER(v), 0, 0);
    return false;
  } catch {
    return true;
  }
}
function rowsOf(fn, arrays, spec) {
  let rows = 0, first = -1;
  for (let k = 0; k < spec.length; k++) {
    const width = spec[k][4];
    if (!width) continue;
    const r = lengthOf(arrays[k]) / width;
    if (first < 0) [rows, first] = [r, k];
    else if (r !== rows) throw new RangeError(`${fn}: ${rowMismatch(arrays, spec, first, k)}`);
  }
  const max = first < 0 ? 0 : spec[first][1] / spec[first][4];
  if (rows > max) {
    const [name, , shape] = spec[first];
    const split = `pass at most ${max} rows a call (train, evaluate and predict of gradc/runtime/cpu split a dataset into batches)`;
    throw new RangeError(`${fn}: inputs.${name} has ${rows} rows, more than the maximum ${max} of its shape ${shape}; ${split}`);
  }
  checkLabels(fn, arrays, spec, "batch");
  return rows;
}
function rowMismatch(arrays, spec, i, j) {
  const [ni, nj] = [lengthOf(arrays[i]), lengthOf(arrays[j])];
  const [si, sj] = [spec[i], spec[j]];
  const [ri, rj] = [ni / si[4], nj / sj[4]];
  const width = (s, n, o, rows) => {
    const got2 = `inputs.${s[0]} has ${n} values, ${n / rows} a row for the ${rows} rows of inputs.${o[0]}`;
    return `${got2}, but its shape ${s[2]} has ${s[4]} a row${classIds(s)}`;
  };
  if (nj % ri === 0) return width(sj, nj, si, ri);
  if (ni % rj === 0) return width(si, ni, sj, rj);
  const [got, other] = [`${rj} rows (${nj} values of shape ${sj[2]})`, `${ri} (${ni} values of shape ${si[2]})`];
  return `inputs.${sj[0]} has ${got} but inputs.${si[0]} has ${other}; every batch input needs the same rows`;
}
function labelWidth(spec, n) {
  const width = spec[5]?.[1];
  const rows = width ? spec[1] / width : 0;
  return rows && n % rows === 0 ? `, ${n / rows} a row for its ${rows} rows where its shape has ${width}` : "";
}
const LABELS_ARE = {
  sigmoid: "sigmoid cross-entropy labels are probabilities in [0, 1]",
  softmax: "softmax cross-entropy labels are probabilities in [0, 1], each row summing to 1"
};
const SOFTMAX_ROWS = "softmax cross-entropy labels are one distribution per row, summing to 1";
const SIGMOID_IDS = "; class ids? give 0 or 1 per output (for more than two classes, a softmax output and oneHot(ids, classes))";
const classIds = (spec) => spec[5]?.[0] === "softmax" ? `; class ids? pass oneHot(ids, ${spec[5][1]}) from gradc/runtime/cpu` : "";
function checkLabels(fn, arrays, spec, only) {
  for (let k = 0; k < spec.length; k++) {
    const labels = spec[k][5];
    if (!labels || only && only === "batch" !== !!spec[k][4]) continue;
    const v = arrays[k], n = lengthOf(v);
    const [loss, width] = labels;
    let bad = -1, badRow = -1;
    if (loss === "sigmoid") {
      for (let i = 0; i < n; i++) if (!(v[i] >= 0 && v[i] <= 1)) {
        bad = i;
        break;
      }
    } else {
      for (let i = 0, row = 0; i < n && bad < 0 && badRow < 0; row++) {
        let sum = 0;
        for (const end = i + width; i < end; i++) {
          const y = v[i];
          if (!(y >= 0 && y <= 1)) {
            bad = i;
            break;
          }
          sum += y;
        }
        if (bad < 0 && Math.abs(sum - 1) > ROW_SUM_TOLERANCE) badRow = row;
      }
    }
    if (bad < 0 && badRow < 0) continue;
    const name = `inputs.${spec[k][0]}`;
    const ids = loss === "softmax" ? classIds(spec[k]) : SIGMOID_IDS;
    if (bad >= 0) throw new RangeError(`${fn}: ${name}[${bad}] is ${v[bad]}, but ${LABELS_ARE[loss]}${ids}`);
    let rowSum = 0;
    for (let i = badRow * width; i < (badRow + 1) * width; i++) rowSum += v[i];
    throw new RangeError(`${fn}: ${name} row ${badRow} sums to ${rowSum}, but ${SOFTMAX_ROWS}${ids}`);
  }
}
function take(fn, what, record, required, allowed) {
  if (typeof record !== "object" || record === null || Array.isArray(record) || ArrayBuffer.isView(record)) {
    throw new TypeError(`${fn}: ${what} must be an object of Float32Arrays, got ${describe(record)}`);
  }
  const given = record;
  let names = 0;
  for (const name in given) {
    if (!named(allowed, name) && has(given, name)) {
      const expected = allowed.map((s) => s[0]).join(", ");
      throw new TypeError(`${fn}: unknown ${what.replace(/s$/, "")} ${JSON.stringify(name)}; expected ${expected}`);
    }
    names++;
  }
  const out = [];
  for (const spec of required) out.push(checkArray(fn, what, spec, has(given, spec[0]) ? given[spec[0]] : void 0));
  if (names > required.length) {
    for (const s of allowed) if (!named(required, s[0]) && has(given, s[0])) checkArray(fn, what, s, given[s[0]]);
  }
  checkLabels(fn, out, required, "fixed");
  return out;
}
function firstNonFinite(what, arrays, spec) {
  let poison = 0;
  for (const v of arrays) {
    const n = lengthOf(v);
    const whole = n - n % 4;
    let [a, b, c, d] = [0, 0, 0, 0];
    for (let i = 0; i < whole; i += 4) {
      a += v[i] * 0;
      b += v[i + 1] * 0;
      c += v[i + 2] * 0;
      d += v[i + 3] * 0;
    }
    for (let i = whole; i < n; i++) a += v[i] * 0;
    poison += a + b + c + d;
  }
  for (let k = 0; poison !== 0 && k < arrays.length; k++) {
    const v = arrays[k];
    for (let i = 0, n = lengthOf(v); i < n; i++) if (!Number.isFinite(v[i])) return `${what}.${spec[k][0]}[${i}] is ${v[i]}`;
  }
  return void 0;
}
function checkFinite(fn, what, arrays, spec) {
  const bad = firstNonFinite(what, arrays, spec);
  if (bad) {
    const why = "NaN or Infinity would spread to every param in one step";
    throw new RangeError(`${fn}: ${bad}; ${what.split(".")[0]} must be finite (${why})`);
  }
}
function takeState(fn, state, slots, spec) {
  if (typeof state !== "object" || state === null || Array.isArray(state)) {
    const kind = `an optimizer state { step, ${slots.join(", ")} } (see initOptimizerState)`;
    throw new TypeError(`${fn}: state must be ${kind}, got ${describe(state)}`);
  }
  const given = state;
  const step = given.step;
  if (typeof step !== "number" || !Number.isSafeInteger(step) || step < 0) {
    throw new TypeError(`${fn}: state.step must be a whole number \u2265 0, got ${show(step)}`);
  }
  for (const key in given) {
    if (key !== "step" && !slots.includes(key) && has(given, key)) {
      const kind = `{ step${slots.map((s) => `, ${s}`).join("")} }`;
      throw new TypeError(`${fn}: unknown state slot ${JSON.stringify(key)}; this optimizer's state is ${kind}`);
    }
  }
  if (fn === "trainStep" && !writable(given, "step")) {
    const why = "the state is frozen, or step is read-only";
    const fix = "pass a state the call can update, as initOptimizerState() gives";
    throw new TypeError(`${fn}: state.step cannot be written (${why}), so the step could not be counted; ${fix}`);
  }
  const arrays = slots.map((slot) => {
    const arrays2 = take(fn, `state.${slot}`, has(given, slot) ? given[slot] : void 0, spec, spec);
    checkFinite(fn, `state.${slot}`, arrays2, spec);
    return arrays2;
  });
  return { t: step + 1, arrays };
}
function writable(record, key) {
  for (let o = record; o !== null; o = Object.getPrototypeOf(o)) {
    const d = Object.getOwnPropertyDescriptor(o, key);
    if (d) return d.set !== void 0 || d.writable === true && (o !== record || !Object.isFrozen(record));
  }
  return Object.isExtensible(record);
}
function checkDisjoint(fn, arrays, disjoint, rows = 0) {
  const buffers = [];
  for (let i = 0; i < arrays.length; i++) {
    const [label, size] = disjoint[i];
    const got = lengthOf(arrays[i]), want = size >= 0 ? size : rows * -size;
    if (got !== want) {
      const how = `to ${got} values: its buffer was resized, transferred or detached`;
      throw new RangeError(`${fn}: ${label} changed length while the arguments were read (${how}); it must keep ${want}`);
    }
    buffers.push(TYPED_BUFFER(arrays[i]));
  }
  const start = (i) => TYPED_BYTE_OFFSET(arrays[i]);
  const end = (i) => start(i) + 4 * lengthOf(arrays[i]);
  const written = (i) => !disjoint[i][0].startsWith("inputs.");
  const overlap = (i, j) => buffers[i] === buffers[j] && start(i) < end(j) && start(j) < end(i);
  const fail = (i, j) => {
    const why = "a train step updates arrays in place, so pass separate arrays (copy one with .slice())";
    return new TypeError(`${fn}: ${disjoint[Math.min(i, j)][0]} and ${disjoint[Math.max(i, j)][0]} share memory; ${why}`);
  };
  if (arrays.length <= 32) {
    for (let i = 1; i < arrays.length; i++) {
      for (let j = 0; j < i; j++) if (overlap(i, j) && (written(i) || written(j))) throw fail(i, j);
    }
    return;
  }
  const byBuffer = /* @__PURE__ */ new Map();
  buffers.forEach((buffer, i) => byBuffer.get(buffer)?.push(i) ?? byBuffer.set(buffer, [i]));
  for (const list of byBuffer.values()) {
    let [any, write] = [-1, -1];
    for (const i of list.sort((a, b) => start(a) - start(b))) {
      if (write >= 0 && start(i) < end(write)) throw fail(write, i);
      if (written(i) && any >= 0 && start(i) < end(any)) throw fail(any, i);
      if (any < 0 || end(i) > end(any)) any = i;
      if (written(i) && (write < 0 || end(i) > end(write))) write = i;
    }
  }
}
function rejectedStep(fn, t, inputs, spec, grads, learningRate, by) {
  const diverged = "the gradient is not finite (the loss overflowed: params or inputs too large, or training diverged)";
  const tooLarge = `learningRate ${learningRate} is too large for this step`;
  const gradient = !grads ? `${tooLarge}, or ${diverged}` : firstNonFinite("", [grads], [["", 0, "", 0]]) ? diverged : tooLarge;
  const cause = firstNonFinite("inputs", inputs, spec) ?? gradient;
  const step = t === void 0 ? "the step" : by ? `step ${t}, run by ${by},` : `step ${t}`;
  const why = "because it would make params or optimizer state NaN or \xB1Infinity";
  return new RangeError(`${fn}: ${step} was rejected, ${why}: ${cause}. Nothing was changed`);
}
function checkRate(learningRate, fn = "trainStep", noState) {
  if (typeof learningRate !== "number" || !Number.isFinite(learningRate) || learningRate <= 0) {
    throw new RangeError(`${fn}: learningRate must be a finite number > 0, got ${show(learningRate)}`);
  }
  const [opt, state] = noState ?? [];
  if (state !== void 0) {
    const takes = `${fn} takes (params, inputs, learningRate)`;
    throw new TypeError(`${fn}: the ${opt} optimizer keeps no state, so ${takes}; got a fourth argument (${describe(state)})`);
  }
}
function checkSeed(seed) {
  if (typeof seed !== "number" || !Number.isInteger(seed)) {
    throw new TypeError(`initParams: seed must be an integer, got ${show(seed)}`);
  }
}
function makeRng(seed) {
  let x = Math.imul(seed ^ 1540483477, 739982445) ^ 1759714724;
  x = Math.imul(x ^ x >>> 16, 695872825) | 0 || 19088743;
  return () => {
    x ^= x << 13, x ^= x >>> 17, x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}
function fillNormal(out, next, std) {
  for (let i = 0; i < out.length; i++) out[i] = std * Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
}
const GEN = 0, DONE = 1, KERNEL = 2, ROWS = 3, COUNT = 4, ARGS = 5, STOP = 6, FAILED = 7;
const ARGS_AT = 64, MAX_ARGS = 16;
const TILE_ROWS = 4;
const SPINS = 2e4;
function threadRows(rows, t, count) {
  const tiles = Math.ceil(rows / TILE_ROWS);
  const start = Math.floor(t * tiles / count) * TILE_ROWS;
  const end = Math.min(rows, Math.floor((t + 1) * tiles / count) * TILE_ROWS);
  return [Math.min(start, rows), end];
}
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
const host = globalThis;
const NOT_ISOLATED = [
  "SharedArrayBuffer is unavailable: the page is not cross-origin isolated",
  "(serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)"
].join(" ");
function checkCount(count) {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`useThreads: count must be a whole number >= 1, got ${String(count)}`);
}
function threadsUnavailable() {
  if (typeof SharedArrayBuffer === "undefined" || host.crossOriginIsolated === false) {
    return NOT_ISOLATED;
  }
  return void 0;
}
function canBlock() {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}
async function nodeWorkers() {
  if (typeof host.Worker === "function") return void 0;
  const id = "node:worker_threads";
  try {
    return await import(
      /* @vite-ignore */
      /* webpackIgnore: true */
      id
    );
  } catch {
    return void 0;
  }
}
async function startWorker(start) {
  const node = await nodeWorkers();
  if (node) {
    const { Worker } = node;
    const w2 = new Worker(`const port = require('node:worker_threads').parentPort;
${WORKER_SOURCE}`, { eval: true });
    w2.unref();
    await new Promise((resolve, reject) => {
      w2.once("message", () => resolve());
      w2.once("error", (e) => reject(new Error(e.message)));
      w2.postMessage(start);
    });
    return w2;
  }
  if (typeof host.Worker !== "function") throw new Error("this host has no workers");
  const url = host.URL.createObjectURL(new host.Blob([`const port = self;
${WORKER_SOURCE}`], { type: "text/javascript" }));
  const w = new host.Worker(url);
  try {
    await new Promise((resolve, reject) => {
      w.onmessage = () => resolve();
      w.onerror = (e) => reject(new Error(e.message || "the worker failed to start"));
      w.postMessage(start);
    });
  } finally {
    host.URL.revokeObjectURL(url);
  }
  return w;
}
class KernelThreads {
  /**
   * `bytes`: the module's binary, whose memory import's limits flags are at `limitsAt`;
   * `exports`: its one-thread instance; `maxThreads`: how many the build made room for.
   */
  constructor(exports, bytes, limitsAt, pages, maxThreads) {
    this.exports = exports;
    this.bytes = bytes;
    this.limitsAt = limitsAt;
    this.pages = pages;
    this.maxThreads = maxThreads;
  }
  exports;
  bytes;
  limitsAt;
  pages;
  maxThreads;
  status = { threads: 1, reason: "useThreads has not been called" };
  workers = [];
  ctl = new Int32Array(4);
  args = new Float64Array(MAX_ARGS);
  block = false;
  generation = Promise.resolve();
  get threads() {
    return this.status.threads;
  }
  /** Runs the module's kernels on `count` threads from now on (1: the caller alone); resolves to how many run. */
  use(count) {
    checkCount(count);
    const next = this.generation.then(() => this.start(count));
    this.generation = next.catch(() => void 0);
    return next;
  }
  async start(count) {
    this.stop();
    if (count === 1) return this.report(1, void 0);
    const why = threadsUnavailable();
    if (why) return this.report(1, why);
    const n = Math.min(count, this.maxThreads);
    const capped = n < count ? `the module was built for at most ${this.maxThreads} threads` : void 0;
    let memory;
    let module;
    try {
      memory = new WebAssembly.Memory({ initial: this.pages, maximum: this.pages, shared: true });
      const bytes = this.bytes().slice();
      bytes[this.limitsAt] = 3;
      module = await WebAssembly.compile(bytes);
    } catch (e) {
      return this.report(1, `a shared WebAssembly.Memory cannot be made here: ${e.message}`);
    }
    const control = new SharedArrayBuffer(ARGS_AT + MAX_ARGS * 8);
    const workers = [];
    try {
      const instance = await WebAssembly.instantiate(module, { env: { memory } });
      for (let tid = 1; tid < n; tid++) workers.push(await startWorker({ module, memory, control, tid }));
      this.exports = instance.exports;
    } catch (e) {
      for (const w of workers) w.terminate();
      return this.report(1, `the workers could not start: ${e.message}`);
    }
    this.workers = workers;
    this.ctl = new Int32Array(control);
    this.args = new Float64Array(control, ARGS_AT, MAX_ARGS);
    this.block = canBlock();
    return this.report(n, capped);
  }
  report(threads, reason) {
    this.status = reason === void 0 ? { threads } : { threads, reason };
    return threads;
  }
  /** Stops the workers (they finish no job: none runs between calls). */
  stop() {
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
  run(kernel, rows, ...scalars) {
    const fn = this.exports[`k${kernel}`];
    const count = this.workers.length + 1;
    if (rows === 0) return fn(...scalars);
    if (count === 1) return fn(0, rows, 0, ...scalars);
    const { ctl, args } = this;
    ctl[KERNEL] = kernel;
    ctl[ROWS] = rows;
    ctl[COUNT] = count;
    ctl[ARGS] = scalars.length;
    for (let i = 0; i < scalars.length; i++) args[i] = scalars[i];
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
function noThreads() {
  const status = { threads: 1, reason: "no kernel of this graph is large enough for threads to pay: it runs on one thread" };
  return {
    status,
    use: (count) => {
      checkCount(count);
      return Promise.resolve(1);
    }
  };
}
export {
  KernelThreads,
  checkDisjoint,
  checkFinite,
  checkLabels,
  checkRate,
  checkSeed,
  describe,
  fillNormal,
  isFloat32Array,
  lengthOf,
  makeRng,
  noThreads,
  rejectedStep,
  rowMismatch,
  rowsOf,
  show,
  take,
  takeState,
  threadRows
};
