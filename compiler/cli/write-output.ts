/**
 * Writes one build's files into the output folder as one unit: after any failure — a full
 * disk, a folder where a file goes, a `kill -9` at any moment — the folder holds either
 * every file of the previous build or every file of the new one, never a mix. How:
 *
 * 1. **Lock.** One build at a time per output folder: `.gradc-lock/` is created by renaming
 *    a folder holding the owner (pid, host) onto that name, which only one process can do.
 *    Another build waits for it; a lock whose owner is gone is broken.
 * 2. **Stage.** The lock holder writes every new file, and the manifest, into
 *    `.gradc-build/new/`. Nothing in the output folder has changed yet.
 * 3. **Plan.** `.gradc-build/plan.json` lists the files to replace and those to remove (files
 *    of the previous manifest that this build no longer generates).
 * 4. **Swap.** Each old file is moved into `.gradc-build/old/`, each new one into place.
 * 5. **Commit.** The plan is renamed to `committed.json`; then `.gradc-build/` and the lock
 *    are removed.
 *
 * A failure in steps 2–4 rolls back at once: old files move back, new ones are deleted. A
 * process killed in those steps leaves `.gradc-build/` behind; the next build into the folder
 * (holding the lock) rolls it back first, the same way, so a killed build's files are never
 * moved in by a later one. `--check` reports such an unfinished build instead of reading a
 * mix.
 *
 * The manifest, `.gradc-manifest.json`, lists every file gradc wrote into the folder with a
 * hash of each, and which graph wrote which. A build owns only the files of the graphs it
 * builds: another graph's files stay (building `kink` after `housing` into one folder keeps
 * both), while a graph's own files that it no longer generates are removed — only those still
 * as gradc wrote them — and `--check` reports them. A build never replaces a file that no
 * manifest lists (a hand-written `app.ts` where graph `app` goes): it stops and names such
 * files, unless `force` is given. No file that is an input of the build (a graph file or
 * anything it imports) is ever written over, whatever its name, path or `force`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { OutputFile } from '../compile.ts';
import { GradcError } from '../errors.ts';
import { VERSION } from '../version.ts';

export const MANIFEST = '.gradc-manifest.json';
const LOCK = '.gradc-lock';
const WORK = '.gradc-build';
const OWNER = 'owner.json';
const PLAN = 'plan.json';
const COMMITTED = 'committed.json';

/** The file operations a build's writes and moves go through; tests replace them to fail or crash part-way. */
export interface WriteIo {
  writeFile(path: string, contents: string): void;
  rename(from: string, to: string): void;
}

const fsIo: WriteIo = {
  writeFile: (path, contents) => writeFileSync(path, contents),
  rename: (from, to) => renameSync(from, to),
};

export interface WriteOptions {
  /** Files the build read (graph files and their imports): never written over or removed. */
  readonly inputs?: readonly string[];
  readonly io?: WriteIo;
  /** How long to wait for another build's lock on the folder (default 60 s). */
  readonly lockWaitMs?: number;
  /**
   * Which graph writes which of `files` (a file every graph writes alike, the host file, is
   * listed under each). Default: one unnamed graph writing them all.
   */
  readonly graphs?: Readonly<Record<string, readonly string[]>>;
  /** Replace files in the folder that no manifest lists (`gradc build --force`). */
  readonly force?: boolean;
}

export interface WriteResult {
  /** Files of the previous build that this one no longer generates, now removed. */
  readonly removed: readonly string[];
  /** Such files kept because they were edited since gradc wrote them (or are inputs). */
  readonly kept: readonly string[];
}

export interface Manifest {
  readonly generator: string;
  /** Every file gradc wrote into the folder, with its hash. */
  readonly files: Readonly<Record<string, string>>;
  /** Which graph wrote which files (absent in manifests of gradc before 0.1: see `ownerOf`). */
  readonly graphs?: Readonly<Record<string, readonly string[]>>;
}

