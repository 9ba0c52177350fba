/**
 * Hostile arguments for the fuzzer: every way a careless or hostile caller hands a train step
 * its arguments — arrays that share memory, records whose getters or Proxy traps return
 * another array on each read or throw, Proxies posing as Float32Arrays, subclasses whose
 * accessors lie, re-entrant calls from a getter, buffers resized during the call, non-finite
 * values, huge learning rates. Each call must end either in the correct result — what the same
 * step gives on plain copies of the arrays the module read (or, where its outcome is fixed, the
 * error that kind must raise) — or in an error that leaves every param, state array and input
 * exactly as it was.
 */
import type { OptimizerState } from '../../runtime/module.ts';
import type { Arrays, GeneratedModule } from './module.ts';
import { choices } from './random-graph.ts';

type State = OptimizerState<Arrays>;

/** Per kind of hostile argument: calls made, and how they ended. */
export const hostileStats: Record<string, { calls: number; results: number; errors: number }> = {};

/** Where `count` adds up: the run's figures, or a self-test's own. */
let tally = hostileStats;

function count(kind: string, outcome: 'results' | 'errors'): void {
  const row = (tally[kind] ??= { calls: 0, results: 0, errors: 0 });
  row.calls++;
  row[outcome]++;
}

type Choices = ReturnType<typeof choices>;

const copyArrays = (a: Arrays): Arrays => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.slice()]));
const copyState = (s: State | undefined, slots: readonly string[]): State | undefined =>
  s && ({ step: s.step, ...Object.fromEntries(slots.map((slot) => [slot, copyArrays(s[slot] as Arrays)])) } as State);
const stateArrays = (s: State | undefined, slots: readonly string[]) => (s ? slots.flatMap((slot) => Object.values(s[slot] as Arrays)) : []);
const messageOf = (e: unknown) => (e instanceof Error ? e.message : `a thrown ${typeof e}: ${String(e)}`);
const NON_FINITE = [NaN, Infinity, -Infinity];
/** What a hostile getter or trap throws: an error of the caller's own, which must come out unchanged. */
const MARKER = 'thrown by the caller';

/** The arguments of one trainStep call. */
interface Args {
  readonly params: unknown;
  readonly inputs: unknown;
  readonly lr: number;
  readonly state?: unknown;
}

interface Plain {
  readonly params: Arrays;
  readonly inputs: Arrays;
  readonly lr: number;
  readonly state?: State;
}

/** One hostile call, made by a kind from a fresh copy of the graph's data. */
interface Setup {
  readonly args: Args;
  /** The arrays the module reads, plainly: the correct outcome is the step on copies of these. */
  readonly plain?: Plain;
  /** What the module must see before the step, where a re-entrant call changes it: applied to the copies of `plain`. */
  readonly before?: (copies: Plain) => void;
  /**
   * The caller's params and state arrays: a correct result updates them, an error leaves them
   * be (`state.step` is read from the state object passed).
   */
  readonly owned: { readonly params: Arrays; readonly state?: State };
  /** Other arrays (inputs, decoys a getter hands out later) that no outcome may change. */
  readonly others: readonly Float32Array[];
  /** Where the outcome is fixed: the error the call must raise. */
  readonly error?: RegExp;
  /** An error matching this is accepted instead of the plain outcome (a refusal that costs nothing). */
  readonly mayRefuse?: RegExp;
  /** Further checks once the call has ended (reads counted, an inner call's result). */
  readonly verify?: () => void;
}

interface Ctx {
  readonly js: GeneratedModule;
  readonly slots: readonly string[];
  readonly lr: number;
  readonly r: Choices;
  /** Fresh copies of the graph's params, inputs and (after one step) optimizer state. */
  fresh(): { params: Arrays; inputs: Arrays; state?: State };
}

type Kind = (ctx: Ctx) => Setup | undefined;

