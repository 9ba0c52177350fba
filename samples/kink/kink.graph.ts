/**
 * A single neuron: price = ReLU(w·size + b), a line with a
 * kink at size −b/w below which the price is zero.
 *
 * w starts at zero, not at a random draw: with sizes standardized, a negative initial w
 * would leave the unit off (ReLU′ = 0) over the rising part of the data and it could never
 * learn. At z = 0 the ReLU's derivative is taken as 1, so from w = b = 0 the first steps
 * push w and b up and the kink then settles where the data bends.
 */
import { graph, affine, relu, squaredLoss } from 'gradc';

export default graph('kink', (g) => {
  const x = g.input('x', [16, 1]);
  const y = g.input('y', [16, 1]);
  const price = relu(affine(x, g.param('w', [1, 1], { init: 'zeros' }), g.param('b', [1])));
  g.output('price', price);
  g.loss(squaredLoss(price, y));
});
