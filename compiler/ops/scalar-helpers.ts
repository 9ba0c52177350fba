/**
 * Scalar formulas more than one op uses, written once: the numerically stable forms that
 * stay finite for every finite input on every backend (no exp of a large positive value).
 */
import { s, type ScalarExpr } from '../ir/scalar.ts';

/** e^−|z|: in (0, 1], never overflows. */
export const expNegAbs = (z: ScalarExpr): ScalarExpr => s.exp(s.neg(s.abs(z)));

/** σ(z) = 1/(1 + e^−z), as 1/(1 + e) for z ≥ 0 and e/(1 + e) below, with e = e^−|z|. */
export function stableSigmoid(z: ScalarExpr): ScalarExpr {
  const e = expNegAbs(z);
  return s.ifGe(z, 0, s.div(1, s.add(1, e)), s.div(e, s.add(1, e)));
}

/** log(1 + e^−|z|), the softplus-like term of sigmoid cross-entropy and softplus: in (0, log 2]. */
export const log1pExpNegAbs = (z: ScalarExpr): ScalarExpr => s.log(s.add(1, expNegAbs(z)));