/** A record whose `name` is a getter: the first read returns `first`, later ones a NaN-filled decoy (counted). */
function getterRecord(record: Arrays, name: string, first: Float32Array, decoys: Float32Array[], reads: { n: number }): Arrays {
  const out: Arrays = { ...record };
  Object.defineProperty(out, name, {
    enumerable: true,
    get: () => {
      if (reads.n++ === 0) return first;
      const decoy = new Float32Array(first.length).fill(NaN);
      decoys.push(decoy);
      return decoy;
    },
  });
  return out;
}

/** Views of `arrays`, `shift` floats apart in one buffer, holding their values: overlapping where `shift` is short of a length. */
function packed(arrays: readonly Float32Array[], shifts: readonly number[]): Float32Array[] {
  const starts = shifts.reduce<number[]>((acc, s, i) => [...acc, i === 0 ? 0 : acc[i - 1] + s], []);
  const block = new Float32Array(Math.max(...arrays.map((a, i) => starts[i] + a.length)));
  return arrays.map((a, i) => {
    const v = block.subarray(starts[i], starts[i] + a.length);
    v.set(a);
    return v;
  });
}

const argsOf = (d: { params: Arrays; inputs: Arrays; state?: State }, lr: number): Args => ({ params: d.params, inputs: d.inputs, lr, state: d.state });
const ownedOf = (d: { params: Arrays; state?: State }) => ({ params: d.params, ...(d.state ? { state: d.state } : {}) });
const plainOf = (d: { params: Arrays; inputs: Arrays; state?: State }, lr: number): Plain => ({ params: d.params, inputs: d.inputs, lr, ...(d.state ? { state: d.state } : {}) });

