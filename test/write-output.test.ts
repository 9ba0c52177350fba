/**
 * The output folder as one unit (compiler/cli/write-output.ts): a build's files and its
 * manifest replace the previous build's under a lock, through a staging folder and a plan
 * that a failure — or a kill at any file operation — rolls back. Whatever happens, the folder
 * then holds all of the old build or all of the new one, nothing temporary, and never a file
 * of a failed build.
 */
import { spawn, spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { MANIFEST, differing, manifestFor, readManifest, recoverOutput, unfinishedBuild, writeAll, type WriteIo } from '../compiler/cli/write-output.ts';
import type { OutputFile } from '../compiler/compile.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const made: string[] = [];
/** write-output.ts as plain JS, so child processes start in node alone (tsx would add ~0.3 s each). */
const WRITER = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'gradc-writer-'));
  made.push(dir);
  buildSync({ entryPoints: [join(ROOT, 'compiler/cli/write-output.ts')], bundle: true, platform: 'node', format: 'esm', outfile: join(dir, 'writer.mjs'), logLevel: 'silent' });
  return pathToFileURL(join(dir, 'writer.mjs')).href;
})();
const files = (tag: string, names: readonly string[]): OutputFile[] => names.map((name) => ({ name, contents: `// ${tag} ${name}\n${tag.repeat(1000)}\n` }));
/** The previous build, and a new one that drops two of its files and adds one. */
const OLD = files('old', ['net.ts', 'net.js', 'net.d.ts', 'net.wgsl', 'net.gpu.ts']);
const NEW = files('new', ['net.ts', 'net.js', 'net.d.ts', 'extra.ts']);
const OTHER = files('other', ['net.ts', 'net.js', 'net.d.ts']);

afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function fresh(): { parent: string; out: string } {
  const parent = mkdtempSync(join(tmpdir(), 'gradc-write-'));
  made.push(parent);
  return { parent, out: join(parent, 'out') };
}

/** Which build the folder holds, exactly ('old', 'new', 'other'), or what is wrong with it. */
function state(out: string): string {
  const present = readdirSync(out).filter((n) => n !== 'README.md').sort();
  for (const [tag, build] of Object.entries({ old: OLD, new: NEW, other: OTHER })) {
    const names = [...build.map((f) => f.name), MANIFEST].sort();
    if (JSON.stringify(present) !== JSON.stringify(names)) continue;
    const same = [...build, manifestFor(build)].every((f) => readFileSync(join(out, f.name), 'utf8') === f.contents);
    return same ? tag : `${tag}'s names with other contents`;
  }
  return `a mix: ${present.join(', ')}`;
}

/** Nothing temporary anywhere: no staging, lock or plan left beside or inside the output folder. */
function expectClean(parent: string, out: string): void {
  expect(readdirSync(parent).filter((n) => n !== 'child.mjs')).toEqual(['out']);
  expect(readdirSync(out).filter((n) => n.startsWith('.') && n !== MANIFEST)).toEqual([]);
}

const failing = (what: keyof WriteIo, n: number): WriteIo => {
  let calls = 0;
  return {
    writeFile: (path, contents) => {
      if (what === 'writeFile' && calls++ === n) throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC' });
      writeFileSync(path, contents);
    },
    rename: (from, to) => {
      if (what === 'rename' && calls++ === n) throw new Error(`EIO: i/o error, rename '${from}'`);
      renameSync(from, to);
    },
  };
};

/** The pid of a process that has ended. */
const deadPid = () => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);

/** How many calls of each kind a build of NEW over OLD makes. */
function operations(): { writeFile: number; rename: number } {
  const { out } = fresh();
  writeAll(out, OLD);
  const count = { writeFile: 0, rename: 0 };
  writeAll(out, NEW, {
    io: {
      writeFile: (p, c) => (count.writeFile++, writeFileSync(p, c)),
      rename: (a, b) => (count.rename++, renameSync(a, b)),
    },
  });
  return count;
}
const OPS = operations();

