/** Dead-code elimination: keeps only what some root (input, param, output, loss, gradient) needs. */
import type { Graph } from '../ir/graph.ts';
import { reachable, roots } from '../ir/graph.ts';
import { rewrite } from './rewrite.ts';

export function eliminateDeadCode(g: Graph): Graph {
  return rewrite(g, () => undefined, new Set(reachable(g, roots(g))));
}
