/**
 * Lowered kernels as WGSL compute entry points. Syntax only, plus the one mapping WGSL
 * needs: each buffer param of a kernel is a place in one of the module's storage buffers
 * (bound by role), so a load becomes `arena[i + 192u]`, and each kernel scalar is a field of
 * the per-step uniform `hyper`. Indices are u32.
 */
import { GradcError } from '../../errors.ts';
import { numberKey } from '../../ir/scalar.ts';
import type { BufferParam, Expr, LoweredKernel, Stmt } from '../../lowering/lir.ts';
import { F32_MAX, add, div, int, mapExpr, rem } from '../../lowering/lir.ts';
import { divideIndex, simplifyExpr, splitIndex } from '../../lowering/simplify.ts';
import { printExpr, printStmts, type Syntax } from '../common/cstyle.ts';
import { commentLines } from '../common/text.ts';


/**
 * An f32 literal (`0.5f`). WGSL has no infinities: its constant evaluation rejects them, and a
 * shader may assume none occur. ±Infinity (the identity of a max or min) becomes the largest
 * finite f32 of its sign, which is the same identity for every finite value.
 */
export function f32Literal(v: number): string {
  if (Math.abs(v) === Infinity) return f32Literal(Math.sign(v) * F32_MAX);
  if (!Number.isFinite(v) || Math.abs(v) > F32_MAX) throw new GradcError('wgsl', `the constant ${v} is not representable as f32`);
  const text = `${numberKey(Math.abs(v))}f`;
  return v < 0 || Object.is(v, -0) ? `-${text}` : text;
}

const BUILTINS: Record<string, string> = {
  'workgroup.x': 'wg.x', 'workgroup.y': 'wg.y', 'workgroup.z': 'wg.z', 'local.x': 'lid.x', 'local.y': 'lid.y', 'local.z': 'lid.z',
};

export const WGSL_SYNTAX: Syntax = {
  num: (e) => (e.type === 'i32' ? `${e.value}u` : f32Literal(e.value)),
  load: (buf, index) => `${buf}[${index}]`,
  element: (buf, index) => `${buf}[${index}]`,
  builtin: (e) => BUILTINS[e.name],
  call: { exp: 'exp', log: 'log', sqrt: 'sqrt', abs: 'abs', max: 'max', min: 'min', splat: 'vec4<f32>', vec: 'vec4<f32>' },
  select: (cond, then, otherwise) => ({ text: `select(${otherwise}, ${then}, ${cond})`, prec: 20 }),
  let: (name, value) => `let ${name} = ${value};`,
  var: (name, value) => `var ${name} = ${value};`,
  loop: (i, start, end, step) => `for (var ${i} = ${start}; ${i} < ${end}; ${step === 1 ? `${i}++` : `${i} += ${step}u`}) {`,
  barrier: 'workgroupBarrier();',
};

/** Where the module keeps each buffer param: the storage variable and the offset in it. */
export interface Placement {
  variable(b: BufferParam): string;
  /** Offset of a scratch array in the scratch buffer. */
  scratchOffset(name: string): number;
}

export function renderWgslKernel(k: LoweredKernel, name: string, place: Placement): string {
  const grid = k.grid;
  if (!grid) throw new Error(`internal: kernel ${k.name} was not lowered for a GPU`);
  const buffers = new Map(k.buffers.map((b) => [b.name, { variable: place.variable(b), offset: b.slot!.offset }]));
  for (const s of k.scratch) if (!s.scope) buffers.set(s.name, { variable: 'scratch', offset: place.scratchOffset(s.name) });
  const scalars = new Set(k.scalars.map((s) => s.name));
  const body = relocate(k.body, buffers, scalars);
  // Arrays of vec4 (workgroup tiles, register tiles): an index in floats picks the vector, then the lane.
  const vectors = new Set([...grid.shared, ...k.scratch].filter((s) => s.vector).map((s) => s.name));
  const syntax: Syntax = {
    ...WGSL_SYNTAX,
    load: (buf, index, e) => (vectors.has(buf) ? vectorElement(buf, e.index, e.type === 'f32x4', syntax) : `${buf}[${index}]`),
    element: (buf, index, st) => (vectors.has(buf) ? vectorElement(buf, st.index, st.value.type === 'f32x4', syntax) : `${buf}[${index}]`),
  };
  const locals = k.scratch.filter((s) => s.scope === 'invocation')
    .map((s) => `  var ${s.name}: array<${s.vector ? 'vec4<f32>' : 'f32'}, ${s.vector ? s.length / 4 : s.length}>;`);
  return [
    ...k.doc.flatMap((l) => commentLines('// ', l)),
    `// dispatch (${grid.workgroups.join(', ')})`,
    `@compute @workgroup_size(${grid.workgroupSize.filter((d, i) => i === 0 || d > 1).join(', ')})`,
    `fn ${name}(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {`,
    ...locals,
    ...printStmts(body, syntax, '  '),
    '}',
  ].join('\n');
}

/**
 * Element `index` (in floats) of an array of vec4: the vector (`whole`, at an index the
 * lowering keeps a multiple of 4), or one lane: `As[kk * 8u + i / 4u][i % 4u]` where the index
 * is `kk·32 + i` (a register tile's cell is read as a lane of its vector: `acc[r][j]`).
 */
function vectorElement(buf: string, index: Expr, whole: boolean, syntax: Syntax): string {
  const text = (e: Expr) => printExpr(e, syntax);
  if (whole) {
    const q = divideIndex(index, 4);
    return q ? `${buf}[${text(q)}]` : `${buf}[(${text(index)}) >> 2u]`;
  }
  const split = splitIndex(index, 4);
  if (split && !split.r) return `${buf}[${text(split.q)}][0u]`;
  if (split?.r) {
    const r = split.r;
    if (r.k === 'num') return `${buf}[${text(split.q)}][${r.value}u]`;
    const q = simplifyExpr(add(split.q, div(r, 4)));
    return `${buf}[${text(q)}][${text(rem(r, 4))}]`;
  }
  return `${buf}[(${text(index)}) >> 2u][(${text(index)}) & 3u]`;
}

/** Loads and stores of buffer params into their storage variables, at their offsets; scalars from `hyper`. */
function relocate(body: readonly Stmt[], buffers: ReadonlyMap<string, { variable: string; offset: number }>, scalars: ReadonlySet<string>): Stmt[] {
  const at = (buf: string, index: Expr) => {
    const b = buffers.get(buf);
    return b ? { buf: b.variable, index: simplifyExpr(add(index, int(b.offset))) } : { buf, index };
  };
  const expr = (e: Expr) => mapExpr(e, (x) => {
    if (x.k === 'load') return { ...x, ...at(x.buf, x.index) };
    if (x.k === 'ref' && scalars.has(x.name)) return { ...x, name: `hyper.${x.name}` };
    return x;
  });
  return body.map((st): Stmt => {
    switch (st.k) {
      case 'let': case 'var': case 'assign': return { ...st, value: expr(st.value) };
      case 'store': {
        const target = at(st.buf, expr(st.index));
        return { ...st, buf: target.buf, index: target.index, value: expr(st.value) };
      }
      case 'loop': return { ...st, start: expr(st.start), end: expr(st.end), body: relocate(st.body, buffers, scalars) };
      case 'if': return { ...st, cond: expr(st.cond), then: relocate(st.then, buffers, scalars), otherwise: relocate(st.otherwise, buffers, scalars) };
      case 'block': case 'group': return { ...st, body: relocate(st.body, buffers, scalars) };
      case 'barrier': case 'comment': return st;
    }
  });
}
