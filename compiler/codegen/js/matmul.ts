/**
 * Register-blocked matrix products for the JS backend. C = op(A)·op(B) is computed in
 * MR×NR tiles whose accumulators are float64 locals; each step of the k loop loads MR
 * values of A and NR of B once and does MR·NR multiply-adds. The loop order needs no
 * transposed copy in any of the three forms the backward pass uses (A·B, A·Bᵀ, Aᵀ·B):
 * only the index arithmetic differs. Edge tiles (m or n not a multiple of the tile) are
 * separate, fully unrolled code, since every size is known. The fused epilogue runs per
 * element of a finished tile.
 */
import type { MatmulKernel } from '../../kernels/kernel.ts';

export interface TileShape {
  readonly mr: number;
  readonly nr: number;
}

export const DEFAULT_TILE: TileShape = { mr: 4, nr: 4 };

export interface MatmulParts {
  readonly A: string;
  readonly B: string;
  /** A module-level Float64Array of at least mr·nr elements, for finished tiles. */
  readonly tile: string;
  /**
   * Statements storing one element: the accumulator is `acc`, the flat index into C is `i`,
   * the column is `j`.
   */
  readonly epilogue: readonly string[];
}

const indent = (lines: readonly string[], by = 1) => lines.map((l) => '  '.repeat(by) + l);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export function renderTiledMatmul(k: MatmulKernel, parts: MatmulParts, shape: TileShape = DEFAULT_TILE): string[] {
  const { m, n, k: kk, transA, transB } = k;
  const { A, B } = parts;
  const mr = Math.min(shape.mr, m);
  const nr = Math.min(shape.nr, n);
  const mMain = m - (m % mr);
  const nMain = n - (n % nr);

  /** One tile of R×C at (i0, j0): the k loop, then the epilogue over its elements. */
  const tile = (R: number, C: number): string[] => {
    const acc = (r: number, c: number) => `c${r}${c}`;
    const setup: string[] = [];
    // Row offsets into A (untransposed) and B (transposed) are fixed for the whole k loop.
    if (!transA) setup.push(...range(R).map((r) => `const a${r}o = (i0 + ${r}) * ${kk};`));
    if (transB) setup.push(...range(C).map((c) => `const b${c}o = (j0 + ${c}) * ${kk};`));
    const loads = [
      ...(transA ? [`const ap = p * ${m} + i0;`] : []),
      ...(transB ? [] : [`const bp = p * ${n} + j0;`]),
      ...range(R).map((r) => `const a${r} = ${A}[${transA ? `ap + ${r}` : `a${r}o + p`}];`),
      ...range(C).map((c) => `const b${c} = ${B}[${transB ? `b${c}o + p` : `bp + ${c}`}];`),
    ];
    const fmas = range(R).flatMap((r) => range(C).map((c) => `${acc(r, c)} += a${r} * b${c};`));
    return [
      ...setup,
      `let ${range(R).flatMap((r) => range(C).map((c) => `${acc(r, c)} = 0`)).join(', ')};`,
      `for (let p = 0; p < ${kk}; p++) {`,
      ...indent([...loads, ...fmas]),
      '}',
      ...range(R).flatMap((r) => range(C).map((c) => `${parts.tile}[${r * C + c}] = ${acc(r, c)};`)),
      `for (let r = 0; r < ${R}; r++) {`,
      `  const rowStart = (i0 + r) * ${n};`,
      `  for (let c = 0; c < ${C}; c++) {`,
      '    const acc = ' + `${parts.tile}[r * ${C} + c];`,
      '    const j = j0 + c;',
      '    const i = rowStart + j;',
      ...indent(parts.epilogue, 2),
      '  }',
      '}',
    ];
  };

  /** All tiles of one band of rows (height R) starting at i0. */
  const band = (R: number): string[] => [
    ...(nMain > 0 ? [`for (let j0 = 0; j0 < ${nMain}; j0 += ${nr}) {`, ...indent(tile(R, nr)), '}'] : []),
    ...(n > nMain ? ['{', `  const j0 = ${nMain};`, ...indent(tile(R, n - nMain)), '}'] : []),
  ];

  return [
    ...(mMain > 0 ? [`for (let i0 = 0; i0 < ${mMain}; i0 += ${mr}) {`, ...indent(band(mr)), '}'] : []),
    ...(m > mMain ? ['{', `  const i0 = ${mMain};`, ...indent(band(m - mMain)), '}'] : []),
  ];
}
