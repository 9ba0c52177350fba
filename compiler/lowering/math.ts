/**
 * exp, log and log1p for targets that have no instruction for them (WebAssembly has none of
 * them, scalar or SIMD; WGSL has no log1p): each is an expression over arithmetic, rounding
 * and bit operations, built once here for f32 and f32x4 alike, so the scalar tails of a kernel
 * compute exactly what its vector lanes do. `approximateMath` replaces the calls a target
 * lists (`LoweringParams.approximateMath`) by them.
 *
 * exp x = 2ⁿ·eʳ with n = round(x·log₂e) and r = x − n·ln2 (ln2 in two parts, Cody–Waite, so r
 * is exact), eʳ by a degree-7 polynomial on |r| ≤ ½ln2 (Cephes' expf coefficients), 2ⁿ built
 * in the exponent bits. x is first clamped to [−87.5, 88.75], which makes the ends saturate
 * exactly: below −86.99 (where eˣ < 1.8e−38, about the smallest normal f32) the result is 0,
 * above 88.7228 (where eˣ > the largest f32) it is +∞; NaN stays NaN. Relative error: see
 * `EXP_MAX_ERROR` (about one ulp).
 *
 * log x = e·ln2 + log1p(f), with x = m·2ᵉ split at m ∈ [√½, √2) by integer arithmetic on the
 * bits and f = m − 1, log1p by Cephes' logf polynomial. log 0 = −∞, log x<0 = NaN, log ∞ = ∞,
 * NaN stays NaN; subnormal x are scaled by 2²³ first. Relative error: `LOG_MAX_ERROR`.
 *
 * log1p x = log(1 + x) without rounding a small x away: for x in [√½ − 1, √2 − 1) the same
 * polynomial log uses, on x itself (1 + x is never formed); elsewhere log(1 + x), where 1 + x
 * is at most √½ or at least √2, so |log(1 + x)| ≥ 0.34 and the rounding of 1 + x (2⁻²⁴
 * relative) moves it by at most 2⁻²⁴/0.34 relatively. `log` there is the target's own (WGSL)
 * or `logApprox` (wasm). Relative error: `LOG1P_MAX_ERROR`. log1p(−1) = −∞, NaN below −1.
 *
 * Pinned by test/wasm-math.test.ts, which runs these expressions through the wasm backend
 * over dense samples of the whole f32 range and checks the bounds below against float64.
 */
import type { Expr, Stmt, Type } from './lir.ts';
import { children, compareOf, isVector, mapExpr, mapStmts, numLike, selectOf, shareSubtrees, typed, unary } from './lir.ts';

/**
 * Bound on the relative error of `expApprox` against float64 exp, over x in [−86.9, 88.7]:
 * one f32 epsilon (2⁻²³); measured 1.01e−7 (test/wasm-math.test.ts), the result's own rounding included.
 */
export const EXP_MAX_ERROR = 1.2e-7;
/**
 * Bound on the relative error of `logApprox` against float64 log, over positive f32 away from
 * 1 (normal and subnormal; near 1 the absolute error is below 1e−9): measured 7.7e−8.
 */
export const LOG_MAX_ERROR = 1e-7;

/**
 * Bound on the relative error of `log1pApprox` with `logApprox` (wasm) against float64 log1p,
 * over x in (−1, f32 max]: measured 1.80e−7, just below √½ − 1 where log(1 + x) takes over (test/wasm-math.test.ts).
 */
export const LOG1P_MAX_ERROR = 2e-7;

/** Where `expApprox` clamps its argument: n = round(x·log₂e) then stays in [−126, 128]. */
export const EXP_CLAMP = { low: -87.5, high: 88.75 } as const;