const hashOf = (contents: string | Buffer) => `sha256:${createHash('sha256').update(contents).digest('hex')}`;
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sortedRecord = <T>(entries: [string, T][]): Record<string, T> => Object.fromEntries(entries.sort(([a], [b]) => byName(a, b)));

/** One graph writing every file: what a caller that names no graphs builds. */
const oneGraph = (files: readonly OutputFile[]) => ({ '': files.map((f) => f.name) });

/**
 * The folder's files after this build: the build's own, and those of every other graph the
 * previous manifest lists, which stay. Also what is removed (`stale`): files the build's
 * graphs wrote before and no longer generate, that no other graph wrote.
 */
export function nextManifest(previous: Manifest | undefined, files: readonly OutputFile[], graphs: Readonly<Record<string, readonly string[]>> = oneGraph(files)): { manifest: Manifest; stale: string[] } {
  const writes = new Set(files.map((f) => f.name));
  const built = new Set(Object.keys(graphs));
  const before = previous?.graphs ?? legacyGraphs(previous, built);
  const kept = Object.entries(before).filter(([g]) => !built.has(g));
  const keptNames = new Set(kept.flatMap(([, names]) => names));
  const owned = new Set(Object.entries(before).filter(([g]) => built.has(g)).flatMap(([, names]) => names));
  const stale = [...owned].filter((n) => !writes.has(n) && !keptNames.has(n) && previous?.files[n] !== undefined).sort(byName);
  const unowned = Object.keys(previous?.files ?? {}).filter((n) => !writes.has(n) && !keptNames.has(n) && !owned.has(n));
  const hashes = new Map(files.map((f) => [f.name, hashOf(f.contents)]));
  const fileEntries: [string, string][] = [
    ...[...keptNames, ...unowned].filter((n) => !writes.has(n) && previous?.files[n] !== undefined).map((n): [string, string] => [n, previous!.files[n]]),
    ...hashes,
  ];
  const graphEntries: [string, readonly string[]][] = [...kept, ...Object.entries(graphs).map(([g, names]): [string, readonly string[]] => [g, [...names].sort(byName)])];
  return { manifest: { generator: `gradc ${VERSION}`, files: sortedRecord(fileEntries), graphs: sortedRecord(graphEntries) }, stale };
}

/**
 * A manifest without `graphs` (written before builds shared folders) says only which files
 * gradc wrote. A file named after one of the graphs being built (`housing.js` for `housing`)
 * is that graph's; every other file stays, still gradc's (a later build may replace it), and
 * is removed by no build.
 */
function legacyGraphs(previous: Manifest | undefined, built: ReadonlySet<string>): Record<string, readonly string[]> {
  const names = Object.keys(previous?.files ?? {});
  return Object.fromEntries([...built].map((g) => [g, names.filter((n) => g !== '' && n.startsWith(`${g}.`))]));
}

/** The manifest a build writes beside its files (into a folder with no earlier manifest unless `previous` is given). */
export function manifestFor(files: readonly OutputFile[], graphs?: Readonly<Record<string, readonly string[]>>, previous?: Manifest): OutputFile {
  return manifestFile(nextManifest(previous, files, graphs).manifest);
}

const manifestFile = (manifest: Manifest): OutputFile => ({ name: MANIFEST, contents: `${JSON.stringify(manifest, null, 2)}\n` });

/** The manifest of the build now in `out`, if it has one that parses. */
export function readManifest(out: string): Manifest | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(out, MANIFEST), 'utf8')) as Manifest;
    if (typeof parsed?.files !== 'object' || parsed.files === null) return undefined;
    const graphs = parsed.graphs;
    const validGraphs = typeof graphs === 'object' && graphs !== null && Object.values(graphs).every((l) => Array.isArray(l) && l.every((n) => typeof n === 'string'));
    return validGraphs ? parsed : { generator: parsed.generator, files: parsed.files };
  } catch {
    return undefined;
  }
}

