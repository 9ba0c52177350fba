/**
 * The bundler plugins (gradc/vite, gradc/rollup, gradc/webpack, gradc/esbuild), used as a
 * user would: each bundles the same small app importing the housing sample with `?gradc`,
 * the app runs, and its losses equal those of the module the CLI builds. Also: Vite's dev
 * server rebuilding on a change of a file the graph imports, the exact types written beside
 * the graph file, and what an app bundled without the plugin says.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { rollup } from 'rollup';
import ts from 'typescript';
import { build as viteBuild, createServer } from 'vite';
import webpack from 'webpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gradc-bundlers-'));
  made.push(dir);
  for (const f of ['app.js', 'train.js']) copyFileSync(join(root, 'test', 'fixtures', 'app', f), join(dir, f));
  copyFileSync(join(root, 'samples', 'housing', 'housing.graph.ts'), join(dir, 'housing.graph.ts'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'gradc'), 'dir');
  // gradc's dependency for the WebGPU types the generated host modules reference.
  symlinkSync(join(root, 'node_modules', '@webgpu'), join(dir, 'node_modules', '@webgpu'), 'dir');
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

describe('a graph error is reported at the graph file and line, with the call under a code frame', () => {
  const BROKEN = (text: string) => text.replace("g.param('W2', [3, 1])", "g.param('W2', [4, 1])");
  let broken = '';
  let line = 0;
  let lineText = '';
  beforeAll(() => {
    broken = project();
    const graph = join(broken, 'housing.graph.ts');
    writeFileSync(graph, BROKEN(readFileSync(graph, 'utf8')));
    const lines = readFileSync(graph, 'utf8').split('\n');
    line = lines.findIndex((l) => l.includes('const o = affine(')) + 1;
    lineText = lines[line - 1];
  });
  const column = () => lineText.indexOf('affine(');
  const message = () => new RegExp(`affine\\(h, g\\.param\\('W2', \\[4, 1\\]\\), g\\.param\\('b2', \\[1\\]\\)\\) at .*housing\\.graph\\.ts:${line}: h is \\[64,3\\] but g\\.param\\('W2', \\[4, 1\\]\\) is \\[4,1\\]`);

  it('rollup and vite: the message, loc and frame', async () => {
    for (const name of ['rollup', 'vite']) {
      type BundlerError = { message: string; loc?: { file: string; line: number; column: number }; frame?: string; stack?: string };
      const thrown = (await BUNDLERS[name](broken).then(() => undefined, (e: unknown) => e)) as (BundlerError & { errors?: BundlerError[] }) | undefined;
      expect(thrown, name).toBeDefined();
      // Vite (Rolldown) collects errors in `errors`; Rollup throws the plugin's.
      const error = thrown!.errors?.[0] ?? thrown!;
      // The user sees the message and the frame, not gradc's stack.
      expect(error.stack).not.toMatch(/\n\s+at /);
      expect(error.message).toMatch(message());
      expect(error.loc).toEqual({ file: join(broken, 'housing.graph.ts'), line, column: column() });
      const frame = `${line} | ${lineText}\n${' '.repeat(String(line).length)} | ${' '.repeat(column())}^`;
      expect(error.frame).toContain(frame);
      // The caret spans the call: `affine(…)` to its closing parenthesis.
      expect(error.frame!.split('\n')[1].trim().replace(/^\| */, '')).toBe('^'.repeat(lineText.length - column() - 1));
    }
  });

  it('webpack: the message names the file and line', async () => {
    const error = (await BUNDLERS.webpack(broken).then(() => undefined, (e: unknown) => e)) as Error | undefined;
    expect(error?.message).toMatch(message());
  });

  it('esbuild: the location carries the line text and the call, so the code frame shows it', async () => {
    const failure = (await BUNDLERS.esbuild(broken).then(() => undefined, (e: unknown) => e)) as { errors: esbuild.Message[] } | undefined;
    const [error] = failure!.errors;
    expect(error.text).toMatch(message());
    expect(resolve(error.location!.file)).toBe(join(broken, 'housing.graph.ts'));
    expect(error.location).toMatchObject({ line, column: column(), lineText, length: lineText.length - column() - 1 });
    const [formatted] = await esbuild.formatMessages([error], { kind: 'error', color: false });
    expect(formatted).toContain(`${line} │ ${lineText}\n`);
    expect(formatted).toContain(`╵ ${' '.repeat(column())}${'~'.repeat(lineText.length - column() - 1)}\n`);
  });
});

describe("Vite's dev server", () => {
  it('rebuilds the graph module when a file the graph imports changes', async () => {
    const dev = project();
    writeFileSync(join(dev, 'width.ts'), 'export const HIDDEN = 3;\n');
    writeFileSync(join(dev, 'net.graph.ts'), `import { graph, affine, relu, squaredLoss } from 'gradc';
import { HIDDEN } from './width.ts';
export default graph('net', (g) => {
  const x = g.input('x', [8, 2]);
  const h = relu(affine(x, g.param('W', [2, HIDDEN]), g.param('b', [HIDDEN])));
  g.loss(squaredLoss(affine(h, g.param('V', [HIDDEN, 1]), g.param('c', [1])), g.input('y', [8, 1])));
});
`);
    const server = await createServer({ root: dev, configFile: false, logLevel: 'silent', plugins: [plugins.vite.gradc()], server: { middlewareMode: true, hmr: false } });
    try {
      const code = async () => (await server.transformRequest('/net.graph.ts?gradc'))?.code ?? '';
      expect(await code()).toContain('W: [2, 3]');
      writeFileSync(join(dev, 'width.ts'), 'export const HIDDEN = 5;\n');
      // The watcher invalidates the module; until it has, the cached build comes back.
      const deadline = Date.now() + 10_000;
      let latest = '';
      while (Date.now() < deadline && !(latest = await code()).includes('W: [2, 5]')) await new Promise((r) => setTimeout(r, 100));
      expect(latest).toContain('W: [2, 5]');
    } finally {
      await server.close();
    }
  });
});

