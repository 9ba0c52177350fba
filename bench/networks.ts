/**
 * The benchmark networks, written with gradc's DSL. Each is a plain multilayer perceptron
 * over a row-major batch: hidden layers `act(XW + b)`, a linear output layer `XW + b`, and
 * the squared loss J = (1/B) Σ_i ½‖o_i − y_i‖².
 *
 * The same specs drive the TensorFlow.js and hand-written contenders, so all three
 * compute exactly the same function.
 */
import { graph, affine, relu, tanh, sigmoid, squaredLoss, type GraphDef, type Tensor } from '../compiler/index.ts';

export type Activation = 'relu' | 'tanh' | 'sigmoid';

export interface NetSpec {
  /** Short id used on the command line and in tables: S1 … S4. */
  readonly id: string;
  /** Graph name (also the generated module's file name). */
  readonly name: string;
  readonly batch: number;
  /** Layer widths, input first: [4, 3, 1] is a 4-3-1 network. */
  readonly widths: readonly number[];
  /** Activation of every hidden layer; the output layer is linear. */
  readonly activation: Activation;
}

export const NETWORKS: readonly NetSpec[] = [
  { id: 'S1', name: 'bench_s1', batch: 64, widths: [4, 3, 1], activation: 'relu' },
  { id: 'S2', name: 'bench_s2', batch: 256, widths: [784, 256, 128, 10], activation: 'relu' },
  { id: 'S3', name: 'bench_s3', batch: 1024, widths: [1024, 1024, 1024, 1], activation: 'tanh' },
  { id: 'S4', name: 'bench_s4', batch: 128, widths: [64, 64, 64, 64, 64, 1], activation: 'sigmoid' },
];

const ACTIVATIONS: Record<Activation, (t: Tensor) => Tensor> = { relu, tanh, sigmoid };

/** `4-3-1 relu, batch 64` */
export function describe(spec: NetSpec): string {
  return `${spec.widths.join('-')} ${spec.activation}, batch ${spec.batch}`;
}

/** Params are named W1, b1, W2, b2, … (layer l maps widths[l-1] → widths[l]). */
export function paramNames(spec: NetSpec): string[] {
  const names: string[] = [];
  for (let l = 1; l < spec.widths.length; l++) names.push(`W${l}`, `b${l}`);
  return names;
}

/** The gradc graph of a network: inputs x [B, in] and y [B, out], output o, squared loss. */
export function mlpGraph(spec: NetSpec): GraphDef {
  const { batch, widths } = spec;
  const act = ACTIVATIONS[spec.activation];
  return graph(spec.name, (g) => {
    const x = g.input('x', [batch, widths[0]]);
    const y = g.input('y', [batch, widths[widths.length - 1]]);
    let h = x;
    for (let l = 1; l < widths.length; l++) {
      const z = affine(h, g.param(`W${l}`, [widths[l - 1], widths[l]]), g.param(`b${l}`, [widths[l]]));
      h = l < widths.length - 1 ? act(z) : z;
    }
    g.output('o', h);
    g.loss(squaredLoss(h, y));
  });
}

/** Multiply-adds ×2 of every matmul: forward only, or a whole train step. */
export function flops(spec: NetSpec, mode: 'train' | 'forward'): number {
  const { batch, widths } = spec;
  let total = 0;
  for (let l = 1; l < widths.length; l++) {
    const mnk = 2 * batch * widths[l - 1] * widths[l];
    total += mnk; // Z = A·W
    if (mode === 'train') {
      total += mnk; // dW = Aᵀ·δ
      if (l > 1) total += mnk; // dA = δ·Wᵀ (not needed for the first layer: x is data)
    }
  }
  return total;
}
