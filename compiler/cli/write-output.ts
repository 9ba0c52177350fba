/**
 * Writes a build's files so that an old good build survives a failed one, and a crash never
 * leaves a mix of old and new files once gradc runs again:
 *
 * 1. Every file is written into a staging folder next to the output folder,
 *    `<out>.gradc-tmp-<pid>/`. If any write fails, the staging folder is deleted and the
 *    output folder is untouched.
 * 2. Then a manifest, `.complete`, listing the files: the commit point. A staging folder
 *    without it is an unfinished build, thrown away; with it, a finished one.
 * 3. Each file is renamed over its final name (one atomic rename per file), and the staging
 *    folder is removed.
 *
 * A crash in step 1 or 2 leaves the old files; a crash in step 3 leaves a staging folder
 * with its manifest, which the next `writeAll` into the same folder finishes first (rolls
 * forward), so the outputs become all new. Staging folders of live processes (a concurrent
 * build) are left alone. Where the parent of the output folder is on another file system
 * (the output folder is a mount point) or not writable, the staging folder goes inside the
 * output folder instead, as `.gradc-tmp-<pid>/`.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { OutputFile } from '../compile.ts';

const STAGING = '.gradc-tmp-';
const MANIFEST = '.complete';

/** The file operations writeAll uses; tests replace them to fail or crash part-way. */
export interface WriteIo {
  writeFile(path: string, contents: string): void;
  rename(from: string, to: string): void;
}

const fsIo: WriteIo = {
  writeFile: (path, contents) => writeFileSync(path, contents),
  rename: (from, to) => renameSync(from, to),
};

export function writeAll(outDir: string, files: readonly OutputFile[], io: WriteIo = fsIo): void {
  const out = resolve(outDir);
  mkdirSync(out, { recursive: true });
  recoverStaging(out, io);
  const stage = stagingFolder(out);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage);
  try {
    for (const f of files) io.writeFile(join(stage, f.name), f.contents);
    io.writeFile(join(stage, MANIFEST), files.map((f) => f.name).join('\n'));
  } catch (e) {
    rmSync(stage, { recursive: true, force: true });
    throw e;
  }
  moveInto(stage, out, io);
}

/** Where this process stages: next to the output folder when it can rename from there. */
function stagingFolder(out: string): string {
  const parent = dirname(out);
  const sibling = `${out}${STAGING}${process.pid}`;
  if (parent === out) return join(out, `${STAGING}${process.pid}`);
  try {
    mkdirSync(sibling, { recursive: true });
    if (statSync(sibling).dev === statSync(out).dev) return sibling;
    rmSync(sibling, { recursive: true, force: true });
  } catch {
    // Not writable: stage inside the output folder.
  }
  return join(out, `${STAGING}${process.pid}`);
}

/** Renames every file the manifest lists (and that is still staged) into `out`, then removes the staging folder. */
function moveInto(stage: string, out: string, io: WriteIo): void {
  const names = readFileSync(join(stage, MANIFEST), 'utf8').split('\n').filter(Boolean);
  for (const name of names) {
    const from = join(stage, name);
    if (existsSync(from)) io.rename(from, join(out, name));
  }
  rmSync(stage, { recursive: true, force: true });
}

/**
 * Staging folders for `out` left by processes that are gone (a crash): finishes the complete
 * ones and drops the rest. writeAll does this first; it is exported for tests and tools.
 */
export function recoverStaging(outDir: string, io: WriteIo = fsIo): void {
  const out = resolve(outDir);
  const candidates = [
    ...list(dirname(out)).filter((n) => n.startsWith(`${basename(out)}${STAGING}`)).map((n) => join(dirname(out), n)),
    ...list(out).filter((n) => n.startsWith(STAGING)).map((n) => join(out, n)),
  ];
  for (const stage of candidates) {
    const pid = Number(stage.slice(stage.lastIndexOf(STAGING) + STAGING.length));
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    if (existsSync(join(stage, MANIFEST))) moveInto(stage, out, io);
    else rmSync(stage, { recursive: true, force: true });
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Which files differ from what is on disk (for `--check`). */
export function differing(outDir: string, files: readonly OutputFile[]): string[] {
  return files.filter((f) => {
    try {
      return readFileSync(join(outDir, f.name), 'utf8') !== f.contents;
    } catch {
      return true;
    }
  }).map((f) => join(outDir, f.name));
}
