/**
 * The esbuild plugin, used as a user would: bundle a small app that imports graphs with
 * `?gradc`, `?gradc-wasm` and `?gradc-gpu`, run it, and check that graph errors come back as esbuild errors
 * at the graph file's line.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const { gradc } = (await import(pathToFileURL(join(root, 'dist', 'esbuild.js')).href)) as typeof import('../compiler/bundler/esbuild.ts');

const GRAPH = `import { graph, affine, relu, squaredLoss } from 'gradc';
export default graph('tiny', (g) => {
  const x = g.input('x', [4, 2]);
  const h = relu(affine(x, g.param('W', [2, 3]), g.param('b', [3])));
  const o = affine(h, g.param('V', [3, 1]), g.param('c', [1]));
  g.output('o', o);
  g.loss(squaredLoss(o, g.input('y', [4, 1])));
});
`;

/** A user's project: gradc installed (the WebGPU host module imports its driver), a graph, an app. */
function project(graph: string, app: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gradc-esbuild-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'gradc'), 'dir');
  writeFileSync(join(dir, 'tiny.graph.ts'), graph);
  writeFileSync(join(dir, 'app.ts'), app);
  return dir;
}

describe('esbuild plugin', () => {
  it('bundles the generated module into an app that trains', async () => {
    const dir = project(GRAPH, `
import * as tiny from './tiny.graph.ts?gradc';
const params = tiny.initParams(3);
const x = new Float32Array([0, 1, 1, 0, 1, 1, 0.5, -1]);
const y = new Float32Array([1, 2, 3, 0]);
const first = tiny.trainStep(params, { x, y }, 0.1);
let last = first;
for (let i = 0; i < 200; i++) last = tiny.trainStep(params, { x, y }, 0.1);
console.log(JSON.stringify({ name: tiny.meta.name, first, last }));
`);
    const result = await build({ entryPoints: [join(dir, 'app.ts')], bundle: true, format: 'esm', platform: 'node', outfile: join(dir, 'out.mjs'), plugins: [gradc()], logLevel: 'silent', metafile: true });
    expect(result.errors).toEqual([]);
    const out = JSON.parse(execFileSync(process.execPath, [join(dir, 'out.mjs')], { encoding: 'utf8' }));
    expect(out.name).toBe('tiny');
    expect(out.last).toBeLessThan(out.first / 2);
  });

  it('bundles the WebAssembly module for ?gradc-wasm: the same API, the same training, the binary embedded', async () => {
    const app = (query: string) => `
import * as tiny from './tiny.graph.ts?${query}';
const params = tiny.initParams(3);
const x = new Float32Array([0, 1, 1, 0, 1, 1, 0.5, -1]);
const y = new Float32Array([1, 2, 3, 0]);
const losses = [];
for (let i = 0; i < 50; i++) losses.push(tiny.trainStep(params, { x, y }, 0.1));
console.log(JSON.stringify({ keys: Object.keys(tiny).sort(), losses }));
`;
    const run = async (query: string) => {
      const dir = project(GRAPH, app(query));
      await build({ entryPoints: [join(dir, 'app.ts')], bundle: true, format: 'esm', platform: 'node', outfile: join(dir, 'out.mjs'), plugins: [gradc()], logLevel: 'silent' });
      return JSON.parse(execFileSync(process.execPath, [join(dir, 'out.mjs')], { encoding: 'utf8' })) as { keys: string[]; losses: number[] };
    };
    const [wasm, js] = [await run('gradc-wasm'), await run('gradc')];
    // The wasm module adds its threads (spec/wasm.md).
    expect(wasm.keys).toEqual([...js.keys, 'threads', 'useThreads'].sort());
    expect(wasm.losses.at(-1)).toBeLessThan(wasm.losses[0] / 2);
    wasm.losses.forEach((l, i) => expect(Math.abs(l - js.losses[i])).toBeLessThanOrEqual(1e-4 * Math.abs(js.losses[i])));
  });

  it('bundles the WebGPU host module for ?gradc-gpu', async () => {
    const dir = project(GRAPH, `
import { createModel, WGSL } from './tiny.graph.ts?gradc-gpu';
console.log(typeof createModel, WGSL.includes('@compute'));
`);
    await build({ entryPoints: [join(dir, 'app.ts')], bundle: true, format: 'esm', platform: 'node', outfile: join(dir, 'out.mjs'), plugins: [gradc()], logLevel: 'silent' });
    expect(execFileSync(process.execPath, [join(dir, 'out.mjs')], { encoding: 'utf8' }).trim()).toBe('function true');
  });

  it('reports a graph error as an esbuild error at the graph file and line', async () => {
    const dir = project(GRAPH.replace("g.param('V', [3, 1])", "g.param('V', [4, 1])"), `import * as tiny from './tiny.graph.ts?gradc';\nconsole.log(tiny.meta);\n`);
    const failure = await build({ entryPoints: [join(dir, 'app.ts')], bundle: true, write: false, plugins: [gradc()], logLevel: 'silent' }).then(() => undefined, (e: { errors: { text: string; location: { file: string; line: number } | null }[] }) => e);
    expect(failure).toBeDefined();
    const [error] = failure!.errors;
    expect(error.text).toMatch(/affine\(h, g\.param\('V', \[4, 1\]\), g\.param\('c', \[1\]\)\) at .*tiny\.graph\.ts:5: h is \[4,3\] but g\.param\('V', \[4, 1\]\) is \[4,1\]/);
    expect(error.location?.file).toMatch(/tiny\.graph\.ts$/);
    expect(error.location?.line).toBe(5);
  });
});
