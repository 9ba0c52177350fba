/**
 * What every bundler plugin does with a graph import, whatever the bundler: compile the graph
 * file for the query's target through `gradc/compiler`, and hand back the generated module's
 * JavaScript, the files to watch, and, on failure, diagnostics with a code frame.
 */
import { compile, type Diagnostic } from '../api.ts';
import type { GraphQuery } from './queries.ts';
import { writeImportTypes } from './import-types.ts';

export interface GradcPluginOptions {
  /** Emit only forward (graphs need no loss). Default false. */
  readonly forwardOnly?: boolean;
  /**
   * Write `<graph file>.<query>.d.ts` beside each graph file imported, declaring the import's
   * exact types (see docs/reference.md, "Typed imports"). Default true.
   */
  readonly types?: boolean;
}

export type GraphModule =
  | { readonly ok: true; readonly code: string; readonly watchFiles: readonly string[] }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[]; readonly watchFiles: readonly string[] };

export async function buildGraphModule(file: string, query: GraphQuery, options: GradcPluginOptions): Promise<GraphModule> {
  const result = await compile(file, { targets: [query.target], forwardOnly: options.forwardOnly ?? false });
  const watchFiles = result.inputs.length ? result.inputs : [file];
  if (!result.ok) return { ok: false, diagnostics: result.diagnostics, watchFiles };
  // Only the query's target was built, so its module is the one file with this ending.
  const named = (ext: string) => result.files.find((f) => f.name.endsWith(`${query.suffix}${ext}`));
  const js = named('.js');
  const dts = named('.d.ts');
  if (!js || !dts) throw new Error(`gradc: the ${query.target} target produced no ${query.suffix}.js/.d.ts module`);
  if (options.types !== false) writeImportTypes(file, query, dts.contents);
  return { ok: true, code: js.contents, watchFiles };
}

/**
 * A code frame for a diagnostic, as Rollup and Vite show one under an error:
 *
 *   5 |   const o = affine(h, V, c);
 *     |             ^^^^^^^^^^^^^^^
 */
export function codeFrame(d: Diagnostic): string | undefined {
  const at = d.location;
  if (!at || !at.lineText) return undefined;
  const gutter = String(at.line);
  const column = Math.max(0, at.column - 1);
  const width = Math.max(1, callLength(at.lineText, column));
  return `${gutter} | ${at.lineText}\n${' '.repeat(gutter.length)} | ${' '.repeat(column)}${'^'.repeat(width)}`;
}

/**
 * How many characters of `line` from `column` the call there spans, up to its closing
 * parenthesis or the end of the line; 0 when no call starts there.
 */
export function callLength(line: string, column: number): number {
  const rest = line.slice(column);
  const open = /^[\w$.\s]*\(/.exec(rest);
  if (!open) return 0;
  let depth = 0;
  for (let i = open[0].length - 1; i < rest.length; i++) {
    if (rest[i] === '(') depth++;
    else if (rest[i] === ')' && --depth === 0) return i + 1;
  }
  return rest.trimEnd().length;
}
