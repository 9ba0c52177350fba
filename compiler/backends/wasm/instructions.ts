/**
 * A WebAssembly module as data, and its two spellings: the binary format (`encodeModule`)
 * and the text format (`printWat`), both from the same instruction lists, so the `.wat` a
 * reviewer reads is exactly what runs. Only what gradc's kernels need: functions without
 * results, one memory, exports, the numeric, memory, control and SIMD128 instructions of
 * `OPS`. Instructions are kept flat and printed folded (`foldedBody`); blocks, loops and
 * `if`s are labelled by name in the text and by depth in the binary.
 */

import { WIDTH, commentLines, commentText } from '../common/text.ts';
import { packed } from '../common/ts.ts';

export type ValType = 'i32' | 'f32' | 'v128';

/** Immediate kinds: what follows an opcode. */
type Imm = 'none' | 'i32' | 'f32' | 'v128' | 'local' | 'memarg' | 'lane' | 'block' | 'label' | 'func';

/** Each instruction by its text name: its opcode bytes (a prefix, then an LEB128 number) and immediate. */
const OPS: Readonly<Record<string, { readonly code: readonly number[]; readonly imm: Imm; readonly align?: number }>> = {
  block: { code: [0x02], imm: 'block' },
  loop: { code: [0x03], imm: 'block' },
  if: { code: [0x04], imm: 'block' },
  else: { code: [0x05], imm: 'none' },
  end: { code: [0x0b], imm: 'none' },
  br: { code: [0x0c], imm: 'label' },
  br_if: { code: [0x0d], imm: 'label' },
  call: { code: [0x10], imm: 'func' },
  select: { code: [0x1b], imm: 'none' },
  'local.get': { code: [0x20], imm: 'local' },
  'local.set': { code: [0x21], imm: 'local' },
  'local.tee': { code: [0x22], imm: 'local' },
  'f32.load': { code: [0x2a], imm: 'memarg', align: 2 },
  'f32.store': { code: [0x38], imm: 'memarg', align: 2 },
  'i32.const': { code: [0x41], imm: 'i32' },
  'f32.const': { code: [0x43], imm: 'f32' },
  'i32.eqz': { code: [0x45], imm: 'none' },
  'i32.eq': { code: [0x46], imm: 'none' },
  'i32.lt_s': { code: [0x48], imm: 'none' },
  'i32.gt_s': { code: [0x4a], imm: 'none' },
  'i32.ge_s': { code: [0x4e], imm: 'none' },
  'f32.eq': { code: [0x5b], imm: 'none' },
  'f32.lt': { code: [0x5d], imm: 'none' },
  'f32.gt': { code: [0x5e], imm: 'none' },
  'f32.ge': { code: [0x60], imm: 'none' },
  'i32.add': { code: [0x6a], imm: 'none' },
  'i32.sub': { code: [0x6b], imm: 'none' },
  'i32.mul': { code: [0x6c], imm: 'none' },
  'i32.div_s': { code: [0x6d], imm: 'none' },
  'i32.rem_s': { code: [0x6f], imm: 'none' },
  'i32.and': { code: [0x71], imm: 'none' },
  'i32.or': { code: [0x72], imm: 'none' },
  'i32.shl': { code: [0x74], imm: 'none' },
  'i32.shr_s': { code: [0x75], imm: 'none' },
  'f32.abs': { code: [0x8b], imm: 'none' },
  'f32.neg': { code: [0x8c], imm: 'none' },
  'f32.nearest': { code: [0x90], imm: 'none' },
  'f32.sqrt': { code: [0x91], imm: 'none' },
  'f32.add': { code: [0x92], imm: 'none' },
  'f32.sub': { code: [0x93], imm: 'none' },
  'f32.mul': { code: [0x94], imm: 'none' },
  'f32.div': { code: [0x95], imm: 'none' },
  'f32.min': { code: [0x96], imm: 'none' },
  'f32.max': { code: [0x97], imm: 'none' },
  'f32.convert_i32_s': { code: [0xb2], imm: 'none' },
  'i32.reinterpret_f32': { code: [0xbc], imm: 'none' },
  'f32.reinterpret_i32': { code: [0xbe], imm: 'none' },
  'i32.trunc_sat_f32_s': { code: [0xfc, 0x00], imm: 'none' },
  'v128.load': { code: [0xfd, 0x00], imm: 'memarg', align: 4 },
  'v128.load32_splat': { code: [0xfd, 0x09], imm: 'memarg', align: 2 },
  'v128.store': { code: [0xfd, 0x0b], imm: 'memarg', align: 4 },
  'v128.const': { code: [0xfd, 0x0c], imm: 'v128' },
  'i32x4.splat': { code: [0xfd, 0x11], imm: 'none' },
  'f32x4.splat': { code: [0xfd, 0x13], imm: 'none' },
  'i32x4.extract_lane': { code: [0xfd, 0x1b], imm: 'lane' },
  'f32x4.extract_lane': { code: [0xfd, 0x1f], imm: 'lane' },
  'f32x4.eq': { code: [0xfd, 0x41], imm: 'none' },
  'f32x4.lt': { code: [0xfd, 0x43], imm: 'none' },
  'f32x4.gt': { code: [0xfd, 0x44], imm: 'none' },
  'f32x4.ge': { code: [0xfd, 0x46], imm: 'none' },
  'v128.and': { code: [0xfd, 0x4e], imm: 'none' },
  'v128.or': { code: [0xfd, 0x50], imm: 'none' },
  'v128.bitselect': { code: [0xfd, 0x52], imm: 'none' },
  'f32x4.nearest': { code: [0xfd, 0x6a], imm: 'none' },
  'i32x4.shl': { code: [0xfd, 0xab, 0x01], imm: 'none' },
  'i32x4.shr_s': { code: [0xfd, 0xac, 0x01], imm: 'none' },
  'i32x4.add': { code: [0xfd, 0xae, 0x01], imm: 'none' },
  'i32x4.sub': { code: [0xfd, 0xb1, 0x01], imm: 'none' },
  'i32x4.mul': { code: [0xfd, 0xb5, 0x01], imm: 'none' },
  'f32x4.abs': { code: [0xfd, 0xe0, 0x01], imm: 'none' },
  'f32x4.neg': { code: [0xfd, 0xe1, 0x01], imm: 'none' },
  'f32x4.sqrt': { code: [0xfd, 0xe3, 0x01], imm: 'none' },
  'f32x4.add': { code: [0xfd, 0xe4, 0x01], imm: 'none' },
  'f32x4.sub': { code: [0xfd, 0xe5, 0x01], imm: 'none' },
  'f32x4.mul': { code: [0xfd, 0xe6, 0x01], imm: 'none' },
  'f32x4.div': { code: [0xfd, 0xe7, 0x01], imm: 'none' },
  'f32x4.min': { code: [0xfd, 0xe8, 0x01], imm: 'none' },
  'f32x4.max': { code: [0xfd, 0xe9, 0x01], imm: 'none' },
  'f32x4.pmin': { code: [0xfd, 0xea, 0x01], imm: 'none' },
  'f32x4.pmax': { code: [0xfd, 0xeb, 0x01], imm: 'none' },
  'i32x4.trunc_sat_f32x4_s': { code: [0xfd, 0xf8, 0x01], imm: 'none' },
  'f32x4.convert_i32x4_s': { code: [0xfd, 0xfa, 0x01], imm: 'none' },
};

