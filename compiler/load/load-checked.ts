/**
 * loadGraph, with one error made readable: a name imported from 'gradc' that gradc does not
 * export (`import { tahn } from 'gradc'`). Node reports it while linking the bundled graph
 * file, with gradc's own file URL and no line; `explainLoadError` turns that into an error at
 * the user's import with the closest export. The CLI, the bundler plugins and `gradc/compiler`
 * all load graph files through `loadGraphFile`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as api from '../index.ts';
import { GradcError, isGradcError, quote } from '../errors.ts';
import type { SourceLoc } from '../ir/graph.ts';
import { closest } from '../suggest.ts';
import { loadGraph, type LoadedGraph, type LoadOptions } from './load-graph.ts';

export async function loadGraphFile(file: string, options: LoadOptions = {}): Promise<LoadedGraph> {
  try {
    return await loadGraph(file, options);
  } catch (e) {
    throw explainLoadError(e, file);
  }
}

/** What Node and esbuild say about a missing named export (of 'gradc', the graph bundle's only external). */
const MISSING_EXPORT = [/does not provide an export named '([^']+)'/, /No matching export in "[^"]*" for import "([^"]+)"/];

/** The values graph files can import from 'gradc'. */
const EXPORTS = Object.keys(api).filter((name) => name !== 'default').sort();

/**
 * A better error for a missing export of 'gradc' in graph file `file`, or `error` itself.
 * Exported so that loadGraph can call it directly.
 */
export function explainLoadError(error: unknown, file: string): unknown {
  if (!isGradcError(error)) return error;
  const name = MISSING_EXPORT.map((re) => re.exec(error.message)?.[1]).find((n) => n !== undefined);
  if (name === undefined || EXPORTS.includes(name)) return error;
  const hint = closest(name, EXPORTS);
  const detail = `'gradc' has no export ${quote(name)}; ${hint ? `did you mean ${hint}?` : `it exports ${EXPORTS.join(', ')}`}`;
  return new GradcError(`import { ${name} } from 'gradc'`, detail, importSite(file, name) ?? { file: resolve(file), line: 1, column: 1 });
}

/** Where `file` imports `name` from 'gradc'. */
function importSite(file: string, name: string): SourceLoc | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const imports = /import\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?\{([^}]*)\}\s*from\s*(['"])gradc\2/g;
  for (let m = imports.exec(text); m; m = imports.exec(text)) {
    const inBraces = new RegExp(`(^|[\\s,{])${name.replace(/[$]/g, '\\$')}(?=\\s*(,|as\\b|$))`).exec(m[1]);
    if (!inBraces) continue;
    const offset = m.index + m[0].indexOf('{') + 1 + inBraces.index + inBraces[1].length;
    const before = text.slice(0, offset).split('\n');
    return { file: resolve(file), line: before.length, column: before[before.length - 1].length + 1 };
  }
  return undefined;
}