export function writeAll(outDir: string, files: readonly OutputFile[], options: WriteOptions = {}): WriteResult {
  const out = resolve(outDir);
  const io = options.io ?? fsIo;
  for (const f of files) {
    if ([MANIFEST, LOCK, WORK].includes(f.name) || f.name.includes('/')) throw new Error(`internal: output file name ${JSON.stringify(f.name)}`);
  }
  makeFolder(out, outDir);
  const unlock = lock(out, outDir, options.lockWaitMs ?? 60_000);
  try {
    rollBackUnfinished(out);
    return transact(out, outDir, files, options, io);
  } finally {
    unlock();
  }
}

/** Rolls back a build killed part-way in `outDir`, if there is one (holding the lock, as a build would). */
export function recoverOutput(outDir: string, lockWaitMs = 60_000): void {
  const out = resolve(outDir);
  if (!existsSync(out)) return;
  const unlock = lock(out, outDir, lockWaitMs);
  try {
    rollBackUnfinished(out);
  } finally {
    unlock();
  }
}

function makeFolder(out: string, shown: string): void {
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new GradcError(shown, `cannot be made the output folder: ${(e as NodeJS.ErrnoException).code === 'EEXIST' || (e as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'a file of that name is in the way' : (e as Error).message}`);
  }
  if (!statSync(out).isDirectory()) throw new GradcError(shown, 'is a file, not a folder; choose another --out');
}

/** Steps 2–5 for the lock holder. */
function transact(out: string, shown: string, built: readonly OutputFile[], options: WriteOptions, io: WriteIo): WriteResult {
  const work = join(out, WORK);
  const inputs = options.inputs ?? [];
  const previous = readManifest(out);
  const { manifest, stale } = nextManifest(previous, built, options.graphs);
  const files = [...built, manifestFile(manifest)];
  const names = new Set(files.map((f) => f.name));
  const inputIds = new Set(inputs.flatMap((f) => fileId(f) ?? []));
  const foreign: string[] = [];
  for (const name of names) {
    const target = join(out, name);
    const kind = kindOf(target);
    if (kind === 'other') throw new GradcError(join(shown, name), 'is in the way of a generated file (a folder or a link, not a file); move it away or choose another --out');
    if (kind === 'file' && inputIds.has(fileId(target)!)) {
      throw new GradcError(join(shown, name), `is an input of this build (a graph file or a file one imports); the build would write ${name} over it — choose another --out folder or rename the graph`);
    }
    if (kind === 'file' && name !== MANIFEST && previous?.files[name] === undefined) foreign.push(name);
  }
  // Compared case-folded: on a case-insensitive disk (macOS, Windows) NET.ts is net.ts.
  const fold = (n: string) => n.toLowerCase();
  for (const [graph, names] of Object.entries(previous?.graphs ?? {})) {
    if (options.graphs?.[graph] ?? (options.graphs === undefined && graph === '')) continue;
    const taken = names.find((n) => fold(n).startsWith(fold(`${graph}.`)) && built.some((f) => fold(f.name) === fold(n)));
    if (taken) throw new GradcError(join(shown, taken), `was written by graph '${graph}', which this build does not build; the build would write over it — rename the graph or choose another --out`);
  }
  if (foreign.length && !options.force) {
    const list = foreign.sort(byName).map((n) => join(shown, n)).join(', ');
    throw new GradcError(shown, `holds ${foreign.length === 1 ? 'a file' : 'files'} that gradc did not write (no ${MANIFEST} lists ${foreign.length === 1 ? 'it' : 'them'}) where the build writes: ${list}; move ${foreign.length === 1 ? 'it' : 'them'} away, choose another --out, or pass --force to replace ${foreign.length === 1 ? 'it' : 'them'}`);
  }
  const removed: string[] = [];
  const kept: string[] = [];
  for (const name of stale) {
    if (name.includes('/') || [MANIFEST, LOCK, WORK].includes(name)) continue;
    const target = join(out, name);
    if (kindOf(target) !== 'file') continue;
    const unchanged = hashOf(readFileSync(target)) === previous?.files[name] && !inputIds.has(fileId(target)!);
    (unchanged ? removed : kept).push(name);
  }

  mkdirSync(work);
  for (const sub of ['new', 'old', 'absent']) mkdirSync(join(work, sub));
  try {
    for (const f of files) io.writeFile(join(work, 'new', f.name), f.contents);
    // Names the build adds: a rollback deletes what it finds there.
    for (const name of names) if (kindOf(join(out, name)) === 'none') io.writeFile(join(work, 'absent', name), '');
    const plan: Plan = { replace: [...names], remove: removed };
    io.writeFile(join(work, PLAN), JSON.stringify(plan));
    for (const name of plan.replace) {
      if (existsSync(join(out, name))) io.rename(join(out, name), join(work, 'old', name));
      io.rename(join(work, 'new', name), join(out, name));
    }
    for (const name of plan.remove) io.rename(join(out, name), join(work, 'old', name));
    io.rename(join(work, PLAN), join(work, COMMITTED));
  } catch (e) {
    rollBack(out, work);
    throw e instanceof GradcError ? e : new GradcError(shown, `the build could not be written, and the folder is as it was: ${(e as Error).message}`);
  }
  rmSync(work, { recursive: true, force: true });
  return { removed, kept };
}

