/**
 * The import queries the bundler plugins understand, one row each: `import * as m from
 * './mlp.graph.ts?gradc'` yields what target `js` emits as `<name>.js`. The queries are the
 * targets table's (compiler/targets.ts).
 */
import { QUERY_PATTERN, TARGET_TABLE, type Target } from '../targets.ts';

export { QUERY_PATTERN };

export interface GraphQuery {
  /** What follows `?` in the import. */
  readonly query: string;
  readonly target: Target;
  /** The module this query yields is `<graph name><suffix>.js`, typed by `<graph name><suffix>.d.ts`. */
  readonly suffix: string;
}

/** One query per target, from the targets table. */
export const QUERIES: readonly GraphQuery[] = TARGET_TABLE.map((t) => ({ query: t.query, target: t.name, suffix: t.suffix }));

/** `/a/b.graph.ts?gradc-gpu` → the file and its query's row; undefined for any other id. */
export function parseGraphImport(id: string): { file: string; query: GraphQuery } | undefined {
  const at = id.lastIndexOf('?');
  if (at < 0) return undefined;
  const query = QUERIES.find((q) => q.query === id.slice(at + 1));
  return query && { file: id.slice(0, at), query };
}
