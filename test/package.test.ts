/**
 * The package as a user gets it: `npm pack`, the tarball installed into a fresh project, and
 * that project type-checked under strict flags with `skipLibCheck: false`, by TypeScript 5.9
 * and 7, with and without DOM types — graph files importing 'gradc', code using
 * 'gradc/runtime/cpu', 'gradc/runtime/webgpu' and the build-time entries, and the modules the
 * packed CLI builds for every target from an SGD, an Adam (dynamic batch) and a momentum graph.
 *
 * Installing: `npm install <tarball>` needs the registry for gradc's dependencies (offline it
 * fails with ENOTCACHED), and pointed at links to this repository's node_modules it prunes
 * through them. So the tarball is unpacked into node_modules/gradc, as npm would, and each
 * dependency it declares is linked from this repository's node_modules.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const STRICT = {
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  module: 'nodenext',
  moduleResolution: 'nodenext',
  target: 'es2022',
  types: [],
  skipLibCheck: false,
  noEmit: true,
};

/**
 * The TypeScript versions a user meets: what `npm i -D typescript` installs today (7.x, the
 * native compiler, a dev dependency under the alias `typescript7`) and the last 5.x. Each runs
 * with and without DOM types: TypeScript 7's lib.dom declares WebGPU's types, so the package
 * must not declare them again, nor need them.
 */
const COMPILERS = [
  ['TypeScript 5.9.3', join(root, 'node_modules', 'typescript', 'bin', 'tsc')],
  ['TypeScript 7.0.2', join(root, 'node_modules', 'typescript7', 'bin', 'tsc')],
] as const;
const LIBS = [['with DOM types', ['es2022', 'dom']], ['without DOM types', ['es2022']]] as const;
const SETUPS = COMPILERS.flatMap(([compiler, tsc]) => LIBS.map(([dom, lib]) => ({ compiler, tsc, dom, lib })));

let work = '';
let app = '';
let packed: string[] = [];
let typesRun: { status: number | null; stdout: string; stderr: string } | undefined;
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** tsc over `files` in the app, with the strict options and `lib`; its output and exit status. */
function typecheck(name: string, files: string[], tsc: string, lib: readonly string[], options: object = {}): { status: number | null; output: string } {
  writeFileSync(join(app, `${name}.json`), JSON.stringify({ compilerOptions: { ...STRICT, lib, ...options }, files }, null, 2));
  const run = spawnSync(process.execPath, [tsc, '-p', `${name}.json`], { cwd: app, encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'gradc-package-'));
  // dist/ is built by the test setup (the `prepare` script's build); packing it must not run it again.
  const [report] = JSON.parse(execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: root, encoding: 'utf8' })) as { filename: string; files: { path: string }[] }[];
  packed = report.files.map((f) => f.path);
  app = join(work, 'app');
  const installed = join(app, 'node_modules', 'gradc');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', join(work, report.filename), '-C', installed, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  // The app's own dev dependencies (bundlers for the plugin types), and gradc's dependencies.
  for (const dep of [...Object.keys(manifest.dependencies), 'vite', 'rollup', 'webpack']) {
    mkdirSync(dirname(join(app, 'node_modules', dep)), { recursive: true });
    symlinkSync(join(root, 'node_modules', dep), join(app, 'node_modules', dep), 'dir');
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  cpSync(join(root, 'test', 'fixtures', 'consumer'), app, { recursive: true });
  // The packed CLI builds the graphs (SGD, Adam over g.batch(32), momentum) for every target;
  // one copy keeps only the .js and .d.ts, the other the generated .ts too.
  const graphs = ['model.graph.ts', 'adam.graph.ts', 'momentum.graph.ts', 'wide.graph.ts'];
  execFileSync(process.execPath, [join(installed, 'dist', 'cli.js'), 'build', ...graphs, '--out', 'generated-ts', '--target', 'js,wasm,wgsl'], { cwd: app });
  cpSync(join(app, 'generated-ts'), join(app, 'generated'), { recursive: true });
  for (const file of readdirSync(join(app, 'generated'))) if (file.endsWith('.ts') && !file.endsWith('.d.ts')) rmSync(join(app, 'generated', file));
  // What a Vite app's `prebuild` runs on a fresh checkout: the typed-import declarations.
  typesRun = spawnSync(process.execPath, [join(installed, 'dist', 'cli.js'), 'types', 'adam.graph.ts', '--target', 'js,wasm,wgsl'], { cwd: app, encoding: 'utf8' });
  const useTargets = readFileSync(join(app, 'use-targets.ts'), 'utf8');
  writeFileSync(join(app, 'use-targets-ts.ts'), useTargets.replaceAll("'./generated/", "'./generated-ts/"));
});