const LOG2E = 1.4426950408889634;
/** ln 2 = LN2_HI + LN2_LO, LN2_HI with 9 significant bits: n·LN2_HI is exact for |n| ≤ 128. */
const LN2_HI = 0.693359375;
const LN2_LO = -2.12194440e-4;
/** eʳ ≈ 1 + r + r²·P(r) on |r| ≤ ½ln2 (Cephes expf). */
const EXP_POLY = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
/** log1p(f) ≈ f − f²/2 + f³·Q(f) on f ∈ [√½ − 1, √2 − 1] (Cephes logf). */
const LOG_POLY = [7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1];
/** The bits of √½ (0x3f3504f3): subtracting them splits x's bits into an exponent and m ∈ [√½, √2). */
const SQRT_HALF_BITS = 0x3f3504f3;
const SMALLEST_NORMAL = 1.1754943508222875e-38;

/** Arithmetic in the type of `like` (f32 or f32x4), with its integer counterpart. */
function arith(like: Type) {
  const vector = isVector(like);
  const int: Type = vector ? 'i32x4' : 'i32';
  const num = (v: number) => numLike(v, like);
  const inum = (v: number) => numLike(v, int);
  const add = (a: Expr, b: Expr) => typed('add', a, b);
  const sub = (a: Expr, b: Expr) => typed('sub', a, b);
  const mul = (a: Expr, b: Expr) => typed('mul', a, b);
  /** Horner's scheme: ((c₀·x + c₁)·x + …) + cₙ. */
  const horner = (coefs: readonly number[], x: Expr) => coefs.slice(1).reduce((p, c) => add(mul(p, x), num(c)), num(coefs[0]));
  return {
    num, inum, add, sub, mul, horner,
    /** max(x, lo) then min(·, hi), keeping NaN (one instruction each on vectors). */
    clamp: (x: Expr, lo: number, hi: number) => typed(vector ? 'pmin' : 'min', typed(vector ? 'pmax' : 'max', x, num(lo)), num(hi)),
    toInt: (x: Expr): Expr => ({ k: 'convert', a: x, type: vector ? 'i32x4' : 'i32' }),
    toFloat: (x: Expr): Expr => ({ k: 'convert', a: x, type: vector ? 'f32x4' : 'f32' }),
    bitsOf: (x: Expr): Expr => ({ k: 'bitcast', a: x, type: vector ? 'i32x4' : 'i32' }),
    fromBits: (x: Expr): Expr => ({ k: 'bitcast', a: x, type: vector ? 'f32x4' : 'f32' }),
  };
}

/** eˣ for an f32 or f32x4 `x` (see the file comment). */
export function expApprox(x: Expr): Expr {
  const o = arith(x.type);
  const c = o.clamp(x, EXP_CLAMP.low, EXP_CLAMP.high);
  const n = unary('nearest', o.mul(c, o.num(LOG2E)));
  const r = o.sub(o.sub(c, o.mul(n, o.num(LN2_HI))), o.mul(n, o.num(LN2_LO)));
  const er = o.add(o.add(o.mul(o.mul(r, r), o.horner(EXP_POLY, r)), r), o.num(1));
  // 2ⁿ as 2ⁿ⁻¹·2: n = 128 (x near the top) stays finite until the last multiply, n = −126 is 0.
  const half = o.fromBits(typed('shl', o.add(o.toInt(n), o.inum(126)), { k: 'num', type: 'i32', value: 23 }));
  return o.mul(o.mul(er, half), o.num(2));
}