/** The kinds of hostile call, by name (the names appear in the fuzz figures). */
export const JS_KINDS: Readonly<Record<string, Kind>> = {
  'two params share memory': ({ fresh, lr, r }) => {
    const d = fresh();
    const names = Object.keys(d.params);
    if (names.length < 2) return undefined;
    const a = r.int(names.length);
    const b = (a + 1 + r.int(names.length - 1)) % names.length;
    const [va, vb] = packed([d.params[names[a]], d.params[names[b]]], [0, r.int(d.params[names[a]].length)]);
    d.params[names[a]] = va;
    d.params[names[b]] = vb;
    return { args: argsOf(d, lr), owned: ownedOf(d), others: Object.values(d.inputs), error: /^trainStep: params\.\S+ and params\.\S+ share memory/ };
  },
  'an input inside a param': ({ fresh, lr, r }) => {
    const d = fresh();
    const p = r.pick(Object.keys(d.params));
    const i = r.pick(Object.keys(d.inputs));
    const [vp, vi] = packed([d.params[p], d.inputs[i]], [0, r.int(d.params[p].length)]);
    d.params[p] = vp;
    d.inputs[i] = vi;
    return { args: argsOf(d, lr), owned: ownedOf(d), others: [], error: /share memory/ };
  },
  'a state array that is a param, or another slot': ({ fresh, lr, r, slots }) => {
    const d = fresh();
    if (!d.state) return undefined;
    const p = r.pick(Object.keys(d.params));
    const slot = r.pick(slots);
    const other = slots.length > 1 && r.next() < 0.5 ? slots.find((s) => s !== slot)! : undefined;
    (d.state[slot] as Arrays)[p] = other ? (d.state[other] as Arrays)[p] : d.params[p];
    return { args: argsOf(d, lr), owned: ownedOf(d), others: Object.values(d.inputs), error: /share memory/ };
  },
  'every array in one buffer, side by side': ({ fresh, lr }) => {
    const d = fresh();
    const all = [...Object.values(d.params), ...Object.values(d.inputs)];
    const views = packed(all, all.map((_, i) => (i === 0 ? 0 : all[i - 1].length)));
    const names = [...Object.keys(d.params).map((k) => ['params', k]), ...Object.keys(d.inputs).map((k) => ['inputs', k])];
    names.forEach(([where, k], i) => ((where === 'params' ? d.params : d.inputs)[k] = views[i]));
    return { args: argsOf(d, lr), plain: plainOf(d, lr), owned: ownedOf(d), others: Object.values(d.inputs) };
  },
  'two inputs that overlap': ({ fresh, lr }) => {
    const d = fresh();
    const names = Object.keys(d.inputs);
    if (names.length < 2) return undefined;
    const [a, b] = packed([d.inputs[names[0]], d.inputs[names[1]]], [0, 1]);
    d.inputs[names[0]] = a;
    d.inputs[names[1]] = b;
    return { args: argsOf(d, lr), plain: plainOf(d, lr), owned: ownedOf(d), others: [a, b] };
  },
  'a getter that returns another array on each read': ({ fresh, lr, r, slots }) => {
    const d = fresh();
    const where = r.pick(d.state ? ['params', 'inputs', 'state'] : ['params', 'inputs']);
    const decoys: Float32Array[] = [];
    const reads = { n: 0 };
    const args = { ...argsOf(d, lr) };
    const plainState = d.state && { ...d.state };
    if (where === 'state') {
      const slot = r.pick(slots);
      const record = d.state![slot] as Arrays;
      const name = r.pick(Object.keys(record));
      d.state![slot] = getterRecord(record, name, record[name], decoys, reads);
    } else {
      const record = where === 'params' ? d.params : d.inputs;
      const name = r.pick(Object.keys(record));
      const hostile = getterRecord(record, name, record[name], decoys, reads);
      if (where === 'params') args.params = hostile;
      else args.inputs = hostile;
    }
    const plain = { ...plainOf(d, lr), ...(plainState ? { state: plainState } : {}) };
    return {
      args, plain, owned: { params: d.params, ...(plainState ? { state: plainState } : {}) }, others: [...Object.values(d.inputs), ...decoys],
      verify: () => {
        if (reads.n !== 1) throw new Error(`the getter was read ${reads.n} times; every argument must be read once`);
      },
    };
  },
  'a getter that throws': ({ fresh, lr, r }) => {
    const d = fresh();
    const target = r.next() < 0.5 ? 'params' : 'inputs';
    const record: Arrays = { ...d[target] };
    Object.defineProperty(record, r.pick(Object.keys(record)), { enumerable: true, get: () => { throw new Error(MARKER); } });
    return { args: { ...argsOf(d, lr), [target]: record }, owned: ownedOf(d), others: Object.values(d.inputs), error: new RegExp(`^${MARKER}$`) };
  },
  'a Proxy record whose traps hand out other arrays': ({ fresh, lr, r }) => {
    const d = fresh();
    const target = r.next() < 0.5 ? 'params' : 'inputs';
    const decoys: Float32Array[] = [];
    const reads = new Map<string, number>();
    const proxy = new Proxy(d[target], {
      get: (t, k) => {
        if (typeof k !== 'string' || !(k in t)) return Reflect.get(t, k);
        reads.set(k, (reads.get(k) ?? 0) + 1);
        if (reads.get(k)! === 1) return t[k];
        const decoy = new Float32Array(t[k].length).fill(Infinity);
        decoys.push(decoy);
        return decoy;
      },
    });
    return {
      args: { ...argsOf(d, lr), [target]: proxy }, plain: plainOf(d, lr), owned: ownedOf(d), others: [...Object.values(d.inputs), ...decoys],
      verify: () => {
        for (const [k, n] of reads) if (n !== 1) throw new Error(`${target}.${k} was read ${n} times through the Proxy; every argument must be read once`);
      },
    };
  },
  // A trap the module never calls ('has') leaves the call to succeed.
  'a Proxy record whose trap throws': ({ fresh, lr, r }) => {
    const d = fresh();
    const target = r.next() < 0.5 ? 'params' : 'inputs';
    const trap = r.pick(['get', 'ownKeys', 'getOwnPropertyDescriptor', 'has'] as const);
    const proxy = new Proxy(d[target], { [trap]: () => { throw new Error(MARKER); } });
    return { args: { ...argsOf(d, lr), [target]: proxy }, plain: plainOf(d, lr), owned: ownedOf(d), others: Object.values(d.inputs), mayRefuse: new RegExp(`^${MARKER}$`) };
  },
  'a Proxy posing as a Float32Array': ({ fresh, lr, r }) => {
    const d = fresh();
    const target = r.next() < 0.5 ? 'params' : 'inputs';
    const record = target === 'params' ? d.params : d.inputs;
    const name = r.pick(Object.keys(record));
    const real = record[name];
    let reads = 0;
    const posing = new Proxy(real, {
      get: (t, k) => {
        if (k === '0' && reads++ > 0) return Infinity;
        const v = Reflect.get(t, k, t);
        return typeof v === 'function' ? v.bind(t) : v;
      },
      set: () => {
        throw new Error(MARKER);
      },
    });
    return {
      args: { ...argsOf(d, lr), [target]: { ...record, [name]: posing } }, owned: ownedOf(d), others: Object.values(d.inputs),
      error: /must be a Float32Array of shape .* got an object posing as one/,
    };
  },
  'a subclass whose accessors lie': ({ fresh, lr, r }) => {
    const d = fresh();
    const name = r.pick(Object.keys(d.params));
    const real = d.params[name];
    const lieAboutLength = r.next() < 0.5;
    class Liar extends Float32Array {
      override get length(): number { return real.length; }
      override get buffer(): ArrayBuffer { return new ArrayBuffer(8); }
    }
    const liar = new Liar(real.length + (lieAboutLength ? 1 : 0));
    liar.set(real);
    d.params[name] = liar;
    return {
      args: argsOf(d, lr), owned: ownedOf(d), others: Object.values(d.inputs),
      ...(lieAboutLength ? { error: /must have shape .* got \d+ values/ } : { plain: plainOf(d, lr) }),
    };
  },
  'a re-entrant call from a getter': ({ fresh, lr, r, js, slots }) => {
    const d = fresh();
    const inner = fresh();
    const what = r.pick(['a step', 'a rejected step', 'a gradient', 'a forward pass', 'a step on the same params'] as const);
    if (what === 'a rejected step') inner.inputs[Object.keys(inner.inputs)[0]][0] = NaN;
    const innerParams = what === 'a step on the same params' ? d.params : inner.params;
    const innerState = what === 'a step on the same params' ? d.state : inner.state;
    // The inner step's own correct outcome, computed before any hostile call.
    const innerWant = what === 'a step' ? runStep(js, { params: copyArrays(inner.params), inputs: inner.inputs, lr, state: copyState(inner.state, slots) }) : undefined;
    let innerError: string | undefined;
    const inputs: Arrays = { ...d.inputs };
    const name = r.pick(Object.keys(d.inputs));
    const x = d.inputs[name];
    Object.defineProperty(inputs, name, {
      enumerable: true,
      get: () => {
        try {
          if (what === 'a gradient') js.gradient(inner.params, inner.inputs);
          else if (what === 'a forward pass') js.forward(inner.params, { x: inner.inputs.x });
          else js.trainStep(innerParams, inner.inputs, lr, innerState);
          if (what === 'a rejected step') innerError = 'the inner step with a NaN input was not rejected';
        } catch (e) {
          if (what !== 'a rejected step') innerError = `the inner call threw: ${messageOf(e)}`;
        }
        return x;
      },
    });
    return {
      args: { ...argsOf(d, lr), inputs }, plain: plainOf(d, lr), owned: ownedOf(d), others: Object.values(d.inputs),
      ...(what === 'a step on the same params' ? { before: (c: Plain) => void js.trainStep(c.params, inner.inputs, lr, c.state) } : {}),
      verify: () => {
        if (innerError) throw new Error(`${what} from a getter: ${innerError}`);
        if (innerWant?.ok) expectSame(`${what} from a getter`, inner.params, innerWant.params);
      },
    };
  },
  'a buffer resized by a later getter': ({ fresh, lr, r }) => {
    const d = fresh();
    const name = r.pick(Object.keys(d.params));
    const Resizable = ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => ArrayBuffer & { resize(bytes: number): void };
    const buffer = new Resizable(4 * d.params[name].length, { maxByteLength: 4 * d.params[name].length });
    const view = new Float32Array(buffer);
    view.set(d.params[name]);
    d.params[name] = view;
    const shrinkTo = r.int(view.length);
    const inputs: Arrays = { ...d.inputs };
    const input = r.pick(Object.keys(d.inputs));
    const x = d.inputs[input];
    Object.defineProperty(inputs, input, { enumerable: true, get: () => (buffer.resize(4 * shrinkTo), x) });
    const { [name]: _resized, ...rest } = d.params;
    return { args: { ...argsOf(d, lr), inputs }, owned: { params: rest, ...(d.state ? { state: d.state } : {}) }, others: Object.values(d.inputs), error: new RegExp(`params\\.${name} changed length`) };
  },
  'a non-finite input element': ({ fresh, lr, r }) => {
    const d = fresh();
    const name = r.pick(Object.keys(d.inputs));
    d.inputs[name][r.int(d.inputs[name].length)] = r.pick(NON_FINITE);
    return { args: argsOf(d, lr), plain: plainOf(d, lr), owned: ownedOf(d), others: Object.values(d.inputs) };
  },
  'a non-finite param or state element': ({ fresh, lr, r, slots }) => {
    const d = fresh();
    const inState = d.state && r.next() < 0.5;
    const record = inState ? (d.state![r.pick(slots)] as Arrays) : d.params;
    const name = r.pick(Object.keys(record));
    record[name][r.int(record[name].length)] = r.pick(NON_FINITE);
    return { args: argsOf(d, lr), plain: plainOf(d, lr), owned: ownedOf(d), others: Object.values(d.inputs), error: /^trainStep: (params|state\.\w+)\.\S+\[\d+\] is (NaN|-?Infinity); /  };
  },
  'a huge learning rate': ({ fresh, r }) => {
    const d = fresh();
    const lr = r.pick([1e20, 1e30, 3e38, 1e39, 1e300, Number.MAX_VALUE]);
    return { args: argsOf(d, lr), plain: plainOf(d, lr), owned: ownedOf(d), others: Object.values(d.inputs) };
  },
  'a state whose step setter throws': ({ fresh, lr }) => {
    const d = fresh();
    if (!d.state) return undefined;
    const step = d.state.step;
    const state = { ...d.state };
    Object.defineProperty(state, 'step', { enumerable: true, get: () => step, set: () => { throw new Error(MARKER); } });
    return { args: { ...argsOf(d, lr), state }, owned: ownedOf(d), others: Object.values(d.inputs), error: new RegExp(`^${MARKER}$`) };
  },
};

