/**
 * Activations. Each is one `defineActivation` call: its forward element, and its backward
 * element `g ⊙ act'(·)` written in terms of the input z or, where cheaper, the output a.
 * Adding an activation means adding one entry here (and its tests).
 *
 * Forms are chosen to be finite for every finite input on every backend: sigmoid and tanh
 * are sign-split around exp(−|x|), which never overflows (WGSL's built-in tanh is NaN for
 * |x| ≳ 89 on some implementations).
 */
import { s } from '../ir/scalar.ts';
import { defineActivation } from './define-activation.ts';
import { stableSigmoid } from './scalar-helpers.ts';

/**
 * max(z, 0). Its derivative at exactly 0 is taken as 1 (relu′(z) = 1 for z ≥ 0, else 0), so a
 * unit initialised at zero still learns.
 */
export const relu = defineActivation({
  name: 'relu',
  forward: (z) => s.max(z, 0),
  backwardFrom: 'input',
  backward: (g, z) => s.ifGe(z, 0, g, 0),
});

/** 1 / (1 + e^−z), stably (`stableSigmoid`: 1/(1+e) or e/(1+e) with e = exp(−|z|)). Derivative a(1 − a). */
export const sigmoid = defineActivation({
  name: 'sigmoid',
  forward: stableSigmoid,
  backwardFrom: 'output',
  backward: (g, a) => s.mul(g, s.mul(a, s.sub(1, a))),
});

/** tanh z = sign(z)·(1 − e)/(1 + e) with e = exp(−2|z|). Derivative 1 − a². */
export const tanh = defineActivation({
  name: 'tanh',
  forward: (z) => {
    const e = s.exp(s.mul(-2, s.abs(z)));
    const t = s.div(s.sub(1, e), s.add(1, e));
    return s.ifGe(z, 0, t, s.neg(t));
  },
  backwardFrom: 'output',
  backward: (g, a) => s.mul(g, s.sub(1, s.mul(a, a))),
});

/** e^z, elementwise. Derivative e^z, read from the output. */
export const exp = defineActivation({
  name: 'exp',
  forward: (z) => s.exp(z),
  backwardFrom: 'output',
  backward: (g, a) => s.mul(g, a),
});

/** The natural logarithm, elementwise (−Infinity at 0, NaN below). Derivative 1/z. */
export const log = defineActivation({
  name: 'log',
  forward: (z) => s.log(z),
  backwardFrom: 'input',
  backward: (g, z) => s.div(g, z),
});

/**
 * softsign z = z / (1 + |z|), in (−1, 1) and finite for every finite z. Derivative
 * 1/(1 + |z|)², read from the input (1 − |a| from the output loses its digits as |a| → 1).
 */
export const softsign = defineActivation({
  name: 'softsign',
  forward: (z) => s.div(z, s.add(1, s.abs(z))),
  backwardFrom: 'input',
  backward: (g, z) => {
    const d = s.add(1, s.abs(z));
    return s.div(g, s.mul(d, d));
  },
});
