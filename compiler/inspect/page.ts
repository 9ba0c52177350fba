/**
 * `gradc inspect --html`: one self-contained page (no network, nothing external) that shows
 * what the compiler did with a graph: the forward and backward graphs (in the notes'
 * notation), the fused kernels of a target in launch order with their costs and code, and
 * the memory plan over time. Everything is decided here, at build time: the data (with
 * dagre's positions) goes into the page as JSON, and a small inline script draws the window
 * a reader picks and handles selection. Names and paths reach the page only as JSON text
 * and are set as text by the script, never parsed as markup.
 */
import { shapeText } from '../ir/graph.ts';
import { formatLoc } from '../ir/location.ts';
import { humanCount, kernelCost, updateCost } from '../kernels/cost.ts';
import { domainOf } from '../kernels/kernel.ts';
import { arenaLifetimes, type Placement } from '../kernels/memory.ts';
import type { ModulePlan } from '../kernels/plan.ts';
import type { Target } from '../compile.ts';
import { kernelCode } from './code.ts';
import { BOX, Layouts, STUB } from './layout.ts';
import { notationOf } from './notation.ts';
import { CLIENT_JS, PAGE_CSS } from './page-client.ts';

/** The entries the page draws: the train step's kernels are the loss's and the gradient's too. */
const SHOWN = ['forward', 'train'] as const;

export interface PageOptions {
  readonly target: Target;
  /** The graph file, as the user named it, for the title. */
  readonly source?: string;
}

/** The page's data, as the script reads it (arrays where there are many). */
export function pageData(plan: ModulePlan, options: PageOptions) {
  const g = plan.graph;
  const { forward, label, loc } = notationOf(g);
  const code = kernelCode(plan, options.target);
  const layouts = new Layouts(g, plan.kernels);
  const runsIn = plan.kernels.map(() => [] as string[]);
  for (const e of plan.entries) for (const s of e.steps) if (s.kind === 'kernel' && !runsIn[s.kernel].includes(e.name)) runsIn[s.kernel].push(e.name);
  const fixed = new Map<number, Placement>([...plan.memory.place].filter(([, p]) => p.region !== 'arena'));
  const lifetimes = arenaLifetimes(plan.kernels, plan.entries, fixed);
  const shown = plan.entries.filter((e) => (SHOWN as readonly string[]).includes(e.name));
  // Leaves no shown kernel reads (an input only the loss needs, built forward-only) are drawn too.
  const drawn = new Set<number>();
  for (const e of shown) {
    for (const s of e.steps) {
      if (s.kind !== 'kernel') continue;
      for (const id of plan.kernels[s.kernel].nodes) for (const i of [id, ...g.nodes[id].inputs]) drawn.add(i);
    }
  }
  const unread = g.nodes.filter((n) => !drawn.has(n.id)).map((n) => n.id);
  const update = plan.optimizer && { name: `${plan.optimizer.name} update`, doc: plan.optimizer.doc, ...updateCost(g, plan.optimizer), code: code.update };
  return {
    graph: g.name,
    source: options.source ?? '',
    target: options.target,
    box: BOX,
    stub: STUB,
    /** [name, op, shape, file:line, notation, forward] */
    nodes: g.nodes.map((n) => [n.name, n.op, shapeText(n.shape), loc.has(n.id) ? formatLoc(loc.get(n.id)!) : '', label.get(n.id) ?? '', forward.has(n.id) ? 1 : 0] as const),
    kernels: plan.kernels.map((k, i) => ({
      name: k.name,
      kind: k.kind,
      domain: shapeText(domainOf(k)),
      nodes: k.nodes,
      stores: [...k.stores, ...k.reductions].map((w) => w.node),
      ...kernelCost(k, g),
      code: code.launchesOf[i],
      entries: runsIn[i],
    })),
    update,
    code: code.kernels.map((k) => [k.name, k.text] as const),
    entries: shown.map((e) => {
      const index = plan.entries.indexOf(e);
      const memory: [number, number, number, number, number][] = [];
      for (const [id, spans] of lifetimes) {
        const span = spans.get(index);
        const at = plan.memory.place.get(id)!;
        if (span) memory.push([id, at.offset, at.length, span[0], span[1]]);
      }
      return { name: e.name, steps: e.steps.map((s) => (s.kind === 'kernel' ? s.kernel : -1)), windows: layouts.windows(e, e === shown[0] ? unread : []), memory };
    }),
    layouts: layouts.all,
    /** Floats of each region, and of the arena without sharing. */
    sizes: { ...plan.memory.sizes, unshared: plan.memory.unshared },
    others: plan.entries.filter((e) => !(SHOWN as readonly string[]).includes(e.name)).map((e) => [e.name, e.steps.length] as const),
  };
}

export type PageData = ReturnType<typeof pageData>;

/** JSON that is safe inside a `<script>` element: no `<` (so no `</script>`), no line separators. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function inspectPage(plan: ModulePlan, options: PageOptions): string {
  const data = pageData(plan, options);
  const flops = data.kernels.reduce((n, k) => n + k.flops, 0);
  const title = `gradc inspect: ${data.graph} (${data.target})`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<header>
  <h1>${escapeHtml(data.graph)} <small>${escapeHtml(data.source)}</small></h1>
  <p class="summary">${g(data.nodes.length)} IR nodes (${g(data.nodes.filter((n) => n[5]).length)} forward) · ${g(data.kernels.length)} kernels for <b>${escapeHtml(data.target)}</b> (${humanCount(flops)}FLOP) · arena ${g(data.sizes.arena * 4)} bytes (${g(data.sizes.unshared * 4)} without sharing)</p>
  <nav><span id="entries"></span> <span id="pager"></span></nav>
</header>
<main>
  <section id="graph-panel"><h2>Graph <small id="graph-note"></small></h2><div id="graph"></div>
    <p class="legend"><span class="k-fwd">forward node</span> <span class="k-bwd">backward node (autodiff)</span> <span class="k-stub">leaf or value of another window</span> <span class="k-cross">— forward value read by the backward pass</span> · boxes outline a fused kernel; δ[k] = ∂J/∂z[k], the notes' error of layer k</p>
  </section>
  <aside>
    <section><h2>Kernels <small>in launch order; click one</small></h2><table id="kernels"></table></section>
    <section><h2>Code <small id="code-note">select a kernel</small></h2><pre id="code"></pre></section>
  </aside>
  <section id="memory-panel"><h2>Memory <small id="memory-note"></small></h2><div id="memory"></div><table id="memory-table"></table></section>
</main>
<script type="application/json" id="gradc-data">${scriptJson(data)}</script>
<script>${CLIENT_JS}</script>
</body>
</html>
`;
}

/** 12345 → "12,345". */
const g = (n: number): string => n.toLocaleString('en-US');
