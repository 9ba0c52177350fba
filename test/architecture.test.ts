/**
 * The layering the developers' guide asks for, checked on the sources: a backend renders the
 * shared lowering and never imports another backend (what they share lives in
 * backends/common or below), and nothing below the backends imports them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const compiler = join(root, 'compiler');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every relative import of a file, as a path from the compiler folder. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)[^;]*?from '(\.[^']+)'/gm)].map((m) => relative(compiler, resolve(file, '..', m[1])));
}

const BACKENDS = ['js', 'wasm', 'wgsl'];

describe('the pipeline\'s layers', () => {
  it('no backend imports another backend', () => {
    const crossings: string[] = [];
    for (const backend of BACKENDS) {
      for (const file of sources(join(compiler, 'backends', backend))) {
        for (const target of importsOf(file)) {
          const other = BACKENDS.find((b) => b !== backend && target.startsWith(join('backends', b) + '/'));
          if (other) crossings.push(`${relative(root, file)} imports ${target}`);
        }
      }
    }
    expect(crossings).toEqual([]);
  });

  it('nothing below the backends (dsl, ir, autodiff, passes, kernels, lowering, ops) imports them', () => {
    const below = ['dsl', 'ir', 'autodiff', 'passes', 'kernels', 'lowering', 'ops'];
    const upward = below.flatMap((dir) => sources(join(compiler, dir)))
      .flatMap((file) => importsOf(file).filter((t) => t.startsWith('backends/')).map((t) => `${relative(root, file)} imports ${t}`));
    expect(upward).toEqual([]);
  });

  it('the check sees imports (it found the sources and their imports)', () => {
    expect(sources(join(compiler, 'backends', 'wgsl')).length).toBeGreaterThan(1);
    expect(importsOf(join(compiler, 'backends', 'wgsl', 'module.ts'))).toContain(join('backends', 'common', 'js-syntax.ts'));
  });
});
