/**
 * One small graph per op and feature (activations, bias-free products, broadcast arithmetic,
 * sum and mean losses, a weight used twice, a param off the loss, two biases sharing a
 * gradient, a single example), at a batch `B` and layer widths `w(n)` for the nominal
 * widths n = 1…4: the gradient tests use them as they are, the wasm tests widened so that
 * every product has full panels, a 4-column vector block and scalar columns.
 */
import { add, affine, graph, matmul, mean, mul, relu, sigmoid, softsign, squaredLoss, sub, sum, tanh, type GraphDef } from '../../compiler/index.ts';

export function opGraphs(B: number, w: (n: number) => number = (n) => n): Record<string, GraphDef> {
  const layer = (act: (t: ReturnType<typeof relu>) => ReturnType<typeof relu>, name: string) =>
    graph(name, (g) => {
      const x = g.input('x', [B, w(3)]);
      const y = g.input('y', [B, w(2)]);
      const h = act(affine(x, g.param('W', [w(3), w(4)]), g.param('b', [w(4)])));
      const o = affine(h, g.param('V', [w(4), w(2)]), g.param('c', [w(2)]));
      g.output('o', o);
      g.loss(squaredLoss(o, y));
    });

  return {
    relu: layer(relu, 'relu_net'),
    sigmoid: layer(sigmoid, 'sigmoid_net'),
    tanh: layer(tanh, 'tanh_net'),
    softsign: layer(softsign, 'softsign_net'),
    'matmul, no bias': graph('mm', (g) => {
      const x = g.input('x', [B, w(3)]);
      const o = matmul(relu(matmul(x, g.param('W', [w(3), w(4)]))), g.param('V', [w(4), w(1)]));
      g.output('o', o);
      g.loss(squaredLoss(o, g.input('y', [B, w(1)])));
    }),
    'add, sub, mul with row and scalar broadcast': graph('arith', (g) => {
      const x = g.input('x', [B, w(3)]);
      const a = add(matmul(x, g.param('W', [w(3), w(3)])), g.param('b', [w(3)]));
      const m = mul(sub(a, x), add(tanh(a), 0.5));
      const o = mul(add(m, g.param('s', [])), 2);
      g.output('o', o);
      g.loss(squaredLoss(o, g.input('y', [B, w(3)])));
    }),
    'sum and mean as losses': graph('sums', (g) => {
      const x = g.input('x', [B, w(3)]);
      const h = sigmoid(affine(x, g.param('W', [w(3), w(2)]), g.param('b', [w(2)])));
      const sq = mul(h, h);
      g.output('h', h);
      g.loss(add(mean(sq), mul(sum(h), 0.25)));
    }),
    'a weight used twice': graph('shared', (g) => {
      const x = g.input('x', [B, w(3)]);
      const W = g.param('W', [w(3), w(3)]);
      const o = matmul(tanh(matmul(x, W)), W);
      g.output('o', o);
      g.loss(squaredLoss(o, g.input('y', [B, w(3)])));
    }),
    'a param that reaches an output but not the loss': graph('side', (g) => {
      const x = g.input('x', [B, w(3)]);
      const h = affine(x, g.param('W', [w(3), w(2)]), g.param('b', [w(2)]));
      g.output('side', matmul(h, g.param('P', [w(2), w(2)])));
      g.loss(squaredLoss(h, g.input('y', [B, w(2)])));
    }),
    // CSE merges d_b1 and d_b2 into one node: both params must still get their update.
    'two biases with one gradient': graph('twobias', (g) => {
      const x = g.input('x', [B, w(3)]);
      const o = add(add(matmul(x, g.param('W', [w(3), w(2)])), g.param('b1', [w(2)])), g.param('b2', [w(2)]));
      g.output('o', o);
      g.loss(squaredLoss(o, g.input('y', [B, w(2)])));
    }),
    'single example (batch 1)': graph('one', (g) => {
      const x = g.input('x', [1, w(2)]);
      const o = sigmoid(affine(x, g.param('W', [w(2), w(1)]), g.param('b', [w(1)])));
      g.output('o', o);
      g.loss(squaredLoss(o, g.input('y', [1, w(1)])));
    }),
  };
}
