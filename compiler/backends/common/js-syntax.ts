/**
 * JavaScript's spelling of the lowered form: what the JS target's kernels are printed in,
 * and what every host module (JS, wasm, WebGPU) computes its per-step scalars in.
 */
import { fromScalar, ref } from '../../lowering/lir.ts';
import type { ModulePlan } from '../../kernels/plan.ts';
import { printExpr, type Syntax } from './cstyle.ts';
import { numberLiteral } from './text.ts';

export const JS_SYNTAX: Syntax = {
  num: (e) => (e.type === 'i32' ? String(e.value) : Number.isFinite(e.value) ? numberLiteral(e.value) : String(e.value)),
  // `!`: an index the lowering made is in range (strict `noUncheckedIndexedAccess` cannot know).
  load: (buf, index) => `${buf}[${index}]!`,
  element: (buf, index) => `${buf}[${index}]`,
  compoundElement: (buf, index) => `${buf}[${index}]!`,
  builtin: (e) => {
    throw new Error(`internal: the JS target has no ${e.name}`);
  },
  call: { exp: 'Math.exp', log: 'Math.log', log1p: 'Math.log1p', sqrt: 'Math.sqrt', abs: 'Math.abs', max: 'Math.max', min: 'Math.min', div: 'Math.trunc' },
  select: (cond, then, otherwise) => ({ text: `${cond} ? ${then} : ${otherwise}`, prec: 3 }),
  let: (name, value) => `const ${name} = ${value};`,
  var: (name, value) => `let ${name} = ${value};`,
  declareMany: (kind, decls) => `${kind === 'let' ? 'const' : 'let'} ${decls.map(([n, v]) => `${n} = ${v}`).join(', ')};`,
  loop: (i, start, end, step) => `for (let ${i} = ${start}; ${i} < ${end}; ${step === 1 ? `${i}++` : `${i} += ${step}`}) {`,
  get barrier(): string {
    throw new Error('internal: the JS target has no barriers');
  },
};

/** The JS expression of an optimizer's per-step scalar, from `learningRate` (and the step count `t`). */
export function stepScalarText(plan: ModulePlan, name: string): string {
  const def = plan.optimizer!.scalars.find((s) => s.name === name)!;
  return printExpr(fromScalar(def.expr, [ref('learningRate', 'f32'), ref('t', 'f32')]), JS_SYNTAX);
}
