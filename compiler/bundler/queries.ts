/**
 * The import queries the bundler plugins understand, one row each: `import * as m from
 * './mlp.graph.ts?gradc'` yields what target `js` emits as `<name>.js`. A new target's query
 * is one more row.
 */
import type { Target } from '../api.ts';

export interface GraphQuery {
  /** What follows `?` in the import. */
  readonly query: string;
  readonly target: Target;
  /** The module this query yields is `<graph name><suffix>.js`, typed by `<graph name><suffix>.d.ts`. */
  readonly suffix: string;
}

export const QUERIES: readonly GraphQuery[] = [
  { query: 'gradc', target: 'js', suffix: '' },
  { query: 'gradc-gpu', target: 'wgsl', suffix: '.gpu' },
  { query: 'gradc-wasm', target: 'wasm', suffix: '.wasm' },
];

/** `\?(?:gradc|gradc\-gpu)`: any of the queries, as a regular expression. */
const ANY_QUERY = `\\?(?:${QUERIES.map((q) => q.query.replace(/[-]/g, '\\-')).join('|')})`;

/** Matches an import of a graph file with any of the queries: `…?gradc`, `…?gradc-gpu`. */
export const QUERY_PATTERN = new RegExp(`${ANY_QUERY}$`);

/**
 * A stack frame in a module imported with a query (`/a/b.graph.ts?gradc:12:5`): the graph
 * file is running as plain code because no plugin compiled it (Vite's SSR, Node).
 */
export const QUERY_FRAME = new RegExp(`([^\\s(]+${ANY_QUERY}):\\d+:\\d+`);

/** `/a/b.graph.ts?gradc-gpu` → the file and its query's row; undefined for any other id. */
export function parseGraphImport(id: string): { file: string; query: GraphQuery } | undefined {
  const at = id.lastIndexOf('?');
  if (at < 0) return undefined;
  const query = QUERIES.find((q) => q.query === id.slice(at + 1));
  return query && { file: id.slice(0, at), query };
}
