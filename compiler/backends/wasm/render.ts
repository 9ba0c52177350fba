/**
 * Lowered kernels as WebAssembly functions (instruction lists, see `instructions.ts`).
 * Syntax only: every loop, index, vector and temporary is the lowering's. The one mapping
 * the target adds is where buffers live: each buffer param is a constant byte address in
 * the module's one memory, so a load is its index times 4 with the constant part of the
 * index folded into the instruction's offset (`f32.load offset=1024`).
 *
 * Lexical names become locals: one per name and type, except that a name declared while
 * an outer one of the same name is live gets a local of its own. A subexpression shared by
 * identity within one statement (the approximations of `math.ts` reuse theirs) is computed
 * once and kept with `local.tee`.
 */
import type { Expr, LoweredKernel, Stmt, Type } from '../../lowering/lir.ts';
import { children, isVector } from '../../lowering/lir.ts';
import type { Instr, Op, ValType, WasmFunction } from './instructions.ts';
import { isOp } from './instructions.ts';

export const valType = (t: Type): ValType => (isVector(t) ? 'v128' : t === 'f32' ? 'f32' : 'i32');

/** Where the module keeps each buffer of a kernel: a byte address. */
export type BufferAddress = (buffer: string) => number;

/** Typed operation names, by the result's (or for comparisons, the operands') type. */
const PREFIX: Record<Type, string> = { f32: 'f32', i32: 'i32', bool: 'i32', f32x4: 'f32x4', i32x4: 'i32x4', boolx4: 'v128' };
const INT_NAMES: Record<string, string> = { div: 'div_s', rem: 'rem_s', shr: 'shr_s', bitand: 'and', bitor: 'or', and: 'and', lt: 'lt_s', gt: 'gt_s', ge: 'ge_s' };

function opName(fn: string, type: Type): Op {
  const integer = type === 'i32' || type === 'i32x4' || type === 'bool';
  let name = `${PREFIX[type]}.${integer ? INT_NAMES[fn] ?? fn : fn}`;
  if (type === 'i32x4' && (fn === 'bitand' || fn === 'bitor')) name = `v128.${fn.slice(3)}`;
  if (!isOp(name)) throw new Error(`internal: the wasm target has no ${fn} on ${type}`);
  return name;
}

class Locals {
  readonly list: { name: string; type: ValType }[] = [];
  private readonly byName = new Map<string, number[]>();
  private readonly scopes: Map<string, number>[] = [new Map()];
  private readonly taken = new Set<string>();
  private readonly temps = new Map<ValType, number[]>();

  constructor(readonly params: readonly { name: string; type: ValType }[]) {
    params.forEach((p, i) => {
      this.scopes[0].set(p.name, i);
      this.taken.add(p.name);
    });
  }

  lookup(name: string): number {
    for (let s = this.scopes.length - 1; s >= 0; s--) {
      const i = this.scopes[s].get(name);
      if (i !== undefined) return i;
    }
    throw new Error(`internal: ${name} is not declared`);
  }

  /** A local for a new binding of `name` in the innermost scope. */
  declare(name: string, type: ValType): number {
    const live = new Set(this.scopes.flatMap((s) => [...s.values()]));
    const candidates = this.byName.get(name) ?? [];
    let index = candidates.find((i) => !live.has(i) && this.typeOf(i) === type);
    if (index === undefined) {
      index = this.add(name, type);
      candidates.push(index);
      this.byName.set(name, candidates);
    }
    this.scopes[this.scopes.length - 1].set(name, index);
    return index;
  }

  /** The `n`th temporary of a type (temporaries live within one statement). */
  temp(type: ValType, n: number): number {
    const list = this.temps.get(type) ?? [];
    this.temps.set(type, list);
    while (list.length <= n) list.push(this.add(`t_${type}_${list.length}`, type));
    return list[n];
  }

  typeOf(i: number): ValType {
    return i < this.params.length ? this.params[i].type : this.list[i - this.params.length].type;
  }

  nameOf(i: number): string {
    return i < this.params.length ? this.params[i].name : this.list[i - this.params.length].name;
  }

  push(): void {
    this.scopes.push(new Map());
  }

  pop(): void {
    this.scopes.pop();
  }

