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

  it('covers the mutations issue 13 names', () => {
    expect(MUTATIONS.map((m) => m.name)).toEqual([
      'sigmoid′ = a', 'tanh′ = 1 − a', 'relu′(0) = 0', "the squared loss's 1/B dropped, forward and backward",
      'dW transposed (laid out as its transpose)', 'the SGD sign flipped (θ + α·g)', 'sigmoid′ × 1.02',
    ]);
  });
});