export type Op = keyof typeof OPS;

/** One instruction, or a comment line (`op: ';;'`, text only). */
export interface Instr {
  readonly op: string;
  /** i32/f32 constants, lane indices. */
  readonly value?: number;
  /** v128.const: four f32 (or i32) lanes. */
  readonly lanes?: { readonly shape: 'f32x4' | 'i32x4'; readonly values: readonly number[] };
  /** Locals, called functions, labels (a block's own, or a branch's target): by index in the binary, by name in the text. */
  readonly index?: number;
  readonly name?: string;
  /** Memory accesses: a constant byte offset. */
  readonly offset?: number;
  /** Comment text. */
  readonly text?: string;
}

export interface WasmFunction {
  readonly name: string;
  /** Doc comment lines above the function in the text. */
  readonly doc: readonly string[];
  readonly params: readonly { readonly name: string; readonly type: ValType }[];
  readonly locals: readonly { readonly name: string; readonly type: ValType }[];
  readonly body: readonly Instr[];
  /** Exported under this name. */
  readonly export?: string;
}

export interface WasmModule {
  /** Comment lines at the top of the text. */
  readonly header: readonly string[];
  /** 64 KiB pages of the one memory, exported as `memory`. */
  readonly pages: number;
  /**
   * The memory is imported (`env.memory`, exactly `pages` pages) rather than the module's own,
   * so that threads can share one: declared unshared; a host that shares it sets the limits'
   * flags byte (`MEMORY_LIMITS`) to shared.
   */
  readonly importMemory?: boolean;
  readonly functions: readonly WasmFunction[];
}

