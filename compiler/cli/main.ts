#!/usr/bin/env node
/**
 * The `gradc` command. Any error the user can fix is printed as one line, with no stack
 * trace unless --verbose, and the exit code is non-zero.
 */
import { GradcError, isGradcError } from '../errors.ts';
import { compile, compileAsync, TARGETS, type OutputFile, type Target } from '../compile.ts';
import { inspectText } from './inspect.ts';
import { VERSION } from '../version.ts';
import { defaultCacheDir, enableCompileCache } from './compile-cache.ts';
import { loadGraphFile as loadGraph } from './load-checked.ts';
import { parseArgs, type Command } from './args.ts';
import { differing, writeAll } from './write-output.ts';
import { watchBuild } from './watch.ts';

async function run(cmd: Command): Promise<number> {
  switch (cmd.name) {
    case 'help':
      process.stdout.write(cmd.text);
      return 0;
    case 'version':
      process.stdout.write(`gradc ${VERSION}\n`);
      return 0;
    case 'build': {
      if (cmd.watch) return watchBuild(cmd.files, () => buildAll(cmd), (built) => writeBuild(cmd, built.files));
      const built = await buildAll(cmd);
      if (cmd.check) {
        const stale = differing(cmd.out, built.files);
        for (const f of stale) process.stderr.write(`gradc: ${f} differs from what the graph generates now\n`);
        if (stale.length) return 1;
        process.stdout.write(`gradc: ${built.files.length} files up to date in ${cmd.out}\n`);
        return 0;
      }
      writeBuild(cmd, built.files);
      return 0;
    }
    case 'inspect': {
      const { def } = await loadGraph(cmd.file);
      const { plan } = compile(def, { forwardOnly: cmd.forwardOnly });
      process.stdout.write(inspectText(plan) + '\n');
      return 0;
    }
  }
}

type BuildCommand = Extract<Command, { name: 'build' }>;

/** Every graph of a build, compiled in memory: nothing is written unless all succeed. */
async function buildAll(cmd: BuildCommand): Promise<{ files: OutputFile[]; inputs: string[] }> {
  const files: OutputFile[] = [];
  const inputs: string[] = [];
  const seen = new Map<string, string>();
  for (const file of cmd.files) {
    const loaded = await loadGraph(file);
    const { def } = loaded;
    const other = seen.get(def.name);
    if (other) throw new GradcError(file, `defines graph '${def.name}', which ${other} defines too; output files would collide`);
    seen.set(def.name, file);
    inputs.push(...loaded.inputs);
    files.push(...(await compileAsync(def, { targets: cmd.targets as Target[], forwardOnly: cmd.forwardOnly, sourceFile: file })).files);
  }
  return { files, inputs };
}

function writeBuild(cmd: BuildCommand, files: readonly OutputFile[]): void {
  writeAll(cmd.out, files);
  process.stdout.write(`gradc: wrote ${files.map((f) => f.name).join(', ')} to ${cmd.out}\n`);
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
