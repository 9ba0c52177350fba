/**
 * Renders one kernel as the body of a JavaScript function: constant loop bounds, float64
 * accumulation, the fused epilogue evaluated per element, stores to Float32Arrays,
 * reductions summed on the way, and in a train step the SGD update applied in place.
 */
import { sizeOf } from '../../ir/graph.ts';
import { linearize } from '../../ir/scalar.ts';
import type { Kernel, KernelArg, KernelReduction, MatmulKernel } from '../../kernels/kernel.ts';
import { domainOf } from '../../kernels/kernel.ts';
import { numberLiteral } from '../text.ts';
import { TILE, packing, renderTiledMatmul } from './matmul.ts';
import { jsRenderer } from './scalar.ts';

export interface KernelNames {
  /** The identifier of the array holding a node inside the kernel function. */
  array(node: number): string;
  /** Declares a module-level Float64Array scratch of `length`; returns its name. */
  scratch(length: number): string;
  /** A module-level buffer shared by all kernels (they never run at once), at least `length` long. */
  shared(kind: SharedBuffer, length: number): string;
}

/** The shared buffers: a finished matmul tile (float64) and the packed panels (float32). */
export type SharedBuffer = 'tile' | 'panelB' | 'panelsA';

/** Index expressions for one element: `flat` into same-shaped arrays, `col` into rows. */
interface Element {
  readonly flat: string;
  readonly col: string;
}

const indent = (lines: readonly string[], by = 1): string[] => lines.map((l) => '  '.repeat(by) + l);

function loop(v: string, end: number, body: string[]): string[] {
  return [`for (let ${v} = 0; ${v} < ${end}; ${v}++) {`, ...indent(body), '}'];
}

/** Where each reduction accumulates: a local (axis 'all') or a float64 row (axis 'rows'). */
interface Accumulators {
  readonly before: string[];
  readonly after: string[];
  readonly target: (r: number, e: Element) => string;
}

function accumulators(k: Kernel, names: KernelNames): Accumulators {
  const before: string[] = [];
  const after: string[] = [];
  const targets = k.reductions.map((red, i) => {
    const finish = (value: string, index: string) =>
      red.update !== undefined ? `${names.array(red.update)}[${index}] -= lr * (${value});` : `${names.array(red.node)}[${index}] = ${value};`;
    const scaled = (v: string) => (red.scale === 1 ? v : `${v} * ${numberLiteral(red.scale)}`);
    if (red.axis === 'all') {
      before.push(`let sum${i} = 0;`);
      after.push(finish(scaled(`sum${i}`), '0'));
      return () => `sum${i}`;
    }
    const cols = columnsOf(k, red);
    const acc = names.scratch(cols);
    before.push(`${acc}.fill(0);`);
    after.push(...loop('c', cols, [finish(scaled(`${acc}[c]`), 'c')]));
    return (e: Element) => `${acc}[${e.col}]`;
  });
  return { before, after, target: (r, e) => targets[r](e) };
}

function columnsOf(k: Kernel, red: KernelReduction): number {
  void red;
  const d = domainOf(k);
  return d.length === 2 ? d[1] : sizeOf(d);
}

/** Reads of arguments that do not vary per element, hoisted out of the loops. */
function hoistScalars(args: readonly KernelArg[], names: KernelNames, firstArg: number): { lines: string[]; read: (i: number, e: Element) => string } {
  const lines: string[] = [];
  const hoisted = new Map<number, string>();
  args.forEach((a, i) => {
    if (a.read !== 'scalar') return;
    const v = `s${i + firstArg}`;
    lines.push(`const ${v} = ${names.array(a.node)}[0];`);
    hoisted.set(i, v);
  });
  const read = (i: number, e: Element): string => {
    const a = args[i];
    if (a.read === 'scalar') return hoisted.get(i)!;
    return `${names.array(a.node)}[${a.read === 'row' ? e.col : e.flat}]`;
  };
  return { lines, read };
}

/** The per-element statements: temporaries, stores (or updates), reduction terms. */
function elementBody(k: Kernel, names: KernelNames, e: Element, argText: (index: number) => string, acc: Accumulators): string[] {
  const exprs = [...k.stores.map((st) => st.expr), ...k.reductions.map((r) => r.expr)];
  const { temps, results } = linearize(exprs, jsRenderer(argText), 'e');
  return [
    ...temps.map((t) => `const ${t.name} = ${t.expr};`),
    ...k.stores.map((st, i) =>
      st.update !== undefined ? `${names.array(st.update)}[${e.flat}] -= lr * ${results[i]};` : `${names.array(st.node)}[${e.flat}] = ${results[i]};`),
    ...k.reductions.map((_, r) => `${acc.target(r, e)} += ${results[k.stores.length + r]};`),
  ];
}

export function renderKernel(k: Kernel, names: KernelNames): string[] {
  const acc = accumulators(k, names);
  const body = k.kind === 'matmul' ? renderMatmul(k, names, acc) : renderElementwise(k, names, acc);
  return [...acc.before, ...body, ...acc.after];
}

function renderMatmul(k: MatmulKernel, names: KernelNames, acc: Accumulators): string[] {
  const { lines, read } = hoistScalars(k.args, names, 1);
  const e = { flat: 'i', col: 'j' };
  const epilogue = elementBody(k, names, e, (i) => (i === 0 ? 'acc' : read(i - 1, e)), acc);
  const panels = packing(k);
  return [...lines, ...renderTiledMatmul(k, {
    A: names.array(k.a),
    B: names.array(k.b),
    tile: names.shared('tile', TILE * TILE),
    panelB: panels.b > 0 ? names.shared('panelB', panels.b) : undefined,
    panelsA: panels.a > 0 ? names.shared('panelsA', panels.a) : undefined,
    epilogue,
  })];
}

/** Maps and reductions: one pass over the iteration space, nested when columns matter. */
function renderElementwise(k: Kernel, names: KernelNames, acc: Accumulators): string[] {
  const { lines, read } = hoistScalars(k.args, names, 0);
  const shape = domainOf(k);
  const size = sizeOf(shape);
  const needsCol = shape.length === 2 && (k.args.some((a) => a.read === 'row') || k.reductions.some((r) => r.axis === 'rows'));
  if (!needsCol) {
    const e = { flat: 'i', col: 'i' };
    return [...lines, ...loop('i', size, elementBody(k, names, e, (i) => read(i, e), acc))];
  }
  const [m, n] = shape;
  const e = { flat: 'i', col: 'c' };
  const inner = loop('c', n, ['const i = row + c;', ...elementBody(k, names, e, (i) => read(i, e), acc)]);
  return [...lines, ...loop('r', m, [`const row = r * ${n};`, ...inner])];
}