describe('the packed package', () => {
  it('holds the built package and nothing else: no tests, benchmarks, CI files, samples or sources', () => {
    expect(packed).toContain('dist/index.js');
    expect(packed).toContain('dist/types/compiler/index.d.ts');
    expect(packed).toContain('LICENSE');
    expect(packed.filter((f) => !/^(dist\/|package\.json$|README\.md$|LICENSE$)/.test(f))).toEqual([]);
    expect(packed.filter((f) => f.startsWith('dist/') && !/\.(js|d\.ts)$/.test(f))).toEqual([]);
  });

  it('every export resolves to a shipped file', () => {
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules', 'gradc', 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>> };
    const targets = Object.values(manifest.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)));
    expect(targets).toContain("./dist/types/compiler/bundler/vite.d.ts");
    for (const t of targets) expect([...packed, 'package.json'], t).toContain(t.replace(/^\.\//, ''));
  });

  describe.each(SETUPS)('under strict flags, $compiler $dom', ({ tsc, lib }) => {
    it('type-checks graph files, the runtime over generated modules (.js + .d.ts) of every target and optimizer, and the build-time entries', () => {
      const files = ['model.graph.ts', 'adam.graph.ts', 'momentum.graph.ts', 'use-runtime.ts', 'use-tools.ts', 'use-bundlers.ts', 'use-targets.ts'];
      const { status, output } = typecheck('tsconfig.strict', files, tsc, lib);
      expect(output).toBe('');
      expect(status).toBe(0);
    });

    it('type-checks the generated TypeScript source itself (js and wasm, every optimizer)', () => {
      const { status, output } = typecheck('tsconfig.generated-ts', ['use-generated-ts.ts', 'use-targets-ts.ts'], tsc, lib);
      expect(output).toBe('');
      expect(status).toBe(0);
    });

    it("type-checks a bundler app's graph imports before any bundler ran: exact types from `gradc types`, loose ones from gradc/modules", () => {
      const declarations = ['adam.graph.gradc.d.ts', 'adam.graph.gradc-wasm.d.ts', 'adam.graph.gradc-gpu.d.ts'];
      const { status, output } = typecheck('tsconfig.imports', ['use-imports.ts', ...declarations], tsc, lib, { module: 'esnext', moduleResolution: 'bundler' });
      expect(output).toBe('');
      expect(status).toBe(0);
    });
  });

  it('`gradc types` writes the declarations the plugins write, one per target, and says so', () => {
    expect(typesRun?.stderr).toBe('');
    expect(typesRun?.stdout).toBe('gradc: wrote adam.graph.gradc.d.ts, adam.graph.gradc-gpu.d.ts, adam.graph.gradc-wasm.d.ts\n');
    expect(readFileSync(join(app, 'adam.graph.gradc.d.ts'), 'utf8')).toContain(`declare module ".*/adam.graph.ts?gradc" {`);
  });

  it('a build into a CommonJS package (what `npm init -y` makes) warns that the modules are ES modules, and says what to do', () => {
    const cjs = join(work, 'cjs');
    mkdirSync(cjs);
    writeFileSync(join(cjs, 'package.json'), JSON.stringify({ name: 'cjs', version: '1.0.0', main: 'index.js' }));
    cpSync(join(app, 'momentum.graph.ts'), join(cjs, 'momentum.graph.ts'));
    symlinkSync(join(app, 'node_modules'), join(cjs, 'node_modules'), 'dir');
    const cli = join(app, 'node_modules', 'gradc', 'dist', 'cli.js');
    const build = spawnSync(process.execPath, [cli, 'build', 'momentum.graph.ts', '--out', 'gen', '--target', 'js,wasm'], { cwd: cjs, encoding: 'utf8' });
    expect(build.status).toBe(0);
    expect(build.stderr).toBe(`gradc: warning: the generated .js files are ES modules, but package.json has no "type": "module", so Node would load them as CommonJS and fail; add "type": "module" to package.json, or write {"type": "module"} to ${join('gen', 'package.json')} (CommonJS code then loads them with await import())\n`);
    // The second way, followed: CommonJS code loads the wasm module (top-level await and all).
    writeFileSync(join(cjs, 'gen', 'package.json'), '{"type": "module"}');
    const run = spawnSync(process.execPath, ['-e', "import('./gen/momentum.wasm.js').then((m) => console.log(m.initParams(1).W1.length))"], { cwd: cjs, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('12');
    // With the folder marked, the next build says nothing; neither does a build in the ESM app.
    const again = spawnSync(process.execPath, [cli, 'build', 'momentum.graph.ts', '--out', 'gen', '--target', 'js,wasm'], { cwd: cjs, encoding: 'utf8' });
    expect(again.stderr).toBe('');
    const esm = spawnSync(process.execPath, [cli, 'build', 'momentum.graph.ts', '--out', 'esm-gen'], { cwd: app, encoding: 'utf8' });
    expect(esm.stderr).toBe('');
  });

  it('the packed CLI writes the inspect page (its layout library is a dependency)', () => {
    execFileSync(process.execPath, [join(app, 'node_modules', 'gradc', 'dist', 'cli.js'), 'inspect', 'model.graph.ts', '--html', 'model.html'], { cwd: app });
    const html = readFileSync(join(app, 'model.html'), 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('"layouts":[{');
  });

  it('the generated module built by the packed CLI runs', async () => {
    const run = spawnSync(process.execPath, ['-e', "const m = await import('./generated/model.js'); const p = m.initParams(1); console.log(m.loss(p, { x: new Float32Array(24).fill(1), y: new Float32Array(16) }) > 0)"], { cwd: app, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('true');
  });
});