describe('writeAll', () => {
  it('writes every file and a manifest of them into a new folder, and leaves nothing temporary', () => {
    const { parent, out } = fresh();
    writeAll(out, NEW);
    expect(state(out)).toBe('new');
    expect(Object.keys(readManifest(out)!.files)).toEqual(NEW.map((f) => f.name).sort());
    expectClean(parent, out);
  });

  it('replaces an old build, removes the files it no longer generates, and keeps files that are not its own', () => {
    const { parent, out } = fresh();
    writeAll(out, OLD);
    writeFileSync(join(out, 'README.md'), 'mine');
    expect(writeAll(out, NEW)).toEqual({ removed: ['net.gpu.ts', 'net.wgsl'], kept: [] });
    expect(state(out)).toBe('new');
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toBe('mine');
    expectClean(parent, out);
  });

  it('keeps a file of the previous build that was edited since, and says so', () => {
    const { out } = fresh();
    writeAll(out, OLD);
    writeFileSync(join(out, 'net.wgsl'), 'edited by hand');
    expect(writeAll(out, NEW)).toEqual({ removed: ['net.gpu.ts'], kept: ['net.wgsl'] });
    expect(readFileSync(join(out, 'net.wgsl'), 'utf8')).toBe('edited by hand');
    expect(existsSync(join(out, 'net.gpu.ts'))).toBe(false);
  });

  it.each(Array.from({ length: OPS.writeFile }, (_, k) => k))('a write that fails at call %i keeps the old build byte for byte', (k) => {
    const { parent, out } = fresh();
    writeAll(out, OLD);
    expect(() => writeAll(out, NEW, { io: failing('writeFile', k) })).toThrow(/^.*out: the build could not be written, and the folder is as it was: ENOSPC/);
    expect(state(out)).toBe('old');
    expectClean(parent, out);
  });

  it.each(Array.from({ length: OPS.rename }, (_, k) => k))('a move that fails at call %i is rolled back: the old build byte for byte', (k) => {
    const { parent, out } = fresh();
    writeAll(out, OLD);
    expect(() => writeAll(out, NEW, { io: failing('rename', k) })).toThrow(/the folder is as it was: EIO/);
    expect(state(out)).toBe('old');
    expectClean(parent, out);
  });

  it('a failed first build leaves the new folder empty', () => {
    const { parent, out } = fresh();
    expect(() => writeAll(out, NEW, { io: failing('rename', 2) })).toThrow(/EIO/);
    expect(readdirSync(out)).toEqual([]);
    expectClean(parent, out);
  });

  it('a failed build is never moved in by a later, unrelated build', () => {
    const { parent, out } = fresh();
    writeAll(out, OLD);
    expect(() => writeAll(out, NEW, { io: failing('rename', 3) })).toThrow(/EIO/);
    writeAll(out, OTHER);
    expect(state(out)).toBe('other');
    expectClean(parent, out);
  });

  it('a folder where a file goes: one line naming it, and nothing is changed', () => {
    const { parent, out } = fresh();
    writeAll(out, OLD);
    mkdirSync(join(out, 'extra.ts'));
    expect(() => writeAll(out, NEW)).toThrow(/out\/extra\.ts: is in the way of a generated file \(a folder or a link, not a file\)/);
    rmSync(join(out, 'extra.ts'), { recursive: true });
    expect(state(out)).toBe('old');
    expectClean(parent, out);
  });

  describe('never writes over an input of the build', () => {
    it('by the same name', () => {
      const { out } = fresh();
      mkdirSync(out);
      writeFileSync(join(out, 'net.ts'), 'export default graph(…)');
      expect(() => writeAll(out, NEW, { inputs: [join(out, 'net.ts')] })).toThrow(/out\/net\.ts: is an input of this build .*; the build would write net\.ts over it/);
      expect(readdirSync(out)).toEqual(['net.ts']);
      expect(readFileSync(join(out, 'net.ts'), 'utf8')).toBe('export default graph(…)');
    });

    it('through a symbolic link to its folder, or a hard link to the file', () => {
      const { parent, out } = fresh();
      const src = join(parent, 'src');
      mkdirSync(src);
      writeFileSync(join(src, 'net.js'), 'helper');
      symlinkSync(src, join(parent, 'linked'));
      expect(() => writeAll(join(parent, 'linked'), NEW, { inputs: [join(src, 'net.js')] })).toThrow(/is an input of this build/);
      mkdirSync(out);
      linkSync(join(src, 'net.js'), join(out, 'net.js'));
      expect(() => writeAll(out, NEW, { inputs: [join(src, 'net.js')] })).toThrow(/out\/net\.js: is an input/);
      expect(readFileSync(join(src, 'net.js'), 'utf8')).toBe('helper');
    });

    it('nor removes one that the previous manifest lists', () => {
      const { out } = fresh();
      writeAll(out, OLD);
      expect(writeAll(out, NEW, { inputs: [join(out, 'net.wgsl')] }).kept).toEqual(['net.wgsl']);
      expect(existsSync(join(out, 'net.wgsl'))).toBe(true);
    });
  });
});

