/**
 * `gradc build --watch`, run as a user would: it builds, rebuilds when the graph changes,
 * reports an error and keeps watching, then recovers when the graph is fixed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = resolve(import.meta.dirname, '..', 'dist', 'cli.js');

const graphText = (width: number) => `import { graph, affine, relu, squaredLoss } from 'gradc';
import { hidden } from './sizes.ts';
export default graph('w', (g) => {
  const x = g.input('x', [2, 3]);
  const h = relu(affine(x, g.param('W', [3, ${width}]), g.param('b', [hidden])));
  const o = affine(h, g.param('V', [hidden, 1]), g.param('c', [1]));
  g.output('o', o);
  g.loss(squaredLoss(o, g.input('y', [2, 1])));
});
`;

describe('gradc build --watch', () => {
  it('rebuilds on changes to the graph and its imports, and survives errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradc-watch-'));
    writeFileSync(join(dir, 'sizes.ts'), 'export const hidden = 4;\n');
    writeFileSync(join(dir, 'w.graph.ts'), graphText(4));
    const child = spawn(process.execPath, [cli, 'build', 'w.graph.ts', '--out', 'gen', '--watch'], { cwd: dir });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const waitFor = async (pattern: RegExp, count: number) => {
      for (let i = 0; i < 200 && (out.match(new RegExp(pattern, 'g')) ?? []).length < count; i++) await new Promise((r) => setTimeout(r, 50));
      expect((out.match(new RegExp(pattern, 'g')) ?? []).length, out).toBeGreaterThanOrEqual(count);
    };
    try {
      await waitFor(/watching for changes/, 1);
      expect(readFileSync(join(dir, 'gen', 'w.ts'), 'utf8')).toContain('W: [3, 4]');
      writeFileSync(join(dir, 'w.graph.ts'), graphText(5));
      await waitFor(/watching for changes/, 2);
      expect(out).toMatch(/w\.graph\.ts changed, rebuilding/);
      expect(out).toMatch(/w\.graph\.ts:5: g\.param\('W', \[3, 5\]\) is \[3,5\] but g\.param\('b', \[hidden\]\) is \[4\]/);
      writeFileSync(join(dir, 'sizes.ts'), 'export const hidden = 5;\n');
      await waitFor(/watching for changes/, 3);
      expect(out).toMatch(/sizes\.ts changed, rebuilding/);
      expect(readFileSync(join(dir, 'gen', 'w.ts'), 'utf8')).toContain('W: [3, 5]');
    } finally {
      child.kill('SIGINT');
    }
  });
});
