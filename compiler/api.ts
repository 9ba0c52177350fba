/**
 * gradc's programmatic compiler, `gradc/compiler`: a graph (a `GraphDef` from `graph()`, or
 * the path of a graph file) and options in, generated files out.
 *
 *   import { compile } from 'gradc/compiler';
 *   const result = await compile('src/mlp.graph.ts', { targets: ['js', 'wgsl'] });
 *   if (!result.ok) throw new Error(result.diagnostics[0].message);
 *   for (const f of result.files) writeFileSync(join('generated', f.name), f.contents);
 *
 * A thin, stable layer over the compiler: its types are its own, so the compiler's internals
 * can change without changing them. The CLI and the bundler plugins build through it.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { compileAsync } from './compile.ts';
import type { GraphDef } from './dsl/graph.ts';
import { isGradcError } from './errors.ts';
import { loadGraphFile } from './load/load-checked.ts';
import type { SourceLoc } from './ir/graph.ts';

/**
 * What gradc can emit (compiler/targets.ts has one row each): `js` (a JS/TS module), `wgsl`
 * (WGSL kernels and a WebGPU host module) and `wasm` (a module with the JS module's API whose
 * kernels are WebAssembly SIMD, and their text). `TARGETS` lists every target, in the order
 * their files are produced.
 */
export { TARGETS, type Target } from './targets.ts';
import type { Target } from './targets.ts';

export interface CompileOptions {
  /** Default `['js']`. */
  readonly targets?: readonly Target[];
  /** Emit only `meta`, `initParams` and `forward`: the graph needs no loss. Default false. */
  readonly forwardOnly?: boolean;
  /**
   * The graph file's name for the generated files' header comment, when `graph` is a
   * `GraphDef` (a path names itself). Default `memory`.
   */
  readonly sourceFile?: string;
}

/** One generated file. */
export interface OutputFile {
  /** Relative to the output folder, e.g. `mlp.js`, `mlp.d.ts`, `mlp.gpu.js`. */
  readonly name: string;
  readonly contents: string;
}

/** Where in the user's code a diagnostic points. */
export interface DiagnosticLocation {
  /** Absolute path. */
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based column of the call or token. */
  readonly column: number;
  /** The text of that line, for a code frame ('' when the file cannot be read). */
  readonly lineText: string;
}

/**
 * `toOnnx(graph, params, { softmax? })`: a graph's forward pass with trained params (gradc's
 * layout, as loadParams gives them) as the bytes of an ONNX model (opset 17) that
 * onnxruntime runs; `softmax` names outputs to also give as probabilities. Throws a
 * GradcError naming a missing or mis-sized param, or an op the export does not write.
 * See spec/onnx.md.
 */
export { toOnnx, type ToOnnxOptions } from './onnx/export.ts';

/** A problem in the graph or the options that the user can fix. */
export interface Diagnostic {
  readonly severity: 'error';
  /** One line: what, where (`file:line`) and what to do, as the CLI prints it after `gradc: `. */
  readonly message: string;
  readonly location?: DiagnosticLocation;
}

export type CompileResult =
  | { readonly ok: true; readonly files: readonly OutputFile[]; readonly diagnostics: readonly []; readonly inputs: readonly string[] }
  | { readonly ok: false; readonly files: readonly []; readonly diagnostics: readonly Diagnostic[]; readonly inputs: readonly string[] };

/**
 * Compiles one graph. `graph` is a `GraphDef` or the path of a graph file (whose default
 * export is one). Resolves to the generated files, or, for anything the user can fix (a
 * shape error, a missing file, an unknown target), to `ok: false` with diagnostics; nothing
 * is written either way. `inputs` lists the graph file and the local files it imports (empty
 * for a `GraphDef`), for watching. Rejects only on a bug in gradc.
 */
export async function compile(graph: GraphDef | string, options: CompileOptions = {}): Promise<CompileResult> {
  let inputs: readonly string[] = typeof graph === 'string' ? [resolve(graph)] : [];
  try {
    let def: GraphDef;
    let sourceFile = options.sourceFile;
    if (typeof graph === 'string') {
      const loaded = await loadGraphFile(graph);
      ({ def, inputs } = loaded);
      sourceFile = graph;
    } else {
      def = graph;
    }
    const { files } = await compileAsync(def, { targets: options.targets, forwardOnly: options.forwardOnly, sourceFile });
    return { ok: true, files: files.map(({ name, contents }) => ({ name, contents })), diagnostics: [], inputs };
  } catch (e) {
    if (!isGradcError(e)) throw e;
    return { ok: false, files: [], diagnostics: [diagnosticOf(e)], inputs };
  }
}

function diagnosticOf(e: Error): Diagnostic {
  const location = locationOf(e);
  return location ? { severity: 'error', message: e.message, location } : { severity: 'error', message: e.message };
}

/**
 * The error's location: the DSL call it names, or, for a loading error, the `file:line[:col]`
 * it starts with (a syntax error, a throw in the graph file).
 */
function locationOf(e: Error): DiagnosticLocation | undefined {
  const { loc, subject } = e as { loc?: SourceLoc; subject?: string };
  let at: SourceLoc | undefined = loc;
  if (!at && typeof subject === 'string') {
    const m = /^(.+?):(\d+)(?::(\d+))?$/.exec(subject);
    if (m) at = { file: m[1], line: Number(m[2]), column: Number(m[3] ?? 1) };
  }
  if (!at) return undefined;
  const file = isAbsolute(at.file) ? at.file : resolve(at.file);
  return { file, line: at.line, column: at.column, lineText: lineOf(file, at.line) };
}

function lineOf(file: string, line: number): string {
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/)[line - 1] ?? '';
  } catch {
    return '';
  }
}
