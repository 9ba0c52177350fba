/**
 * Lowered kernels as TypeScript functions. Syntax only: every loop, index and temporary is
 * the lowering's. Values are JS numbers (float64) in locals and float32 in arrays, so sums
 * accumulate in float64; scratch marked `accumulate` is a Float64Array for the same reason.
 */
import type { LoweredKernel } from '../../lowering/lir.ts';
import { printStmts } from '../common/cstyle.ts';
import { JS_SYNTAX } from '../common/js-syntax.ts';
import { functionText } from '../common/ts.ts';

/** JavaScript's spelling of the lowered form (also what host code computes per-step scalars in). */
export { JS_SYNTAX };

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