interface Plan {
  readonly replace: readonly string[];
  readonly remove: readonly string[];
}

/**
 * Undoes a swap that did not reach its commit: each file moved out to `old/` comes back, and
 * each name marked in `absent/` (no file had it before) is cleared. Every step removes its own
 * evidence, so a rollback cut short by a crash is finished correctly by the next one. Without
 * a plan nothing was moved; with `committed.json` every move was made and the new build stands.
 */
function rollBack(out: string, work: string): void {
  const plan = existsSync(join(work, COMMITTED)) ? undefined : readPlan(join(work, PLAN));
  for (const name of plan ? [...plan.replace, ...plan.remove] : []) {
    if (existsSync(join(work, 'old', name))) {
      renameSync(join(work, 'old', name), join(out, name));
    } else if (existsSync(join(work, 'absent', name))) {
      rmSync(join(out, name), { force: true });
      rmSync(join(work, 'absent', name));
    }
  }
  rmSync(work, { recursive: true, force: true });
}

function readPlan(path: string): Plan | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Plan;
  } catch {
    return undefined; // Not written, or cut short by a crash: nothing was moved yet.
  }
}

/** A build killed part-way left `.gradc-build/`: roll it back (the caller holds the lock). */
function rollBackUnfinished(out: string): void {
  if (existsSync(join(out, WORK))) rollBack(out, join(out, WORK));
  // Folders of processes that are gone: lock folders being made when they were killed, and
  // the staging folders of the writer this one replaced (`<out>.gradc-tmp-<pid>` beside the
  // output folder, or `.gradc-tmp-<pid>` in it), which are dropped, never moved in.
  const leftovers = [
    ...list(out).map((name) => ({ path: join(out, name), pid: /^\.gradc-(?:lock|tmp)-(\d+)/.exec(name)?.[1] })),
    ...list(dirname(out)).map((name) => ({ path: join(dirname(out), name), pid: name.startsWith(`${basename(out)}.gradc-tmp-`) ? /(\d+)$/.exec(name)?.[1] : undefined })),
  ];
  for (const { path, pid } of leftovers) {
    if (pid && Number(pid) !== process.pid && !alive(Number(pid))) rmSync(path, { recursive: true, force: true });
  }
}

/** Why `out` does not hold one finished build, for `--check`; undefined when it does. */
export function unfinishedBuild(out: string): string | undefined {
  if (!existsSync(join(out, WORK))) return undefined;
  const owner = readOwner(join(out, LOCK));
  const running = owner && liveOwner(owner);
  return running
    ? `a gradc build (pid ${owner.pid}) is writing it now; check again when it is done`
    : 'holds a build that was stopped part-way; run gradc build to roll it back';
}

// ── the lock ─────────────────────────────────────────────────────────────────

interface Owner {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
}

