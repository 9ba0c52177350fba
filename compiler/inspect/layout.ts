/**
 * Where the page draws each node: an entry's kernels are cut into windows of consecutive
 * launches, and each window's nodes (what its kernels compute, and the leaves and earlier
 * values they read, as small stubs) are laid out by dagre at build time. A deep network's
 * windows repeat: a layout is keyed by the window's structure (ops, shapes, edges, not
 * names), so identical layers are laid out once however many there are.
 */
import dagre from '@dagrejs/dagre';
import type { Graph } from '../ir/graph.ts';
import { shapeText } from '../ir/graph.ts';
import type { Kernel } from '../kernels/kernel.ts';
import type { Entry } from '../kernels/plan.ts';

/** Node boxes, in pixels: a computed node shows four lines, a stub one. */
export const BOX = { width: 172, height: 64 } as const;
export const STUB = { width: 108, height: 24 } as const;

/** Windows of at most this many nodes are laid out with their kernels as groups. */
const GROUPED_NODES = 90;

/** Launches a window holds at most (fewer where a deep network's period fits). */
const WINDOW_STEPS = 16;

export interface Layout {
  readonly width: number;
  readonly height: number;
  /** Per slot of the window: the box's centre. */
  readonly at: readonly (readonly [number, number])[];
  /**
   * Each kernel's outline, by its launch within the window: [launch, x, y, width, height] (the
   * top-left corner), where dagre placed the kernels as groups; otherwise the page outlines
   * each kernel's boxes.
   */
  readonly clusters?: readonly (readonly [number, number, number, number, number])[];
  /** Edges between slots, with dagre's route (points). */
  readonly edges: readonly { readonly from: number; readonly to: number; readonly points: readonly (readonly [number, number])[] }[];
}

export interface Window {
  /** The entry's steps [from, to). */
  readonly from: number;
  readonly to: number;
  /** Node ids by slot: first what the window's kernels compute, then the stubs. */
  readonly nodes: readonly number[];
  /** How many of `nodes` are computed here (the rest are stubs). */
  readonly computed: number;
  /** Index into the layouts. */
  readonly layout: number;
}

export class Layouts {
  readonly all: Layout[] = [];
  private readonly byKey = new Map<string, number>();

  constructor(private readonly g: Graph, private readonly kernels: readonly Kernel[]) {}

  /** An entry's windows, each laid out (or sharing the layout of one like it); `extra` nodes are stubs of the first. */
  windows(entry: Entry, extra: readonly number[] = []): Window[] {
    const size = windowSize(entry, this.kernels, this.g);
    const out: Window[] = [];
    for (let from = 0; from < entry.steps.length; from += size) {
      const to = Math.min(from + size, entry.steps.length);
      out.push(this.window(entry, from, to, from === 0 ? extra : []));
    }
    return out;
  }

  private window(entry: Entry, from: number, to: number, extra: readonly number[]): Window {
    const g = this.g;
    const computed: number[] = [];
    const kernelOf: number[] = [];
    for (let t = from; t < to; t++) {
      const step = entry.steps[t];
      if (step.kind !== 'kernel') continue;
      for (const id of this.kernels[step.kernel].nodes) {
        computed.push(id);
        kernelOf.push(t - from);
      }
    }
    const slot = new Map(computed.map((id, i) => [id, i]));
    const nodes = [...computed];
    const edges: [number, number][] = [];
    for (const id of computed) {
      for (const input of g.nodes[id].inputs) {
        let s = slot.get(input);
        if (s === undefined) {
          s = nodes.length;
          slot.set(input, s);
          nodes.push(input);
        }
        edges.push([s, slot.get(id)!]);
      }
    }
    for (const id of extra) if (!slot.has(id)) nodes.push(id);
    const key = JSON.stringify([
      nodes.map((id, i) => `${g.nodes[id].op}${shapeText(g.nodes[id].shape)}${i < computed.length ? `@${kernelOf[i]}` : ''}`),
      edges,
    ]);
    let layout = this.byKey.get(key);
    if (layout === undefined) {
      layout = this.all.length;
      this.all.push(layOut(nodes.length, kernelOf, edges));
      this.byKey.set(key, layout);
    }
    return { from, to, nodes, computed: computed.length, layout };
  }
}

/**
 * Nodes laid out as a layered graph. A small window's kernels are groups of dagre's, so no
 * kernel's outline takes in another's node; dagre's groups cost several times as much
 * time, so a large window's outlines are its kernels' bounding boxes.
 */
function layOut(count: number, kernelOf: readonly number[], edges: readonly [number, number][]): Layout {
  const computed = kernelOf.length;
  const grouped = count <= GROUPED_NODES;
  const d = new dagre.graphlib.Graph({ multigraph: true, compound: grouped });
  d.setGraph({ rankdir: 'TB', nodesep: 12, ranksep: 30, edgesep: 8, marginx: 12, marginy: 12 });
  for (let i = 0; i < count; i++) d.setNode(String(i), { ...(i < computed ? BOX : STUB) });
  const launches = [...new Set(kernelOf)];
  if (grouped) {
    for (const t of launches) d.setNode(`k${t}`, { paddingTop: 26, paddingLeft: 8, paddingRight: 8, paddingBottom: 8 });
    kernelOf.forEach((t, i) => d.setParent(String(i), `k${t}`));
  }
  edges.forEach(([a, b], i) => d.setEdge(String(a), String(b), {}, String(i)));
  dagre.layout(d);
  const at = Array.from({ length: count }, (_, i) => {
    const n = d.node(String(i));
    return [Math.round(n.x), Math.round(n.y)] as const;
  });
  const routes = edges.map(([a, b], i) => ({
    from: a,
    to: b,
    points: (d.edge(String(a), String(b), String(i)).points ?? []).map((p: { x: number; y: number }) => [Math.round(p.x), Math.round(p.y)] as const),
  }));
  const { width = 0, height = 0 } = d.graph();
  const clusters = grouped ? launches.map((t) => {
    const c = d.node(`k${t}`);
    return [t, Math.round(c.x - c.width / 2), Math.round(c.y - c.height / 2), Math.round(c.width), Math.round(c.height)] as const;
  }) : undefined;
  return { width: Math.ceil(width), height: Math.ceil(height), at, edges: routes, ...(clusters ? { clusters } : {}) };
}

/**
 * Launches per window: all of a small entry; for a long one, a whole number of its repeating
 * period (the shortest p with step t's kernel shaped like step t + p over most of the
 * entry) near `WINDOW_STEPS`, so that the windows of identical layers are alike.
 */
function windowSize(entry: Entry, kernels: readonly Kernel[], g: Graph): number {
  const steps = entry.steps.length;
  if (steps <= WINDOW_STEPS * 1.5) return steps;
  const form = entry.steps.map((s) => (s.kind === 'kernel' ? kernelForm(kernels[s.kernel], g) : 'update'));
  for (let p = 1; p <= WINDOW_STEPS; p++) {
    let same = 0;
    for (let t = 0; t + p < steps; t++) if (form[t] === form[t + p]) same++;
    if (same >= 0.9 * (steps - p)) return p * Math.max(1, Math.floor(WINDOW_STEPS / p));
  }
  return WINDOW_STEPS;
}

const kernelForm = (k: Kernel, g: Graph): string => `${k.kind}:${k.nodes.map((id) => `${g.nodes[id].op}${shapeText(g.nodes[id].shape)}`).join(',')}`;
