/**
 * The GPU arena: one storage buffer holding every param, input, stored intermediate and
 * gradient, plus the learning rate, each at a constant offset. One binding serves every
 * kernel, so no kernel can exceed the binding-count limit, and uploads and read-backs are
 * plain copies at known offsets. Sizes are checked against WebGPU's default limits here,
 * at build time.
 */
import { GradcError } from '../../errors.ts';
import type { Graph } from '../../ir/graph.ts';
import { sizeOf } from '../../ir/graph.ts';
import { entriesOf, type ModulePlan } from '../plan.ts';

/** WebGPU's default limits: what every conforming device offers. */
export const LIMITS = {
  maxStorageBufferBindingSize: 134_217_728,
  maxComputeWorkgroupsPerDimension: 65_535,
  maxComputeWorkgroupStorageSize: 16_384,
  maxComputeInvocationsPerWorkgroup: 256,
} as const;

/** Regions start on 64-float (256-byte) boundaries. */
const ALIGN = 64;

export interface Region {
  readonly offset: number;
  readonly length: number;
}

export interface ArenaLayout {
  /** Region of each node with a value in the arena (leaves and stored nodes). */
  readonly regions: ReadonlyMap<number, Region>;
  /** The learning-rate slot. */
  readonly learningRate: number;
  /** Total floats. */
  readonly size: number;
}

export function layoutArena(plan: ModulePlan): ArenaLayout {
  const g = plan.graph;
  const regions = new Map<number, Region>();
  let next = 0;
  const place = (length: number) => {
    const offset = next;
    next += Math.ceil(length / ALIGN) * ALIGN;
    return offset;
  };
  const ids = [...g.params.map((r) => r.id), ...g.inputs.map((r) => r.id), ...entriesOf(plan).flatMap((e) => e.buffers)];
  for (const id of ids) {
    if (regions.has(id)) continue;
    const length = sizeOf(g.nodes[id].shape);
    regions.set(id, { offset: place(length), length });
  }
  const learningRate = place(1);
  const layout = { regions, learningRate, size: next };
  checkArena(g, layout);
  return layout;
}

function checkArena(g: Graph, layout: ArenaLayout): void {
  const bytes = layout.size * 4;
  if (bytes <= LIMITS.maxStorageBufferBindingSize) return;
  const largest = [...layout.regions.entries()].sort((a, b) => b[1].length - a[1].length).slice(0, 3)
    .map(([id, r]) => `${g.nodes[id].name} ${(r.length * 4 / 2 ** 20).toFixed(1)} MiB`).join(', ');
  throw new GradcError(`graph '${g.name}'`, `the WGSL arena needs ${(bytes / 2 ** 20).toFixed(1)} MiB but a WebGPU storage binding holds at most 128 MiB by default (maxStorageBufferBindingSize); largest buffers: ${largest}. Use a smaller batch or narrower layers`, g.loc);
}

/** Workgroups along one dimension, or a clear error naming the node and the limit. */
export function checkWorkgroups(g: Graph, node: number, count: number, what: string): number {
  if (count > LIMITS.maxComputeWorkgroupsPerDimension) {
    const n = g.nodes[node];
    throw new GradcError(`node '${n.name}'`, `${what} needs ${count} workgroups in one dimension; WebGPU allows ${LIMITS.maxComputeWorkgroupsPerDimension} (maxComputeWorkgroupsPerDimension)`, n.loc);
  }
  return count;
}
