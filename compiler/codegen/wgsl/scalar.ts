/** Renders scalar trees as WGSL f32 expressions. */
import { GradcError } from '../../errors.ts';
import type { Renderer } from '../../ir/scalar.ts';
import { numberKey } from '../../ir/scalar.ts';

const BINARY = { add: '+', sub: '-', mul: '*', div: '/' } as const;
const F32_MAX = 3.4028234663852886e38;

/** An f32 literal (`0.5f`, `1e-7f`); WGSL has no literal for values beyond f32's range. */
export function f32Literal(v: number): string {
  if (!Number.isFinite(v) || Math.abs(v) > F32_MAX) throw new GradcError('wgsl', `the constant ${v} is not representable as f32`);
  const text = `${numberKey(Math.abs(v))}f`;
  return v < 0 || Object.is(v, -0) ? `(-${text})` : text;
}

export function wgslRenderer(arg: (index: number) => string): Renderer {
  return {
    arg,
    num: f32Literal,
    unary: (fn, a) => (fn === 'neg' ? `(-${a})` : `${fn}(${a})`),
    binary: (fn, a, b) => (fn === 'max' || fn === 'min' ? `${fn}(${a}, ${b})` : `(${a} ${BINARY[fn]} ${b})`),
    select: (cmp, a, b, then, otherwise) => `select(${otherwise}, ${then}, ${a} ${cmp === 'ge' ? '>=' : '>'} ${b})`,
  };
}
