/**
 * Golden files: the modules generated for the samples, byte for byte. A change to code
 * generation shows up here as a diff to review; regenerate with `npm run golden:update`.
 * Also: the same graph gives the same bytes, from any working directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MANIFEST, readManifest } from '../compiler/cli/write-output.ts';
// @ts-expect-error: a plain .mjs helper shared with the scripts
import { sampleGraphs } from '../scripts/sample-graphs.mjs';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');

function build(cwd: string, files: string[]): string {
  const out = mkdtempSync(join(tmpdir(), 'gradc-golden-'));
  const r = spawnSync(process.execPath, [cli, 'build', ...files, '--out', out, '--target', 'js,wgsl,wasm'], { cwd, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return out;
}

describe('golden files', () => {
  const graphs: string[] = sampleGraphs(root);
  const fresh = build(root, graphs);
  const golden = join(root, 'test', 'golden');

  // The build's manifest lists its files with their hashes; test/golden keeps the modules.
  const modules = (dir: string) => readdirSync(dir).filter((n) => n !== MANIFEST).sort();

  it('cover every sample', () => {
    expect(graphs.length).toBeGreaterThanOrEqual(3);
    expect(modules(fresh)).toEqual(modules(golden));
    expect(Object.keys(readManifest(fresh)!.files)).toEqual(modules(fresh));
  });

  it.each(modules(golden))('%s is unchanged (else: npm run golden:update, review, commit)', (name) => {
    expect(readFileSync(join(fresh, name), 'utf8')).toBe(readFileSync(join(golden, name), 'utf8'));
  });

  it('a build from another working directory gives identical bytes', () => {
    const elsewhere = build(tmpdir(), graphs.map((g) => join(root, g)));
    for (const name of readdirSync(fresh)) {
      expect(readFileSync(join(elsewhere, name)).equals(readFileSync(join(fresh, name))), name).toBe(true);
    }
  });
});
