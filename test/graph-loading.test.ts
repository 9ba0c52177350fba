/**
 * loadGraph, which the CLI and the esbuild plugin both call: a graph file runs in a worker
 * thread of its own and comes back as its forward IR, locations included. A graph file that
 * hangs, exits or leaves timers running ends in an error naming it, so no bundler waits for
 * it forever. (The CLI's side of the same cases is in errors-cli.test.ts.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGraph } from '../compiler/load/load-graph.ts';
import { isGradcError } from '../compiler/errors.ts';
import { printGraph } from '../compiler/ir/print.ts';

const root = resolve(import.meta.dirname, '..');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gradc-load-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const TINY = (before = '') => `import { graph, affine, relu, squaredLoss } from 'gradc';
import { width } from './sizes.ts';
${before}
export default graph('tiny', (g) => {
  const x = g.input('x', [4, 2]);
  const h = relu(affine(x, g.param('W', [2, width]), g.param('b', [width])));
  g.output('h', h);
  g.loss(squaredLoss(h, g.input('y', [4, width])));
});
`;

async function failure(promise: Promise<unknown>): Promise<Error> {
  const e = await promise.then(() => undefined, (err: unknown) => err);
  expect(isGradcError(e), String(e)).toBe(true);
  return e as Error;
}

describe('loadGraph', () => {
  it('returns the forward IR with every location, and the local files the graph imports', async () => {
    const dir = folder({ 'tiny.graph.ts': TINY(), 'sizes.ts': 'export const width = 3;\n' });
    const { def, inputs } = await loadGraph(join(dir, 'tiny.graph.ts'));
    expect(def.name).toBe('tiny');
    expect(printGraph(def.ir)).toMatch(/= relu %\d+ +# h$/m);
    const relu = def.ir.nodes.find((n) => n.op === 'relu')!;
    expect(relu.loc).toMatchObject({ file: join(dir, 'tiny.graph.ts'), line: 6 });
    expect(def.ir.nodes.find((n) => n.name === 'W')!.attrs.init).toBe('he');
    expect([...inputs].sort()).toEqual([join(dir, 'sizes.ts'), join(dir, 'tiny.graph.ts')]);
  });

  it("brings back the graph's optimizer, rebuilt from its name and options; none when it declares none", async () => {
    const source = TINY().replace("import { graph, affine, relu, squaredLoss } from 'gradc';", "import { graph, affine, relu, squaredLoss, adam } from 'gradc';")
      .replace("g.loss(squaredLoss(h, g.input('y', [4, width])));", "g.loss(squaredLoss(h, g.input('y', [4, width])));\n  g.optimizer(adam({ beta1: 0.8 }));");
    const dir = folder({ 'tiny.graph.ts': source, 'sizes.ts': 'export const width = 3;\n' });
    const { def } = await loadGraph(join(dir, 'tiny.graph.ts'));
    expect(def.optimizer?.choice).toEqual({ name: 'adam', options: { beta1: 0.8, beta2: 0.999, epsilon: 1e-7 } });
    expect(def.optimizer?.slots).toEqual(['m', 'v']);
    const plain = folder({ 'tiny.graph.ts': TINY(), 'sizes.ts': 'export const width = 3;\n' });
    expect((await loadGraph(join(plain, 'tiny.graph.ts'))).def.optimizer).toBeUndefined();
  });

  it('stops an endless loop at the time limit', async () => {
    const dir = folder({ 'tiny.graph.ts': TINY('for (;;) {}'), 'sizes.ts': 'export const width = 3;\n' });
    const start = Date.now();
    const e = await failure(loadGraph(join(dir, 'tiny.graph.ts'), { timeoutSeconds: 0.5 }));
    expect(e.message).toMatch(/tiny\.graph\.ts: did not finish loading within 0\.5 s/);
    expect(Date.now() - start).toBeLessThan(10_000);
  });

  it.each([
    ['a top-level await that never settles', 'await new Promise(() => {});', /stopped before its graph was ready/],
    ['process.exit() in a promise callback', 'await Promise.resolve().then(() => process.exit(3));', /called process\.exit\(3\) while loading/],
    ['a pending immediate callback that re-arms itself', 'const again = () => setImmediate(again); again();', /left an immediate callback running/],
    ['a default export that is a hand-made object with the graph brand', '', /carries gradc's graph brand but was not made by graph\(\)/],
    ['a thrown symbol', "throw Symbol('nope');", /: the graph file threw while loading: Symbol\(nope\)$/],
    ['a thrown object whose toString throws', "throw { toString() { throw new Error('again'); }, code: 7 };", /: the graph file threw while loading: \{"code":7\}$/],
    // Node itself may stumble on the Proxy and report what its trap threw instead.
    ['a thrown Proxy that throws on every access', 'throw new Proxy({}, { get() { throw 1; }, getPrototypeOf() { throw 1; }, ownKeys() { throw 1; } });', /: the graph file threw while loading: (a value that cannot be shown|1)$/],
    ['throw undefined', 'throw undefined;', /: the graph file threw while loading: undefined$/],
  ])('%s: an error naming the file', async (what, code, message) => {
    const text = what.includes('brand')
      ? `export default { [Symbol.for('gradc.graph')]: true, name: 'fake', ir: { nodes: [{ id: 5 }] } };\n`
      : TINY(code);
    const dir = folder({ 'tiny.graph.ts': text, 'sizes.ts': 'export const width = 3;\n' });
    const e = await failure(loadGraph(join(dir, 'tiny.graph.ts'), { timeoutSeconds: 20 }));
    expect(e.message).toMatch(message);
    expect(e.message).toContain('tiny.graph.ts');
  });

  it('loads a graph file of 2000 layers written out line by line in a few seconds', async () => {
    const lines = ["import { graph, affine, tanh, squaredLoss } from 'gradc';", "export default graph('long', (g) => {", "  const h0 = g.input('x', [2, 4]);"];
    for (let i = 1; i <= 2000; i++) lines.push(`  const h${i} = tanh(affine(h${i - 1}, g.param('W${i}', [4, 4]), g.param('b${i}', [4])));`);
    lines.push("  g.loss(squaredLoss(h2000, g.input('y', [2, 4])));", '});', '');
    const dir = folder({ 'long.graph.ts': lines.join('\n') });
    const start = performance.now();
    const { def } = await loadGraph(join(dir, 'long.graph.ts'));
    const seconds = (performance.now() - start) / 1000;
    expect(def.ir.params).toHaveLength(4000);
    // Each node is named after the variable the user assigned.
    expect(def.ir.nodes.filter((n) => n.op === 'tanh').map((n) => n.name).slice(-2)).toEqual(['h1999', 'h2000']);
    expect(seconds, `${seconds.toFixed(1)} s`).toBeLessThan(10);
  }, 60_000);
});

const { gradc } = (await import(pathToFileURL(join(root, 'dist', 'esbuild.js')).href)) as typeof import('../compiler/bundler/esbuild.ts');

describe('the esbuild plugin never hangs the bundler on a misbehaving graph file', () => {
  it.each([
    ['a top-level await that never settles', 'await new Promise(() => {});', /stopped before its graph was ready/],
    ['process.exit(0)', 'process.exit(0);', /called process\.exit\(0\)/],
    ['a timer left running', 'setTimeout(() => {}, 60_000);', /left a timer running/],
  ])('%s: the build fails with the error', async (_, code, message) => {
    const dir = folder({ 'tiny.graph.ts': TINY(code), 'sizes.ts': 'export const width = 3;\n', 'app.ts': "import * as tiny from './tiny.graph.ts?gradc';\nconsole.log(tiny.meta);\n" });
    const result = await build({ entryPoints: [join(dir, 'app.ts')], bundle: true, write: false, plugins: [gradc()], logLevel: 'silent' })
      .then(() => undefined, (e: { errors: { text: string }[] }) => e);
    expect(result?.errors[0].text).toMatch(message);
  });
});