  private add(base: string, type: ValType): number {
    let name = base;
    for (let k = 2; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    this.list.push({ name, type });
    return this.params.length + this.list.length - 1;
  }
}

/** The constant part of an index (as the lowering's folding leaves it: `… + c`) and the rest. */
function splitConstant(index: Expr): { rest?: Expr; constant: number } {
  if (index.k === 'num') return { constant: index.value };
  if (index.k === 'binary' && index.b.k === 'num' && (index.fn === 'add' || index.fn === 'sub')) {
    return { rest: index.a, constant: index.fn === 'add' ? index.b.value : -index.b.value };
  }
  return { rest: index, constant: 0 };
}

/** A kernel as a function named `name`; its scalars are its params. */
export function renderWasmKernel(k: LoweredKernel, name: string, address: BufferAddress, exported?: string): WasmFunction {
  if (k.grid) throw new Error(`internal: kernel ${k.name} was lowered for a GPU`);
  const params = k.scalars.map((s) => ({ name: s.name, type: valType(s.type) }));
  const w = new Writer(params, address);
  w.stmts(k.body);
  return { name, doc: k.doc, params, locals: w.locals.list, body: w.out, ...(exported ? { export: exported } : {}) };
}

class Writer {
  readonly out: Instr[] = [];
  readonly locals: Locals;
  private labels = new Set<string>();
  /** Within the statement being written: subexpressions used more than once, and where each is kept. */
  private shared = new Set<Expr>();
  private kept = new Map<Expr, number>();
  private tempsUsed = new Map<ValType, number>();

  constructor(params: readonly { name: string; type: ValType }[], private readonly address: BufferAddress) {
    this.locals = new Locals(params);
  }

  private emit(op: Op | ';;', fields: Omit<Instr, 'op'> = {}): void {
    this.out.push({ op, ...fields });
  }

  private local(op: 'local.get' | 'local.set' | 'local.tee', index: number): void {
    this.emit(op, { index, name: this.locals.nameOf(index) });
  }

  private label(base: string): string {
    let name = base;
    for (let k = 2; this.labels.has(name); k++) name = `${base}_${k}`;
    this.labels.add(name);
    return name;
  }

  /** Begins a statement: finds what its expressions share. */
  private statement(roots: readonly Expr[]): void {
    const uses = new Map<Expr, number>();
    const count = (e: Expr): void => {
      const n = (uses.get(e) ?? 0) + 1;
      uses.set(e, n);
      if (n === 1) children(e).forEach(count);
    };
    roots.forEach(count);
    this.shared = new Set([...uses].filter(([e, n]) => n > 1 && e.k !== 'num' && e.k !== 'ref').map(([e]) => e));
    this.kept = new Map();
    this.tempsUsed = new Map();
  }

  stmts(list: readonly Stmt[]): void {
    for (const st of list) this.stmt(st);
  }

  private stmt(st: Stmt): void {
    switch (st.k) {
      case 'let': case 'var': {
        this.statement([st.value]);
        this.expr(st.value);
        this.local('local.set', this.locals.declare(st.name, valType(st.value.type)));
        return;
      }
      case 'assign':
        this.statement([st.value]);
        this.expr(st.value);
        this.local('local.set', this.locals.lookup(st.name));
        return;
      case 'store': {
        this.statement([st.index, st.value]);
        const offset = this.addressOf(st.buf, st.index);
        this.expr(st.value);
        this.emit(isVector(st.value.type) ? 'v128.store' : 'f32.store', { offset });
        return;
      }
      case 'loop': return this.loop(st);
      case 'if':
        this.statement([st.cond]);
        this.expr(st.cond);
        this.emit('if', { name: this.label('if') });
        this.scoped(st.then);
        if (st.otherwise.length) {
          this.emit('else');
          this.scoped(st.otherwise);
        }
        this.emit('end');
        return;
      case 'block': return this.scoped(st.body);
      case 'group': return this.stmts(st.body);
      case 'comment': return this.emit(';;', { text: st.text });
      case 'barrier': throw new Error('internal: the wasm target has no barriers');
    }
  }

  private scoped(body: readonly Stmt[]): void {
    this.locals.push();
    this.stmts(body);
    this.locals.pop();
  }