/** Takes the folder's lock, waiting up to `waitMs` for another build; returns the release. */
function lock(out: string, shown: string, waitMs: number): () => void {
  const me: Owner = { pid: process.pid, host: hostname(), token: randomBytes(8).toString('hex') };
  const path = join(out, LOCK);
  const mine = join(out, `${LOCK}-${process.pid}-${me.token}`);
  mkdirSync(mine);
  writeFileSync(join(mine, OWNER), JSON.stringify(me));
  const deadline = Date.now() + waitMs;
  try {
    for (;;) {
      try {
        renameSync(mine, path);
        // Released only while still ours: a lock broken as stale is not taken from its new owner.
        return () => {
          if (readOwner(path)?.token === me.token) rmSync(path, { recursive: true, force: true });
        };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      }
      const owner = readOwner(path);
      if (owner && !liveOwner(owner)) {
        breakLock(out, path, owner);
        continue;
      }
      if (Date.now() > deadline) {
        const who = owner ? `another gradc build (pid ${owner.pid}${owner.host === me.host ? '' : ` on ${owner.host}`})` : 'another gradc build';
        throw new GradcError(shown, `${who} has been writing it for over ${Math.round(waitMs / 1000)} s; if none is running, remove ${join(shown, LOCK)}`);
      }
      sleep(owner ? 50 : 5);
    }
  } finally {
    rmSync(mine, { recursive: true, force: true });
  }
}

/**
 * Moves a dead owner's lock aside (only one process can), then makes sure it was that lock:
 * if another process broke and retook it meanwhile, its lock is put back.
 */
function breakLock(out: string, path: string, dead: Owner): void {
  const aside = join(out, `${LOCK}-broken-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    renameSync(path, aside);
  } catch {
    return; // Someone else moved it first.
  }
  const moved = readOwner(aside);
  if (moved && moved.token !== dead.token) {
    try {
      renameSync(aside, path);
      return;
    } catch {
      // The folder has a new lock already; the one moved aside is lost to its owner, as it would be to a crash.
    }
  }
  rmSync(aside, { recursive: true, force: true });
}

function readOwner(lockPath: string): Owner | undefined {
  try {
    return JSON.parse(readFileSync(join(lockPath, OWNER), 'utf8')) as Owner;
  } catch {
    return undefined;
  }
}

/** A lock of another host cannot be checked, so it counts as live. */
function liveOwner(owner: Owner): boolean {
  return owner.host !== hostname() || alive(owner.pid);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

// ── file identity ────────────────────────────────────────────────────────────

/** `device:inode` of a file, following links: equal for the same file under any name or path. */
function fileId(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

function kindOf(path: string): 'none' | 'file' | 'other' {
  try {
    return lstatSync(path).isFile() ? 'file' : 'other';
  } catch {
    return 'none';
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

// ── --check ──────────────────────────────────────────────────────────────────

/**
 * What `--check` reports: files (the manifest included) that differ from a fresh build, those
 * missing, and files of the manifest on disk that the build no longer generates. Paths are
 * shown as `outDir/name`.
 */
export function differing(outDir: string, files: readonly OutputFile[], graphs?: Readonly<Record<string, readonly string[]>>): { readonly changed: string[]; readonly missing: string[]; readonly stale: string[] } {
  const { manifest, stale } = nextManifest(readManifest(resolve(outDir)), files, graphs);
  const all = [...files, manifestFile(manifest)];
  const onDisk = (name: string) => {
    try {
      return readFileSync(join(outDir, name), 'utf8');
    } catch {
      return undefined;
    }
  };
  const now = all.map((f) => ({ path: join(outDir, f.name), want: f.contents, have: onDisk(f.name) }));
  return {
    changed: now.filter((f) => f.have !== undefined && f.have !== f.want).map((f) => f.path),
    missing: now.filter((f) => f.have === undefined).map((f) => f.path),
    stale: stale.filter((n) => existsSync(join(outDir, n))).map((n) => join(outDir, n)),
  };
}
