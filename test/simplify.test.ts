import { describe, expect, it } from 'vitest';
import { simplifyBody } from '../compiler/lowering/simplify.ts';
import { add, and, assign, compare, float, load, loop, ref, store, var_, when } from '../compiler/lowering/lir.ts';
import type { Stmt } from '../compiler/lowering/lir.ts';

// for r { for j { if (row0 + r < rows && col0 + j < 10) { out[…] = 1 } } }, with `extra` joined to the guard.
const tile = (extra?: ReturnType<typeof compare>, body: Stmt[] = [store('out', add(ref('r'), ref('j')), float(1))]): Stmt[] => {
  const rowOk = compare('lt', add(ref('row0'), ref('r')), ref('rows'));
  const colOk = compare('lt', add(ref('col0'), ref('j')), 10);
  return [loop('r', 4, [loop('j', 4, [when(extra ? and(and(rowOk, colOk), extra) : and(rowOk, colOk), body)])])];
};

describe('simplifyBody: loop-invariant guards', () => {
  it('checks a row guard once per row, outside the column loop, and keeps the column guard inside', () => {
    const [outer] = simplifyBody(tile());
    expect(outer.k).toBe('loop');
    const [guard] = (outer as Extract<Stmt, { k: 'loop' }>).body;
    expect(guard).toMatchObject({ k: 'if', cond: { k: 'compare', a: { k: 'binary', a: { name: 'row0' }, b: { name: 'r' } } } });
    const [inner] = (guard as Extract<Stmt, { k: 'if' }>).then;
    expect(inner).toMatchObject({ k: 'loop', index: 'j', body: [{ k: 'if', cond: { k: 'compare', a: { k: 'binary', a: { name: 'col0' } } } }] });
  });

  it('leaves in the loop a guard that reads memory or a variable the loop assigns', () => {
    const memory = simplifyBody(tile(compare('lt', load('flags', ref('r')), float(1))));
    const inner = (memory[0] as Extract<Stmt, { k: 'loop' }>).body[0] as Extract<Stmt, { k: 'if' }>;
    // The row guard leaves; the load (the same for every j) stays with the column guard.
    expect(JSON.stringify((inner.then[0] as Extract<Stmt, { k: 'loop' }>).body)).toContain('"buf":"flags"');
    const assigned = simplifyBody([var_('s', float(0)), ...tile(compare('lt', ref('s', 'f32'), float(1)), [assign('s', float(2))])]);
    const rowLoop = assigned[1] as Extract<Stmt, { k: 'loop' }>;
    const rowIf = rowLoop.body[0] as Extract<Stmt, { k: 'if' }>;
    expect(JSON.stringify((rowIf.then[0] as Extract<Stmt, { k: 'loop' }>).body)).toContain('"name":"s"');
  });
});
