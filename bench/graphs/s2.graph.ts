/**
 * Benchmark network S2 as a standalone graph file, for timing `gradc build` as a whole
 * process: a 784-256-128-10 ReLU MLP over a batch of 256 with the squared loss. It is the
 * same network as S2 in bench/networks.ts (the bench checks shapes, initial params and loss).
 */
import { graph, affine, relu, squaredLoss } from 'gradc';

export default graph('bench_s2', (g) => {
  const x = g.input('x', [256, 784]);
  const y = g.input('y', [256, 10]);
  const h1 = relu(affine(x, g.param('W1', [784, 256]), g.param('b1', [256])));
  const h2 = relu(affine(h1, g.param('W2', [256, 128]), g.param('b2', [128])));
  const o = affine(h2, g.param('W3', [128, 10]), g.param('b3', [10]));
  g.output('o', o);
  g.loss(squaredLoss(o, y));
});
