/**
 * Register-blocked matrix products for the JS backend. C = op(A)·op(B) is computed in 4×4
 * tiles whose sixteen accumulators are float64 locals: each step of the k loop loads four
 * values of A and four of B and does sixteen multiply-adds. The three forms the backward
 * pass needs (A·B, A·Bᵀ, Aᵀ·B) are one loop with different index arithmetic; no transpose
 * is ever materialized.
 *
 * An operand read across its rows (B in A·B, A in Aᵀ·B) is read one row apart on every k
 * step; when rows are long (≥ 512 floats) that is a new page per step, so such an operand
 * is first packed, four columns at a time, into a contiguous panel (measured at 1024³:
 * 1.75 → 2.70 GFLOP/s; at 256 columns packing gained nothing, so it is not done there).
 * At the edges, row and column indices are clamped to the last valid one: edge tiles run
 * the same code and only their epilogue is cut short.
 */
import type { MatmulKernel } from '../../kernels/kernel.ts';

export const TILE = 4;
/** Rows at least this long (in floats) are packed before use. */
export const PACK_ROWS = 512;

export interface MatmulParts {
  readonly A: string;
  readonly B: string;
  /** A module-level Float64Array of 16 elements, for a finished tile. */
  readonly tile: string;
  /** When B is packed: a Float32Array of at least 4·k elements. */
  readonly panelB?: string;
  /** When A is packed: a Float32Array of at least ⌈m/4⌉·4·k elements. */
  readonly panelsA?: string;
  /**
   * Statements storing one element: the accumulator is `acc`, the flat index into C is `i`,
   * the column is `j`.
   */
  readonly epilogue: readonly string[];
}

const indent = (lines: readonly string[], by = 1) => lines.map((l) => '  '.repeat(by) + l);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const clamp = (v: string, r: number, limit: number) => (r === 0 ? v : `(${v} + ${r} < ${limit} ? ${v} + ${r} : ${limit - 1})`);

/** Which operands a product packs, and the floats their panels need. */
export function packing(k: MatmulKernel): { a: number; b: number } {
  const packA = k.transA && k.m >= PACK_ROWS;
  const packB = !k.transB && k.n >= PACK_ROWS;
  const { rows, cols } = tileShape(k);
  return { a: packA ? Math.ceil(k.m / rows) * rows * k.k : 0, b: packB ? cols * k.k : 0 };
}

/** Tile height and width: 4×4, narrower where C itself is (a 1-column output is 4×1). */
export function tileShape(k: MatmulKernel): { rows: number; cols: number } {
  return { rows: Math.min(TILE, k.m), cols: Math.min(TILE, k.n) };
}

export function renderTiledMatmul(k: MatmulKernel, parts: MatmulParts): string[] {
  const { m, n, k: kk, transA, transB } = k;
  const { A, B, panelB: PB, panelsA: PA } = parts;
  const acc = (r: number, c: number) => `c${r}${c}`;
  const { rows: TR, cols: TC } = tileShape(k);

  const packA = PA ? [
    '// The columns of A, four at a time, laid out contiguously along k.',
    `for (let i0 = 0; i0 < ${m}; i0 += ${TR}) {`,
    ...indent([
      ...range(TR).map((r) => `const ir${r} = ${clamp('i0', r, m)};`),
      `for (let p = 0, q = i0 * ${kk}; p < ${kk}; p++, q += ${TR}) {`,
      `  const a = p * ${m};`,
      ...range(TR).map((r) => `  ${PA}[q + ${r}] = ${A}[a + ir${r}];`),
      '}',
    ]),
    '}',
  ] : [];

  // Per column panel: where each of its four columns of op(B) is read.
  const columnSetup = PB
    ? [
      ...range(TC).map((c) => `const jc${c} = ${clamp('j0', c, n)};`),
      `for (let p = 0, q = 0; p < ${kk}; p++, q += ${TC}) {`,
      `  const b = p * ${n};`,
      ...range(TC).map((c) => `  ${PB}[q + ${c}] = ${B}[b + jc${c}];`),
      '}',
    ]
    : range(TC).map((c) => (transB ? `const b${c}o = ${clamp('j0', c, n)} * ${kk};` : `const jc${c} = ${clamp('j0', c, n)};`));
  const rowSetup = PA
    ? [`const q0 = i0 * ${kk};`]
    : range(TR).map((r) => (transA ? `const ir${r} = ${clamp('i0', r, m)};` : `const a${r}o = ${clamp('i0', r, m)} * ${kk};`));
  const loads = [
    ...(PA ? [`const qa = q0 + ${TR} * p;`] : transA ? [`const ap = p * ${m};`] : []),
    ...(PB ? [`const qb = ${TC} * p;`] : transB ? [] : [`const bp = p * ${n};`]),
    ...range(TR).map((r) => `const a${r} = ${PA ? `${PA}[qa + ${r}]` : transA ? `${A}[ap + ir${r}]` : `${A}[a${r}o + p]`};`),
    ...range(TC).map((c) => `const b${c} = ${PB ? `${PB}[qb + ${c}]` : transB ? `${B}[b${c}o + p]` : `${B}[bp + jc${c}]`};`),
  ];

  return [
    ...packA,
    `for (let j0 = 0; j0 < ${n}; j0 += ${TC}) {`,
    ...indent([
      `const cols = j0 + ${TC} <= ${n} ? ${TC} : ${n} - j0;`,
      ...columnSetup,
      `for (let i0 = 0; i0 < ${m}; i0 += ${TR}) {`,
      ...indent([
        `const rows = i0 + ${TR} <= ${m} ? ${TR} : ${m} - i0;`,
        ...rowSetup,
        `let ${range(TR).flatMap((r) => range(TC).map((c) => `${acc(r, c)} = 0`)).join(', ')};`,
        `for (let p = 0; p < ${kk}; p++) {`,
        ...indent([...loads, ...range(TR).flatMap((r) => range(TC).map((c) => `${acc(r, c)} += a${r} * b${c};`))]),
        '}',
        ...range(TR).flatMap((r) => range(TC).map((c) => `${parts.tile}[${r * TC + c}] = ${acc(r, c)};`)),
        'for (let r = 0; r < rows; r++) {',
        `  const rowStart = (i0 + r) * ${n};`,
        '  for (let c = 0; c < cols; c++) {',
        `    const acc = ${parts.tile}[r * ${TC} + c];`,
        '    const j = j0 + c;',
        '    const i = rowStart + j;',
        ...indent(parts.epilogue, 2),
        '  }',
        '}',
      ]),
      '}',
    ]),
    '}',
  ];
}
