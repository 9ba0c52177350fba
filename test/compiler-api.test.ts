/**
 * `gradc/compiler` (dist/compiler.js), as a user calls it: a graph definition or a graph
 * file in, files or diagnostics out, nothing written.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { affine, graph, relu, squaredLoss } from '../compiler/index.ts';
import { compile as internalCompile } from '../compiler/compile.ts';

const root = resolve(import.meta.dirname, '..');
const { compile, TARGETS } = (await import(pathToFileURL(join(root, 'dist', 'compiler.js')).href)) as typeof import('../compiler/api.ts');

const tiny = graph('tiny', (g) => {
  const x = g.input('x', [4, 2]);
  const o = relu(affine(x, g.param('W', [2, 1]), g.param('b', [1])));
  g.output('o', o);
  g.loss(squaredLoss(o, g.input('y', [4, 1])));
});

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function graphFile(text: string, name = 'net.graph.ts'): string {
  const dir = mkdtempSync(join(tmpdir(), 'gradc-api-'));
  made.push(dir);
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

describe('compile', () => {
  it('a graph definition: the same files as the compiler makes, for the targets asked', async () => {
    const result = await compile(tiny, { targets: ['js', 'wgsl'], sourceFile: 'tiny.graph.ts' });
    expect(result.ok).toBe(true);
    const expected = internalCompile(tiny, { targets: ['js', 'wgsl'], sourceFile: 'tiny.graph.ts' }).files;
    expect(result.files).toEqual(expected.map(({ name, contents }) => ({ name, contents })));
    expect(result.files.map((f) => f.name)).toEqual(['tiny.ts', 'tiny.js', 'tiny.d.ts', 'gradc-host.ts', 'gradc-host.js', 'tiny.wgsl', 'tiny.gpu.js', 'tiny.gpu.d.ts']);
    expect(result.diagnostics).toEqual([]);
    expect(result.inputs).toEqual([]);
    expect(TARGETS).toEqual(['js', 'wgsl', 'wasm']);
    // The files are plain data: no plan or other internals ride along.
    expect(Object.keys(result).sort()).toEqual(['diagnostics', 'files', 'inputs', 'ok']);
    expect(Object.keys(result.files[0]).sort()).toEqual(['contents', 'name']);
  });

  it('a graph file: its files, and the files it read for watching; nothing is written', async () => {
    const file = graphFile(`import { graph, affine, relu } from 'gradc';
import { WIDTH } from './width.ts';
export default graph('net', (g) => g.output('o', relu(affine(g.input('x', [2, WIDTH]), g.param('W', [WIDTH, 1]), g.param('b', [1])))));
`);
    writeFileSync(join(file, '..', 'width.ts'), 'export const WIDTH = 3;\n');
    const result = await compile(file, { forwardOnly: true });
    expect(result.ok).toBe(true);
    expect(result.files.map((f) => f.name)).toEqual(['net.ts', 'net.js', 'net.d.ts', 'gradc-host.ts', 'gradc-host.js']);
    expect(result.files[0].contents).toContain('from net.graph.ts');
    expect([...result.inputs].sort()).toEqual([file, join(file, '..', 'width.ts')].sort());
    expect(readdirSync(join(file, '..')).sort()).toEqual(['net.graph.ts', 'width.ts']);
  });

  it('a graph error: a diagnostic with the message, the location and the line, and no files', async () => {
    const file = graphFile(`import { graph, affine } from 'gradc';
export default graph('bad', (g) => {
  g.output('o', affine(g.input('x', [2, 3]), g.param('W', [4, 1]), g.param('b', [1])));
});
`);
    const result = await compile(file);
    expect(result.ok).toBe(false);
    expect(result.files).toEqual([]);
    expect(result.diagnostics).toHaveLength(1);
    const [d] = result.diagnostics;
    expect(d.severity).toBe('error');
    expect(d.message).toMatch(/^affine\(g\.input\('x', \[2, 3\]\), .*\) at .*net\.graph\.ts:3: g\.input\('x', \[2, 3\]\) is \[2,3\] but g\.param\('W', \[4, 1\]\) is \[4,1\]/);
    expect(d.location).toEqual({ file, line: 3, column: 17, lineText: "  g.output('o', affine(g.input('x', [2, 3]), g.param('W', [4, 1]), g.param('b', [1])));" });
    expect(result.inputs).toEqual([file]);
  });

  it('a syntax error and a missing file are diagnostics too; a bad option names the targets', async () => {
    const syntax = await compile(graphFile("import { graph } from 'gradc';\nexport default graph('s', (g) => {\n  g.output('o' g.input('x', [1, 1]));\n});\n"));
    expect(syntax.ok).toBe(false);
    expect(syntax.diagnostics[0].location).toMatchObject({ line: 3, column: 16, lineText: "  g.output('o' g.input('x', [1, 1]));" });
    const missing = await compile(join(tmpdir(), 'no-such-dir-gradc', 'none.graph.ts'));
    expect(missing.ok).toBe(false);
    expect(missing.diagnostics[0].message).toMatch(/Could not resolve/);
    const target = await compile(tiny, { targets: ['wasm64' as never] });
    expect(target.ok).toBe(false);
    expect(target.diagnostics[0]).toEqual({ severity: 'error', message: 'build: unknown target "wasm64"; known targets: js, wgsl, wasm' });
  });
});
