#!/usr/bin/env node
/**
 * The `gradc` command. Any error the user can fix is printed as one line, with no stack
 * trace unless --verbose, and the exit code is non-zero.
 */
import { join, relative, resolve } from 'node:path';
import { GradcError, isGradcError } from '../errors.ts';
import { compile, compileAsync, TARGETS, type OutputFile, type Target } from '../compile.ts';
import { inspectText } from './inspect.ts';
import { VERSION } from '../version.ts';
import { defaultCacheDir, enableCompileCache } from './compile-cache.ts';
import { loadGraphFile as loadGraph } from '../load/load-checked.ts';
import { parseArgs, type Command } from './args.ts';
import { differing, unfinishedBuild, writeAll } from './write-output.ts';
import { watchBuild } from './watch.ts';
import { commonJsWarning } from './module-format.ts';
import { importTypesPath, writeImportTypes } from '../import-types.ts';
import { TARGET_TABLE } from '../targets.ts';
import { exportOnnx, importOnnx } from './onnx.ts';

async function run(cmd: Command): Promise<number> {
  switch (cmd.name) {
    case 'help':
      process.stdout.write(cmd.text);
      return 0;
    case 'version':
      process.stdout.write(`gradc ${VERSION}\n`);
      return 0;
    case 'build': {
      if (cmd.watch) return watchBuild(cmd.files, () => buildAll(cmd), (built) => writeBuild(cmd, built));
      const built = await buildAll(cmd);
      if (cmd.check) return check(cmd.out, built);
      writeBuild(cmd, built);
      return 0;
    }
    case 'types':
      return writeTypes(cmd);
    case 'inspect': {
      const { def, inputs } = await loadGraph(cmd.file, { timeoutSeconds: cmd.timeout });
      if (cmd.html !== undefined) {
        // The page's layout library loads only for the page.
        const { writeInspectPage } = await import('../inspect/write.ts');
        writeInspectPage(def, cmd.html, { target: cmd.target as Target, forwardOnly: cmd.forwardOnly, source: cmd.file, inputs });
        process.stdout.write(`gradc: wrote ${cmd.html}\n`);
        return 0;
      }
      const { plan } = compile(def, { forwardOnly: cmd.forwardOnly });
      process.stdout.write(inspectText(plan) + '\n');
      return 0;
    }
    case 'import':
      process.stdout.write(`gradc: wrote ${importOnnx(cmd).join(', ')}\n`);
      return 0;
    case 'export':
      process.stdout.write(`gradc: wrote ${await exportOnnx(cmd)}\n`);
      return 0;
  }
}

type BuildCommand = Extract<Command, { name: 'build' }>;

/**
 * `gradc types`: each graph's typed-import declarations, as the bundler plugins write them, so
 * a project type-checks before its bundler first runs. Every graph is compiled before any
 * file is written.
 */
async function writeTypes(cmd: Extract<Command, { name: 'types' }>): Promise<number> {
  const written: { file: string; query: (typeof TARGET_TABLE)[number]; dts: string }[] = [];
  for (const file of cmd.files) {
    const { def } = await loadGraph(file, { timeoutSeconds: cmd.timeout });
    const compiled = await compileAsync(def, { targets: cmd.targets as Target[], forwardOnly: cmd.forwardOnly, sourceFile: file });
    for (const query of TARGET_TABLE.filter((t) => cmd.targets.includes(t.name))) {
      const dts = compiled.files.find((f) => f.name === `${def.name}${query.suffix}.d.ts`);
      if (dts) written.push({ file, query, dts: dts.contents });
    }
  }
  for (const { file, query, dts } of written) writeImportTypes(file, query, dts);
  const names = written.map(({ file, query }) => relative(process.cwd(), importTypesPath(file, query)));
  process.stdout.write(`gradc: wrote ${names.join(', ')}\n`);
  return 0;
}