describe('the lock', () => {
  it('waits for a live build holding it, then gives up with one line naming it', () => {
    const { out } = fresh();
    writeAll(out, OLD);
    mkdirSync(join(out, '.gradc-lock'));
    writeFileSync(join(out, '.gradc-lock', 'owner.json'), JSON.stringify({ pid: 1, host: hostname(), token: 'x' }));
    const start = Date.now();
    expect(() => writeAll(out, NEW, { lockWaitMs: 300 })).toThrow(/out: another gradc build \(pid 1\) has been writing it for over 0 s; if none is running, remove .*\.gradc-lock$/);
    expect(Date.now() - start).toBeGreaterThanOrEqual(300);
    rmSync(join(out, '.gradc-lock'), { recursive: true });
    expect(state(out)).toBe('old');
  });

  it('breaks the lock of a build that is gone, and drops the lock folders such builds were making', () => {
    const { parent, out } = fresh();
    writeAll(out, OLD);
    mkdirSync(join(out, '.gradc-lock'));
    writeFileSync(join(out, '.gradc-lock', 'owner.json'), JSON.stringify({ pid: deadPid(), host: hostname(), token: 'y' }));
    mkdirSync(join(out, '.gradc-lock-999999999-abc'));
    writeAll(out, OTHER);
    expect(state(out)).toBe('other');
    expectClean(parent, out);
  });

  it('drops the staging folders that earlier gradc versions left beside or inside the folder, never moving them in', () => {
    const { parent, out } = fresh();
    writeAll(out, OLD);
    const gone = deadPid();
    for (const stage of [`${out}.gradc-tmp-${gone}`, join(out, `.gradc-tmp-${gone}`)]) {
      mkdirSync(stage);
      writeFileSync(join(stage, 'net.ts'), 'a failed build');
      writeFileSync(join(stage, '.complete'), 'net.ts');
    }
    writeAll(out, NEW);
    expect(state(out)).toBe('new');
    expectClean(parent, out);
  });

  it('two builds into one folder at once: each writes a whole build, one after the other', async () => {
    const { parent, out } = fresh();
    writeAll(out, OLD);
    // Each build sleeps at every file operation, so without the lock their moves interleave.
    const child = (build: OutputFile[]) => `
      import { writeFileSync, renameSync } from 'node:fs';
      import { writeAll } from ${JSON.stringify(WRITER)};
      const nap = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 15);
      writeAll(${JSON.stringify(out)}, ${JSON.stringify(build)}, {
        io: { writeFile: (p, c) => { nap(); writeFileSync(p, c); }, rename: (a, b) => { nap(); renameSync(a, b); } },
      });
      process.stdout.write(String(Date.now()));
    `;
    const run = (name: string, build: OutputFile[]) => new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      const script = join(parent, `${name}.mjs`);
      writeFileSync(script, child(build));
      const p = spawn(process.execPath, [script], { cwd: ROOT });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (code) => done({ code, stdout, stderr }));
    });
    const [a, b] = await Promise.all([run('a', NEW), run('b', OTHER)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    // The build that finished last is what the folder holds, whole.
    expect(state(out)).toBe(Number(a.stdout) > Number(b.stdout) ? 'new' : 'other');
    for (const n of ['a.mjs', 'b.mjs']) rmSync(join(parent, n));
    expectClean(parent, out);
  }, 60_000);
});

