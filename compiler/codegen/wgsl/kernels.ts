/**
 * Renders kernels as WGSL compute entry points over the arena `data`. Matmuls tile through
 * workgroup memory (16×16, edges guarded) and apply the fused epilogue per element;
 * reductions are workgroup tree sums; maps fold their dispatch into two dimensions when one
 * would exceed 65,535 workgroups. Every offset and bound is a constant.
 */
import type { Graph } from '../../ir/graph.ts';
import { sizeOf } from '../../ir/graph.ts';
import { linearize, type ScalarExpr } from '../../ir/scalar.ts';
import type { Kernel, KernelArg } from '../../kernels/kernel.ts';
import { describeKernel } from '../describe.ts';
import { commentText } from '../text.ts';
import { checkWorkgroups, LIMITS, type ArenaLayout } from './layout.ts';
import { wgslRenderer, f32Literal } from './scalar.ts';

export const TILE = 16;
export const GROUP = 256;

export interface WgslKernel {
  /** Entry point name. */
  readonly entry: string;
  readonly text: string;
  readonly dispatch: readonly [number, number, number];
}

const u = (n: number) => `${n}u`;
const indent = (lines: readonly string[], by = 1) => lines.map((l) => '  '.repeat(by) + l);

/** Splits a workgroup count over x and y so neither exceeds the per-dimension limit. */
export function foldDispatch(g: Graph, node: number, groups: number): [number, number, number] {
  const max = LIMITS.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [Math.max(groups, 1), 1, 1];
  return [max, checkWorkgroups(g, node, Math.ceil(groups / max), 'the folded dispatch'), 1];
}

interface Access {
  /** The arena offset of a node. */
  offset(node: number): number;
}

function argRead(a: KernelArg, access: Access): string {
  const off = access.offset(a.node);
  if (a.read === 'scalar') return `data[${u(off)}]`;
  return `data[${u(off)} + ${a.read === 'row' ? 'c' : 'i'}]`;
}

/** Temporaries and stores for one element, given how each expression argument reads. */
function elementStores(k: Kernel, exprs: readonly ScalarExpr[], arg: (i: number) => string, access: Access): string[] {
  const { temps, results } = linearize(exprs, wgslRenderer(arg), 'e');
  return [
    ...temps.map((t) => `let ${t.name} = ${t.expr};`),
    ...k.stores.map((st, i) => `data[${u(access.offset(st.node))} + i] = ${results[i]};`),
  ];
}

function header(k: Kernel, g: Graph, dispatch: readonly number[]): string[] {
  return [...describeKernel(k, g), `dispatch (${dispatch.join(', ')})`].map((l) => `// ${commentText(l)}`);
}

