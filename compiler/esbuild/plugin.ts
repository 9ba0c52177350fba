/**
 * The esbuild plugin: `import * as mlp from './mlp.graph.ts?gradc'` compiles the graph while
 * bundling and yields the generated JS module; `?gradc-gpu` yields the WebGPU host module.
 * Graph errors become esbuild errors at the user's file and line; the graph file and what it
 * imports are watched in esbuild's watch mode.
 *
 *   import { gradc } from 'gradc/esbuild';
 *   await esbuild.build({ entryPoints: ['app.ts'], bundle: true, plugins: [gradc()] });
 */
import { dirname, resolve } from 'node:path';
import type { Plugin } from 'esbuild';
import { compileAsync } from '../compile.ts';
import { loadGraph } from '../cli/load-graph.ts';
import { isGradcError } from '../errors.ts';
import type { SourceLoc } from '../ir/graph.ts';

const QUERY = /\?gradc(-gpu)?$/;

export interface GradcPluginOptions {
  /** Emit only forward (graphs need no loss). */
  readonly forwardOnly?: boolean;
}

export function gradc(options: GradcPluginOptions = {}): Plugin {
  return {
    name: 'gradc',
    setup(build) {
      build.onResolve({ filter: QUERY }, (args) => ({
        path: resolve(args.resolveDir, args.path.replace(QUERY, '')),
        namespace: 'gradc',
        pluginData: { gpu: args.path.endsWith('?gradc-gpu') },
        suffix: args.path.endsWith('?gradc-gpu') ? '?gradc-gpu' : '?gradc',
      }));
      build.onLoad({ filter: /.*/, namespace: 'gradc' }, async (args) => {
        const gpu = (args.pluginData as { gpu: boolean } | undefined)?.gpu ?? args.suffix === '?gradc-gpu';
        try {
          const { def, inputs } = await loadGraph(args.path);
          const { files } = await compileAsync(def, { targets: [gpu ? 'wgsl' : 'js'], forwardOnly: options.forwardOnly, sourceFile: args.path });
          const ts = files.find((f) => f.name === `${def.name}${gpu ? '.gpu' : ''}.ts`)!;
          return { contents: ts.contents, loader: 'ts', resolveDir: dirname(args.path), watchFiles: [...inputs] };
        } catch (e) {
          if (!isGradcError(e)) throw e;
          const loc = (e as { loc?: SourceLoc }).loc;
          return {
            errors: [{
              text: e.message,
              // Without a location the message itself names the file.
              location: loc ? { file: loc.file, line: loc.line, column: Math.max(0, loc.column - 1) } : null,
            }],
            watchFiles: [args.path],
          };
        }
      });
    },
  };
}

export default gradc;
