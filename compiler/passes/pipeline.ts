/** The optimization pipeline: small passes run in order until the graph stops changing. */
import type { Graph } from '../ir/graph.ts';
import { eliminateCommonSubexpressions } from './cse.ts';
import { eliminateDeadCode } from './dce.ts';
import { foldTransposes } from './fold-transpose.ts';
import { simplify } from './simplify.ts';

export const PASSES: readonly { name: string; run: (g: Graph) => Graph }[] = [
  { name: 'fold-transposes', run: foldTransposes },
  { name: 'simplify', run: simplify },
  { name: 'cse', run: eliminateCommonSubexpressions },
  { name: 'dce', run: eliminateDeadCode },
];

export function optimize(g: Graph): Graph {
  let current = g;
  for (let round = 0; round < 8; round++) {
    const before = fingerprint(current);
    for (const pass of PASSES) current = pass.run(current);
    if (fingerprint(current) === before) break;
  }
  const live = current.nodes.find((n) => n.op === 'transpose');
  if (live) throw new Error(`internal: transpose ${live.name} survived folding`);
  return current;
}

function fingerprint(g: Graph): string {
  return g.nodes.map((n) => `${n.op}(${n.inputs})${JSON.stringify(n.attrs)}`).join(';');
}
