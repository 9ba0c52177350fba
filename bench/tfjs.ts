/**
 * The TensorFlow.js contenders: the same MLP on tfjs 4.22's pure-JS CPU backend, and on its
 * WebAssembly backend (`@tensorflow/tfjs-backend-wasm`: XNNPACK, SIMD, one thread).
 *
 * `@tensorflow/tfjs` is imported (not only tfjs-core) because in Node the CommonJS build of
 * tfjs-core registers no gradient functions; loading the umbrella package registers them.
 * Backends are selected explicitly and checked: tfjs-node is not installed and must not be
 * used. Both backends live in tfjs's one engine: each model makes its tensors on its own
 * backend and selects it before every call (a synchronous switch once both are initialized).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Activation, NetSpec } from './networks.ts';

export type TfBackend = 'cpu' | 'wasm';

let ready = false;

/** Initializes the wasm backend (its .wasm files from the package, SIMD, one thread), then selects the CPU backend. */
export async function initTfjs(): Promise<{ version: string; backend: string }> {
  if (!ready) {
    const dist = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    setWasmPaths(`${dist}/`);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setThreadsCount(1);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: could not select the wasm backend');
    if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) throw new Error('tfjs: the wasm backend has no SIMD here');
    if (!(await tf.setBackend('cpu'))) throw new Error('tfjs: could not select the cpu backend');
    await tf.ready();
    // The CPU backend prints a one-time "install tfjs-node" banner on its first use: run
    // that first use here, quietly, so it does not land in the middle of the results.
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1))).dispose();
    } finally {
      console.warn = warn;
    }
    ready = true;
  }
  const backend = tf.getBackend();
  if (backend !== 'cpu') throw new Error(`tfjs: expected the cpu backend, got ${backend}`);
  return { version: tf.version.tfjs, backend };
}

export function tfMemory(): { numTensors: number; numBytes: number } {
  const m = tf.memory();
  return { numTensors: m.numTensors, numBytes: m.numBytes };
}

const ACT: Record<Activation, (t: tf.Tensor) => tf.Tensor> = {
  relu: (t) => tf.relu(t),
  tanh: (t) => tf.tanh(t),
  sigmoid: (t) => tf.sigmoid(t),
};

let instance = 0;

export class TfMlp {
  readonly W: tf.Variable[] = [];
  readonly b: tf.Variable[] = [];
  private readonly vars: tf.Variable[] = [];
  private readonly x: tf.Tensor2D;
  private readonly y: tf.Tensor2D;
  private readonly optimizer: tf.SGDOptimizer;
  private readonly act: (t: tf.Tensor) => tf.Tensor;

  /** `params` maps W1, b1, … to initial values (copied into tf.variables on `backend`). */
  constructor(spec: NetSpec, params: Record<string, Float32Array>, x: Float32Array, y: Float32Array, learningRate: number, readonly backend: TfBackend = 'cpu') {
    this.use();
    const { batch, widths } = spec;
    const tag = `${spec.id}_${instance++}`;
    for (let l = 1; l < widths.length; l++) {
      const W = tf.variable(tf.tensor2d(params[`W${l}`], [widths[l - 1], widths[l]], 'float32'), true, `${tag}_W${l}`);
      const b = tf.variable(tf.tensor1d(params[`b${l}`], 'float32'), true, `${tag}_b${l}`);
      this.W.push(W);
      this.b.push(b);
      this.vars.push(W, b);
    }
    this.x = tf.tensor2d(x, [batch, widths[0]], 'float32');
    this.y = tf.tensor2d(y, [batch, widths[widths.length - 1]], 'float32');
    this.act = ACT[spec.activation];
    this.optimizer = tf.train.sgd(learningRate);
  }

  /** Makes this model's backend the engine's (synchronous: both are initialized by initTfjs). */
  private use(): void {
    if (tf.getBackend() !== this.backend) void tf.setBackend(this.backend);
    if (tf.getBackend() !== this.backend) throw new Error(`tfjs: could not switch to the ${this.backend} backend`);
  }

  private predict(): tf.Tensor {
    let h: tf.Tensor = this.x;
    const L = this.W.length;
    for (let l = 0; l < L; l++) {
      const z = tf.add(tf.matMul(h, this.W[l]), this.b[l]);
      h = l < L - 1 ? this.act(z) : z;
    }
    return h;
  }

  /** J = 0.5 · mean over the batch of the row sums of (o − y)². */
  private lossValue = (): tf.Scalar => {
    const o = this.predict();
    return tf.mul(0.5, tf.mean(tf.sum(tf.square(tf.sub(o, this.y)), 1))) as tf.Scalar;
  };

  /** One SGD step (optimizer.minimize); returns the loss before the update, like gradc's trainStep. */
  trainStep(): number {
    this.use();
    const loss = this.optimizer.minimize(this.lossValue, true, this.vars)!;
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  }

  /** The prediction for the stored batch, read back into a typed array. */
  forward(): Float32Array {
    this.use();
    const o = tf.tidy(() => this.predict());
    const values = o.dataSync() as Float32Array;
    o.dispose();
    return values;
  }

  /** The loss and dJ/dparam (named W1, b1, …) by tf.variableGrads, without an update. */
  gradient(): { loss: number; grads: Record<string, Float32Array> } {
    this.use();
    const { value, grads } = tf.variableGrads(this.lossValue, this.vars);
    const loss = value.dataSync()[0];
    const out: Record<string, Float32Array> = {};
    for (let l = 0; l < this.W.length; l++) {
      out[`W${l + 1}`] = grads[this.W[l].name].dataSync().slice() as Float32Array;
      out[`b${l + 1}`] = grads[this.b[l].name].dataSync().slice() as Float32Array;
    }
    value.dispose();
    tf.dispose(grads);
    return { loss, grads: out };
  }

  /** Current param values, named W1, b1, … */
  params(): Record<string, Float32Array> {
    this.use();
    const out: Record<string, Float32Array> = {};
    for (let l = 0; l < this.W.length; l++) {
      out[`W${l + 1}`] = this.W[l].dataSync().slice() as Float32Array;
      out[`b${l + 1}`] = this.b[l].dataSync().slice() as Float32Array;
    }
    return out;
  }

  dispose(): void {
    this.use();
    tf.dispose(this.vars);
    this.x.dispose();
    this.y.dispose();
    this.optimizer.dispose();
  }
}
