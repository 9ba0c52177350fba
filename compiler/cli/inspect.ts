/**
 * `gradc inspect`: the forward IR, the optimized forward+backward IR, the ops used, and for
 * each entry point its kernels (with FLOPs and bytes moved), then the memory plan every
 * target shares.
 */
import { shapeLabel } from '../backends/common/text.ts';
import { printGraph } from '../ir/print.ts';
import { humanCount, kernelCost, updateCost } from '../kernels/cost.ts';
import type { ModulePlan } from '../kernels/plan.ts';
import { describeKernel } from '../lowering/describe.ts';
import { opDef } from '../ir/op-registry.ts';

export function inspectText(plan: ModulePlan): string {
  const g = plan.graph;
  const lines = [
    '# forward IR', printGraph(plan.forwardIR, { locations: true }), '',
    '# optimized forward + backward IR', printGraph(g), '',
    '# ops', ...[...new Set(g.nodes.map((n) => n.op))].map((op) => `  ${op.padEnd(18)} ${opDef(op).doc}`), '',
  ];
  for (const e of plan.entries) {
    const costs = e.steps.map((s) => (s.kind === 'kernel' ? kernelCost(plan.kernels[s.kernel], g) : updateCost(g, plan.optimizer!)));
    const flops = costs.reduce((n, c) => n + c.flops, 0);
    const bytes = costs.reduce((n, c) => n + c.bytes, 0);
    lines.push(`# ${e.name}: ${e.steps.length} kernels, ${humanCount(flops)}FLOP, ${humanCount(bytes)}B moved`);
    e.steps.forEach((s, i) => {
      const cost = `${humanCount(costs[i].flops)}FLOP, ${humanCount(costs[i].bytes)}B`;
      if (s.kind === 'update') {
        lines.push(`  ${plan.optimizer!.name} update of every param: ${plan.optimizer!.doc}  ${cost}`);
        return;
      }
      const k = plan.kernels[s.kernel];
      const [head, ...rest] = describeKernel(k, g);
      lines.push(`  ${k.name}: ${head}  ${cost}`, ...rest.map((l) => `  ${l}`));
    });
    lines.push('');
  }
  const { sizes, unshared } = plan.memory;
  lines.push(`# memory: arena ${sizes.arena} floats (${(sizes.arena / 256).toFixed(1)} KiB), ${unshared} without sharing; gradients ${sizes.grad} floats`);
  for (const [id, at] of plan.memory.place) {
    if (at.region !== 'arena') continue;
    const n = g.nodes[id];
    lines.push(`  ${String(at.offset).padStart(9)}  ${n.name} ${shapeLabel(n.shape)} (${at.length})`);
  }
  return lines.join('\n');
}
