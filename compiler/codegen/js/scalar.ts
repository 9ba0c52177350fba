/** Renders scalar trees as JavaScript (float64 arithmetic; results stored to Float32Arrays). */
import type { Renderer } from '../../ir/scalar.ts';
import { numberLiteral } from '../text.ts';

const BINARY = { add: '+', sub: '-', mul: '*', div: '/' } as const;

export function jsRenderer(arg: (index: number) => string): Renderer {
  return {
    arg,
    num: (v) => (v < 0 || Object.is(v, -0) ? `(${numberLiteral(v)})` : numberLiteral(v)),
    unary: (fn, a) => (fn === 'neg' ? `(-${a})` : `Math.${fn}(${a})`),
    binary: (fn, a, b) => (fn === 'max' || fn === 'min' ? `Math.${fn}(${a}, ${b})` : `(${a} ${BINARY[fn]} ${b})`),
    select: (cmp, a, b, then, otherwise) => `(${a} ${cmp === 'ge' ? '>=' : '>'} ${b} ? ${then} : ${otherwise})`,
  };
}
