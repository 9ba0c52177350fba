/**
 * A second independent reference: the forward graph rebuilt from TensorFlow.js 4.22 ops (cpu
 * backend, float32) and differentiated by `tf.valueAndGrads` — TensorFlow.js's own
 * derivatives, nothing of gradc's but the graph's structure. The squared loss is written
 * from the notes' formula, J = (1/B) Σ ½‖p − t‖².
 *
 * `@tensorflow/tfjs` (not only tfjs-core) is loaded: in Node the CommonJS build of tfjs-core
 * registers no gradient functions (see bench/tfjs.ts).
 */
import type * as Tf from '@tensorflow/tfjs';
import type { Graph } from '../../compiler/ir/graph.ts';

type Values = Readonly<Record<string, ArrayLike<number>>>;

let loaded: typeof Tf | undefined;

async function tfjs(): Promise<typeof Tf> {
  if (!loaded) {
    const tf = await import('@tensorflow/tfjs');
    if (!(await tf.setBackend('cpu'))) throw new Error('tfjs: could not select the cpu backend');
    // The cpu backend prints an "install tfjs-node" banner on first use.
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1))).dataSync();
    } finally {
      console.warn = warn;
    }
    loaded = tf;
  }
  return loaded;
}

type Op = (tf: typeof Tf, x: Tf.Tensor[], attrs: Graph['nodes'][number]['attrs']) => Tf.Tensor;

const OPS: Readonly<Record<string, Op>> = {
  add: (tf, [a, b]) => tf.add(a, b),
  sub: (tf, [a, b]) => tf.sub(a, b),
  mul: (tf, [a, b]) => tf.mul(a, b),
  neg: (tf, [a]) => tf.neg(a),
  relu: (tf, [a]) => tf.relu(a),
  sigmoid: (tf, [a]) => tf.sigmoid(a),
  tanh: (tf, [a]) => tf.tanh(a),
  matmul: (tf, [a, b], { transA, transB }) => tf.matMul(a as Tf.Tensor2D, b as Tf.Tensor2D, !!transA, !!transB),
  transpose: (tf, [a]) => tf.transpose(a),
  sum: (tf, [a]) => tf.sum(a),
  sum_rows: (tf, [a]) => tf.sum(a, 0),
  broadcast: (tf, [a], { to }) => tf.broadcastTo(a, [...to!]),
  squared_loss: (tf, [p, t]) => tf.div(tf.mul(tf.sum(tf.square(tf.sub(p, t))), 0.5), p.shape.length === 2 ? p.shape[0] : 1),
};

/** The loss and dJ/dparam of a forward graph by TensorFlow.js, in float32. */
export async function tfjsGradient(g: Graph, leaves: Values): Promise<{ loss: number; grads: Record<string, Float32Array> }> {
  const tf = await tfjs();
  const tensor = (id: number) => tf.tensor(Float32Array.from(leaves[g.nodes[id].attrs.leaf!]), [...g.nodes[id].shape]);
  return tf.tidy(() => {
    const params = g.params.map((p) => tensor(p.id));
    const lossOf = (...ps: Tf.Tensor[]): Tf.Scalar => {
      const values: Tf.Tensor[] = [];
      for (const n of g.nodes) {
        const param = g.params.findIndex((p) => p.id === n.id);
        if (param >= 0) values.push(ps[param]);
        else if (n.op === 'input') values.push(tensor(n.id));
        else if (n.op === 'const') values.push(tf.scalar(n.attrs.value!));
        else values.push(OPS[n.op](tf, n.inputs.map((i) => values[i]), n.attrs));
      }
      // Every param takes part, so those the loss does not reach get a zero gradient, not an error.
      return ps.reduce((j, p) => tf.add(j, tf.mul(tf.sum(p), 0)), values[g.loss!]) as Tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(lossOf)(params);
    return {
      loss: value.dataSync()[0],
      grads: Object.fromEntries(g.params.map((p, i) => [p.name, Float32Array.from(grads[i].dataSync())])),
    };
  });
}
