/**
 * Lanewise statements: one element's statements turned into those of `LANES` consecutive
 * elements, in f32x4. Used by the SIMD strategy (simd.ts) and the optimizer's update on a
 * vector target (update.ts), so neither imports the other.
 */
import type { Expr, Stmt } from './lir.ts';
import { exprKey, isVector, load, mapChildren, mapExpr, numLike, ref, splat } from './lir.ts';

/**
 * Statements computing one element, turned into statements computing `LANES` consecutive
 * ones: loads and stores must be at indices for which `advances` holds (they step by one per
 * lane; i32 lets, shared index arithmetic, are seen through) and become vector loads and
 * stores, loads at indices for which `invariant` holds are one value for every lane (splat); f32 names not declared by `stmts` (hoisted scalar reads, kernel scalars) and
 * numbers are splat, and every operation becomes its vector form. `exprs` (reduction terms)
 * are turned alike, in the same scope.
 */
export function vectorizeStmts(
  stmts: readonly Stmt[], exprs: readonly Expr[], advances: (index: Expr) => boolean, invariant: (index: Expr) => boolean = () => false,
): { stmts: Stmt[]; exprs: Expr[] } {
  const local = new Set<string>();
  // Index arithmetic stays scalar: an i32 let (a shared index) is judged by what it binds.
  const indices = new Map<string, Expr>();
  const expand = (i: Expr) => mapExpr(i, (x) => (x.k === 'ref' && indices.has(x.name) ? indices.get(x.name)! : x));
  const along = (i: Expr) => advances(expand(i));
  const same = (i: Expr) => invariant(expand(i));
  const memo = new Map<Expr, Expr>();
  const vec = (e: Expr): Expr => {
    const hit = memo.get(e);
    if (hit) return hit;
    let out: Expr;
    if (isVector(e.type)) out = e;
    // A load the lanes share (a column-broadcast argument, read at the row) is one value, splat.
    else if (e.k === 'load' && same(e.index)) out = splat(e);
    else if (e.k === 'load') {
      if (!along(e.index)) throw new Error(`internal: a vectorized load of ${e.buf} at an index that does not advance by lane`);
      out = load(e.buf, e.index, 'f32x4');
    }
    else if (e.k === 'ref') out = local.has(e.name) ? ref(e.name, 'f32x4') : splat(e);
    else if (e.k === 'num') out = numLike(e.value, 'f32x4');
    else if (e.k === 'compare') out = { ...e, a: vec(e.a), b: vec(e.b), type: 'boolx4' };
    else if (e.type === 'f32') out = { ...mapChildren(e, vec), type: 'f32x4' } as Expr;
    else throw new Error(`internal: cannot vectorize a ${e.type} ${e.k}: ${exprKey(e)}`);
    memo.set(e, out);
    return out;
  };
  const out = stmts.map((st): Stmt => {
    switch (st.k) {
      case 'let': {
        if (st.value.type === 'i32') {
          indices.set(st.name, expand(st.value));
          return st;
        }
        const value = vec(st.value);
        local.add(st.name);
        return { ...st, value };
      }
      case 'store':
        if (!along(st.index)) throw new Error(`internal: a vectorized store to ${st.buf} at an index that does not advance by lane`);
        return { ...st, value: vec(st.value) };
      default: throw new Error(`internal: cannot vectorize a ${st.k} statement`);
    }
  });
  return { stmts: out, exprs: exprs.map(vec) };
}