/** Every graph of a build, compiled in memory: nothing is written unless all succeed. */
async function buildAll(cmd: BuildCommand): Promise<Built> {
  const files: OutputFile[] = [];
  const inputs: string[] = [];
  const graphs: Record<string, string[]> = {};
  const given = new Map<string, string>();
  /** Who writes each output file, by the name it has on a case-insensitive file system. */
  const writers = new Map<string, { graph: string; file: string }>();
  for (const file of cmd.files) {
    const twice = given.get(resolve(file));
    if (twice !== undefined) throw new GradcError(file, `is given twice${twice === file ? '' : ` (also as ${twice})`}; list each graph file once`);
    given.set(resolve(file), file);
    const loaded = await loadGraph(file, { timeoutSeconds: cmd.timeout });
    const { def } = loaded;
    inputs.push(...loaded.inputs);
    const compiled = await compileAsync(def, { targets: cmd.targets as Target[], forwardOnly: cmd.forwardOnly, sourceFile: file });
    graphs[def.name] = compiled.files.map((f) => f.name);
    for (const f of compiled.files) {
      const key = f.name.normalize('NFC').toLowerCase();
      const other = writers.get(key);
      if (other?.graph === def.name) throw new GradcError(file, `defines graph '${def.name}', which ${other.file} defines too; output files would collide`);
      // A file two graphs write alike (the host file, the same for every graph) is written once.
      if (other && files.some((o) => o.name === f.name && o.contents === f.contents)) continue;
      if (other) throw new GradcError(file, `graph '${def.name}' writes ${f.name}, which graph '${other.graph}' of ${other.file} writes too; rename one of the graphs`);
      writers.set(key, { graph: def.name, file });
      files.push(f);
    }
  }
  return { files, inputs, graphs };
}

interface Built {
  readonly files: readonly OutputFile[];
  readonly inputs: readonly string[];
  /** Which graph writes which files. */
  readonly graphs: Readonly<Record<string, readonly string[]>>;
}

function writeBuild(cmd: BuildCommand, built: Built): void {
  const { removed, kept } = writeAll(cmd.out, built.files, { inputs: built.inputs, graphs: built.graphs, force: cmd.force });
  process.stdout.write(`gradc: wrote ${built.files.map((f) => f.name).join(', ')} to ${cmd.out}\n`);
  if (removed.length) process.stdout.write(`gradc: removed ${removed.join(', ')} from ${cmd.out}: no graph generates them any more\n`);
  const format = built.files.some((f) => f.name.endsWith('.js')) ? commonJsWarning(cmd.out) : undefined;
  if (format) process.stderr.write(`gradc: warning: ${format}\n`);
  for (const name of kept) process.stderr.write(`gradc: warning: kept ${join(cmd.out, name)}: an earlier build wrote it and no graph generates it now, but it has changed since (or is an input of this build); delete it if it is not needed\n`);
}

/** `--check`: exit 1, naming each file, unless the folder holds exactly what a build would write. */
function check(out: string, { files, graphs }: Built): number {
  const unfinished = unfinishedBuild(resolve(out));
  if (unfinished) {
    process.stderr.write(`gradc: ${out}: ${unfinished}\n`);
    return 1;
  }
  const { changed, missing, stale } = differing(out, files, graphs);
  for (const f of changed) process.stderr.write(`gradc: ${f} differs from what the graph generates now\n`);
  for (const f of missing) process.stderr.write(`gradc: ${f} is missing: the graph generates it now\n`);
  for (const f of stale) process.stderr.write(`gradc: ${f} is left from an earlier build: no graph generates it now (a build removes it)\n`);
  if (changed.length || missing.length || stale.length) return 1;
  process.stdout.write(`gradc: ${files.length} files up to date in ${out}\n`);
  return 0;
}

async function main(argv: string[]): Promise<void> {
  if (!process.env.GRADC_NO_COMPILE_CACHE) enableCompileCache(defaultCacheDir());
  const verbose = argv.includes('--verbose');
  try {
    const cmd = parseArgs(argv.filter((a) => a !== '--verbose'), TARGETS);
    process.exitCode = await run(cmd);
  } catch (e) {
    if (verbose || !isGradcError(e)) {
      process.stderr.write(`gradc: ${e instanceof Error ? (verbose ? e.stack : e.message) : String(e)}\n`);
    } else {
      process.stderr.write(`gradc: ${e.message}\n`);
    }
    process.exitCode = 1;
  }
}

await main(process.argv.slice(2));
