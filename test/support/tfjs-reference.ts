/**
 * A second independent reference: the forward graph rebuilt from TensorFlow.js 4.22 ops (cpu
 * backend, float32) and differentiated by `tf.valueAndGrads` — TensorFlow.js's own
 * derivatives, nothing of gradc's but the graph's structure. The squared loss is written
 * from the notes' formula, J = (1/B) Σ ½‖p − t‖². The cpu backend is selected (and checked) as the bench does it (bench/tfjs.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { Graph } from '../../compiler/ir/graph.ts';
import { initTfjs } from '../../bench/tfjs.ts';

type Values = Readonly<Record<string, ArrayLike<number>>>;
type Op = (x: tf.Tensor[], attrs: Graph['nodes'][number]['attrs']) => tf.Tensor;

const OPS: Readonly<Record<string, Op>> = {
  add: ([a, b]) => tf.add(a, b),
  sub: ([a, b]) => tf.sub(a, b),
  mul: ([a, b]) => tf.mul(a, b),
  neg: ([a]) => tf.neg(a),
  relu: ([a]) => tf.relu(a),
  sigmoid: ([a]) => tf.sigmoid(a),
  softsign: ([a]) => tf.div(a, tf.add(1, tf.abs(a))),
  tanh: ([a]) => tf.tanh(a),
  matmul: ([a, b], { transA, transB }) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, !!transA, !!transB),
  transpose: ([a]) => tf.transpose(a),
  sum: ([a]) => tf.sum(a),
  column_sums: ([a]) => tf.sum(a, 0),
  broadcast: ([a], { to }) => tf.broadcastTo(a, [...to!]),
  div: ([a, b]) => tf.div(a, b),
  exp: ([a]) => tf.exp(a),
  log: ([a]) => tf.log(a),
  // Only ever a stabilizer (a row's max): its gradient path contributes nothing analytically.
  stop_gradient: ([a]) => a,
  row_sums: ([a]) => tf.sum(a, 1, true),
  row_max: ([a]) => tf.max(a, 1, true),
  // −(1/B) Σ y·log softmax(z) from the logits and labels (not gradc's log-sum-exp input), in
  // TensorFlow.js's primitives: its own tf.losses.softmaxCrossEntropy has a custom gradient
  // whose derivative by the labels is y − softmax(z), not −log softmax(z), which labels made
  // from params (soft targets) would expose.
  softmax_ce: ([z, y]) => tf.div(tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(z)))), z.shape[0] ?? 1),
  sigmoid_ce: ([z, y]) => tf.mul(tf.losses.sigmoidCrossEntropy(y, z, undefined, 0, tf.Reduction.MEAN), z.shape[1] ?? 1),
  squared_loss: ([p, t]) => tf.div(tf.mul(tf.sum(tf.square(tf.sub(p, t))), 0.5), p.shape.length === 2 ? p.shape[0] : 1),
};

/** The graph's loss as a function of its params' tensors, everything else from `leaves`. */
function lossFunction(g: Graph, leaves: Values): (...ps: tf.Tensor[]) => tf.Scalar {
  const tensor = (id: number) => tf.tensor(Float32Array.from(leaves[g.nodes[id].attrs.leaf!]), [...g.nodes[id].shape]);
  return (...ps) => {
    const values: tf.Tensor[] = [];
    for (const n of g.nodes) {
      const param = g.params.findIndex((p) => p.id === n.id);
      if (param >= 0) values.push(ps[param]);
      else if (n.op === 'input') values.push(tensor(n.id));
      else if (n.op === 'const') values.push(tf.scalar(n.attrs.value!));
      else values.push(OPS[n.op](n.inputs.map((i) => values[i]), n.attrs));
    }
    // Every param takes part, so those the loss does not reach get a zero gradient, not an error.
    return ps.reduce((j, p) => tf.add(j, tf.mul(tf.sum(p), 0)), values[g.loss!]) as tf.Scalar;
  };
}

/** The loss and dJ/dparam of a forward graph by TensorFlow.js, in float32. */
export async function tfjsGradient(g: Graph, leaves: Values): Promise<{ loss: number; grads: Record<string, Float32Array> }> {
  await initTfjs();
  return tf.tidy(() => {
    const params = g.params.map((p) => tf.tensor(Float32Array.from(leaves[p.name]), [...g.nodes[p.id].shape]));
    const { value, grads } = tf.valueAndGrads(lossFunction(g, leaves))(params);
    return {
      loss: value.dataSync()[0],
      grads: Object.fromEntries(g.params.map((p, i) => [p.name, Float32Array.from(grads[i].dataSync())])),
    };
  });
}

/** TensorFlow.js's own optimizers, made from a gradc optimizer's name and options. */
const OPTIMIZERS: Readonly<Record<string, (lr: number, o: Readonly<Record<string, number>>) => tf.Optimizer>> = {
  sgd: (lr) => tf.train.sgd(lr),
  momentum: (lr, o) => tf.train.momentum(lr, o.momentum),
  adam: (lr, o) => tf.train.adam(lr, o.beta1, o.beta2, o.epsilon),
};

/**
 * `steps` train steps of TensorFlow.js's optimizer on the same batch each time, from the
 * params in `leaves`: the params after them, and the loss before each step.
 */
export async function tfjsTrain(
  g: Graph, leaves: Values, optimizer: { readonly name: string; readonly options: Readonly<Record<string, number>> }, learningRate: number, steps: number,
): Promise<{ params: Record<string, Float32Array>; losses: number[] }> {
  await initTfjs();
  const variables = g.params.map((p) => tf.variable(tf.tensor(Float32Array.from(leaves[p.name]), [...g.nodes[p.id].shape]), true, `v_${p.name}_${Math.random()}`));
  const opt = OPTIMIZERS[optimizer.name](learningRate, optimizer.options);
  const lossOf = lossFunction(g, leaves);
  const losses: number[] = [];
  try {
    for (let s = 0; s < steps; s++) {
      const loss = opt.minimize(() => lossOf(...variables), true, variables)!;
      losses.push(loss.dataSync()[0]);
      loss.dispose();
    }
    return { params: Object.fromEntries(g.params.map((p, i) => [p.name, Float32Array.from(variables[i].dataSync())])), losses };
  } finally {
    opt.dispose();
    for (const v of variables) v.dispose();
  }
}
