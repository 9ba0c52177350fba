/**
 * gradc's bundler plugin, written once for every bundler through unplugin: Vite, Rollup,
 * webpack and esbuild. `import * as mlp from './mlp.graph.ts?gradc'` compiles the graph
 * while bundling and yields the generated JS module (`?gradc-gpu`: the WebGPU host module;
 * the table in queries.ts lists them). Graph errors are reported at the user's file and line
 * with a code frame; the graph file and every local file it imports are watched.
 *
 * esbuild gets its own native hooks: its messages carry a location with the line's text,
 * which unplugin's esbuild adapter drops.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Message, PluginBuild } from 'esbuild';
import type { PluginContext } from 'rollup';
import { createUnplugin, type UnpluginFactory } from 'unplugin';
import type { Diagnostic } from '../api.ts';
import { buildGraphModule, callLength, codeFrame, type GradcPluginOptions } from './module.ts';
import { QUERY_PATTERN, parseGraphImport } from './queries.ts';
import { hostModuleJs } from '../compile.ts';
import { HOST_FILE } from '../targets.ts';

export type { GradcPluginOptions } from './module.ts';

const NAME = 'gradc';

/**
 * The generated modules import their host code from `./gradc-host.js`, which the CLI writes
 * beside them; in a bundle it is one virtual module that every graph module shares.
 */
const HOST_IMPORT = `./${HOST_FILE}.js`;
const HOST_ID = `\0${HOST_FILE}.js`;
const exactly = (id: string) => new RegExp(`^${id.replace(/[.]/g, '\\.')}$`);
const HOST_PATTERN = exactly(HOST_IMPORT);
const either = (a: RegExp, b: RegExp) => new RegExp(`${a.source}|${b.source}`);

const factory: UnpluginFactory<GradcPluginOptions | undefined, false> = (options = {}, meta) => {
  if (meta.framework === 'esbuild') return { name: NAME, esbuild: { setup: (build) => setupEsbuild(build, options) } };
  /** Per graph module, the files its last build read. */
  const watched = new Map<string, readonly string[]>();
  return {
    name: NAME,
    enforce: 'pre',
    resolveId: {
      filter: { id: either(QUERY_PATTERN, HOST_PATTERN) },
      async handler(source, importer) {
        if (source === HOST_IMPORT) return importer && parseGraphImport(importer) ? HOST_ID : null;
        const graph = parseGraphImport(source);
        if (!graph) return null;
        // Rollup and Vite resolve the path as any other import (aliases, Vite's root-relative
        // `/…`); webpack's context has no `resolve`, and its imports are relative or absolute.
        const { resolve: bundlerResolve } = this as Partial<Pick<PluginContext, 'resolve'>>;
        const resolved = bundlerResolve ? await bundlerResolve.call(this, graph.file, importer, { skipSelf: true }) : null;
        const file = resolved?.id ?? (isAbsolute(graph.file) || !importer ? resolve(graph.file) : resolve(dirname(importer), graph.file));
        return `${file}?${graph.query.query}`;
      },
    },
    load: {
      filter: { id: either(QUERY_PATTERN, exactly(HOST_ID)) },
      async handler(id) {
        if (id === HOST_ID) return hostModuleJs();
        const graph = parseGraphImport(id);
        if (!graph) return null;
        const built = await buildGraphModule(graph.file, graph.query, options);
        watched.set(id, built.watchFiles);
        for (const f of built.watchFiles) this.addWatchFile(f);
        if (!built.ok) throw bundlerError(built.diagnostics[0], graph.file);
        return built.code;
      },
    },
    vite: {
      // Vite's dev server drops files added while loading a module it has not seen yet; added
      // again while transforming, they become the module's imports, and a change to any of
      // them reloads it.
      transform: {
        filter: { id: QUERY_PATTERN },
        handler(_code, id) {
          for (const f of watched.get(id) ?? []) this.addWatchFile(f);
          return null;
        },
      },
    },
  };
};

/** The plugin for every bundler unplugin supports; the package exports one entry per bundler. */
export const unplugin = createUnplugin(factory);

/**
 * An Error as Rollup and Vite read one (`id`, `loc`, `frame`); webpack shows its message,
 * which names the file and line already.
 */
function bundlerError(d: Diagnostic | undefined, file: string): Error {
  const error = new Error(d?.message ?? `${file}: the graph failed to build`) as Error & { id?: string; loc?: object; frame?: string };
  error.id = d?.location?.file ?? file;
  if (d?.location) error.loc = { file: d.location.file, line: d.location.line, column: d.location.column - 1 };
  const frame = d && codeFrame(d);
  if (frame) error.frame = frame;
  // Bundlers print the stack when there is one; gradc's own frames would only bury the message.
  error.stack = `Error: ${error.message}`;
  return error;
}

function setupEsbuild(build: PluginBuild, options: GradcPluginOptions): void {
  build.onResolve({ filter: HOST_PATTERN, namespace: NAME }, () => ({ path: HOST_FILE, namespace: HOST_FILE }));
  build.onLoad({ filter: /.*/, namespace: HOST_FILE }, async () => ({ contents: await hostModuleJs(), loader: 'js' }));
  build.onResolve({ filter: QUERY_PATTERN }, (args) => {
    const graph = parseGraphImport(args.path)!;
    return { path: resolve(args.resolveDir, graph.file), namespace: NAME, suffix: `?${graph.query.query}` };
  });
  build.onLoad({ filter: /.*/, namespace: NAME }, async (args) => {
    const graph = parseGraphImport(args.path + args.suffix)!;
    const built = await buildGraphModule(graph.file, graph.query, options);
    const watchFiles = [...built.watchFiles];
    if (!built.ok) return { errors: built.diagnostics.map(esbuildMessage), watchFiles };
    return { contents: built.code, loader: 'js', resolveDir: dirname(args.path), watchFiles };
  });
}

/** A diagnostic as an esbuild message: with the line's text, so esbuild's code frame shows the call. */
function esbuildMessage(d: Diagnostic): Partial<Message> {
  const at = d.location;
  // Without a location the message itself names the file.
  if (!at) return { text: d.message, location: null };
  const column = Math.max(0, at.column - 1);
  return { text: d.message, location: { file: at.file, line: at.line, column, length: callLength(at.lineText, column), lineText: at.lineText, namespace: 'file', suggestion: '' } };
}

