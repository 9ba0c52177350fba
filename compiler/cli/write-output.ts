/**
 * Writes a build's files so that a failed build leaves no partial output: every file is
 * first written under a temporary name in the output folder, and only when all are written
 * are they renamed into place.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OutputFile } from '../compile.ts';

export function writeAll(outDir: string, files: readonly OutputFile[]): void {
  mkdirSync(outDir, { recursive: true });
  const staged: { tmp: string; final: string }[] = [];
  try {
    for (const f of files) {
      const final = join(outDir, f.name);
      const tmp = join(outDir, `.${f.name}.${process.pid}.tmp`);
      writeFileSync(tmp, f.contents);
      staged.push({ tmp, final });
    }
  } catch (e) {
    for (const s of staged) rmSync(s.tmp, { force: true });
    throw e;
  }
  for (const s of staged) renameSync(s.tmp, s.final);
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
