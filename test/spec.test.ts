/** Keeps spec/ and the package honest about what the code defines. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../compiler/ops/all.ts';
import { allOps } from '../compiler/ir/op-registry.ts';
import { VERSION } from '../compiler/version.ts';
import { HELP } from '../compiler/cli/args.ts';
import { inspectText } from '../compiler/cli/inspect.ts';
import { compile } from '../compiler/compile.ts';
import * as gradc from '../compiler/index.ts';
import { printGraph } from '../compiler/ir/print.ts';
import housing from '../samples/housing/housing.graph.ts';

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

  it('spec/kernels.md shows the entries and memory of `gradc inspect` of housing as it prints them', () => {
    const kernels = readFileSync(resolve(root, 'spec/kernels.md'), 'utf8');
    const text = inspectText(compile(housing).plan);
    const shown = text.slice(text.indexOf('# forward:'));
    expect(shown.length).toBeGreaterThan(100);
    expect(kernels.includes(`\`\`\`\n${shown}\n\`\`\``)).toBe(true);
  });

  it("spec/ir.md shows housing's optimized IR as the plan has it", () => {
    const ir = readFileSync(resolve(root, 'spec/ir.md'), 'utf8');
    expect(ir.includes(`\`\`\`\n${printGraph(compile(housing).plan.graph)}\n\`\`\``)).toBe(true);
  });

  it("spec/dsl.md names every value 'gradc' exports", () => {
    const dsl = readFileSync(resolve(root, 'spec/dsl.md'), 'utf8');
    const names = Object.keys(gradc);
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((name) => !dsl.includes(`\`${name}\``))).toEqual([]);
  });
});