export function isOp(name: string): boolean {
  return name in OPS;
}

// ---- Binary ----

const VALTYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };

class Bytes {
  readonly out: number[] = [];
  byte(b: number): void {
    this.out.push(b & 0xff);
  }
  bytes(bs: ArrayLike<number>): void {
    for (let i = 0; i < bs.length; i++) this.byte(bs[i]);
  }
  u32(v: number): void {
    do {
      const b = v & 0x7f;
      v >>>= 7;
      this.byte(v ? b | 0x80 : b);
    } while (v);
  }
  s32(v: number): void {
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return;
    }
  }
  f32(v: number): void {
    this.bytes(new Uint8Array(Float32Array.of(v).buffer));
  }
  name(s: string): void {
    const utf8 = new TextEncoder().encode(s);
    this.u32(utf8.length);
    this.bytes(utf8);
  }
  /** A length-prefixed part: a section's contents, a function body. */
  sized(write: (b: Bytes) => void): void {
    const inner = new Bytes();
    write(inner);
    this.u32(inner.out.length);
    this.bytes(inner.out);
  }
}

/** The function types of a module, in first-use order, and each function's. */
function signatures(m: WasmModule): { types: string[]; typeOf: number[] } {
  const types: string[] = [];
  const typeOf = m.functions.map((f) => {
    const sig = f.params.map((p) => p.type).join(' ');
    let i = types.indexOf(sig);
    if (i < 0) i = types.push(sig) - 1;
    return i;
  });
  return { types, typeOf };
}

/** The import of `env.memory` up to its limits: module name, field name, kind (memory). */
export const MEMORY_IMPORT = [3, ...'env'.split('').map((c) => c.charCodeAt(0)), 6, ...'memory'.split('').map((c) => c.charCodeAt(0)), 0x02];
/** The limits' flags byte of a memory with a maximum, unshared and shared (threads). */
export const MEMORY_LIMITS = { unshared: 0x01, shared: 0x03 } as const;

/**
 * The binary, and where in it the imported memory's limits' flags byte is (a module that
 * imports its memory): a host that shares the memory among threads sets the shared flag there.
 */
