/**
 * Where every value of a module lives, planned once for every backend. Values are in four
 * regions:
 * - `param`: every param, in declaration order (the optimizer's state slots use the same
 *   layout, so one update kernel can walk a param, its gradient and its state together);
 * - `grad`: every param's gradient, at its param's offset;
 * - `input`: every input, in declaration order;
 * - `arena`: every other value a kernel stores. A buffer lives from the kernel that writes it
 *   to the last kernel that reads it (to the end of the entry, for what the entry returns),
 *   and buffers whose lifetimes never overlap in any entry share space. Each value has one
 *   offset in every entry, so a kernel shared by entries reads and writes the same places.
 * Placement is first-fit in order of first write: deterministic and, for the chain shapes of
 * networks, near the peak live size. Backends that take params and inputs as separate arrays
 * (the JS module) ignore those two regions' offsets.
 */
import type { Graph } from '../ir/graph.ts';
import { sizeOf } from '../ir/graph.ts';
import type { Kernel } from './kernel.ts';
import { readNodes, writtenNodes } from './kernel.ts';
import type { Entry } from './entry.ts';

export type Region = 'param' | 'grad' | 'input' | 'arena';

export interface Placement {
  readonly region: Region;
  /** In floats from the region's start; a multiple of `ALIGN`. */
  readonly offset: number;
  readonly length: number;
}

export interface MemoryPlan {
  /** Every leaf and every stored value. */
  readonly place: ReadonlyMap<number, Placement>;
  /** Floats each region needs. */
  readonly sizes: Readonly<Record<Region, number>>;
  /** Floats the arena's buffers would need without sharing. */
  readonly unshared: number;
}

/** Offsets are multiples of this many floats: 64 bytes, a cache line and a 16-byte vector multiple. */
export const ALIGN = 16;
const aligned = (floats: number) => Math.ceil(floats / ALIGN) * ALIGN;

export function planMemory(g: Graph, kernels: readonly Kernel[], entries: readonly Entry[]): MemoryPlan {
  const place = new Map<number, Placement>();
  const sizes: Record<Region, number> = { param: 0, grad: 0, input: 0, arena: 0 };
  const append = (region: 'param' | 'input', id: number) => {
    const length = sizeOf(g.nodes[id].shape);
    place.set(id, { region, offset: sizes[region], length });
    sizes[region] += aligned(length);
  };
  for (const r of g.params) append('param', r.id);
  for (const r of g.inputs) append('input', r.id);
  const paramNamed = new Map(g.params.map((p) => [p.name, p.id]));
  for (const r of g.grads ?? []) {
    const param = place.get(paramNamed.get(r.name)!)!;
    place.set(r.id, { ...param, region: 'grad' });
  }
  sizes.grad = (g.grads ?? []).length > 0 ? sizes.param : 0;

  const lifetimes = arenaLifetimes(kernels, entries, place);
  let unshared = 0;
  const placed: { id: number; offset: number; size: number }[] = [];
  for (const [id, spans] of lifetimes) {
    const length = sizeOf(g.nodes[id].shape);
    const need = aligned(length);
    unshared += need;
    const busy = placed.filter((p) => overlaps(spans, lifetimes.get(p.id)!)).sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const b of busy) {
      if (offset + need <= b.offset) break;
      offset = Math.max(offset, b.offset + b.size);
    }
    placed.push({ id, offset, size: need });
    place.set(id, { region: 'arena', offset, length });
    sizes.arena = Math.max(sizes.arena, offset + need);
  }
  return { place, sizes, unshared };
}

/** Per arena value, in order of first write: the [from, to] kernel-step span in each entry using it. */
export function arenaLifetimes(kernels: readonly Kernel[], entries: readonly Entry[], fixed: ReadonlyMap<number, Placement>): Map<number, Map<number, [number, number]>> {
  const spans = new Map<number, Map<number, [number, number]>>();
  entries.forEach((e, ei) => {
    const end = e.steps.length;
    e.steps.forEach((step, t) => {
      if (step.kind !== 'kernel') return;
      const k = kernels[step.kernel];
      for (const id of writtenNodes(k)) {
        if (fixed.has(id)) continue;
        let byEntry = spans.get(id);
        if (!byEntry) spans.set(id, (byEntry = new Map()));
        if (!byEntry.has(ei)) byEntry.set(ei, [t, t]);
      }
      for (const id of readNodes(k)) {
        const span = spans.get(id)?.get(ei);
        if (span) span[1] = t;
      }
    });
    for (const id of e.roots) {
      const span = spans.get(id)?.get(ei);
      if (span) span[1] = end;
    }
  });
  return spans;
}

function overlaps(a: ReadonlyMap<number, [number, number]>, b: ReadonlyMap<number, [number, number]>): boolean {
  for (const [entry, [from, to]] of a) {
    const other = b.get(entry);
    if (other && other[0] <= to && from <= other[1]) return true;
  }
  return false;
}
