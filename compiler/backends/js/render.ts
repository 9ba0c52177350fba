/**
 * Lowered kernels as TypeScript functions. Syntax only: every loop, index and temporary is
 * the lowering's. Values are JS numbers (float64) in locals and float32 in arrays, so sums
 * accumulate in float64; scratch marked `accumulate` is a Float64Array for the same reason.
 */
import type { LoweredKernel } from '../../lowering/lir.ts';
import { printStmts, type Syntax } from '../common/cstyle.ts';
import { numberLiteral } from '../common/text.ts';
import { functionText } from '../common/ts.ts';

export const JS_SYNTAX: Syntax = {
  num: (e) => (e.type === 'i32' ? String(e.value) : Number.isFinite(e.value) ? numberLiteral(e.value) : String(e.value)),
  // `!`: an index the lowering made is in range (strict `noUncheckedIndexedAccess` cannot know).
  load: (buf, index) => `${buf}[${index}]!`,
  element: (buf, index) => `${buf}[${index}]`,
  compoundElement: (buf, index) => `${buf}[${index}]!`,
  builtin: (e) => {
    throw new Error(`internal: the JS target has no ${e.name}`);
  },
  call: { exp: 'Math.exp', log: 'Math.log', sqrt: 'Math.sqrt', abs: 'Math.abs', max: 'Math.max', min: 'Math.min', div: 'Math.trunc' },
  select: (cond, then, otherwise) => ({ text: `${cond} ? ${then} : ${otherwise}`, prec: 3 }),
  let: (name, value) => `const ${name} = ${value};`,
  var: (name, value) => `let ${name} = ${value};`,
  declareMany: (kind, decls) => `${kind === 'let' ? 'const' : 'let'} ${decls.map(([n, v]) => `${n} = ${v}`).join(', ')};`,
  loop: (i, start, end, step) => `for (let ${i} = ${start}; ${i} < ${end}; ${step === 1 ? `${i}++` : `${i} += ${step}`}) {`,
  get barrier(): string {
    throw new Error('internal: the JS target has no barriers');
  },
};

/** A kernel as a function named `name` over its buffers (Float32Arrays) and scalars. */
export function renderJsKernel(k: LoweredKernel, name: string): string[] {
  if (k.grid) throw new Error(`internal: kernel ${k.name} was lowered for a GPU`);
  return functionText({
    name,
    doc: k.doc,
    params: [...k.buffers.map((b) => ({ name: b.name, type: 'Float32Array' })), ...k.scalars.map((s) => ({ name: s.name, type: 'number' }))],
    returns: 'void',
    body: printStmts(k.body, JS_SYNTAX),
  });
}
