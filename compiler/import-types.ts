/**
 * Exact types for `?gradc` imports, with no configuration: beside `mlp.graph.ts` the plugin
 * writes `mlp.graph.gradc.d.ts`, a global declaration file holding
 *
 *   declare module '.*\/mlp.graph.ts?gradc' { …the generated mlp.d.ts… }
 *
 * TypeScript matches the import `./mlp.graph.ts?gradc` (or `../models/mlp.graph.ts?gradc`)
 * against module patterns and, among those that match, takes the one with the longest text
 * before the `*`. This pattern's `.` (every relative import starts with one) beats the
 * generic `*?gradc` of `gradc/modules`, so a misspelt input name is a type error. Any
 * project whose tsconfig includes the graph file's folder picks the file up, editors too.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
/** The query of a target's imports (a row of compiler/targets.ts's table): `gradc`, `gradc-gpu`, … */
type GraphQuery = { readonly query: string };

/** The words by which a declaration file is known as the plugin's own (its header line). */
const MARK = "written by gradc's bundler plugin from";

/** `mlp.graph.ts` + `?gradc` → `mlp.graph.gradc.d.ts`. */
export function importTypesPath(graphFile: string, query: GraphQuery): string {
  const base = basename(graphFile).replace(/\.[cm]?[jt]sx?$/, '');
  return join(dirname(graphFile), `${base}.${query.query}.d.ts`);
}

/**
 * The declaration file's text: the generated `.d.ts` inside `declare module`. Inside an
 * ambient module everything is already a declaration, so `export declare` loses `declare`;
 * triple-slash references must open the file, so they move up.
 */
export function importTypesText(graphFile: string, query: GraphQuery, dts: string): string | undefined {
  const base = basename(graphFile);
  // A module pattern holds a single `*`: a file name with one cannot be matched.
  if (base.includes('*')) return undefined;
  const lines = dts.replace(/\r\n/g, '\n').trimEnd().split('\n');
  const references = lines.filter((l) => l.startsWith('/// <reference'));
  const body = lines.filter((l) => !l.startsWith('/// <reference')).map((l) => (l ? `  ${l.replace(/^export declare /, 'export ')}` : l));
  const pattern = JSON.stringify(`.*/${base}?${query.query}`);
  return [
    ...references,
    `// Types for \`import … from './${base}?${query.query}'\`, ${MARK} ${JSON.stringify(base)}.`,
    '// Do not edit: every build rewrites it. Commit it, or ignore it, as you do generated code.',
    `declare module ${pattern} {`,
    ...body,
    '}',
    '',
  ].join('\n');
}

/**
 * Writes the declaration file when its text changed (so watchers see no change otherwise).
 * A folder that cannot be written to only loses the types, not the build; so does a file of
 * that name that the plugin did not write (it has no header line naming the plugin), which
 * is never replaced. Returns whether the file now holds these types.
 */
export function writeImportTypes(graphFile: string, query: GraphQuery, dts: string): boolean {
  const text = importTypesText(graphFile, query, dts);
  if (text === undefined) return false;
  const path = importTypesPath(graphFile, query);
  try {
    const old = readFileSync(path, 'utf8');
    if (old === text) return true;
    if (!old.split('\n').some((line) => line.startsWith('// Types for') && line.includes(MARK))) return false;
  } catch {
    // not written yet
  }
  const staged = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(staged, text);
    renameSync(staged, path);
    return true;
  } catch {
    // A read-only source tree: the generic `gradc/modules` types still apply.
    rmSync(staged, { force: true });
    return false;
  }
}
