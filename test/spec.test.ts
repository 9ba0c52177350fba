/** Keeps spec/ and the package honest about what the code defines. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../compiler/ops/all.ts';
import { allOps } from '../compiler/ops/registry.ts';
import { VERSION } from '../compiler/version.ts';
import { HELP } from '../compiler/cli/args.ts';

const root = resolve(import.meta.dirname, '..');

describe('spec', () => {
  it('spec/ops.md documents every registered op', () => {
    const ops = readFileSync(resolve(root, 'spec/ops.md'), 'utf8');
    const missing = allOps().map((op) => op.name).filter((name) => !ops.includes(`\`${name}\``));
    expect(allOps().length).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it('generated files carry the package version', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')).version);
  });

  it('spec/abi.md shows every help text as the CLI prints it', () => {
    const abi = readFileSync(resolve(root, 'spec/abi.md'), 'utf8');
    for (const [command, text] of Object.entries(HELP)) expect(abi.includes(`\`\`\`\n${text}\`\`\``), command).toBe(true);
  });
});
