/**
 * The targets gradc emits, one row each. Everything outside a target's backend folder that
 * depends on which targets exist reads this table: the build (compile.ts), the API's `Target`
 * type and `TARGETS`, the CLI's `--target` and help, the bundler plugins' import queries and
 * the generic declarations of `gradc/modules`. Adding a target is one row here plus its
 * backend folder (spec/kernels.md, "Adding a backend"). A leaf: it imports nothing, so every
 * layer may read it.
 */

/** Which runtime API a target's module has: the CPU modules' (`CpuModule`) or the WebGPU one's (`GpuModule`). */
export type TargetApi = 'cpu' | 'gpu';

export interface TargetRow {
  /** The `--target` name. */
  readonly name: string;
  /** The module this target yields is `<graph name><suffix>.js`, typed by `<graph name><suffix>.d.ts`. */
  readonly suffix: string;
  /** The bundler import query that yields that module: `import * as m from './mlp.graph.ts?<query>'`. */
  readonly query: string;
  readonly api: TargetApi;
  /** The files it writes beside the host file, for `gradc build --help`. */
  readonly files: string;
}

export const TARGET_TABLE = [
  { name: 'js', suffix: '', query: 'gradc', api: 'cpu', files: '<name>.ts, .js and .d.ts: a JS/TS module' },
  { name: 'wgsl', suffix: '.gpu', query: 'gradc-gpu', api: 'gpu', files: '<name>.wgsl with the WebGPU host <name>.gpu.js, .gpu.d.ts' },
  {
    name: 'wasm', suffix: '.wasm', query: 'gradc-wasm', api: 'cpu',
    files: '<name>.wat with the WebAssembly module <name>.wasm.ts, .wasm.js, .wasm.d.ts (kernels in SIMD)',
  },
] as const satisfies readonly TargetRow[];

export type Target = (typeof TARGET_TABLE)[number]['name'];

/** Every target's name, in the order their files are produced. */
export const TARGETS: readonly Target[] = TARGET_TABLE.map((t) => t.name);

/** The target built when none is asked for. */
export const DEFAULT_TARGET: Target = 'js';

/** A target's row. */
export function targetRow(name: Target): TargetRow {
  return TARGET_TABLE.find((t) => t.name === name)!;
}

/** `\?(?:gradc|gradc\-gpu|…)`: any of the queries, as a regular expression's source. */
const ANY_QUERY = `\\?(?:${TARGET_TABLE.map((t) => t.query.replace(/[-]/g, '\\-')).join('|')})`;

/** Matches an import of a graph file with any of the queries: `…?gradc`, `…?gradc-gpu`. */
export const QUERY_PATTERN = new RegExp(`${ANY_QUERY}$`);

/**
 * A stack frame in a module imported with a query (`/a/b.graph.ts?gradc:12:5`): the graph
 * file is running as plain code because no plugin compiled it (Vite's SSR, Node).
 */
export const QUERY_FRAME = new RegExp(`([^\\s(]+${ANY_QUERY}):\\d+:\\d+`);

/**
 * The file the generated JS and wasm modules import their graph-independent host code from
 * (`gradc-host.ts`, `.js`), written beside them: no graph may be named so.
 */
export const HOST_FILE = 'gradc-host';
