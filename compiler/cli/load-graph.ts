/**
 * Loads graph files: bundles each with esbuild (so it may import helpers and packages, and be
 * TypeScript), resolving `'gradc'` to this installation, then imports the bundle with source
 * maps on, so DSL errors point at the user's file and line.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Message } from 'esbuild';
import { GradcError, isGradcError, oneLine } from '../errors.ts';
import { isGraphDef, type GraphDef } from '../dsl/graph.ts';
import { formatLoc } from '../dsl/location.ts';

/** gradc's public entry, for graph files' `import … from 'gradc'`. */
function gradcEntry(): string {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../index.ts', here).href : new URL('./index.js', here).href;
}

export interface LoadedGraph {
  readonly file: string;
  readonly def: GraphDef;
  /** Absolute paths of the graph file and every local file it imports (for watching). */
  readonly inputs: readonly string[];
}

export async function loadGraph(file: string): Promise<LoadedGraph> {
  const path = resolve(file);
  const dir = mkdtempSync(join(tmpdir(), 'gradc-'));
  const bundled = join(dir, 'graph.mjs');
  process.setSourceMapsEnabled(true);
  let mod: Record<string, unknown>;
  let inputs: string[] = [path];
  try {
    const out = await bundle(path, bundled, file);
    inputs = out.inputs;
    writeFileSync(bundled, out.code);
    mod = await import(pathToFileURL(bundled).href);
  } catch (e) {
    if (isGradcError(e)) throw e;
    throw new GradcError(throwSite(e, path) ?? file, `the graph file threw while loading: ${oneLine(e instanceof Error ? e.message : String(e))}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const def = mod.default;
  if (!isGraphDef(def)) {
    const what = def === undefined ? 'has no default export' : `exports ${typeof def} by default`;
    throw new GradcError(file, `${what}; a graph file must \`export default graph('name', (g) => { … })\``);
  }
  return { file, def, inputs };
}

/** `file:line` of the first stack frame in the graph file (the stack is source-mapped). */
function throwSite(e: unknown, path: string): string | undefined {
  const stack = e instanceof Error ? e.stack ?? '' : '';
  for (const line of stack.split('\n')) {
    const at = line.indexOf(path + ':');
    if (at < 0) continue;
    const m = /^:(\d+):\d+/.exec(line.slice(at + path.length));
    if (m) return formatLoc({ file: path, line: Number(m[1]), column: 0 });
  }
  return undefined;
}

/**
 * The entry point's name as esbuild sees it. esbuild expands `*` in entry points as a glob,
 * so a graph file named `a*b.graph.ts` would bundle every match (or fail); a plugin maps
 * this name to the real path instead, which esbuild then loads as it would any file.
 */
const ENTRY = 'gradc:graph-file';

async function bundle(path: string, outfile: string, shown: string): Promise<{ code: string; inputs: string[] }> {
  try {
    const result = await build({
      entryPoints: [ENTRY],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      sourcesContent: false,
      logLevel: 'silent',
      outfile,
      metafile: true,
      plugins: [{
        name: 'gradc-self',
        setup(b) {
          b.onResolve({ filter: /^gradc:graph-file$/ }, (args) => {
            if (args.kind !== 'entry-point') return undefined;
            return existsSync(path) ? { path } : { errors: [{ text: `Could not resolve ${JSON.stringify(path)}` }] };
          });
          b.onResolve({ filter: /^gradc$/ }, () => ({ path: gradcEntry(), external: true }));
        },
      }],
    });
    const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules')).map((f) => resolve(f));
    return { code: result.outputFiles[0].text, inputs };
  } catch (e) {
    const errors = (e as { errors?: Message[] }).errors;
    const first = errors?.[0];
    if (!first) throw e;
    const where = first.location ? `${first.location.file}:${first.location.line}:${first.location.column + 1}` : shown;
    throw new GradcError(where, first.text);
  }
}
