/**
 * The whole WGSL module of a graph: the arena binding, the workgroup arrays the kernels
 * share, and one entry point per kernel plus the fused SGD update.
 */
import type { ModulePlan } from '../plan.ts';
import { Namer, commentText, shapeLabel } from '../text.ts';
import { layoutArena, type ArenaLayout } from './layout.ts';
import { GROUP, TILE, renderSgdKernel, renderWgslKernel, type WgslKernel } from './kernels.ts';

export interface WgslModule {
  readonly text: string;
  readonly layout: ArenaLayout;
  /** Kernels in plan order; the SGD update last. */
  readonly kernels: readonly WgslKernel[];
  /** Index of the SGD kernel in `kernels`. */
  readonly sgd: number;
}

export function emitWgsl(plan: ModulePlan, header: string): WgslModule {
  const g = plan.graph;
  const layout = layoutArena(plan);
  const names = new Namer();
  const kernels = plan.schedule.kernels.map((k) => renderWgslKernel(k, g, names.take('k_', k.name), layout));
  kernels.push(renderSgdKernel(g, layout, names.take('', 'sgd_update')));
  const regionLines = [...layout.regions.entries()].map(([id, r]) => {
    const n = g.nodes[id];
    return `//   ${String(r.offset).padStart(8)}  ${commentText(n.name)} ${shapeLabel(n.shape)}`;
  });
  const text = [
    header,
    `// Arena (${layout.size} f32, ${(layout.size * 4 / 1024).toFixed(1)} KiB): every value at a constant offset.`,
    ...regionLines,
    `//   ${String(layout.learningRate).padStart(8)}  learning rate`,
    '@group(0) @binding(0) var<storage, read_write> data: array<f32>;',
    '',
    `var<workgroup> tileA: array<f32, ${TILE * TILE}>;`,
    `var<workgroup> tileB: array<f32, ${TILE * TILE}>;`,
    `var<workgroup> partial: array<f32, ${GROUP}>;`,
    '',
    kernels.map((k) => k.text).join('\n\n'),
    '',
  ].join('\n');
  return { text, layout, kernels, sgd: kernels.length - 1 };
}