type Outcome = { ok: true; loss: number; params: Arrays; state?: State } | { ok: false; message: string };

function runStep(js: GeneratedModule, a: Args): Outcome {
  try {
    const loss = js.trainStep(a.params as Arrays, a.inputs as Arrays, a.lr, a.state as State | undefined);
    return { ok: true, loss, params: a.params as Arrays, ...(a.state ? { state: a.state as State } : {}) };
  } catch (e) {
    return { ok: false, message: messageOf(e) };
  }
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

function expectSame(what: string, got: Arrays, want: Arrays): void {
  for (const [k, w] of Object.entries(want)) {
    const g = got[k];
    const i = w.findIndex((v, j) => !Object.is(v, g[j]));
    if (g.length !== w.length || i >= 0) throw new Error(`${what}: ${k}[${i}] is ${g[i]} but the same step on plain copies gives ${w[i]}`);
  }
}

/**
 * Every kind of hostile call against one JS module (its params, inputs and, for an optimizer
 * with state, the state after one plain step), each from a fresh copy. Throws, naming the
 * kind, when a call ends in neither the correct result nor a clean error.
 */
export function checkHostileJs(js: GeneratedModule, params: Arrays, inputs: Arrays, seed: number, into = hostileStats): void {
  tally = into;
  const slots = js.meta.optimizer?.slots ?? [];
  const lr = 1e-3;
  const base = { params: copyArrays(params), inputs: copyArrays(inputs), state: js.initOptimizerState?.() as State | undefined };
  if (base.state) js.trainStep(base.params, base.inputs, lr, base.state);
  const fresh = () => ({ params: copyArrays(base.params), inputs: copyArrays(base.inputs), ...(base.state ? { state: copyState(base.state, slots) } : {}) });
  const r = choices(seed);
  for (const [kind, make] of Object.entries(JS_KINDS)) {
    const setup = make({ js, slots, lr, r, fresh });
    if (!setup) continue;
    try {
      checkOne(js, setup, slots, kind);
    } catch (e) {
      throw new Error(`hostile arguments, ${kind}: ${messageOf(e)}`);
    }
  }
}

function checkOne(js: GeneratedModule, s: Setup, slots: readonly string[], kind: string): void {
  let want: Outcome | undefined;
  if (s.plain) {
    const copies: Plain = { params: copyArrays(s.plain.params), inputs: copyArrays(s.plain.inputs), lr: s.plain.lr, ...(s.plain.state ? { state: copyState(s.plain.state, slots) } : {}) };
    s.before?.(copies);
    want = runStep(js, copies);
  }
  const owned = [...Object.values(s.owned.params), ...stateArrays(s.owned.state, slots)];
  const before = [...owned, ...s.others].map(bits);
  const passed = s.args.state as State | undefined;
  const stepBefore = passed?.step;
  const got = runStep(js, s.args);
  const unchanged = (which: readonly Float32Array[], from: number) => which.forEach((a, i) => {
    const now = bits(a);
    if (now.some((v, j) => v !== before[from + i][j])) throw new Error(`${got.ok ? 'a result' : `an error ("${got.message}")`} changed an array it must leave alone`);
  });
  if (!got.ok) {
    unchanged(owned, 0);
    unchanged(s.others, owned.length);
    if (passed && passed.step !== stepBefore) throw new Error(`state.step went from ${stepBefore} to ${passed.step} in a failed call`);
    const allowed = s.error?.test(got.message) || s.mayRefuse?.test(got.message) || (want && !want.ok && want.message === got.message);
    if (!allowed) throw new Error(`the call threw "${got.message}", but ${want?.ok ? 'the same step on plain copies succeeds' : want ? `the plain call says "${want.message}"` : `the error must match ${s.error}`}`);
    count(kind, 'errors');
  } else {
    if (s.error) throw new Error(`the call returned ${got.loss}, but it must throw ${s.error}`);
    if (!want) throw new Error('the call returned, but no result is correct');
    if (!want.ok) throw new Error(`the call returned ${got.loss}, but the same step on plain copies throws "${want.message}"`);
    if (!Object.is(got.loss, want.loss)) throw new Error(`the call returned ${got.loss}, the same step on plain copies ${want.loss}`);
    expectSame('params', s.owned.params, want.params);
    for (const slot of slots) expectSame(`state.${slot}`, s.owned.state![slot] as Arrays, want.state![slot] as Arrays);
    if (passed && passed.step !== want.state!.step) throw new Error(`state.step is ${passed.step}, the plain step's ${want.state!.step}`);
    for (const a of owned) if (a.some((v) => !Number.isFinite(v))) throw new Error('a result left a param or state value non-finite');
    unchanged(s.others, owned.length);
    count(kind, 'results');
  }
  s.verify?.();
}

// ── WebGPU ──────────────────────────────────────────────────────────────────

interface GpuModelOf {
  setParams(p: Arrays): Promise<void>;
  getParams(): Promise<Arrays>;
  trainStep(inputs: Arrays, lr: number): Promise<number>;
  createDataset(inputs: Arrays): { readonly rows: number; destroy(): void };
  trainSteps(dataset: { readonly rows: number; destroy(): void }, options: { firstRow: number; steps?: number; learningRate: number; readLoss?: boolean }): Promise<number>;
}

/** One hostile call on the GPU, and the same call with the arguments it should have read. */
interface GpuCase {
  hostile(): Promise<number>;
  /** Run from the same params; absent where the call must fail. */
  plain?(): Promise<number>;
  /** Where the outcome is fixed: the error the call must reject with. */
  readonly error?: RegExp;
  verify?(): void;
}

type GpuKind = (ctx: { model: GpuModelOf; inputs: Arrays; lr: number; r: Choices; fresh: () => Arrays }) => GpuCase;

/** Rows of `inputs` repeated: a dataset of `times` batches. */
const repeated = (inputs: Arrays, times: number): Arrays =>
  Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, Float32Array.from({ length: v.length * times }, (_, i) => v[i % v.length])]));