describe('a build killed at any file operation', () => {
  /**
   * A child process writes NEW over OLD and is killed (SIGKILL, no cleanup) before its k-th
   * file operation: each staged write, each mark, the plan, each move, the commit. Until
   * recovery the folder reports an unfinished build; after it (what the next build or
   * recoverOutput does first), it holds the old build — or the new one once the commit was
   * made — and nothing temporary.
   */
  const child = (out: string, k: number) => `
    import { writeFileSync, renameSync } from 'node:fs';
    import { writeAll } from ${JSON.stringify(WRITER)};
    let ops = 0;
    const step = () => { if (ops++ === ${k}) process.kill(process.pid, 'SIGKILL'); };
    writeAll(${JSON.stringify(out)}, ${JSON.stringify(NEW)}, {
      io: { writeFile: (p, c) => { step(); writeFileSync(p, c); }, rename: (a, b) => { step(); renameSync(a, b); } },
    });
  `;
  const total = OPS.writeFile + OPS.rename;

  it.each(Array.from({ length: total + 1 }, (_, k) => k))('killed before operation %i: all old (or all new after the commit) once recovered', (k) => {
    const { parent, out } = fresh();
    writeAll(out, OLD);
    const script = join(parent, 'child.mjs');
    writeFileSync(script, child(out, k));
    const r = spawnSync(process.execPath, [script], { cwd: ROOT, encoding: 'utf8' });
    if (k < total) {
      expect(r.signal, r.stderr).toBe('SIGKILL');
      expect(unfinishedBuild(out)).toMatch(/stopped part-way; run gradc build to roll it back/);
    } else {
      expect(r.status, r.stderr).toBe(0);
    }
    recoverOutput(out);
    // The last operation is the commit: killed before it, the build never happened.
    expect(state(out)).toBe(k < total ? 'old' : 'new');
    expectClean(parent, out);
    expect(unfinishedBuild(out)).toBeUndefined();
  });
});

describe('--check support', () => {
  it('names changed, missing and leftover files against the manifest', () => {
    const { out } = fresh();
    writeAll(out, OLD);
    writeFileSync(join(out, 'net.js'), 'edited');
    rmSync(join(out, 'net.d.ts'));
    const report = differing(out, NEW);
    expect(report.changed.sort()).toEqual([join(out, MANIFEST), join(out, 'net.js'), join(out, 'net.ts')].sort());
    expect(report.missing.sort()).toEqual([join(out, 'extra.ts'), join(out, 'net.d.ts')].sort());
    expect(report.stale.sort()).toEqual([join(out, 'net.gpu.ts'), join(out, 'net.wgsl')].sort());
    writeAll(out, NEW);
    expect(differing(out, NEW)).toEqual({ changed: [], missing: [], stale: [] });
  });
});

