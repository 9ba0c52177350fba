/**
 * Random MLP-shaped graphs for cross-checks: depth, widths, batch and activations drawn from
 * a seed. Widths favour the awkward sizes (1, primes, just around the 16-wide GPU tiles).
 */
import { affine, graph, relu, sigmoid, squaredLoss, tanh, type GraphDef, type Tensor } from '../../compiler/index.ts';

export const AWKWARD_WIDTHS = [1, 2, 3, 7, 13, 15, 16, 17, 31, 33, 64, 97, 127, 255, 256, 257, 300];
export const AWKWARD_BATCHES = [1, 5, 15, 17, 33, 63, 100, 129];

const ACTIVATIONS = { relu, sigmoid, tanh } as const;
export type ActivationName = keyof typeof ACTIVATIONS;

export interface GraphSpec {
  readonly batch: number;
  readonly widths: readonly number[];
  readonly activations: readonly ActivationName[];
}

/** A deterministic stream of choices from a seed (32-bit xorshift): numbers in [0, 1), integers below n, list items. */
export function choices(seed: number) {
  let x = (seed * 2654435761 + 12345) >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] };
}

export function randomSpec(seed: number, options: { maxDepth?: number; widths?: readonly number[]; batches?: readonly number[] } = {}): GraphSpec {
  const { next, pick } = choices(seed);
  const depth = 1 + Math.floor(next() * (options.maxDepth ?? 5));
  const widths = Array.from({ length: depth + 1 }, () => pick(options.widths ?? AWKWARD_WIDTHS));
  const names = Object.keys(ACTIVATIONS) as ActivationName[];
  return { batch: pick(options.batches ?? AWKWARD_BATCHES), widths, activations: Array.from({ length: depth - 1 }, () => pick(names)) };
}

/** An MLP: widths[0] inputs, hidden layers with the given activations, a linear output layer. */
export function buildGraph(spec: GraphSpec, name = 'random'): GraphDef {
  return graph(name, (g) => {
    let h: Tensor = g.input('x', [spec.batch, spec.widths[0]]);
    for (let l = 1; l < spec.widths.length; l++) {
      const z = affine(h, g.param(`W${l}`, [spec.widths[l - 1], spec.widths[l]]), g.param(`b${l}`, [spec.widths[l]]));
      h = l < spec.widths.length - 1 ? ACTIVATIONS[spec.activations[l - 1]](z) : z;
    }
    g.output('o', h);
    g.loss(squaredLoss(h, g.input('y', [spec.batch, spec.widths[spec.widths.length - 1]])));
  });
}

/** The spec as a graph file a person can rerun with `gradc build`. */
export function graphFileText(spec: GraphSpec, name = 'repro'): string {
  const lines = [
    `import { graph, affine, relu, sigmoid, tanh, squaredLoss } from 'gradc';`,
    '',
    `export default graph('${name}', (g) => {`,
    `  const x = g.input('x', [${spec.batch}, ${spec.widths[0]}]);`,
  ];
  let prev = 'x';
  for (let l = 1; l < spec.widths.length; l++) {
    const call = `affine(${prev}, g.param('W${l}', [${spec.widths[l - 1]}, ${spec.widths[l]}]), g.param('b${l}', [${spec.widths[l]}]))`;
    const last = l === spec.widths.length - 1;
    lines.push(`  const h${l} = ${last ? call : `${spec.activations[l - 1]}(${call})`};`);
    prev = `h${l}`;
  }
  lines.push(`  g.output('o', ${prev});`, `  g.loss(squaredLoss(${prev}, g.input('y', [${spec.batch}, ${spec.widths[spec.widths.length - 1]}])));`, '});', '');
  return lines.join('\n');
}
