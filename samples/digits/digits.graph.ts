/**
 * A 64-32-10 classifier of the 8×8 handwritten digits: one tanh hidden layer, softmax
 * cross-entropy on one-hot digits, trained with Adam. `probs` holds each digit's
 * probability; the predicted digit is the most probable.
 */
import { graph, adam, affine, softmax, softmaxCrossEntropy, tanh } from 'gradc';

/** Rows per call: every entry point takes exactly this many (see train.ts for the rest). */
const BATCH = 32;

export default graph('digits', (g) => {
  const x = g.input('x', [BATCH, 64]);
  const y = g.input('y', [BATCH, 10]);
  const h = tanh(affine(x, g.param('W1', [64, 32]), g.param('b1', [32])));
  const z = affine(h, g.param('W2', [32, 10]), g.param('b2', [10]));
  g.output('probs', softmax(z));
  g.loss(softmaxCrossEntropy(z, y));
  g.optimizer(adam());
});
