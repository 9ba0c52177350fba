/**
 * A two-layer fully connected housing network, price = relu(x·W1 + b1)·W2 + b2: four features
 * (size, bedrooms, the zip code's walkability, neighbourhood wealth) → three ReLU hidden
 * units → a linear price.
 */
import { graph, affine, relu, squaredLoss } from 'gradc';

export default graph('housing', (g) => {
  const x = g.input('x', [64, 4]);
  const y = g.input('y', [64, 1]);
  const h = relu(affine(x, g.param('W1', [4, 3]), g.param('b1', [3])));
  const o = affine(h, g.param('W2', [3, 1]), g.param('b2', [1]));
  g.output('price', o);
  g.loss(squaredLoss(o, y));
});