  /** `for (i = start; i < end; i += step)`: a loop that tests at its end, behind a test at entry unless it surely runs. */
  private loop(st: Extract<Stmt, { k: 'loop' }>): void {
    this.locals.push();
    this.statement([st.start]);
    this.expr(st.start);
    const i = this.locals.declare(st.index, 'i32');
    this.local('local.set', i);
    const runs = st.start.k === 'num' && st.end.k === 'num' && st.end.value > st.start.value;
    const exit = runs ? undefined : this.label(`${st.index}_exit`);
    if (exit) {
      this.emit('block', { name: exit });
      this.statement([st.end]);
      this.local('local.get', i);
      this.expr(st.end);
      this.emit('i32.ge_s');
      this.emit('br_if', { name: exit });
    }
    const repeat = this.label(`${st.index}_loop`);
    this.emit('loop', { name: repeat });
    this.scoped(st.body);
    this.statement([st.end]);
    this.local('local.get', i);
    this.emit('i32.const', { value: st.step });
    this.emit('i32.add');
    this.local('local.tee', i);
    this.expr(st.end);
    this.emit('i32.lt_s');
    this.emit('br_if', { name: repeat });
    this.emit('end');
    if (exit) this.emit('end');
    this.locals.pop();
  }

  /** Pushes the dynamic part of a buffer element's byte address; returns the constant offset. */
  private addressOf(buf: string, index: Expr): number {
    const base = this.address(buf);
    const { rest, constant } = splitConstant(index);
    const offset = base + 4 * constant;
    if (rest === undefined && offset >= 0) {
      this.emit('i32.const', { value: 0 });
      return offset;
    }
    if (offset < 0) {
      this.expr(index);
      this.shift();
      return base;
    }
    this.expr(rest!);
    this.shift();
    return offset;
  }

  private shift(): void {
    this.emit('i32.const', { value: 2 });
    this.emit('i32.shl');
  }

  private expr(e: Expr): void {
    const kept = this.kept.get(e);
    if (kept !== undefined) return this.local('local.get', kept);
    this.compute(e);
    if (this.shared.has(e)) {
      const type = valType(e.type);
      const n = this.tempsUsed.get(type) ?? 0;
      this.tempsUsed.set(type, n + 1);
      const t = this.locals.temp(type, n);
      this.local('local.tee', t);
      this.kept.set(e, t);
    }
  }

  private compute(e: Expr): void {
    switch (e.k) {
      case 'num':
        return this.emit(e.type === 'f32' ? 'f32.const' : 'i32.const', { value: e.value });
      case 'ref': return this.local('local.get', this.locals.lookup(e.name));
      case 'load': {
        const offset = this.addressOf(e.buf, e.index);
        return this.emit(e.type === 'f32x4' ? 'v128.load' : 'f32.load', { offset });
      }
      case 'splat': {
        const a = e.a;
        if (a.k === 'num') return this.emit('v128.const', { lanes: { shape: e.type === 'i32x4' ? 'i32x4' : 'f32x4', values: [a.value, a.value, a.value, a.value] } });
        if (a.k === 'load' && !this.shared.has(a)) {
          const offset = this.addressOf(a.buf, a.index);
          return this.emit('v128.load32_splat', { offset });
        }
        this.expr(a);
        return this.emit(e.type === 'i32x4' ? 'i32x4.splat' : 'f32x4.splat');
      }
      case 'unary':
        if (e.fn === 'exp' || e.fn === 'log' || e.fn === 'log1p') throw new Error(`internal: ${e.fn} reached the wasm target (approximateMath replaces it)`);
        this.expr(e.a);
        return this.emit(e.fn === 'not' ? 'i32.eqz' : opName(e.fn, e.type));
      case 'binary':
        this.expr(e.a);
        this.expr(e.b);
        return this.emit(opName(e.fn, e.type));
      case 'compare':
        this.expr(e.a);
        this.expr(e.b);
        return this.emit(opName(e.cmp, e.a.type));
      case 'select':
        this.expr(e.then);
        this.expr(e.otherwise);
        this.expr(e.cond);
        return this.emit(isVector(e.type) ? 'v128.bitselect' : 'select');
      case 'lane':
        if (typeof e.lane !== 'number') throw new Error('internal: a wasm lane is a constant');
        this.expr(e.a);
        return this.emit(e.type === 'i32' ? 'i32x4.extract_lane' : 'f32x4.extract_lane', { value: e.lane });
      case 'convert':
        this.expr(e.a);
        return this.emit(({ i32: 'i32.trunc_sat_f32_s', f32: 'f32.convert_i32_s', i32x4: 'i32x4.trunc_sat_f32x4_s', f32x4: 'f32x4.convert_i32x4_s' } as const)[e.type]);
      case 'bitcast':
        this.expr(e.a);
        if (e.type === 'i32') this.emit('i32.reinterpret_f32');
        else if (e.type === 'f32') this.emit('f32.reinterpret_i32');
        return;
      case 'builtin': throw new Error(`internal: the wasm target has no ${e.name}`);
    }
  }
}
