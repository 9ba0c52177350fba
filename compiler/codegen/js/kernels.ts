/**
 * Renders one kernel as the body of a JavaScript function: constant loop bounds, float64
 * accumulation, the fused epilogue evaluated per element, stores to Float32Arrays.
 */
import type { Graph } from '../../ir/graph.ts';
import { sizeOf } from '../../ir/graph.ts';
import { linearize } from '../../ir/scalar.ts';
import type { Kernel, KernelArg, MatmulKernel, MapKernel, ReduceKernel } from '../../kernels/kernel.ts';
import { numberLiteral } from '../text.ts';
import { jsRenderer } from './scalar.ts';

export interface KernelNames {
  /** The identifier of the array holding a node (a function parameter or a module buffer). */
  array(node: number): string;
  /** Declares a module-level Float64Array scratch of `length` for this kernel; returns its name. */
  scratch(length: number): string;
}

/** Index expressions for one element: `flat` into same-shaped arrays, `col` into rows. */
interface Element {
  readonly flat: string;
  readonly col: string;
}

export function renderKernel(k: Kernel, g: Graph, names: KernelNames): string[] {
  switch (k.kind) {
    case 'matmul': return renderMatmul(k, names);
    case 'map': return renderMap(k, names);
    case 'reduce': return renderReduce(k, g, names);
  }
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

/** The per-element statements: temporaries, then one store per stored node. */
function elementBody(k: Kernel, names: KernelNames, e: Element, argText: (index: number) => string): string[] {
  const { temps, results } = linearize(k.stores.map((st) => st.expr), jsRenderer(argText), 'e');
  return [
    ...temps.map((t) => `const ${t.name} = ${t.expr};`),
    ...k.stores.map((st, i) => `${names.array(st.node)}[${e.flat}] = ${results[i]};`),
  ];
}

const indent = (lines: string[], by = 1): string[] => lines.map((l) => '  '.repeat(by) + l);

function loop(v: string, end: number, body: string[]): string[] {
  return [`for (let ${v} = 0; ${v} < ${end}; ${v}++) {`, ...indent(body), '}'];
}

function renderMap(k: MapKernel, names: KernelNames): string[] {
  const { lines, read } = hoistScalars(k.args, names, 0);
  const size = sizeOf(k.shape);
  const needsCol = k.args.some((a) => a.read === 'row');
  if (!needsCol) {
    const e = { flat: 'i', col: 'i' };
    return [...lines, ...loop('i', size, elementBody(k, names, e, (i) => read(i, e)))];
  }
  const [m, n] = k.shape;
  const e = { flat: 'i', col: 'c' };
  const inner = loop('c', n, [`const i = row + c;`, ...elementBody(k, names, e, (i) => read(i, e))]);
  return [...lines, ...loop('r', m, [`const row = r * ${n};`, ...inner])];
}

function renderMatmul(k: MatmulKernel, names: KernelNames): string[] {
  const { lines, read } = hoistScalars(k.args, names, 1);
  const [A, B] = [names.array(k.a), names.array(k.b)];
  const { m, n, k: kk } = k;
  const epilogue = (acc: string, e: Element) => elementBody(k, names, e, (i) => (i === 0 ? acc : read(i - 1, e)));
  if (!k.transA && !k.transB) {
    // C = A·B: i-p-j order streams rows of B; a row of C accumulates in float64.
    const acc = names.scratch(n);
    const e = { flat: 'row + j', col: 'j' };
    return [
      ...lines,
      ...loop('i', m, [
        `${acc}.fill(0);`,
        ...loop('p', kk, [`const a = ${A}[i * ${kk} + p];`, `const bRow = p * ${n};`, ...loop('j', n, [`${acc}[j] += a * ${B}[bRow + j];`])]),
        `const row = i * ${n};`,
        ...loop('j', n, epilogue(`${acc}[j]`, e)),
      ]),
    ];
  }
  if (!k.transA && k.transB) {
    // C = A·B^T: each element is a dot product of two contiguous rows.
    const e = { flat: 'row + j', col: 'j' };
    return [
      ...lines,
      ...loop('i', m, [
        `const aRow = i * ${kk};`,
        `const row = i * ${n};`,
        ...loop('j', n, [`const bRow = j * ${kk};`, 'let acc = 0;', ...loop('p', kk, [`acc += ${A}[aRow + p] * ${B}[bRow + p];`]), ...epilogue('acc', e)]),
      ]),
    ];
  }
  if (k.transA && !k.transB) {
    // C = A^T·B (e.g. dW = A^T·delta): p-i-j order streams rows of both; C accumulates in float64.
    const acc = names.scratch(m * n);
    const e = { flat: 'i', col: 'j' };
    return [
      ...lines,
      `${acc}.fill(0);`,
      ...loop('p', kk, [
        `const aRow = p * ${m};`,
        `const bRow = p * ${n};`,
        ...loop('i', m, [`const a = ${A}[aRow + i];`, `const cRow = i * ${n};`, ...loop('j', n, [`${acc}[cRow + j] += a * ${B}[bRow + j];`])]),
      ]),
      ...loop('r', m, [...loop('j', n, [`const i = r * ${n} + j;`, ...epilogue(`${acc}[i]`, e)])]),
    ];
  }
  // C = A^T·B^T
  const e = { flat: 'row + j', col: 'j' };
  return [
    ...lines,
    ...loop('i', m, [
      `const row = i * ${n};`,
      ...loop('j', n, ['let acc = 0;', ...loop('p', kk, [`acc += ${A}[p * ${m} + i] * ${B}[j * ${kk} + p];`]), ...epilogue('acc', e)]),
    ]),
  ];
}

function renderReduce(k: ReduceKernel, g: Graph, names: KernelNames): string[] {
  void g;
  const { lines, read } = hoistScalars(k.args, names, 0);
  const out = names.array(k.stores[0].node);
  const scale = k.scale === 1 ? '' : ` * ${numberLiteral(k.scale)}`;
  const size = sizeOf(k.over);
  const term = (e: Element) => {
    const { temps, results } = linearize([k.stores[0].expr], jsRenderer((i) => read(i, e)), 'e');
    return { temps: temps.map((t) => `const ${t.name} = ${t.expr};`), value: results[0] };
  };
  if (k.axis === 'all') {
    const rowArgs = k.args.some((a) => a.read === 'row');
    if (!rowArgs || k.over.length < 2) {
      const t = term({ flat: 'i', col: 'i' });
      return [...lines, 'let acc = 0;', ...loop('i', size, [...t.temps, `acc += ${t.value};`]), `${out}[0] = acc${scale};`];
    }
    const [m, n] = k.over;
    const t = term({ flat: 'i', col: 'c' });
    return [...lines, 'let acc = 0;', ...loop('r', m, loop('c', n, [`const i = r * ${n} + c;`, ...t.temps, `acc += ${t.value};`])), `${out}[0] = acc${scale};`];
  }
  // Column sums: rows stream through a float64 accumulator row.
  const [m, n] = k.over;
  const acc = names.scratch(n);
  const t = term({ flat: 'row + c', col: 'c' });
  return [
    ...lines,
    `${acc}.fill(0);`,
    ...loop('r', m, [`const row = r * ${n};`, ...loop('c', n, [...t.temps, `${acc}[c] += ${t.value};`])]),
    ...loop('c', n, [`${out}[c] = ${acc}[c]${scale};`]),
  ];
}