export function encodeModule(m: WasmModule): { bytes: Uint8Array<ArrayBuffer>; memoryLimitsAt?: number } {
  const b = new Bytes();
  b.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const { types, typeOf } = signatures(m);
  const section = (id: number, write: (s: Bytes) => void) => {
    b.byte(id);
    b.sized(write);
  };
  section(1, (s) => {
    s.u32(types.length);
    for (const t of types) {
      const params = t ? t.split(' ') as ValType[] : [];
      s.byte(0x60);
      s.u32(params.length);
      params.forEach((p) => s.byte(VALTYPE[p]));
      s.u32(0);
    }
  });
  let memoryLimitsAt: number | undefined;
  if (m.importMemory) {
    const pages = new Bytes();
    pages.u32(m.pages);
    section(2, (s) => {
      s.u32(1);
      s.bytes(MEMORY_IMPORT);
      s.bytes([MEMORY_LIMITS.unshared]);
      s.u32(m.pages);
      s.u32(m.pages);
    });
    // The section ends with the flags byte and the two page counts.
    memoryLimitsAt = b.out.length - 1 - 2 * pages.out.length;
  }
  section(3, (s) => {
    s.u32(m.functions.length);
    typeOf.forEach((t) => s.u32(t));
  });
  if (!m.importMemory) {
    section(5, (s) => {
      s.u32(1);
      s.byte(0x00);
      s.u32(m.pages);
    });
  }
  const exported = m.functions.flatMap((f, i) => (f.export ? [{ name: f.export, index: i }] : []));
  section(7, (s) => {
    s.u32(1 + exported.length);
    s.name('memory');
    s.byte(0x02);
    s.u32(0);
    for (const e of exported) {
      s.name(e.name);
      s.byte(0x00);
      s.u32(e.index);
    }
  });
  section(10, (s) => {
    s.u32(m.functions.length);
    for (const f of m.functions) s.sized((body) => encodeFunction(f, body));
  });
  return { bytes: Uint8Array.from(b.out), ...(memoryLimitsAt === undefined ? {} : { memoryLimitsAt }) };
}

function encodeFunction(f: WasmFunction, b: Bytes): void {
  // Locals in runs of one type.
  const runs: { type: ValType; count: number }[] = [];
  for (const l of f.locals) {
    const last = runs.at(-1);
    if (last && last.type === l.type) last.count++;
    else runs.push({ type: l.type, count: 1 });
  }
  b.u32(runs.length);
  for (const r of runs) {
    b.u32(r.count);
    b.byte(VALTYPE[r.type]);
  }
  const labels: string[] = [];
  for (const ins of f.body) {
    if (ins.op === ';;') continue;
    const def = OPS[ins.op];
    if (!def) throw new Error(`internal: unknown wasm instruction ${ins.op}`);
    b.byte(def.code[0]);
    if (def.code.length > 1) {
      // A prefixed opcode: the rest is one LEB128 number (its bytes as listed).
      b.bytes(def.code.slice(1));
    }
    switch (def.imm) {
      case 'none': break;
      case 'i32': b.s32(ins.value!); break;
      case 'f32': b.f32(ins.value!); break;
      case 'v128':
        for (const v of ins.lanes!.values) {
          if (ins.lanes!.shape === 'f32x4') b.f32(v);
          else b.bytes(new Uint8Array(Int32Array.of(v).buffer));
        }
        break;
      case 'local': case 'func': b.u32(ins.index!); break;
      case 'lane': b.byte(ins.value!); break;
      case 'memarg': b.u32(def.align!); b.u32(ins.offset ?? 0); break;
      case 'block': b.byte(0x40); labels.push(ins.name!); break;
      case 'label': {
        const depth = labels.length - 1 - labels.lastIndexOf(ins.name!);
        if (depth >= labels.length) throw new Error(`internal: branch to ${ins.name} outside its block`);
        b.u32(depth);
        break;
      }
    }
    if (ins.op === 'end') labels.pop();
  }
  b.byte(0x0b);
}

// ---- Text ----

/** An f32 in the text format: the shortest decimal that reads back to the same f32, or inf/nan. */
export function f32Text(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Object.is(v, -0)) return '-0';
  const f = Math.fround(v);
  for (let digits = 1; digits <= 9; digits++) {
    const text = f.toPrecision(digits);
    if (Math.fround(Number(text)) === f) return String(Number(text));
  }
  return String(f);
}

const id = (name: string) => `$${name}`;

