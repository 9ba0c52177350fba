/**
 * The mutation audit's deliberate bugs (test/support/mutations.ts) must keep applying to the
 * compiler's sources: when the code they patch changes, this fails, rather than
 * `npm run mutations` quietly auditing nothing. The audit itself takes minutes and is run by
 * hand (see README, Reliability).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MUTATIONS, applyPatch, mutatedFiles } from './support/mutations.ts';

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

describe('the mutation audit', () => {
  it.each(MUTATIONS.map((m) => [m.name, m] as const))('%s still applies, exactly once, and changes the source', (_, m) => {
    const changed = mutatedFiles(m, read);
    expect(changed.size).toBeGreaterThan(0);
    for (const [file, text] of changed) expect(text, file).not.toBe(read(file));
  });

  it('a patch whose text is gone, or is there twice, is an error naming the file', () => {
    expect(() => applyPatch('abc', { file: 'f.ts', find: 'x', replace: 'y' })).toThrow(/^f\.ts: the mutation's text occurs nowhere/);
    expect(() => applyPatch('aa', { file: 'f.ts', find: 'a', replace: 'b' })).toThrow(/^f\.ts: the mutation's text occurs more than once/);
  });

  it('covers the mutations issues 13 and 23 name, and one wrong derivative for every op of the table with a pullback', async () => {
    await import('../compiler/ops/all.ts');
    const { allOps } = await import('../compiler/ir/op-registry.ts');
    const names = MUTATIONS.map((m) => m.name);
    for (const op of allOps().filter((o) => o.vjp && o.name !== 'stop_gradient')) {
      expect(names.some((n) => n.startsWith(`${op.name}′`) || n.startsWith(`${op.name} (`) || n.startsWith(`${op.name}′ `)), op.name).toBe(true);
    }
    expect(names).toEqual(expect.arrayContaining([
      "softmax CE's label derivative sign flipped", "sigmoid CE's label derivative sign flipped", 'log-sum-exp not max-subtracted: log(Σ exp(z))',
      'safetensors data allowed to end up to 4 bytes short',
    ]));
    expect(names.slice(0, 7)).toEqual([
      'sigmoid′ = a', 'tanh′ = 1 − a', 'relu′(0) = 0', "the squared loss's 1/B dropped, forward and backward",
      'dW transposed (laid out as its transpose)', 'the SGD sign flipped (θ + α·g)', 'sigmoid′ × 1.02',
    ]);
  });
});
