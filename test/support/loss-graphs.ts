/**
 * Graphs of the cross-entropy losses and the per-row ops (softmax, exp, log, div, row sums and
 * maxima), shared by the gradient tests and the WGSL-vs-JS agreement tests.
 */
import {
  add, affine, div, exp, graph, log, mul, relu, rowMax, rowSum, sigmoid, sigmoidCrossEntropy, softmax, softmaxCrossEntropy, squaredLoss, tanh,
  type GraphDef,
} from '../../compiler/index.ts';

export function lossGraphs(B: number): Record<string, GraphDef> {
  return {
    'softmax cross-entropy': graph('softmax_ce_net', (g) => {
      const x = g.input('x', [B, 3]);
      const h = tanh(affine(x, g.param('W', [3, 4]), g.param('b', [4])));
      const z = affine(h, g.param('V', [4, 3]), g.param('c', [3]));
      g.output('probs', softmax(z));
      g.loss(softmaxCrossEntropy(z, g.input('y', [B, 3])));
    }),
    'sigmoid cross-entropy': graph('sigmoid_ce_net', (g) => {
      const x = g.input('x', [B, 3]);
      const z = affine(relu(affine(x, g.param('W', [3, 4]), g.param('b', [4]))), g.param('V', [4, 2]), g.param('c', [2]));
      g.output('z', z);
      g.loss(sigmoidCrossEntropy(z, g.input('y', [B, 2])));
    }),
    // Labels that depend on params (soft targets, distillation): the loss's derivative by its
    // labels reaches T and d, so a wrong label derivative is a wrong gradient.
    'softmax cross-entropy against soft targets made from params': graph('soft_targets', (g) => {
      const x = g.input('x', [B, 3]);
      const z = affine(x, g.param('W', [3, 4]), g.param('b', [4]));
      g.output('z', z);
      g.loss(softmaxCrossEntropy(z, softmax(affine(x, g.param('T', [3, 4]), g.param('d', [4])))));
    }),
    'sigmoid cross-entropy against targets made from params': graph('sigmoid_targets', (g) => {
      const x = g.input('x', [B, 3]);
      const z = affine(x, g.param('W', [3, 2]), g.param('b', [2]));
      g.output('z', z);
      g.loss(sigmoidCrossEntropy(z, sigmoid(affine(x, g.param('T', [3, 2]), g.param('d', [2])))));
    }),
    'softmax outputs, exp, log, div and per-row sums composed by hand': graph('composed', (g) => {
      const x = g.input('x', [B, 3]);
      const z = affine(x, g.param('W', [3, 4]), g.param('b', [4]));
      const p = softmax(z);
      const e = exp(mul(z, 0.5));
      const r = div(e, rowSum(e));
      const o = add(mul(p, log(add(r, 1))), rowMax(z));
      g.output('o', o);
      g.loss(squaredLoss(o, g.input('y', [B, 4])));
    }),
  };
}

/**
 * `inputs` (random values) with each cross-entropy's labels turned into labels it takes, as the
 * generated modules require: the softmax's rows into probabilities summing to 1 (a softmax of
 * the random values; with `hard`, one-hot at each row's largest), the sigmoid's into [0, 1]
 * (with `hard`, 0 or 1 by sign). Other inputs are left as they are.
 */
export function withLabels(def: GraphDef, inputs: Record<string, Float32Array>, hard = false): Record<string, Float32Array> {
  const out = { ...inputs };
  for (const node of def.ir.nodes) {
    const input = def.ir.inputs.find((r) => r.id === node.inputs[1]);
    if (!input || (node.op !== 'softmax_ce' && node.op !== 'sigmoid_ce')) continue;
    const y = out[input.name]!.slice();
    if (node.op === 'sigmoid_ce') {
      y.set(y.map((v) => (hard ? (v < 0 ? 0 : 1) : Math.min(1, Math.max(0, (v + 1) / 2)))));
    } else {
      const width = def.ir.nodes[input.id].shape[1]!;
      for (let r = 0; r < y.length / width; r++) {
        const row = y.subarray(r * width, (r + 1) * width);
        const top = row.indexOf(Math.max(...row));
        const e = row.map((v, j) => (hard ? (j === top ? 1 : 0) : Math.exp(2 * v)));
        const total = e.reduce((a, b) => a + b, 0);
        row.set(e.map((v) => v / total));
      }
    }
    out[input.name] = y;
  }
  return out;
}