function instrText(ins: Instr, f: WasmFunction, names: { func: (i: number) => string }): string {
  const def = OPS[ins.op];
  switch (def.imm) {
    case 'none': return ins.op;
    case 'i32': return `${ins.op} ${ins.value}`;
    case 'f32': return `${ins.op} ${f32Text(ins.value!)}`;
    case 'v128': return `${ins.op} ${ins.lanes!.shape} ${ins.lanes!.values.map((v) => (ins.lanes!.shape === 'f32x4' ? f32Text(v) : String(v | 0))).join(' ')}`;
    case 'local': return `${ins.op} ${id(localName(f, ins.index!))}`;
    case 'func': return `${ins.op} ${id(names.func(ins.index!))}`;
    case 'lane': return `${ins.op} ${ins.value}`;
    case 'memarg': return ins.offset ? `${ins.op} offset=${ins.offset}` : ins.op;
    case 'block': case 'label': return `${ins.op} ${id(ins.name!)}`;
  }
}

const localName = (f: WasmFunction, index: number) => (index < f.params.length ? f.params[index].name : f.locals[index - f.params.length].name);

/** The module as WebAssembly text: `wat2wasm` (or wabt's `parseWat`) gives back `encodeModule`'s bytes. */
export function printWat(m: WasmModule): string {
  const { types, typeOf } = signatures(m);
  const typeText = (t: string) => (t ? ` (param ${t})` : '');
  const lines = [
    ...m.header.map((h) => `;; ${commentText(h)}`),
    '(module',
    ...types.map((t, i) => `  (type $t${i} (func${typeText(t)}))`),
    m.importMemory ? `  (memory (export "memory") (import "env" "memory") ${m.pages} ${m.pages})` : `  (memory (export "memory") ${m.pages})`,
  ];
  const names = { func: (i: number) => m.functions[i].name, params: (i: number) => m.functions[i].params.length };
  m.functions.forEach((f, fi) => lines.push('', ...functionLines(f, names, typeOf[fi]).map((l) => `  ${l}`)));
  lines.push(')', '');
  return lines.join('\n');
}

/**
 * One function as WebAssembly text, unindented: its doc, signature (with its type's index in
 * the module, when given), locals and body. `printWat` indents it into the module; alone it is
 * what `gradc inspect --html` shows of a kernel.
 */
export function functionLines(f: WasmFunction, names: { func: (i: number) => string; params?: (i: number) => number }, typeIndex?: number): string[] {
  // Measured where printWat puts them, two spaces in.
  const lines = f.doc.flatMap((d) => commentLines('  ;; ', d)).map((l) => l.slice(2));
  // The signature on one line, or its params continued on indented lines.
  const head = `(func ${id(f.name)}${f.export ? ` (export ${JSON.stringify(f.export)})` : ''}${typeIndex === undefined ? '' : ` (type $t${typeIndex})`}`;
  const [first, ...rest] = packed([head, ...f.params.map((p) => `(param ${id(p.name)} ${p.type})`)], '    ');
  lines.push(first.trimStart(), ...rest.map((l) => l.slice(2)));
  lines.push(...packed(f.locals.map((l) => `(local ${id(l.name)} ${l.type})`), '    ').map((l) => l.slice(2)));
  lines.push(...foldedBody(f, names));
  lines.push(')');
  return lines;
}

/** A folded instruction: `(op operand…)`, its operands the instructions that pushed what it pops. */
interface Folded {
  readonly head: string;
  readonly args: readonly Folded[];
}

const foldedText = (n: Folded): string => `(${[n.head, ...n.args.map(foldedText)].join(' ')})`;

/**
 * A folded instruction on one line where it fits the width (with the `closing` parentheses
 * that end its parents; measured two spaces in, where printWat puts it), else its operands on
 * lines of their own, one level in.
 */
function foldedLines(n: Folded, depth: number, closing = ''): string[] {
  const pad = '  '.repeat(depth);
  const one = `${pad}${foldedText(n)}${closing}`;
  if (one.length + 2 <= WIDTH || n.args.length === 0) return [one];
  const last = n.args.length - 1;
  return [`${pad}(${n.head}`, ...n.args.flatMap((a, i) => foldedLines(a, depth + 1, i === last ? `)${closing}` : ''))];
}