export const GPU_KINDS: Readonly<Record<string, GpuKind>> = {
  'a getter that returns another array on each read': ({ model, fresh, lr, r }) => {
    const inputs = fresh();
    const name = r.pick(Object.keys(inputs));
    const reads = { n: 0 };
    const hostile = getterRecord(inputs, name, inputs[name], [], reads);
    return {
      hostile: () => model.trainStep(hostile, lr),
      plain: () => model.trainStep(inputs, lr),
      verify: () => {
        if (reads.n !== 1) throw new Error(`the getter was read ${reads.n} times; every argument must be read once`);
      },
    };
  },
  'a getter that throws': ({ model, fresh, lr, r }) => {
    const inputs: Arrays = { ...fresh() };
    Object.defineProperty(inputs, r.pick(Object.keys(inputs)), { enumerable: true, get: () => { throw new Error(MARKER); } });
    return { hostile: () => model.trainStep(inputs, lr), error: new RegExp(`^${MARKER}$`) };
  },
  'a Proxy posing as a Float32Array': ({ model, fresh, lr, r }) => {
    const inputs = fresh();
    const name = r.pick(Object.keys(inputs));
    const posing = new Proxy(inputs[name], { get: (t, k) => { const v = Reflect.get(t, k, t); return typeof v === 'function' ? v.bind(t) : v; } });
    return { hostile: () => model.trainStep({ ...inputs, [name]: posing }, lr), error: /got an object posing as one/ };
  },
  'a re-entrant call from a getter': ({ model, fresh, lr, r }) => {
    const outer = fresh();
    const inner = fresh();
    inner[Object.keys(inner)[0]].reverse();
    const name = r.pick(Object.keys(outer));
    let innerCall: Promise<number> | undefined;
    const hostile: Arrays = { ...outer };
    Object.defineProperty(hostile, name, { enumerable: true, get: () => ((innerCall ??= model.trainStep(inner, lr)), outer[name]) });
    return {
      hostile: async () => {
        const loss = await model.trainStep(hostile, lr);
        await innerCall;
        return loss;
      },
      plain: async () => (await model.trainStep(inner, lr), model.trainStep(outer, lr)),
    };
  },
  'inputs changed right after the call': ({ model, fresh, lr }) => {
    const inputs = fresh();
    const kept = copyArrays(inputs);
    return {
      hostile: () => {
        const call = model.trainStep(inputs, lr);
        for (const v of Object.values(inputs)) v.fill(NaN);
        return call;
      },
      plain: () => model.trainStep(kept, lr),
    };
  },
  'a non-finite input element': ({ model, fresh, lr, r }) => {
    const inputs = fresh();
    const name = r.pick(Object.keys(inputs));
    inputs[name][r.int(inputs[name].length)] = r.pick(NON_FINITE);
    return { hostile: () => model.trainStep(inputs, lr), plain: () => model.trainStep(copyArrays(inputs), lr) };
  },
  'a huge learning rate': ({ model, fresh, r }) => {
    const inputs = fresh();
    const lr = r.pick([1e20, 1e30, 3e38, 1e39, 1e300]);
    return { hostile: () => model.trainStep(inputs, lr), plain: () => model.trainStep(inputs, lr) };
  },
  'a dataset from a getter, and trainSteps options changed after the call': ({ model, fresh, lr, r }) => {
    const data = repeated(fresh(), 2);
    const name = r.pick(Object.keys(data));
    const reads = { n: 0 };
    const hostileData = getterRecord(data, name, data[name], [], reads);
    const steps = async (source: Arrays, change: boolean) => {
      const dataset = model.createDataset(source);
      const options = { firstRow: 0, steps: 2, learningRate: lr };
      try {
        const call = model.trainSteps(dataset, options);
        if (change) Object.assign(options, { firstRow: 1, steps: 5, learningRate: 1e30 });
        return await call;
      } finally {
        dataset.destroy();
      }
    };
    return {
      hostile: () => steps(hostileData, true),
      plain: () => steps(data, false),
      verify: () => {
        if (reads.n !== 1) throw new Error(`createDataset read the getter ${reads.n} times; every argument must be read once`);
      },
    };
  },
};

