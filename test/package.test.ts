/**
 * The package as a user gets it: `npm pack`, the tarball installed into a fresh project, and
 * that project type-checked under strict flags with `skipLibCheck: false` — a graph file
 * importing 'gradc', code using 'gradc/runtime/cpu' and the build-time entries, and a module
 * built by the packed CLI.
 *
 * Installing: `npm install <tarball>` needs the registry for gradc's dependencies (offline it
 * fails with ENOTCACHED), and pointed at links to this repository's node_modules it prunes
 * through them. So the tarball is unpacked into node_modules/gradc, as npm would, and each
 * dependency it declares is linked from this repository's node_modules.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
  lib: ['es2022', 'dom'],
  types: [],
  skipLibCheck: false,
  noEmit: true,
};

let work = '';
let app = '';
let packed: string[] = [];
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** tsc over `files` in the app, with the strict options; its output and exit status. */
function typecheck(name: string, files: string[]): { status: number | null; output: string } {
  writeFileSync(join(app, `${name}.json`), JSON.stringify({ compilerOptions: STRICT, files }, null, 2));
  const run = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', `${name}.json`], { cwd: app, encoding: 'utf8' });
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
  // The packed CLI builds the graph; one copy keeps only the .js and .d.ts, the other the .ts too.
  execFileSync(process.execPath, [join(installed, 'dist', 'cli.js'), 'build', 'model.graph.ts', '--out', 'generated-ts'], { cwd: app });
  cpSync(join(app, 'generated-ts'), join(app, 'generated'), { recursive: true });
  rmSync(join(app, 'generated', 'model.ts'));
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

  it('type-checks a graph file, the runtime over a generated module (.js + .d.ts) and the build-time entries under strict flags', () => {
    const { status, output } = typecheck('tsconfig.strict', ['model.graph.ts', 'use-runtime.ts', 'use-tools.ts', 'use-bundlers.ts']);
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it('type-checks the generated TypeScript source itself under the same flags', () => {
    const { status, output } = typecheck('tsconfig.generated-ts', ['use-generated-ts.ts']);
    expect(output).toBe('');
    expect(status).toBe(0);
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