describe('without the plugin', () => {
  it('an app that imports a graph file fails when it starts, naming the plugins to add', async () => {
    const bare = project();
    await viteBuild({
      root: bare, configFile: false, logLevel: 'silent',
      build: { outDir: join(bare, 'vite'), minify: false, lib: { entry: join(bare, 'app.js'), formats: ['es'], fileName: () => 'app.mjs' } },
    });
    const run = spawnSync(process.execPath, [join(bare, 'vite', 'app.mjs')], { encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("gradc: graph() ran in the browser: a graph file was bundled as plain code. Import it as './model.graph.ts?gradc' (or ?gradc-gpu) and add gradc's plugin for your bundler (gradc/vite, gradc/rollup, gradc/webpack or gradc/esbuild)");
    expect(run.stderr).not.toMatch(/is not a function/);
  });

  it('Node importing a graph file with the query stops at the graph() call', () => {
    const bare = project();
    writeFileSync(join(bare, 'plain.graph.mjs'), "import { graph, relu } from 'gradc';\nexport default graph('plain', (g) => g.output('o', relu(g.input('x', [1, 1]))));\n");
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', "await import('./plain.graph.mjs?gradc')"], { cwd: bare, encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`GradcError: ${pathToFileURL(join(bare, 'plain.graph.mjs')).href}?gradc: was imported as plain code: no gradc plugin compiled it. Import the graph file with '?gradc' through gradc's plugin`);
  });

  it("Vite's SSR, which runs the graph file itself, stops at the graph() call with the same advice", async () => {
    const bare = project();
    const server = await createServer({ root: bare, configFile: false, logLevel: 'silent', server: { middlewareMode: true, hmr: false } });
    try {
      const error = (await server.ssrLoadModule('/app.js').then(() => undefined, (e: unknown) => e)) as Error | undefined;
      expect(error?.message).toBe(
        `${join(bare, 'housing.graph.ts')}?gradc: was imported as plain code: no gradc plugin compiled it. Import the graph file with '?gradc' through gradc's plugin for your bundler (gradc/vite, gradc/rollup, gradc/webpack or gradc/esbuild), or build it with \`gradc build\` and import the generated module`,
      );
    } finally {
      await server.close();
    }
  });
});

describe('typed imports', () => {
  /** tsc's messages for `files` under strict options, as `file(line): TSnnnn message`. */
  function typeErrors(files: string[]): string[] {
    const program = ts.createProgram(files, {
      strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, skipLibCheck: false, noEmit: true,
      module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: [],
    });
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const at = d.file && d.start !== undefined ? `${d.file.fileName}(${d.file.getLineAndCharacterOfPosition(d.start).line + 1})` : '';
      return `${at}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
  }

  it('the declarations written beside the graph file type the import exactly; the generic ones alone do not', async () => {
    const typed = project();
    writeFileSync(join(typed, 'gpu.js'), "import { createModel } from './housing.graph.ts?gradc-gpu';\nconsole.log(typeof createModel);\n");
    await esbuild.build({
      entryPoints: [join(typed, 'app.js'), join(typed, 'gpu.js')], outdir: join(typed, 'out'), bundle: true, format: 'esm', platform: 'node',
      plugins: [plugins.esbuild.gradc()], logLevel: 'silent',
    });
    const written = ['housing.graph.gradc.d.ts', 'housing.graph.gradc-gpu.d.ts'].map((f) => join(typed, f));
    writeFileSync(join(typed, 'use.ts'), `import * as housing from './housing.graph.ts?gradc';
import { createModel } from './housing.graph.ts?gradc-gpu';
const x = new Float32Array(256);
const y = new Float32Array(64);
const params = housing.initParams(1);
export const loss: number = housing.trainStep(params, { x, y }, 0.1);
// @ts-expect-error: the graph has no input 'xx'
housing.trainStep(params, { xx: x, y }, 0.1);
// @ts-expect-error: nor a param 'W3'
export const w3: unknown = params.W3;
export async function onGpu(device: GPUDevice): Promise<number> {
  const model = await createModel(device);
  // @ts-expect-error: the GPU model's inputs are typed too
  await model.trainStep({ x }, 0.1);
  return model.trainStep({ x, y }, 0.1);
}
`);
    const generic = join(root, 'compiler', 'bundler', 'modules.d.ts');
    const webgpu = join(root, 'node_modules', '@webgpu', 'types', 'dist', 'index.d.ts');
    expect(typeErrors([join(typed, 'use.ts'), generic, webgpu, ...written])).toEqual([]);
    // Without them, each misspelling passes: every @ts-expect-error above is unused.
    const loose = typeErrors([join(typed, 'use.ts'), generic, webgpu]);
    expect(loose.filter((m) => m.includes('TS2578'))).toHaveLength(3);
  });
});
