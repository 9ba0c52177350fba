/**
 * A 64-32-10 classifier of the 8×8 handwritten digits: one tanh hidden layer, softmax
 * cross-entropy on one-hot digits, trained with Adam. `probs` holds each digit's
 * probability; the predicted digit is the most probable.
 */
import { graph, adam, affine, softmax, softmaxCrossEntropy, tanh } from 'gradc';

export default graph('digits', (g) => {
  // Any number of rows from 1 to 32 a call: mini-batches of 32, the last one of an epoch
  // as it comes, and single digits.
  const B = g.batch(32);
  const x = g.input('x', [B, 64]);
  const y = g.input('y', [B, 10]);
  const h = tanh(affine(x, g.param('W1', [64, 32]), g.param('b1', [32])));
  const z = affine(h, g.param('W2', [32, 10]), g.param('b2', [10]));
  g.output('probs', softmax(z));
  g.loss(softmaxCrossEntropy(z, y));
  g.optimizer(adam());
});