type GpuOutcome = { ok: true; loss: number; params: Arrays } | { ok: false; message: string; params: Arrays };

async function gpuOutcome(model: GpuModelOf, call: () => Promise<number>): Promise<GpuOutcome> {
  try {
    const loss = await call();
    return { ok: true, loss, params: await model.getParams() };
  } catch (e) {
    return { ok: false, message: messageOf(e), params: await model.getParams() };
  }
}

/**
 * Every kind of hostile call against one WebGPU model, each from the same params: the call
 * must end as the same call with plain arguments does (the same loss and params, bit for
 * bit, or the same error), or, where its outcome is fixed, in that error; an error must leave
 * the params on the GPU as they were.
 */
export async function checkHostileGpu(model: GpuModelOf, params: Arrays, inputs: Arrays, seed: number): Promise<void> {
  const r = choices(seed);
  const lr = 1e-3;
  for (const [kind, make] of Object.entries(GPU_KINDS)) {
    const c = make({ model, inputs, lr, r, fresh: () => copyArrays(inputs) });
    await model.setParams(params);
    const got = await gpuOutcome(model, c.hostile);
    let want: GpuOutcome | undefined;
    if (c.plain) {
      await model.setParams(params);
      want = await gpuOutcome(model, c.plain);
    }
    const fail = (why: string) => new Error(`hostile arguments on WebGPU, ${kind}: ${why}`);
    if (!got.ok) {
      if (c.error ? !c.error.test(got.message) : !want || want.ok || want.message !== got.message) {
        throw fail(`the call rejected with "${got.message}", but ${c.error ? `it must reject with ${c.error}` : want?.ok ? 'the same call with plain arguments succeeds' : `that one says "${want && !want.ok ? want.message : ''}"`}`);
      }
      try {
        expectSame('params after the error', got.params, params);
      } catch (e) {
        throw fail(messageOf(e));
      }
      count(`${kind} (WebGPU)`, 'errors');
    } else {
      if (!want) throw fail(`the call resolved to ${got.loss}, but it must reject with ${c.error}`);
      if (!want.ok) throw fail(`the call resolved to ${got.loss}, but the same call with plain arguments rejects: "${want.message}"`);
      if (!Object.is(got.loss, want.loss)) throw fail(`the call resolved to ${got.loss}, the same call with plain arguments to ${want.loss}`);
      try {
        expectSame('params', got.params, want.params);
      } catch (e) {
        throw fail(messageOf(e));
      }
      if (Object.values(got.params).some((v) => v.some((x) => !Number.isFinite(x)))) throw fail('a result left a param non-finite');
      count(`${kind} (WebGPU)`, 'results');
    }
    try {
      c.verify?.();
    } catch (e) {
      throw fail(messageOf(e));
    }
  }
}
