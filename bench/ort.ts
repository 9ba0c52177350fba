/**
 * The onnxruntime-web contender: the same MLP on ONNX Runtime's WebAssembly backend (SIMD,
 * one thread, or `numThreads` in bench/threads.ts), the graphs of bench/onnx.ts. A train step is one `session.run` of the whole
 * step (forward, backward, SGD) whose updated params are fed back as the next step's inputs;
 * forward is a session of the forward graph. ONNX Runtime's `run` is asynchronous.
 */
import * as ort from 'onnxruntime-web';
import type { NetSpec } from './networks.ts';
import { forwardModel, trainModel } from './onnx.ts';

let configured = false;

/**
 * `threads` threads (1 unless bench/threads.ts asks for more: ONNX Runtime reads it once, when
 * its wasm starts, so a process has one count); returns the version for the report.
 */
export function initOrt(threads = 1): { version: string } {
  if (!configured) {
    ort.env.wasm.numThreads = threads;
    ort.env.logLevel = 'error';
    configured = true;
  }
  return { version: ort.env.versions.web ?? 'unknown' };
}

const OPTIONS: ort.InferenceSession.SessionOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 };

export class OrtMlp {
  private feeds: Record<string, ort.Tensor> = {};

  private constructor(
    private readonly spec: NetSpec,
    private readonly train: ort.InferenceSession,
    private readonly grad: ort.InferenceSession,
    private readonly fwd: ort.InferenceSession,
  ) {}

  /** Sessions for the step, the gradient and forward; params copied from `params` (W1, b1, …). */
  static async create(spec: NetSpec, params: Record<string, Float32Array>, x: Float32Array, y: Float32Array, learningRate: number, threads = 1): Promise<OrtMlp> {
    initOrt(threads);
    const [train, grad, fwd] = await Promise.all([trainModel(spec, learningRate), trainModel(spec), forwardModel(spec)].map((m) => ort.InferenceSession.create(m, OPTIONS)));
    const m = new OrtMlp(spec, train, grad, fwd);
    const { batch, widths } = spec;
    m.feeds.x = new ort.Tensor('float32', x.slice(), [batch, widths[0]]);
    m.feeds.y = new ort.Tensor('float32', y.slice(), [batch, widths.at(-1)!]);
    for (let l = 1; l < widths.length; l++) {
      m.feeds[`W${l}`] = new ort.Tensor('float32', params[`W${l}`].slice(), [widths[l - 1], widths[l]]);
      m.feeds[`b${l}`] = new ort.Tensor('float32', params[`b${l}`].slice(), [widths[l]]);
    }
    return m;
  }

  private layers(): number[] {
    return Array.from({ length: this.spec.widths.length - 1 }, (_, i) => i + 1);
  }

  /** One SGD step; the updated params become the next step's inputs. Returns the loss before it. */
  async trainStep(): Promise<number> {
    const out = await this.train.run(this.feeds);
    for (const l of this.layers()) {
      this.feeds[`W${l}`] = out[`W${l}_next`];
      this.feeds[`b${l}`] = out[`b${l}_next`];
    }
    return (out.loss.data as Float32Array)[0];
  }

  async gradient(): Promise<{ loss: number; grads: Record<string, Float32Array> }> {
    const out = await this.grad.run(this.feeds);
    const grads: Record<string, Float32Array> = {};
    for (const l of this.layers()) {
      grads[`W${l}`] = out[`dW${l}`].data as Float32Array;
      grads[`b${l}`] = out[`db${l}`].data as Float32Array;
    }
    return { loss: (out.loss.data as Float32Array)[0], grads };
  }

  async forward(): Promise<Float32Array> {
    const { x, ...rest } = this.feeds;
    const params = Object.fromEntries(Object.entries(rest).filter(([k]) => k !== 'y'));
    const out = await this.fwd.run({ x, ...params });
    return out.o.data as Float32Array;
  }

  async dispose(): Promise<void> {
    await Promise.all([this.train.release(), this.grad.release(), this.fwd.release()]);
  }
}
