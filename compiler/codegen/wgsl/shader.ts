/**
 * The whole WGSL module of a graph: the arena binding, the workgroup arrays the kernels
 * share, and one entry point per kernel plus the fused SGD update.
 */
import type { Entry, ModulePlan } from '../plan.ts';
import { Namer, commentText, shapeLabel } from '../text.ts';
import { layoutArena, type ArenaLayout } from './layout.ts';
import { GROUP, TILE, renderSgdKernel, renderWgslKernel, type WgslKernel } from './kernels.ts';

export interface WgslModule {
  readonly text: string;
  readonly layout: ArenaLayout;
  /** Distinct kernels of all entries; the SGD update last. */
  readonly kernels: readonly WgslKernel[];
  /** Each entry's kernels, as indices into `kernels`. */
  readonly entries: { readonly forward: number[]; readonly loss: number[]; readonly gradient: number[]; readonly train: number[] };
}

export function emitWgsl(plan: ModulePlan, header: string): WgslModule {
  const g = plan.graph;
  const layout = layoutArena(plan);
  const names = new Namer();
  const kernels: WgslKernel[] = [];
  const seen = new Map<string, number>();
  const indices = (e: Entry | undefined) => (e?.kernels ?? []).map((k) => {
    const key = JSON.stringify(k);
    let index = seen.get(key);
    if (index === undefined) {
      index = kernels.length;
      kernels.push(renderWgslKernel(k, g, names.take('k_', k.name), layout));
      seen.set(key, index);
    }
    return index;
  });
  const [forward, loss, gradient] = [indices(plan.forward), indices(plan.loss), indices(plan.gradient)];
  kernels.push(renderSgdKernel(g, layout, names.take('', 'sgd_update')));
  const entries = { forward, loss, gradient, train: [...gradient, kernels.length - 1] };
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
  return { text, layout, kernels, entries };
}