const BINARY_OP = /\.(eq|lt_s|gt_s|ge_s|lt|gt|ge|add|sub|mul|div_s|rem_s|div|and|or|shl|shr_s|min|max|pmin|pmax)$/;
const UNARY_OP = /\.(eqz|abs|neg|nearest|sqrt|convert_\w+|reinterpret_\w+|trunc_sat_\w+|extract_lane|splat|load|load32_splat)$/;

/** What an instruction pops and whether it pushes a value (`block`, `loop`, `if`, `else`, `end` are structure). */
function stackEffect(ins: Instr, params: (func: number) => number): { pops: number; pushes: boolean } {
  const { op } = ins;
  if (op === 'local.get' || op.endsWith('.const')) return { pops: 0, pushes: true };
  if (op === 'local.tee') return { pops: 1, pushes: true };
  if (op === 'local.set' || op === 'br_if') return { pops: 1, pushes: false };
  if (op === 'br') return { pops: 0, pushes: false };
  if (op === 'call') return { pops: params(ins.index!), pushes: false };
  if (op === 'select' || op === 'v128.bitselect') return { pops: 3, pushes: true };
  if (op.endsWith('.store')) return { pops: 2, pushes: false };
  if (BINARY_OP.test(op)) return { pops: 2, pushes: true };
  if (UNARY_OP.test(op)) return { pops: 1, pushes: true };
  throw new Error(`internal: no stack effect known for ${op}`);
}

/**
 * A function body in the folded form: each statement one S-expression whose operands are the
 * expressions that compute them (`(f32.store (local.get $i) (f32.add …))`), blocks and loops
 * as `(block $l …)`, an `if` as `(if $l condition (then …) (else …))`. It assembles to the
 * same bytes as the flat list: operands are printed in the order they were pushed, and values
 * left waiting on the stack across a statement are printed before it.
 */
function foldedBody(f: WasmFunction, names: { func: (i: number) => string; params?: (i: number) => number }): string[] {
  const out: string[] = [];
  const frames: ('block' | 'if')[] = [];
  let depth = 1;
  let pending: Folded[] = [];
  const pad = (d: number) => '  '.repeat(d);
  const flush = () => {
    pending.forEach((n) => out.push(...foldedLines(n, depth)));
    pending = [];
  };
  const take = (count: number): Folded[] => {
    const args = pending.slice(Math.max(0, pending.length - count));
    pending = pending.slice(0, pending.length - args.length);
    return args;
  };
  for (const ins of f.body) {
    if (ins.op === ';;') {
      flush();
      out.push(`${pad(depth)};; ${commentText(ins.text!)}`);
      continue;
    }
    const head = instrText(ins, f, names);
    switch (ins.op) {
      case 'block': case 'loop':
        flush();
        out.push(`${pad(depth)}(${head}`);
        frames.push('block');
        depth++;
        continue;
      case 'if': {
        const cond = take(1);
        flush();
        const first = `${pad(depth)}(${head}${cond.length ? ` ${foldedText(cond[0])}` : ''}`;
        if (cond.length && first.length + 2 > WIDTH) out.push(`${pad(depth)}(${head}`, ...foldedLines(cond[0], depth + 1));
        else out.push(first);
        out.push(`${pad(depth + 1)}(then`);
        frames.push('if');
        depth += 2;
        continue;
      }
      case 'else':
        flush();
        out.push(`${pad(depth - 1)})`, `${pad(depth - 1)}(else`);
        continue;
      case 'end':
        flush();
        if (frames.pop() === 'if') {
          depth -= 2;
          out.push(`${pad(depth + 1)})`, `${pad(depth)})`);
        } else {
          depth--;
          out.push(`${pad(depth)})`);
        }
        continue;
    }
    const { pops, pushes } = stackEffect(ins, names.params ?? (() => 0));
    const node: Folded = { head, args: take(pops) };
    if (pushes) pending.push(node);
    else {
      flush();
      out.push(...foldedLines(node, depth));
    }
  }
  flush();
  return out;
}
