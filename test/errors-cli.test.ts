/**
 * The `gradc` command's error handling, run as a subprocess of the built CLI (dist/cli.js;
 * `npm test` builds it first). Every error the user can fix is one line on stderr starting
 * with `gradc: `, with no stack trace unless --verbose, and a non-zero exit code; a failed
 * build writes nothing.
 *
 * Each test copies its graph files into a fresh temporary folder and runs there, so paths
 * in messages are short and nothing is written into the repository.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');
const BAD = join(ROOT, 'test', 'fixtures', 'bad');
const GOOD = join(ROOT, 'test', 'fixtures', 'good');

const made: string[] = [];
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`node scripts/build.mjs\` (npm test does) before these tests`);
});
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh working folder holding copies of the named fixtures (`bad/x.graph.ts` or `good/…`), optionally renamed. */
function workdir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'gradc-cli-'));
  made.push(dir);
  for (const [as, from] of Object.entries(files)) copyFileSync(fixture(from), join(dir, as));
  return dir;
}

function fixture(name: string): string {
  const [kind, file] = name.split('/');
  return join(kind === 'good' ? GOOD : BAD, file);
}

/** The 1-based line of `// @marker` in a fixture. */
function fixtureLine(name: string, marker: string): number {
  const lines = readFileSync(fixture(name), 'utf8').split(/\r?\n/);
  const hits = lines.flatMap((l, i) => (l.includes(`// @${marker}`) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`marker @${marker} occurs ${hits.length} times in ${name}`);
  return hits[0];
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function gradc(args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A failed run: non-zero exit, and stderr is exactly one `gradc: …` line with no stack frames. Returns that line. */
function expectOneLineError(r: Run): string {
  expect(r.code, `exit code; stderr was:\n${r.stderr}`).not.toBe(0);
  expect(r.code).not.toBeNull();
  expect(r.stderr, 'stderr must end with a newline').toMatch(/\n$/);
  const lines = r.stderr.slice(0, -1).split('\n');
  expect(lines, `stderr must be one line, got:\n${r.stderr}`).toHaveLength(1);
  expect(lines[0]).toMatch(/^gradc: \S/);
  expect(r.stderr, 'no stack trace without --verbose').not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/node:internal|dist[\\/](cli|index)\.js/);
  return lines[0];
}

/** Every file under `dir`, with contents. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const p = join(dir, name);
    try {
      out[name] = readFileSync(p, 'latin1');
    } catch {
      out[name] = '<dir>';
    }
  }
  return out;
}

describe('a graph file with a shape error', () => {
  it('exits non-zero with one line naming the file and line, and creates no output folder', async () => {
    const dir = workdir({ 'net.graph.ts': 'bad/shape.graph.ts' });
    const r = await gradc(['build', 'net.graph.ts', '--out', 'out'], dir);
    const line = expectOneLineError(r);
    const n = fixtureLine('bad/shape.graph.ts', 'bad-affine');
    expect(line).toBe(`gradc: affine(h, W2, b2) at net.graph.ts:${n}: h is [64,3] but W2 is [4,1]`);
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(r.stdout).toBe('');
  });

  it('leaves an existing build byte-identical', async () => {
    const dir = workdir({ 'net.graph.ts': 'good/net.graph.ts' });
    const ok = await gradc(['build', 'net.graph.ts', '--out', 'out'], dir);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const before = snapshot(join(dir, 'out'));
    expect(Object.keys(before).sort()).toEqual(['.gradc-manifest.json', 'gradc-host.js', 'gradc-host.ts', 'net.d.ts', 'net.js', 'net.ts']);

    copyFileSync(fixture('bad/shape.graph.ts'), join(dir, 'net.graph.ts'));
    const r = await gradc(['build', 'net.graph.ts', '--out', 'out'], dir);
    expect(expectOneLineError(r)).toMatch(new RegExp(`net\\.graph\\.ts:${fixtureLine('bad/shape.graph.ts', 'bad-affine')}: `));
    expect(snapshot(join(dir, 'out'))).toEqual(before);
  });

  it('a failure in the second of two graph files writes neither', async () => {
    const dir = workdir({ 'a.graph.ts': 'good/net.graph.ts', 'b.graph.ts': 'bad/shape.graph.ts' });
    const r = await gradc(['build', 'a.graph.ts', 'b.graph.ts', '--out', 'out'], dir);
    expect(expectOneLineError(r)).toContain('b.graph.ts:');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('names a graph file outside the working folder by a path that leads to it', async () => {
    const dir = workdir();
    mkdirSync(join(dir, 'graphs'));
    copyFileSync(fixture('bad/shape.graph.ts'), join(dir, 'graphs', 'net.graph.ts'));
    const r = await gradc(['build', join('graphs', 'net.graph.ts'), '--out', 'out'], dir);
    expect(expectOneLineError(r)).toContain(`${join('graphs', 'net.graph.ts')}:${fixtureLine('bad/shape.graph.ts', 'bad-affine')}: `);
  });
});

describe('graph files that do not load', () => {
  it('a syntax error: one line with file:line:col', async () => {
    const dir = workdir();
    writeFileSync(
      join(dir, 'broken.graph.ts'),
      ["import { graph } from 'gradc';", '', "export default graph('b', (g) => {", "  const x = g.input('x', [2, 2];", '});', ''].join('\n'),
    );
    const r = await gradc(['build', 'broken.graph.ts', '--out', 'out'], dir);
    const line = expectOneLineError(r);
    expect(line).toMatch(/^gradc: broken\.graph\.ts:4:32: Expected "\)" but found ";"$/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('a default export that is not a graph', async () => {
    const dir = workdir({ 'obj.graph.ts': 'bad/not-graph.graph.ts' });
    const line = expectOneLineError(await gradc(['build', 'obj.graph.ts', '--out', 'out'], dir));
    expect(line).toMatch(/^gradc: obj\.graph\.ts: exports object by default; a graph file must `export default graph\('name', \(g\) => \{ … \}\)`$/);
  });

  it('no default export', async () => {
    const dir = workdir({ 'named.graph.ts': 'bad/no-default.graph.ts' });
    const line = expectOneLineError(await gradc(['build', 'named.graph.ts', '--out', 'out'], dir));
    expect(line).toMatch(/^gradc: named\.graph\.ts: has no default export; a graph file must `export default graph/);
  });

  it('a graph file that throws a plain Error: its message, one line', async () => {
    const dir = workdir({ 'cfg.graph.ts': 'bad/throws.graph.ts' });
    const line = expectOneLineError(await gradc(['build', 'cfg.graph.ts', '--out', 'out'], dir));
    expect(line).toMatch(/^gradc: cfg\.graph\.ts/);
    expect(line).toContain('config.json is missing the hidden width');
  });

  it("a graph file that throws a plain Error: names the line of the throw", async () => {
    const dir = workdir({ 'cfg.graph.ts': 'bad/throws.graph.ts' });
    const line = expectOneLineError(await gradc(['build', 'cfg.graph.ts', '--out', 'out'], dir));
    expect(line).toContain(`cfg.graph.ts:${fixtureLine('bad/throws.graph.ts', 'plain-throw')}`);
  });

  it('an async builder that awaits: one line, no unhandled rejection', async () => {
    const dir = workdir({ 'later.graph.ts': 'bad/async.graph.ts' });
    const r = await gradc(['build', 'later.graph.ts', '--out', 'out'], dir);
    const line = expectOneLineError(r);
    expect(line).toBe(`gradc: graph 'later' at later.graph.ts:${fixtureLine('bad/async.graph.ts', 'async-graph')}: the builder function must be synchronous`);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('a missing file', async () => {
    const dir = workdir();
    const line = expectOneLineError(await gradc(['build', 'missing.graph.ts', '--out', 'out'], dir));
    expect(line).toMatch(/^gradc: missing\.graph\.ts/);
    expect(line).toMatch(/not found|does not exist|no such file|could not resolve/i);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('an import that does not resolve: one line with file:line:col', async () => {
    const dir = workdir();
    writeFileSync(
      join(dir, 'dep.graph.ts'),
      ["import { graph, relu } from 'gradc';", "import { widths } from './no-such-helper.ts';", '', "export default graph('dep', (g) => {", "  g.output('o', relu(g.input('x', [2, widths[0]])));", '});', ''].join('\n'),
    );
    const line = expectOneLineError(await gradc(['build', 'dep.graph.ts', '--out', 'out'], dir));
    expect(line).toMatch(/^gradc: dep\.graph\.ts:2:\d+: .*no-such-helper/);
  });

  it('a misspelt import from gradc: at the import, with the closest export', async () => {
    const dir = workdir();
    writeFileSync(
      join(dir, 'typo.graph.ts'),
      ["import { graph, affine,", "  tahn, squaredLoss } from 'gradc';", '', "export default graph('typo', (g) => {", "  g.loss(squaredLoss(tahn(affine(g.input('x', [2, 2]), g.param('W', [2, 1]), g.param('b', [1]))), g.input('y', [2, 1])));", '});', ''].join('\n'),
    );
    const line = expectOneLineError(await gradc(['build', 'typo.graph.ts', '--out', 'out'], dir));
    expect(line).toBe(`gradc: import { tahn } from 'gradc' at typo.graph.ts:2: 'gradc' has no export "tahn"; did you mean tanh?`);
    writeFileSync(join(dir, 'far.graph.ts'), "import { graph, convolve } from 'gradc';\nexport default graph('far', (g) => { g.output('o', convolve(g.input('x', [1, 1]))); });\n");
    const far = expectOneLineError(await gradc(['build', 'far.graph.ts', '--out', 'out'], dir));
    expect(far).toMatch(/^gradc: import \{ convolve \} from 'gradc' at far\.graph\.ts:1: 'gradc' has no export "convolve"; it exports .*\baffine\b.*\btanh\b/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('a misspelt method of the graph context: at its line, with the closest method', async () => {
    const dir = workdir();
    writeFileSync(
      join(dir, 'parm.graph.ts'),
      ["import { graph, affine, relu } from 'gradc';", '', "export default graph('parm', (g) => {", "  const x = g.input('x', [2, 2]);", "  g.output('o', relu(affine(x, g.parm('W', [2, 1]), g.param('b', [1]))));", '});', ''].join('\n'),
    );
    const line = expectOneLineError(await gradc(['build', 'parm.graph.ts', '--out', 'out'], dir));
    expect(line).toBe("gradc: parm('W', [2, 1]) at parm.graph.ts:5: the graph context has no method 'parm'; did you mean g.param? (its methods: input, param, output, loss, batch, optimizer)");
  });

  it('inspect reports the same one-line error', async () => {
    const dir = workdir({ 'net.graph.ts': 'bad/shape.graph.ts' });
    const line = expectOneLineError(await gradc(['inspect', 'net.graph.ts'], dir));
    expect(line).toBe(`gradc: affine(h, W2, b2) at net.graph.ts:${fixtureLine('bad/shape.graph.ts', 'bad-affine')}: h is [64,3] but W2 is [4,1]`);
  });
});

describe('command-line mistakes', () => {
  it('an unknown command suggests the close one', async () => {
    const line = expectOneLineError(await gradc(['biuld', 'net.graph.ts'], workdir()));
    expect(line).toMatch(/^gradc: unknown command "biuld" \(did you mean build\?\); run gradc --help$/);
  });

  it('an unknown command far from any known one has no suggestion', async () => {
    const line = expectOneLineError(await gradc(['frobnicate'], workdir()));
    expect(line).toMatch(/unknown command "frobnicate"/);
    expect(line).not.toMatch(/did you mean/);
  });

  it('an unknown option suggests the close one', async () => {
    const dir = workdir({ 'net.graph.ts': 'good/net.graph.ts' });
    const line = expectOneLineError(await gradc(['build', 'net.graph.ts', '--ot', 'out'], dir));
    expect(line).toMatch(/^gradc: unknown option --ot \(did you mean --out\?\); run gradc build --help$/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('a misspelt --forward-only is caught, not ignored', async () => {
    const dir = workdir({ 'fwd.graph.ts': 'bad/no-loss.graph.ts' });
    const line = expectOneLineError(await gradc(['build', 'fwd.graph.ts', '--out', 'out', '--forward-onyl'], dir));
    expect(line).toMatch(/unknown option --forward-onyl \(did you mean --forward-only\?\)/);
  });

  it('--out missing', async () => {
    const dir = workdir({ 'net.graph.ts': 'good/net.graph.ts' });
    const line = expectOneLineError(await gradc(['build', 'net.graph.ts'], dir));
    expect(line).toMatch(/--out <dir> is required$/);
  });

  it('--out without a value', async () => {
    const dir = workdir({ 'net.graph.ts': 'good/net.graph.ts' });
    const line = expectOneLineError(await gradc(['build', 'net.graph.ts', '--out'], dir));
    expect(line).toMatch(/--out needs a value$/);
  });

  it('--out followed by another option', async () => {
    const dir = workdir({ 'net.graph.ts': 'good/net.graph.ts' });
    const line = expectOneLineError(await gradc(['build', 'net.graph.ts', '--out', '--check'], dir));
    expect(line).toMatch(/--out needs a value$/);
  });

  it('--out naming an existing file: one line, and the file is untouched', async () => {
    const dir = workdir({ 'net.graph.ts': 'good/net.graph.ts' });
    writeFileSync(join(dir, 'out'), 'not a folder\n');
    const line = expectOneLineError(await gradc(['build', 'net.graph.ts', '--out', 'out'], dir));
    expect(line).toMatch(/^gradc: .*out/);
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('not a folder\n');
  });

  it('no graph file', async () => {
    const line = expectOneLineError(await gradc(['build', '--out', 'out'], workdir()));
    expect(line).toMatch(/no graph file given/);
  });

  it('an unknown target', async () => {
    const dir = workdir({ 'net.graph.ts': 'good/net.graph.ts' });
    const line = expectOneLineError(await gradc(['build', 'net.graph.ts', '--out', 'out', '--target', 'cuda'], dir));
    expect(line).toMatch(/^gradc: .*unknown target "cuda"; targets: (\w+, )*js(, \w+)*$/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('an unknown target in a list, given with =', async () => {
    const dir = workdir({ 'net.graph.ts': 'good/net.graph.ts' });
    const line = expectOneLineError(await gradc(['build', 'net.graph.ts', '--out=out', '--target=js,jss'], dir));
    expect(line).toMatch(/unknown target "jss" \(did you mean js\?\)/);
  });

  it('inspect with two files', async () => {
    const dir = workdir({ 'a.graph.ts': 'good/net.graph.ts', 'b.graph.ts': 'good/net.graph.ts' });
    const line = expectOneLineError(await gradc(['inspect', 'a.graph.ts', 'b.graph.ts'], dir));
    expect(line).toMatch(/takes one graph file, got 2/);
  });
});

describe('graphs the build cannot accept as given', () => {
  it('a graph without a loss names --forward-only', async () => {
    const dir = workdir({ 'fwd.graph.ts': 'bad/no-loss.graph.ts' });
    const line = expectOneLineError(await gradc(['build', 'fwd.graph.ts', '--out', 'out'], dir));
    expect(line).toMatch(new RegExp(`^gradc: graph 'fwd' at fwd\\.graph\\.ts:${fixtureLine('bad/no-loss.graph.ts', 'no-loss')}: `));
    expect(line).toContain('--forward-only');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('--forward-only builds it, and the module has forward but no loss, gradient or trainStep', async () => {
    const dir = workdir({ 'fwd.graph.ts': 'bad/no-loss.graph.ts' });
    const r = await gradc(['build', 'fwd.graph.ts', '--out', 'out', '--forward-only'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['.gradc-manifest.json', 'fwd.d.ts', 'fwd.js', 'fwd.ts', 'gradc-host.js', 'gradc-host.ts']);
    const mod = (await import(pathToFileURL(join(dir, 'out', 'fwd.js')).href)) as Record<string, unknown>;
    expect(typeof mod.forward).toBe('function');
    expect(typeof mod.initParams).toBe('function');
    expect(mod).not.toHaveProperty('trainStep');
    expect(mod).not.toHaveProperty('gradient');
    expect(mod).not.toHaveProperty('loss');
    const dts = readFileSync(join(dir, 'out', 'fwd.d.ts'), 'utf8');
    expect(dts).not.toMatch(/trainStep/);
    expect(dts).toMatch(/export declare function forward/);
  });

  it('two graph files defining the same graph name', async () => {
    const dir = workdir({ 'twin-a.graph.ts': 'bad/twin-a.graph.ts', 'twin-b.graph.ts': 'bad/twin-b.graph.ts' });
    const r = await gradc(['build', 'twin-a.graph.ts', 'twin-b.graph.ts', '--out', 'out', '--forward-only'], dir);
    const line = expectOneLineError(r);
    expect(line).toMatch(/^gradc: twin-b\.graph\.ts: defines graph 'twin', which twin-a\.graph\.ts defines too; output files would collide$/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('the same graph file given twice', async () => {
    const dir = workdir({ 'net.graph.ts': 'good/net.graph.ts' });
    const line = expectOneLineError(await gradc(['build', 'net.graph.ts', 'net.graph.ts', '--out', 'out'], dir));
    expect(line).toBe('gradc: net.graph.ts: is given twice; list each graph file once');
    const other = expectOneLineError(await gradc(['build', 'net.graph.ts', './net.graph.ts', '--out', 'out'], dir));
    expect(other).toBe('gradc: ./net.graph.ts: is given twice (also as net.graph.ts); list each graph file once');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});

describe('--verbose', () => {
  it('prints the message and a stack trace', async () => {
    const dir = workdir({ 'net.graph.ts': 'bad/shape.graph.ts' });
    const r = await gradc(['build', 'net.graph.ts', '--out', 'out', '--verbose'], dir);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^gradc: /);
    expect(r.stderr).toContain(`affine(h, W2, b2) at net.graph.ts:${fixtureLine('bad/shape.graph.ts', 'bad-affine')}: h is [64,3] but W2 is [4,1]`);
    expect(r.stderr.trimEnd().split('\n').length).toBeGreaterThan(1);
    expect(r.stderr).toMatch(/^\s+at /m);
  });

  it('also for command-line mistakes', async () => {
    const r = await gradc(['build', '--verbose', '--ot'], workdir());
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown option --ot/);
    expect(r.stderr).toMatch(/^\s+at /m);
  });
});

describe('--check', () => {
  it('exits 0 when the output is up to date, 1 naming the file that was edited', async () => {
    const dir = workdir({ 'net.graph.ts': 'good/net.graph.ts' });
    expect((await gradc(['build', 'net.graph.ts', '--out', 'out'], dir)).code).toBe(0);

    const fresh = await gradc(['build', 'net.graph.ts', '--out', 'out', '--check'], dir);
    expect(fresh.stderr).toBe('');
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toMatch(/up to date/);

    const edited = join(dir, 'out', 'net.js');
    writeFileSync(edited, readFileSync(edited, 'utf8').replace('learningRate', 'learningRate '));
    const before = snapshot(join(dir, 'out'));
    const stale = await gradc(['build', 'net.graph.ts', '--out', 'out', '--check'], dir);
    expect(stale.code).toBe(1);
    const lines = stale.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^gradc: /);
    expect(lines[0]).toContain(join('out', 'net.js'));
    expect(lines[0]).not.toContain('net.ts ');
    expect(stale.stderr).not.toMatch(/^\s+at /m);
    // --check writes nothing, not even to repair the edit.
    expect(snapshot(join(dir, 'out'))).toEqual(before);
  });

  it('exits 1 when a generated file is missing, and creates nothing', async () => {
    const dir = workdir({ 'net.graph.ts': 'good/net.graph.ts' });
    const r = await gradc(['build', 'net.graph.ts', '--out', 'out', '--check'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join('out', 'net.d.ts'));
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('exits non-zero on a broken graph, with the usual one line', async () => {
    const dir = workdir({ 'net.graph.ts': 'good/net.graph.ts' });
    expect((await gradc(['build', 'net.graph.ts', '--out', 'out'], dir)).code).toBe(0);
    const before = snapshot(join(dir, 'out'));
    copyFileSync(fixture('bad/shape.graph.ts'), join(dir, 'net.graph.ts'));
    const line = expectOneLineError(await gradc(['build', 'net.graph.ts', '--out', 'out', '--check'], dir));
    expect(line).toContain('h is [64,3] but W2 is [4,1]');
    expect(snapshot(join(dir, 'out'))).toEqual(before);
  });
});

describe('help', () => {
  it('gradc --help exits 0 and lists the commands and options', async () => {
    const r = await gradc(['--help'], workdir());
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage:/m);
    expect(r.stdout).toMatch(/^\s+build\s/m);
    expect(r.stdout).toMatch(/^\s+inspect\s/m);
    expect(r.stdout).toContain('--out');
    expect(r.stdout).toContain('--verbose');
  });

  it('gradc with no arguments prints the same help', async () => {
    const r = await gradc([], workdir());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe((await gradc(['--help'], workdir())).stdout);
  });

  it('gradc build --help exits 0 and lists every build option', async () => {
    const r = await gradc(['build', '--help'], workdir());
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const option of ['--out <dir>', '--target', '--forward-only', '--check', '--verbose']) expect(r.stdout).toContain(option);
  });

  it('gradc inspect --help exits 0', async () => {
    const r = await gradc(['inspect', '--help'], workdir());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/gradc inspect <graph-file>/);
  });

  it('--version exits 0', async () => {
    const r = await gradc(['--version'], workdir());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^gradc \d+\.\d+\.\d+/);
  });
});

/** A graph file of the given name and text in `dir` (made with `workdir`). */
function put(dir: string, name: string, text: string): string {
  mkdirSync(join(dir, name, '..'), { recursive: true });
  writeFileSync(join(dir, name), text);
  return name;
}

/** The small valid graph of good/net.graph.ts under another name, with extra lines before its export. */
const netGraph = (name: string, before = '') => readFileSync(fixture('good/net.graph.ts'), 'utf8')
  .replace("graph('net'", `graph('${name}'`)
  .replace('export default', `${before}\nexport default`);

describe('a build never writes over its own inputs', () => {
  it('a graph file in the output folder with the name of an output: one line, the file untouched', async () => {
    const dir = workdir();
    const source = netGraph('mlp');
    put(dir, 'src/mlp.ts', source);
    const line = expectOneLineError(await gradc(['build', 'src/mlp.ts', '--out', 'src'], dir));
    expect(line).toBe(`gradc: ${join('src', 'mlp.ts')}: is an input of this build (a graph file or a file one imports); the build would write mlp.ts over it — choose another --out folder or rename the graph`);
    expect(readFileSync(join(dir, 'src', 'mlp.ts'), 'utf8')).toBe(source);
    expect(readdirSync(join(dir, 'src'))).toEqual(['mlp.ts']);
  });

  it('a file the graph imports, reached through a linked output folder', async () => {
    const dir = workdir();
    put(dir, 'lib/sizes.js', 'export const hidden = 3;\n');
    put(dir, 'net.graph.ts', netGraph('sizes', "import { hidden } from './lib/sizes.js';\nvoid hidden;"));
    symlinkSync(join(dir, 'lib'), join(dir, 'out'));
    const line = expectOneLineError(await gradc(['build', 'net.graph.ts', '--out', 'out'], dir));
    expect(line).toMatch(/^gradc: out\/sizes\.js: is an input of this build/);
    expect(readFileSync(join(dir, 'lib', 'sizes.js'), 'utf8')).toBe('export const hidden = 3;\n');
    expect(readdirSync(join(dir, 'lib'))).toEqual(['sizes.js']);
  });
});

describe('graphs whose output files collide', () => {
  it('graphs Net and net: one line naming the file and both graphs, nothing written', async () => {
    const dir = workdir();
    put(dir, 'a.graph.ts', netGraph('Net'));
    put(dir, 'b.graph.ts', netGraph('net'));
    const line = expectOneLineError(await gradc(['build', 'a.graph.ts', 'b.graph.ts', '--out', 'out', '--target', 'js'], dir));
    expect(line).toMatch(/^gradc: b\.graph\.ts: graph 'net' writes [^ ]+, which graph 'Net' of a\.graph\.ts writes too; rename one of the graphs$/);
    expect(line.toLowerCase()).toContain('writes net.ts,');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  // A graph named like another's module (net.d, net.gpu) never gets as far: the name is refused.
  it.each([['net.d', 'd'], ['net.gpu', 'gpu']])('a graph %s beside net: refused by its name, nothing written', async (b, word) => {
    const dir = workdir();
    put(dir, 'a.graph.ts', netGraph('net'));
    put(dir, 'b.graph.ts', netGraph(b));
    const line = expectOneLineError(await gradc(['build', 'a.graph.ts', 'b.graph.ts', '--out', 'out', '--target', 'js,wgsl'], dir));
    expect(line).toContain(`the graph name "${b}" ends in '.${word}', so its files`);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});

describe('the output folder holds one build', () => {
  it("a build owns only its graphs' files: building another graph into the folder keeps the first's; --check of either passes", async () => {
    const dir = workdir({ 'a.graph.ts': 'good/net.graph.ts' });
    put(dir, 'b.graph.ts', netGraph('other'));
    expect((await gradc(['build', 'a.graph.ts', '--out', 'out', '--target', 'js,wgsl'], dir)).code).toBe(0);
    const first = snapshot(join(dir, 'out'));
    const second = await gradc(['build', 'b.graph.ts', '--out', 'out'], dir);
    expect(second.code).toBe(0);
    expect(second.stdout).not.toContain('removed');
    const both = snapshot(join(dir, 'out'));
    for (const [name, text] of Object.entries(first)) if (name !== '.gradc-manifest.json') expect(both[name], name).toBe(text);
    expect(Object.keys(both).sort()).toEqual([
      '.gradc-manifest.json', 'gradc-host.js', 'gradc-host.ts', 'net.d.ts', 'net.gpu.d.ts', 'net.gpu.js', 'net.js', 'net.ts', 'net.wgsl', 'other.d.ts', 'other.js', 'other.ts',
    ]);
    expect((await gradc(['build', 'b.graph.ts', '--out', 'out', '--check'], dir)).code).toBe(0);
    expect((await gradc(['build', 'a.graph.ts', '--out', 'out', '--target', 'js,wgsl', '--check'], dir)).code).toBe(0);
    // Rebuilding the first keeps the second's files too.
    expect((await gradc(['build', 'a.graph.ts', '--out', 'out', '--target', 'js,wgsl'], dir)).code).toBe(0);
    expect(snapshot(join(dir, 'out'))).toEqual(both);
  });

  it("a graph's own files it no longer generates are removed; --check names them until then", async () => {
    const dir = workdir({ 'a.graph.ts': 'good/net.graph.ts' });
    put(dir, 'b.graph.ts', netGraph('other'));
    expect((await gradc(['build', 'a.graph.ts', 'b.graph.ts', '--out', 'out', '--target', 'js,wgsl'], dir)).code).toBe(0);
    const check = await gradc(['build', 'a.graph.ts', '--out', 'out', '--check'], dir);
    expect(check.code).toBe(1);
    const lines = check.stderr.trimEnd().split('\n');
    expect(lines).toContain(`gradc: ${join('out', 'net.wgsl')} is left from an earlier build: no graph generates it now (a build removes it)`);
    expect(lines).toContain(`gradc: ${join('out', '.gradc-manifest.json')} differs from what the graph generates now`);
    expect(lines.filter((l) => l.includes('other'))).toEqual([]);
    const rebuilt = await gradc(['build', 'a.graph.ts', '--out', 'out'], dir);
    expect(rebuilt.stdout).toContain('gradc: removed net.gpu.d.ts, net.gpu.js, net.wgsl from out: no graph generates them any more');
    expect(readdirSync(join(dir, 'out')).sort()).toEqual([
      '.gradc-manifest.json', 'gradc-host.js', 'gradc-host.ts', 'net.d.ts', 'net.js', 'net.ts', 'other.d.ts', 'other.gpu.d.ts', 'other.gpu.js', 'other.js', 'other.ts', 'other.wgsl',
    ]);
    expect((await gradc(['build', 'a.graph.ts', '--out', 'out', '--check'], dir)).code).toBe(0);
  });

  it("a graph's stale file that was edited since is kept, with a warning", async () => {
    const dir = workdir({ 'a.graph.ts': 'good/net.graph.ts' });
    expect((await gradc(['build', 'a.graph.ts', '--out', 'out', '--target', 'js,wgsl'], dir)).code).toBe(0);
    writeFileSync(join(dir, 'out', 'net.wgsl'), '// mine now\n');
    const r = await gradc(['build', 'a.graph.ts', '--out', 'out'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('gradc: removed net.gpu.d.ts, net.gpu.js from out');
    expect(r.stderr).toBe(`gradc: warning: kept ${join('out', 'net.wgsl')}: an earlier build wrote it and no graph generates it now, but it has changed since (or is an input of this build); delete it if it is not needed\n`);
    expect(readFileSync(join(dir, 'out', 'net.wgsl'), 'utf8')).toBe('// mine now\n');
  });

  it.each(['net.ts', 'net.js', 'net.d.ts', 'net.wgsl', 'net.gpu.js', 'net.gpu.d.ts', 'net.wat', 'net.wasm.ts', 'net.wasm.js', 'net.wasm.d.ts', 'gradc-host.ts', 'gradc-host.js'])(
    'a hand-written %s where the build writes is never replaced without --force; nothing is written',
    async (name) => {
      const dir = workdir({ 'net.graph.ts': 'good/net.graph.ts' });
      mkdirSync(join(dir, 'out'));
      writeFileSync(join(dir, 'out', name), '// hand-written\n');
      const line = expectOneLineError(await gradc(['build', 'net.graph.ts', '--out', 'out', '--target', 'js,wgsl,wasm'], dir));
      expect(line).toBe(`gradc: out: holds a file that gradc did not write (no .gradc-manifest.json lists it) where the build writes: ${join('out', name)}; move it away, choose another --out, or pass --force to replace it`);
      expect(readdirSync(join(dir, 'out'))).toEqual([name]);
      expect(readFileSync(join(dir, 'out', name), 'utf8')).toBe('// hand-written\n');
      // --check names it too, and writes nothing.
      const check = await gradc(['build', 'net.graph.ts', '--out', 'out', '--target', 'js,wgsl,wasm', '--check'], dir);
      expect(check.code).toBe(1);
      expect(check.stderr).toContain(`gradc: ${join('out', name)} differs from what the graph generates now`);
      expect(readdirSync(join(dir, 'out'))).toEqual([name]);
      // --force replaces it, and from then on the file is gradc's.
      expect((await gradc(['build', 'net.graph.ts', '--out', 'out', '--target', 'js,wgsl,wasm', '--force'], dir)).code).toBe(0);
      expect(readFileSync(join(dir, 'out', name), 'utf8')).not.toBe('// hand-written\n');
      expect((await gradc(['build', 'net.graph.ts', '--out', 'out', '--target', 'js,wgsl,wasm'], dir)).code).toBe(0);
    },
  );

  it('every hand-written file in the way is named in one line; a file beside them is never touched', async () => {
    const dir = workdir({ 'net.graph.ts': 'good/net.graph.ts' });
    mkdirSync(join(dir, 'out'));
    for (const name of ['net.ts', 'net.js', 'gradc-host.js', 'notes.md']) writeFileSync(join(dir, 'out', name), `// ${name}\n`);
    const line = expectOneLineError(await gradc(['build', 'net.graph.ts', '--out', 'out'], dir));
    expect(line).toBe(`gradc: out: holds files that gradc did not write (no .gradc-manifest.json lists them) where the build writes: ${['gradc-host.js', 'net.js', 'net.ts'].map((n) => join('out', n)).join(', ')}; move them away, choose another --out, or pass --force to replace them`);
    expect(Object.keys(snapshot(join(dir, 'out'))).sort()).toEqual(['gradc-host.js', 'net.js', 'net.ts', 'notes.md']);
    expect((await gradc(['build', 'net.graph.ts', '--out', 'out', '--force'], dir)).code).toBe(0);
    expect(readFileSync(join(dir, 'out', 'notes.md'), 'utf8')).toBe('// notes.md\n');
  });

  it("a graph never writes over another graph's file in the folder, even with --force", async () => {
    const dir = workdir({ 'a.graph.ts': 'good/net.graph.ts' });
    // NET's files are net's on a case-insensitive disk (macOS, Windows).
    put(dir, 'b.graph.ts', netGraph('NET'));
    expect((await gradc(['build', 'a.graph.ts', '--out', 'out', '--target', 'js,wgsl'], dir)).code).toBe(0);
    const before = snapshot(join(dir, 'out'));
    const line = expectOneLineError(await gradc(['build', 'b.graph.ts', '--out', 'out', '--force'], dir));
    expect(line).toBe(`gradc: ${join('out', 'net.d.ts')}: was written by graph 'net', which this build does not build; the build would write over it — rename the graph or choose another --out`);
    expect(snapshot(join(dir, 'out'))).toEqual(before);
  });

  it('--check reports a build that was stopped part-way instead of comparing a mix', async () => {
    const dir = workdir({ 'net.graph.ts': 'good/net.graph.ts' });
    expect((await gradc(['build', 'net.graph.ts', '--out', 'out'], dir)).code).toBe(0);
    mkdirSync(join(dir, 'out', '.gradc-build'));
    const line = expectOneLineError(await gradc(['build', 'net.graph.ts', '--out', 'out', '--check'], dir));
    expect(line).toBe('gradc: out: holds a build that was stopped part-way; run gradc build to roll it back');
    expect((await gradc(['build', 'net.graph.ts', '--out', 'out'], dir)).code).toBe(0);
    expect(existsSync(join(dir, 'out', '.gradc-build'))).toBe(false);
  });
});

/** The CLI's side of misbehaving graph files; every kind of thrown value is in graph-loading.test.ts. */
describe('graph files that misbehave while loading', () => {
  const graphAfter = (before: string) => netGraph('net', before);

  it.each([
    ['an endless loop', 'while (Date.now() > 0) {}', /^gradc: net\.graph\.ts: did not finish loading within 1 s: an endless loop, or a wait that never ends\? \(the limit is set by --timeout <seconds>\)$/],
    ['a top-level await that never settles', 'await new Promise(() => {});', /^gradc: net\.graph\.ts: stopped before its graph was ready, with nothing left to wait for: a top-level await that never settles\?$/],
    ['a timer left running', 'setInterval(() => {}, 1000);', /^gradc: net\.graph\.ts: left a timer running after it loaded, which would keep the build from ending; a graph file must not start timers or open handles$/],
    ['process.exit(0)', 'process.exit(0);', /^gradc: net\.graph\.ts: called process\.exit\(0\) while loading; a graph file must only build its graph, not end the process$/],
    ['an Error with ANSI escapes', "throw new Error('\\u001b[31mred\\u001b[0m and \\u001b]0;title\\u0007done');", /^gradc: net\.graph\.ts:\d+: the graph file threw while loading: red and done$/],
  ])('%s: one line naming the file, nothing written, and the command ends', async (_, code, message) => {
    const dir = workdir();
    put(dir, 'net.graph.ts', graphAfter(code));
    const start = Date.now();
    const r = await gradc(['build', 'net.graph.ts', '--out', 'out', '--timeout', '1'], dir);
    expect(expectOneLineError(r)).toMatch(message);
    expect(r.stderr).not.toContain('\u001b');
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(Date.now() - start).toBeLessThan(20_000);
  });

  it('process.exit(0) fails --check too', async () => {
    const dir = workdir({ 'net.graph.ts': 'good/net.graph.ts' });
    expect((await gradc(['build', 'net.graph.ts', '--out', 'out'], dir)).code).toBe(0);
    put(dir, 'net.graph.ts', graphAfter('process.exit(0);'));
    expect(expectOneLineError(await gradc(['build', 'net.graph.ts', '--out', 'out', '--check'], dir))).toMatch(/called process\.exit\(0\)/);
  });

  it('--timeout must be a positive number of seconds', async () => {
    for (const value of ['0', '-1', 'soon']) {
      const line = expectOneLineError(await gradc(['build', 'x.graph.ts', '--out', 'out', '--timeout', value], workdir()));
      expect(line).toMatch(/^gradc: --timeout needs a number of seconds above 0/);
    }
  });
});
