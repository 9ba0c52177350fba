/**
 * Memory planning for one entry point: every buffer lives from the kernel that writes it to
 * the last kernel that reads it (to the end, for what the entry returns), and buffers whose
 * lifetimes do not overlap share space in one arena. Placement is first-fit in kernel order,
 * which is deterministic and, for the chain shapes of networks, near the peak live size.
 */
import type { Graph } from '../ir/graph.ts';
import { sizeOf } from '../ir/graph.ts';
import type { Kernel } from './kernel.ts';
import { readNodes, writtenNodes } from './kernel.ts';

export interface MemoryPlan {
  /** Offset (in floats) of every buffer in the arena. */
  readonly offsets: ReadonlyMap<number, number>;
  /** Floats the arena needs. */
  readonly size: number;
  /** Floats the buffers would need without sharing. */
  readonly unshared: number;
}

/** Offsets are multiples of this many floats (64 bytes: a cache line). */
const ALIGN = 16;

export function planMemory(g: Graph, kernels: readonly Kernel[], keep: readonly number[]): MemoryPlan {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  kernels.forEach((k, i) => {
    for (const id of writtenNodes(k)) if (!first.has(id)) first.set(id, i);
    for (const id of readNodes(k)) if (first.has(id)) last.set(id, i);
  });
  for (const id of keep) if (first.has(id)) last.set(id, kernels.length);
  const ids = [...first.keys()];
  const sizeOfNode = (id: number) => Math.ceil(sizeOf(g.nodes[id].shape) / ALIGN) * ALIGN;

  const placed: { id: number; offset: number; size: number; from: number; to: number }[] = [];
  const offsets = new Map<number, number>();
  let size = 0;
  for (const id of ids) {
    const from = first.get(id)!;
    const to = last.get(id) ?? from;
    const need = sizeOfNode(id);
    // Intervals of the arena taken during [from, to], by buffers placed so far.
    const busy = placed.filter((p) => p.from <= to && from <= p.to).sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const b of busy) {
      if (offset + need <= b.offset) break;
      offset = Math.max(offset, b.offset + b.size);
    }
    placed.push({ id, offset, size: need, from, to });
    offsets.set(id, offset);
    size = Math.max(size, offset + need);
  }
  const unshared = ids.reduce((n, id) => n + sizeOfNode(id), 0);
  return { offsets, size, unshared };
}
