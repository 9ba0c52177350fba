/**
 * The hand-written contender: a multilayer perceptron over Float32Arrays, written the way a
 * careful engineer would write it by hand for one process, without a compiler.
 *
 * - Generic over layer widths and the hidden activation; the output layer is linear and
 *   the loss is J = (1/B) Σ_i ½‖o_i − y_i‖² (the same network as bench/networks.ts).
 * - Every buffer (activations, deltas, gradients, one float64 row accumulator) is
 *   allocated once in the constructor: a step allocates nothing.
 * - Matmuls run in i-k-j order (the innermost loop walks a contiguous row). The transposed
 *   products of backprop are plain index arithmetic; no transpose is materialised:
 *     dW = Aᵀ·δ   as  dW[k,:] += A[i,k] · δ[i,:]          (i, k, j)
 *     dA = δ·Wᵀ   as  dA[i,k]  = Σ_j δ[i,j] · W[k,j]      (i, k, j: a dot of two rows)
 * - Bias and activation are applied once a row of the product is complete; the
 *   activation derivative is applied to each element of dA as it is produced.
 * - One small function per loop nest (forward layer, output delta, weight gradients,
 *   input delta, SGD), each optimised by V8 on its own.
 * - Derivatives are taken from the stored activations: relu' = [a > 0], tanh' = 1 − a²,
 *   sigmoid' = a(1 − a).
 *
 * Params are used in place, like gradc's `trainStep`: `W[l]` is [widths[l], widths[l+1]]
 * row-major, `b[l]` is [widths[l+1]].
 */
import type { Activation } from './networks.ts';

export class HandMlp {
  readonly batch: number;
  readonly widths: readonly number[];
  readonly layers: number;
  /** Weights and biases per layer (the caller's arrays, updated in place by trainStep). */
  readonly W: Float32Array[];
  readonly b: Float32Array[];
  /** dJ/dW and dJ/db of the last gradient or trainStep call. */
  readonly dW: Float32Array[];
  readonly db: Float32Array[];
  /** Activations: out[l] is the output of layer l (B × widths[l+1]); the last is the prediction. */
  private readonly out: Float32Array[];
  /** Deltas dJ/dz of layer l (B × widths[l+1]). */
  private readonly delta: Float32Array[];
  /** One float64 row accumulator, as wide as the widest layer. */
  private readonly rowAcc: Float64Array;
  private readonly act: number;

  constructor(batch: number, widths: readonly number[], activation: Activation, W: Float32Array[], b: Float32Array[]) {
    this.batch = batch;
    this.widths = widths;
    this.layers = widths.length - 1;
    this.act = activation === 'relu' ? RELU : activation === 'tanh' ? TANH : SIGMOID;
    this.W = W;
    this.b = b;
    this.dW = [];
    this.db = [];
    this.out = [];
    this.delta = [];
    for (let l = 0; l < this.layers; l++) {
      const nIn = widths[l];
      const nOut = widths[l + 1];
      if (W[l].length !== nIn * nOut || b[l].length !== nOut) throw new RangeError(`HandMlp: layer ${l + 1} params have the wrong size`);
      this.dW.push(new Float32Array(nIn * nOut));
      this.db.push(new Float32Array(nOut));
      this.out.push(new Float32Array(batch * nOut));
      this.delta.push(new Float32Array(batch * nOut));
    }
    this.rowAcc = new Float64Array(Math.max(...widths));
  }

  /** The prediction for a batch x (B × widths[0]). Returns an internal buffer, overwritten by the next call. */
  forward(x: Float32Array): Float32Array {
    let input = x;
    for (let l = 0; l < this.layers; l++) {
      const act = l < this.layers - 1 ? this.act : LINEAR;
      affineForward(input, this.W[l], this.b[l], this.out[l], this.rowAcc, this.batch, this.widths[l], this.widths[l + 1], act);
      input = this.out[l];
    }
    return input;
  }

  /** The loss and every gradient (into dW, db), without changing the params. */
  gradient(x: Float32Array, y: Float32Array): number {
    return this.run(x, y, 0);
  }

  /** One SGD step in place: every param θ := θ − lr·dJ/dθ. Returns the loss before the update. */
  trainStep(x: Float32Array, y: Float32Array, lr: number): number {
    return this.run(x, y, lr);
  }

