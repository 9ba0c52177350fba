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

/**
 * log(1 + e^−|z|), the softplus-like term of sigmoid cross-entropy: in (0, log 2]. As log1p,
 * so that it stays e^−|z| where that is below f32's epsilon (|z| > 16.6), where log(1 + e)
 * would round 1 + e to 1 and give 0.
 */
export const log1pExpNegAbs = (z: ScalarExpr): ScalarExpr => s.log1p(expNegAbs(z));