describe('a build owns only the files of the graphs it builds', () => {
  const HOUSING = files('housing', ['housing.ts', 'housing.js', 'housing.d.ts', 'gradc-host.ts', 'gradc-host.js']);
  const KINK = files('kink', ['kink.ts', 'kink.js', 'kink.d.ts']).concat(HOUSING.filter((f) => f.name.startsWith('gradc-host')));
  const graphsOf = (graph: string, build: readonly OutputFile[]) => ({ [graph]: build.map((f) => f.name) });

  it("keeps another graph's files, byte for byte, and lists both graphs in the manifest", () => {
    const { out } = fresh();
    writeAll(out, HOUSING, { graphs: graphsOf('housing', HOUSING) });
    expect(writeAll(out, KINK, { graphs: graphsOf('kink', KINK) })).toEqual({ removed: [], kept: [] });
    for (const f of [...HOUSING, ...KINK]) expect(readFileSync(join(out, f.name), 'utf8')).toBe(f.contents);
    const manifest = readManifest(out)!;
    expect(Object.keys(manifest.graphs!)).toEqual(['housing', 'kink']);
    expect(Object.keys(manifest.files).sort()).toEqual([...new Set([...HOUSING, ...KINK].map((f) => f.name))].sort());
    expect(differing(out, KINK, graphsOf('kink', KINK))).toEqual({ changed: [], missing: [], stale: [] });
    expect(differing(out, HOUSING, graphsOf('housing', HOUSING))).toEqual({ changed: [], missing: [], stale: [] });
  });

  it("removes a graph's own files it no longer generates, not a file another graph also wrote", () => {
    const { out } = fresh();
    writeAll(out, HOUSING, { graphs: graphsOf('housing', HOUSING) });
    writeAll(out, KINK, { graphs: graphsOf('kink', KINK) });
    const smaller = KINK.filter((f) => f.name !== 'kink.d.ts' && !f.name.startsWith('gradc-host'));
    expect(differing(out, smaller, graphsOf('kink', smaller)).stale).toEqual([join(out, 'kink.d.ts')]);
    expect(writeAll(out, smaller, { graphs: graphsOf('kink', smaller) })).toEqual({ removed: ['kink.d.ts'], kept: [] });
    expect(readdirSync(out).sort()).toEqual([MANIFEST, 'gradc-host.js', 'gradc-host.ts', 'housing.d.ts', 'housing.js', 'housing.ts', 'kink.js', 'kink.ts'].sort());
  });

  it('a manifest from before graphs were recorded: files named after a built graph are its own, the rest stay', () => {
    const { out } = fresh();
    writeAll(out, [...HOUSING, ...files('kink', ['kink.ts'])]);
    const legacy = readManifest(out)!;
    writeFileSync(join(out, MANIFEST), `${JSON.stringify({ generator: legacy.generator, files: legacy.files }, null, 2)}\n`);
    const next = HOUSING.filter((f) => f.name !== 'housing.d.ts');
    expect(writeAll(out, next, { graphs: graphsOf('housing', next) })).toEqual({ removed: ['housing.d.ts'], kept: [] });
    expect(existsSync(join(out, 'kink.ts'))).toBe(true);
    expect(Object.keys(readManifest(out)!.files)).toContain('kink.ts');
  });

  it('refuses to replace files no manifest lists, naming each, unless forced; nothing is written', () => {
    const { parent, out } = fresh();
    mkdirSync(out);
    for (const name of ['housing.ts', 'gradc-host.js']) writeFileSync(join(out, name), 'mine');
    expect(() => writeAll(out, HOUSING)).toThrow(`${out}: holds files that gradc did not write (no ${MANIFEST} lists them) where the build writes: ${join(out, 'gradc-host.js')}, ${join(out, 'housing.ts')}; move them away, choose another --out, or pass --force to replace them`);
    expect(readdirSync(out).sort()).toEqual(['gradc-host.js', 'housing.ts']);
    expectClean(parent, out);
    writeAll(out, HOUSING, { force: true });
    expect(readFileSync(join(out, 'housing.ts'), 'utf8')).toBe(HOUSING[0].contents);
  });

  it('a corrupt manifest lists nothing: every file in the way counts as hand-written', () => {
    const { out } = fresh();
    writeAll(out, HOUSING);
    writeFileSync(join(out, MANIFEST), '{ not json');
    expect(() => writeAll(out, HOUSING)).toThrow(/holds files that gradc did not write/);
    expect(readFileSync(join(out, MANIFEST), 'utf8')).toBe('{ not json');
  });
});
