/**
 * A 4-16-8-3 multilayer perceptron for the iris flowers: two tanh hidden layers and a
 * sigmoid output per class, fitted to one-hot targets with the squared loss. The predicted
 * class is the output with the largest score.
 */
import { graph, affine, sigmoid, tanh, squaredLoss } from 'gradc';

export default graph('iris', (g) => {
  const x = g.input('x', [15, 4]);
  const y = g.input('y', [15, 3]);
  const h1 = tanh(affine(x, g.param('W1', [4, 16]), g.param('b1', [16])));
  const h2 = tanh(affine(h1, g.param('W2', [16, 8]), g.param('b2', [8])));
  const scores = sigmoid(affine(h2, g.param('W3', [8, 3]), g.param('b3', [3])));
  g.output('scores', scores);
  g.loss(squaredLoss(scores, y));
});