/** log x for an f32 or f32x4 `x` (see the file comment). */
export function logApprox(x: Expr): Expr {
  const o = arith(x.type);
  const subnormal = compareOf('lt', x, o.num(SMALLEST_NORMAL));
  const scaled = selectOf(subnormal, o.mul(x, o.num(2 ** 23)), x);
  const shifted = o.sub(o.bitsOf(scaled), o.inum(SQRT_HALF_BITS));
  const e = o.add(o.toFloat(typed('shr', shifted, { k: 'num', type: 'i32', value: 23 })), selectOf(subnormal, o.num(-23), o.num(0)));
  const m = o.fromBits(o.add(typed('bitand', shifted, o.inum(0x007fffff)), o.inum(SQRT_HALF_BITS)));
  const f = o.sub(m, o.num(1));
  const z = o.mul(f, f);
  const y = o.sub(o.add(o.mul(o.mul(o.horner(LOG_POLY, f), f), z), o.mul(e, o.num(LN2_LO))), o.mul(z, o.num(0.5)));
  const finite = o.add(o.add(f, y), o.mul(e, o.num(LN2_HI)));
  // Outside (0, ∞): log 0 = −∞, log ∞ = ∞, and NaN for negative x or NaN (x ≥ 0 fails).
  const special = selectOf(compareOf('eq', x, o.num(0)), o.num(-Infinity), selectOf(compareOf('eq', x, o.num(Infinity)), x, finite));
  return selectOf(compareOf('ge', x, o.num(0)), special, o.num(NaN));
}

/** log(1 + x) for an f32 or f32x4 `x` (see the file comment); its `log` is left to the target. */
export function log1pApprox(x: Expr): Expr {
  const o = arith(x.type);
  const z = o.mul(x, x);
  const near = o.add(x, o.sub(o.mul(o.mul(o.horner(LOG_POLY, x), x), z), o.mul(z, o.num(0.5))));
  const far = unary('log', o.add(o.num(1), x));
  const inside = selectOf(compareOf('lt', x, o.num(Math.SQRT2 - 1)), near, far);
  return selectOf(compareOf('ge', x, o.num(Math.SQRT1_2 - 1)), inside, far);
}

/** The calls `math.ts` can approximate. */
export type ApproximatedFn = 'exp' | 'log' | 'log1p';
const APPROXIMATIONS: Readonly<Record<ApproximatedFn, (x: Expr) => Expr>> = { exp: expApprox, log: logApprox, log1p: log1pApprox };

/**
 * Every call of `fns` in a lowered body replaced by its approximation (f32 and f32x4 alike);
 * an approximation's own calls (log1p's `log`) are approximated too where `fns` lists them.
 * With `bindShared` (a target that prints expressions as trees), each statement's repeated
 * subtrees are bound to lets `m<i>` first, so an approximation's argument is computed once.
 */
export function approximateMath(body: readonly Stmt[], fns: readonly ApproximatedFn[] = ['exp', 'log', 'log1p'], bindShared = false): Stmt[] {
  const wanted = new Set<string>(fns);
  const replace = (e: Expr): Expr => mapExpr(e, (x) => (x.k === 'unary' && wanted.has(x.fn) ? replace(APPROXIMATIONS[x.fn as ApproximatedFn](x.a)) : x));
  if (!bindShared) return mapStmts(body, replace);
  const calls = (e: Expr): boolean => (e.k === 'unary' && wanted.has(e.fn)) || children(e).some(calls);
  let next = 0;
  const bound = (exprs: Expr[]) => shareSubtrees(exprs.map(replace), () => `m${next++}`);
  const go = (list: readonly Stmt[]): Stmt[] => list.flatMap((st): Stmt[] => {
    switch (st.k) {
      case 'loop': return [{ ...st, start: replace(st.start), end: replace(st.end), body: go(st.body) }];
      case 'block': case 'group': return [{ ...st, body: go(st.body) }];
      case 'if': return [{ ...st, cond: replace(st.cond), then: go(st.then), otherwise: go(st.otherwise) }];
      case 'let': case 'var': case 'assign': {
        if (!calls(st.value)) return [st];
        const { lets, exprs } = bound([st.value]);
        return [...lets, { ...st, value: exprs[0] }];
      }
      case 'store': {
        if (!calls(st.value) && !calls(st.index)) return [st];
        const { lets, exprs } = bound([st.index, st.value]);
        return [...lets, { ...st, index: exprs[0], value: exprs[1] }];
      }
      default: return [st];
    }
  });
  return go(body);
}