  private run(x: Float32Array, y: Float32Array, lr: number): number {
    const L = this.layers;
    const o = this.forward(x);
    const loss = outputDelta(o, y, this.delta[L - 1], this.batch);
    for (let l = L - 1; l >= 0; l--) {
      const nIn = this.widths[l];
      const nOut = this.widths[l + 1];
      const input = l > 0 ? this.out[l - 1] : x;
      weightGradients(input, this.delta[l], this.dW[l], this.db[l], this.batch, nIn, nOut);
      // δ of the layer below, from W before its update.
      if (l > 0) inputDelta(this.delta[l], this.W[l], input, this.delta[l - 1], this.batch, nIn, nOut, this.act);
      // SGD on this layer: nothing below reads W[l] or b[l] any more.
      if (lr !== 0) {
        sgd(this.W[l], this.dW[l], lr);
        sgd(this.b[l], this.db[l], lr);
      }
    }
    return loss;
  }
}

const RELU = 0;
const TANH = 1;
const SIGMOID = 2;
const LINEAR = -1;

/** out = act(input·W + b): input B×nIn, W nIn×nOut, out B×nOut; i-k-j into a float64 row. */
function affineForward(input: Float32Array, W: Float32Array, bias: Float32Array, out: Float32Array, acc: Float64Array, B: number, nIn: number, nOut: number, act: number): void {
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < nOut; j++) acc[j] = 0;
    const inRow = i * nIn;
    for (let k = 0; k < nIn; k++) {
      const a = input[inRow + k];
      const wRow = k * nOut;
      for (let j = 0; j < nOut; j++) acc[j] += a * W[wRow + j];
    }
    // Bias and activation once the row is complete.
    const outRow = i * nOut;
    if (act === RELU) {
      for (let j = 0; j < nOut; j++) {
        const z = acc[j] + bias[j];
        out[outRow + j] = z > 0 ? z : 0;
      }
    } else if (act === TANH) {
      for (let j = 0; j < nOut; j++) out[outRow + j] = Math.tanh(acc[j] + bias[j]);
    } else if (act === SIGMOID) {
      for (let j = 0; j < nOut; j++) out[outRow + j] = 1 / (1 + Math.exp(-(acc[j] + bias[j])));
    } else {
      for (let j = 0; j < nOut; j++) out[outRow + j] = acc[j] + bias[j];
    }
  }
}

/** J = (1/B) Σ ½(o − y)², and the output delta dJ/do = (o − y)/B. */
function outputDelta(o: Float32Array, y: Float32Array, delta: Float32Array, B: number): number {
  const scale = 1 / B;
  let loss = 0;
  for (let i = 0, n = o.length; i < n; i++) {
    const diff = o[i] - y[i];
    loss += diff * diff;
    delta[i] = diff * scale;
  }
  return loss * 0.5 * scale;
}

/** dW = inputᵀ·δ (dW[k,:] += input[i,k]·δ[i,:]) and db = column sums of δ, row by row of the batch. */
function weightGradients(input: Float32Array, delta: Float32Array, dW: Float32Array, db: Float32Array, B: number, nIn: number, nOut: number): void {
  dW.fill(0);
  db.fill(0);
  for (let i = 0; i < B; i++) {
    const inRow = i * nIn;
    const dRow = i * nOut;
    for (let j = 0; j < nOut; j++) db[j] += delta[dRow + j];
    for (let k = 0; k < nIn; k++) {
      const a = input[inRow + k];
      const wRow = k * nOut;
      for (let j = 0; j < nOut; j++) dW[wRow + j] += a * delta[dRow + j];
    }
  }
}

/**
 * prev = (δ·Wᵀ) ⊙ act'(a), a the layer's input (the activation below): prev[i,k] is the dot
 * of row i of δ with row k of W, times the derivative taken from the stored activation.
 */
function inputDelta(delta: Float32Array, W: Float32Array, a: Float32Array, prev: Float32Array, B: number, nIn: number, nOut: number, act: number): void {
  for (let i = 0; i < B; i++) {
    const dRow = i * nOut;
    const pRow = i * nIn;
    for (let k = 0; k < nIn; k++) {
      const wRow = k * nOut;
      let s = 0;
      for (let j = 0; j < nOut; j++) s += delta[dRow + j] * W[wRow + j];
      const v = a[pRow + k];
      prev[pRow + k] = act === RELU ? (v > 0 ? s : 0) : act === TANH ? s * (1 - v * v) : s * v * (1 - v);
    }
  }
}

/** θ := θ − lr·g */
function sgd(theta: Float32Array, grad: Float32Array, lr: number): void {
  for (let i = 0, n = theta.length; i < n; i++) theta[i] -= lr * grad[i];
}
