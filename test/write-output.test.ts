/**
 * The atomic output folder (compiler/cli/write-output.ts): a build's files are staged in
 * `<out>.gradc-tmp-<pid>/`, committed by a manifest, then renamed into place. A failed write
 * leaves the old build byte for byte and no temporary files; a crash at any point leaves,
 * once gradc runs again, either all old or all new files.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { recoverStaging, writeAll, type WriteIo } from '../compiler/cli/write-output.ts';
import type { OutputFile } from '../compiler/compile.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NAMES = ['net.ts', 'net.js', 'net.d.ts', 'net.wgsl', 'net.gpu.ts'];
const build = (tag: string): OutputFile[] => NAMES.map((name) => ({ name, contents: `// ${tag} ${name}\n${tag.repeat(1000)}\n` }));
const OLD = build('old');
const NEW = build('new');

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function fresh(): { parent: string; out: string } {
  const parent = mkdtempSync(join(tmpdir(), 'gradc-write-'));
  made.push(parent);
  return { parent, out: join(parent, 'out') };
}

/** The output folder's gradc files: 'old', 'new', or 'mixed'. */
function state(out: string): string {
  const tags = NAMES.map((n) => readFileSync(join(out, n), 'utf8').split(' ')[1]);
  return tags.every((t) => t === tags[0]) ? tags[0] : `mixed (${tags.join(', ')})`;
}

/** Nothing temporary anywhere: no staging folders, no .tmp files. */
function expectClean(parent: string, out: string): void {
  expect(readdirSync(parent)).toEqual(['out']);
  expect(readdirSync(out).filter((n) => n.startsWith('.') || n.endsWith('.tmp'))).toEqual([]);
}

const failingAfter = (n: number, what: keyof WriteIo): WriteIo => {
  let calls = 0;
  return {
    writeFile: (path, contents) => {
      if (what === 'writeFile' && calls++ === n) throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC' });
      writeFileSync(path, contents);
    },
    rename: (from, to) => {
      if (what === 'rename' && calls++ === n) throw new Error('rename failed');
      renameSync(from, to);
    },
  };
};

describe('writeAll', () => {
  it('writes every file into a new folder (creating it) and leaves nothing temporary', () => {
    const { parent, out } = fresh();
    writeAll(out, NEW);
    expect(readdirSync(out).sort()).toEqual([...NAMES].sort());
    expect(state(out)).toBe('new');
    expectClean(parent, out);
  });

  it('replaces an old build and keeps files it does not write', () => {
    const { parent, out } = fresh();
    writeAll(out, OLD);
    writeFileSync(join(out, 'README.md'), 'mine');
    writeAll(out, NEW);
    expect(state(out)).toBe('new');
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toBe('mine');
    expectClean(parent, out);
  });

  it('stages next to the output folder, not inside it', () => {
    const { parent, out } = fresh();
    const seen: string[] = [];
    writeAll(out, NEW, {
      writeFile: (path, contents) => {
        seen.push(path);
        writeFileSync(path, contents);
      },
      rename: (from, to) => renameSync(from, to),
    });
    expect(seen).toHaveLength(NAMES.length + 1);
    for (const p of seen) expect(p.startsWith(`${out}.gradc-tmp-${process.pid}/`), p).toBe(true);
    expect(seen.at(-1)).toBe(`${out}.gradc-tmp-${process.pid}/.complete`);
    expectClean(parent, out);
  });

  it.each([0, 1, 2, 4])('a write that fails after %i files keeps the old build byte for byte and cleans up', (n) => {
    const { parent, out } = fresh();
    writeAll(out, OLD);
    const before = NAMES.map((f) => readFileSync(join(out, f)));
    expect(() => writeAll(out, NEW, failingAfter(n, 'writeFile'))).toThrow(/ENOSPC/);
    expect(NAMES.map((f) => readFileSync(join(out, f)))).toEqual(before);
    expectClean(parent, out);
  });

  it('a failure writing the manifest (the commit point) keeps the old build', () => {
    const { parent, out } = fresh();
    writeAll(out, OLD);
    expect(() => writeAll(out, NEW, failingAfter(NAMES.length, 'writeFile'))).toThrow(/ENOSPC/);
    expect(state(out)).toBe('old');
    expectClean(parent, out);
  });

  it('a failed first build creates no files in the new output folder', () => {
    const { parent, out } = fresh();
    expect(() => writeAll(out, NEW, failingAfter(2, 'writeFile'))).toThrow(/ENOSPC/);
    expect(readdirSync(out)).toEqual([]);
    expectClean(parent, out);
  });

  it('a rename that fails part-way is finished by the next build into the folder', () => {
    const { parent, out } = fresh();
    writeAll(out, OLD);
    expect(() => writeAll(out, NEW, failingAfter(2, 'rename'))).toThrow(/rename failed/);
    // Two files were moved; the committed rest stays staged for the next run to finish.
    expect(state(out)).toMatch(/^mixed/);
    const stage = `${out}.gradc-tmp-${process.pid}`;
    expect(readFileSync(join(stage, '.complete'), 'utf8').split('\n')).toEqual(NAMES);
    writeAll(out, NEW);
    expect(state(out)).toBe('new');
    expect(readdirSync(parent).sort()).toEqual(['out']);
  });

  it("leaves a live process's staging folder alone", () => {
    const { parent, out } = fresh();
    mkdirSync(out);
    const other = `${out}.gradc-tmp-1`; // pid 1 is alive
    mkdirSync(other);
    writeFileSync(join(other, 'net.ts'), 'theirs');
    writeAll(out, NEW);
    expect(readFileSync(join(other, 'net.ts'), 'utf8')).toBe('theirs');
    expect(readdirSync(parent).sort()).toEqual(['out', 'out.gradc-tmp-1']);
  });
});

describe('a crash mid-write', () => {
  /**
   * A child process writes NEW over OLD and is killed (SIGKILL, no cleanup) at its k-th file
   * operation: each staged write, the manifest, each rename. Whatever k, the folder then
   * holds all old or all new files once the next gradc run has recovered it.
   */
  const child = (out: string, k: number) => `
    import { writeFileSync, renameSync } from 'node:fs';
    import { writeAll } from ${JSON.stringify(pathToFileURL(join(ROOT, 'compiler/cli/write-output.ts')).href)};
    let ops = 0;
    const step = () => { if (ops++ === ${k}) process.kill(process.pid, 'SIGKILL'); };
    writeAll(${JSON.stringify(out)}, ${JSON.stringify(NEW)}, {
      writeFile: (p, c) => { step(); writeFileSync(p, c); },
      rename: (a, b) => { step(); renameSync(a, b); },
    });
  `;
  const operations = 2 * NAMES.length + 1;

  it.each(Array.from({ length: operations + 1 }, (_, k) => k))('killed at operation %i: all old or all new after recovery', (k) => {
    const { parent, out } = fresh();
    writeAll(out, OLD);
    const script = join(parent, 'child.mts');
    writeFileSync(script, child(out, k));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, encoding: 'utf8' });
    if (k < operations) expect(r.signal, r.stderr).toBe('SIGKILL');
    else expect(r.status, r.stderr).toBe(0);
    // Before the manifest is written the old build is untouched, even before recovery.
    if (k <= NAMES.length) expect(state(out)).toBe('old');
    recoverStaging(out);
    expect(state(out)).toBe(k <= NAMES.length ? 'old' : 'new');
    expect(readdirSync(parent).filter((n) => n !== 'child.mts')).toEqual(['out']);
    expect(existsSync(join(out, '.complete'))).toBe(false);
  });
});
