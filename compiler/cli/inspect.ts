/**
 * `gradc inspect`: the forward IR, the optimized forward+backward IR, and for each entry
 * point its fused kernels (with FLOPs and bytes moved) and its memory plan.
 */
import { describeKernel } from '../codegen/describe.ts';
import { entriesOf, type ModulePlan } from '../codegen/plan.ts';
import { shapeLabel } from '../codegen/text.ts';
import { printGraph } from '../ir/print.ts';
import { sizeOf } from '../ir/graph.ts';
import { humanCount, kernelCost } from '../kernels/cost.ts';
import { planMemory } from '../kernels/memory.ts';
import { opDef } from '../ops/registry.ts';

export function inspectText(plan: ModulePlan): string {
  const g = plan.graph;
  const lines = [
    '# forward IR', printGraph(plan.forwardIR, { locations: true }), '',
    '# optimized forward + backward IR', printGraph(g), '',
    '# ops', ...[...new Set(g.nodes.map((n) => n.op))].map((op) => `  ${op.padEnd(18)} ${opDef(op).doc}`), '',
  ];
  for (const e of entriesOf(plan)) {
    const costs = e.kernels.map((k) => kernelCost(k, g));
    const flops = costs.reduce((n, c) => n + c.flops, 0);
    const bytes = costs.reduce((n, c) => n + c.bytes, 0);
    lines.push(`# ${e.name}: ${e.kernels.length} kernels, ${humanCount(flops)}FLOP, ${humanCount(bytes)}B moved`);
    e.kernels.forEach((k, i) => {
      const [head, ...rest] = describeKernel(k, g);
      lines.push(`k${i} ${k.name}: ${head}  ${humanCount(costs[i].flops)}FLOP, ${humanCount(costs[i].bytes)}B`, ...rest);
    });
    const mem = planMemory(g, e.kernels, e.roots);
    lines.push(`  memory: arena ${mem.size} floats (${(mem.size / 256).toFixed(1)} KiB), ${mem.unshared} without sharing`);
    for (const id of e.buffers) {
      const n = g.nodes[id];
      lines.push(`    ${String(mem.offsets.get(id)).padStart(9)}  ${n.name} ${shapeLabel(n.shape)} (${sizeOf(n.shape)})`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