export function renderWgslKernel(k: Kernel, g: Graph, entry: string, layout: ArenaLayout): WgslKernel {
  const fused = k.kind === 'reduce' ? k.reductions.length !== 1 : k.reductions.length > 0;
  if (fused || [...k.stores, ...k.reductions].some((w) => w.update !== undefined)) {
    throw new Error(`internal: kernel ${k.name} was scheduled with fusions the WGSL backend does not take`);
  }
  const access: Access = {
    offset: (node) => {
      const r = layout.regions.get(node);
      if (!r) throw new Error(`internal: ${g.nodes[node].name} has no arena region`);
      return r.offset;
    },
  };
  const usesCol = k.args.some((a) => a.read === 'row');
  switch (k.kind) {
    case 'map': {
      const size = sizeOf(k.shape);
      const dispatch = foldDispatch(g, k.stores[0].node, Math.ceil(size / GROUP));
      const n = k.shape.length === 2 ? k.shape[1] : size;
      const body = [
        `let i = (wg.y * ${u(dispatch[0])} + wg.x) * ${u(GROUP)} + lid.x;`,
        `if (i >= ${u(size)}) { return; }`,
        ...(usesCol ? [`let c = i % ${u(n)};`] : []),
        ...elementStores(k, k.stores.map((s) => s.expr), (i) => argRead(k.args[i], access), access),
      ];
      return {
        entry, dispatch,
        text: [...header(k, g, dispatch), `@compute @workgroup_size(${GROUP})`,
          `fn ${entry}(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {`, ...indent(body), '}'].join('\n'),
      };
    }
    case 'matmul': {
      const { m, n, k: kk, transA, transB } = k;
      const dispatch: [number, number, number] = [
        checkWorkgroups(g, k.stores[0]?.node ?? k.a, Math.ceil(n / TILE), 'the matmul grid (columns)'),
        checkWorkgroups(g, k.stores[0]?.node ?? k.a, Math.ceil(m / TILE), 'the matmul grid (rows)'),
        1,
      ];
      const [A, B] = [access.offset(k.a), access.offset(k.b)];
      const aAt = transA ? `${u(A)} + ak * ${u(m)} + row` : `${u(A)} + row * ${u(kk)} + ak`;
      const bAt = transB ? `${u(B)} + col * ${u(kk)} + bk` : `${u(B)} + bk * ${u(n)} + col`;
      const T = u(TILE);
      const body = [
        `let row = wg.y * ${T} + lid.y;`,
        `let col = wg.x * ${T} + lid.x;`,
        'var acc = 0.0f;',
        `for (var t = 0u; t < ${u(kk)}; t += ${T}) {`,
        `  let ak = t + lid.x;`,
        `  var av = 0.0f;`,
        `  if (row < ${u(m)} && ak < ${u(kk)}) { av = data[${aAt}]; }`,
        `  tileA[lid.y * ${T} + lid.x] = av;`,
        `  let bk = t + lid.y;`,
        `  var bv = 0.0f;`,
        `  if (bk < ${u(kk)} && col < ${u(n)}) { bv = data[${bAt}]; }`,
        `  tileB[lid.y * ${T} + lid.x] = bv;`,
        '  workgroupBarrier();',
        `  for (var p = 0u; p < ${T}; p++) { acc += tileA[lid.y * ${T} + p] * tileB[p * ${T} + lid.x]; }`,
        '  workgroupBarrier();',
        '}',
        `if (row >= ${u(m)} || col >= ${u(n)}) { return; }`,
        `let i = row * ${u(n)} + col;`,
        ...(usesCol ? ['let c = col;'] : []),
        ...elementStores(k, k.stores.map((s) => s.expr), (i) => (i === 0 ? 'acc' : argRead(k.args[i - 1], access)), access),
      ];
      return {
        entry, dispatch,
        text: [...header(k, g, dispatch), `@compute @workgroup_size(${TILE}, ${TILE})`,
          `fn ${entry}(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {`, ...indent(body), '}'].join('\n'),
      };
    }
    case 'reduce': {
      const red = k.reductions[0];
      const out = access.offset(red.node);
      const size = sizeOf(k.over);
      const n = k.over.length === 2 ? k.over[1] : size;
      const { temps, results } = linearize([red.expr], wgslRenderer((i) => argRead(k.args[i], access)), 'e');
      const term = [...temps.map((t) => `let ${t.name} = ${t.expr};`), `acc += ${results[0]};`];
      const scale = red.scale === 1 ? '' : ` * ${f32Literal(red.scale)}`;
      const tree = [
        'partial[lid.x] = acc;',
        'workgroupBarrier();',
        `for (var s = ${u(GROUP / 2)}; s > 0u; s >>= 1u) {`,
        '  if (lid.x < s) { partial[lid.x] += partial[lid.x + s]; }',
        '  workgroupBarrier();',
        '}',
      ];
      if (red.axis === 'all') {
        const dispatch: [number, number, number] = [1, 1, 1];
        const body = [
          'var acc = 0.0f;',
          `for (var i = lid.x; i < ${u(size)}; i += ${u(GROUP)}) {`,
          ...indent([...(usesCol ? [`let c = i % ${u(n)};`] : []), ...term]),
          '}',
          ...tree,
          `if (lid.x == 0u) { data[${u(out)}] = partial[0]${scale}; }`,
        ];
        return {
          entry, dispatch,
          text: [...header(k, g, dispatch), `@compute @workgroup_size(${GROUP})`,
            `fn ${entry}(@builtin(local_invocation_id) lid: vec3u) {`, ...indent(body), '}'].join('\n'),
        };
      }
      // Column sums: one workgroup per column, its invocations striding down the rows.
      const m = k.over[0];
      const dispatch = foldDispatch(g, red.node, n);
      const body = [
        `let c = wg.y * ${u(dispatch[0])} + wg.x;`,
        'var acc = 0.0f;',
        `if (c < ${u(n)}) {`,
        `  for (var r = lid.x; r < ${u(m)}; r += ${u(GROUP)}) {`,
        ...indent([`let i = r * ${u(n)} + c;`, ...term], 2),
        '  }',
        '}',
        ...tree,
        `if (lid.x == 0u && c < ${u(n)}) { data[${u(out)} + c] = partial[0]${scale}; }`,
      ];
      return {
        entry, dispatch,
        text: [...header(k, g, dispatch), `@compute @workgroup_size(${GROUP})`,
          `fn ${entry}(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {`, ...indent(body), '}'].join('\n'),
      };
    }
  }
}

/** The SGD update of every param in one dispatch: θ := θ − α·dJ/dθ (notes eq. 1.3). */
export function renderSgdKernel(g: Graph, layout: ArenaLayout, entry: string): WgslKernel {
  const parts: string[] = [];
  let start = 0;
  for (const r of g.grads ?? []) {
    const param = g.params.find((p) => p.name === r.name)!;
    const size = sizeOf(g.nodes[param.id].shape);
    const p = layout.regions.get(param.id)!.offset;
    const grad = `data[${u(layout.regions.get(r.id)!.offset)} + j]`;
    parts.push(`if (i < ${u(start + size)}) { let j = i - ${u(start)}; data[${u(p)} + j] -= lr * ${grad}; return; } // ${commentText(r.name)}`);
    start += size;
  }
  const dispatch = foldDispatch(g, g.params[0]?.id ?? 0, Math.ceil(start / GROUP));
  const text = [
    `// sgd: θ := θ − α·dJ/dθ for every param (${start} values), α read from the arena`,
    `// dispatch (${dispatch.join(', ')})`,
    `@compute @workgroup_size(${GROUP})`,
    `fn ${entry}(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {`,
    ...indent([`let i = (wg.y * ${u(dispatch[0])} + wg.x) * ${u(GROUP)} + lid.x;`, `let lr = data[${u(layout.learningRate)}];`, ...parts]),
    '}',
  ].join('\n');
  return { entry, text, dispatch };
}
