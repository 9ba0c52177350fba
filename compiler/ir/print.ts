/** The IR as text: one line per node, then the roots. Stable, so it can be diffed. */
import { formatLoc } from './location.ts';
import { numberKey } from './scalar.ts';
import type { Graph, Node } from './graph.ts';
import { shapeText } from './graph.ts';

function describe(n: Node): string {
  const a = n.attrs;
  const flags = [
    a.leaf !== undefined ? JSON.stringify(a.leaf) : '',
    a.init ? `init=${a.init}` : '',
    a.value !== undefined ? numberKey(a.value) : '',
    a.transA ? 'transA' : '',
    a.transB ? 'transB' : '',
    a.to ? `to=${shapeText(a.to)}` : '',
  ].filter(Boolean);
  const args = n.inputs.map((i) => `%${i}`);
  return `${n.op} ${[...args, ...flags].join(', ')}`.trim();
}

export function printGraph(g: Graph, options: { locations?: boolean } = {}): string {
  const lines = [`graph ${g.name} {`];
  const width = Math.max(...g.nodes.map((n) => describe(n).length), 10);
  for (const n of g.nodes) {
    const lhs = `  %${n.id}: f32${shapeText(n.shape)}`.padEnd(22);
    const where = options.locations && n.loc ? ` @ ${formatLoc(n.loc)}` : '';
    lines.push(`${lhs} = ${describe(n).padEnd(width)}  # ${n.name}${where}`);
  }
  for (const o of g.outputs) lines.push(`  output ${o.name} = %${o.id}`);
  if (g.loss !== undefined) lines.push(`  loss = %${g.loss}`);
  for (const r of g.grads ?? []) lines.push(`  grad ${r.name} = %${r.id}`);
  lines.push('}');
  return lines.join('\n');
}
