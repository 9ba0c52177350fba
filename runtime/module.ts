/**
 * The generated modules' API, declared once (`gradc/module`): what `gradc build` emits in
 * `<name>.js` (a `CpuModule`) and `<name>.gpu.js` (a `GpuModule`, whose `createModel` gives
 * a `GpuModel`). The type parameters are a module's own records (`Params`, `ForwardInputs`,
 * `TrainInputs`, `Outputs`); with the defaults, any module of that kind fits. The runtime,
 * the bundler typings and the tests all use these types; every generated module's
 * declarations are checked against them.
 */

/**
 * A WebGPU type by its global name: the project's own where it has WebGPU's types (TypeScript
 * 7's lib.dom declares them; before that, @webgpu/types does), else `Fallback`. gradc's
 * declarations reference no WebGPU types package, since a second declaration of them collides
 * with lib.dom's (`Duplicate identifier`), and they type-check without DOM types at all.
 */
export type WebGpuGlobal<Name extends string, Fallback> =
  typeof globalThis extends { readonly [K in Name]: { readonly prototype: infer T } } ? T : Fallback;

/**
 * The `GPUDevice` a model runs on: WebGPU's own type where the project has it; otherwise the
 * opaque device `requestDevice()` gives (add `"dom"` to `lib` with TypeScript ≥ 7, or
 * @webgpu/types before, for its methods).
 */
export type WebGpuDevice = WebGpuGlobal<'GPUDevice', { readonly label: string; readonly queue: object }>;

/** Named tensors: params, inputs or outputs, each a row-major Float32Array. */
export type Tensors = Record<string, Float32Array>;

export interface ModuleMeta {
  readonly name: string;
  /** The graph's hash (of its nodes and optimizer): equal graphs, equal hashes. */
  readonly hash?: string;
  /** The gradc version that built the module. */
  readonly version?: string;
  /** Input shapes (a dynamic batch's inputs at their largest: `batch` says which). */
  readonly inputs: Readonly<Record<string, readonly number[]>>;
  readonly params: Readonly<Record<string, readonly number[]>>;
  readonly outputs: Readonly<Record<string, readonly number[]>>;
  /** A trainable graph's optimizer and the names of the state it keeps per param. */
  readonly optimizer?: { readonly name: string; readonly slots: readonly string[] };
  /**
   * A dynamic batch (`g.batch(max)`): these inputs and outputs have any number of rows from 1
   * to `max` at each call (their shapes above are the largest), the same for all of them.
   */
  readonly batch?: { readonly max: number; readonly inputs: readonly string[]; readonly outputs: readonly string[] };
}

/** The loss and dJ/dparam for every param (fresh arrays of the params' shapes). */
export interface Gradient<P = Tensors> {
  readonly loss: number;
  readonly grads: P;
}

/**
 * What an optimizer keeps between train steps: the number of steps taken, and per state slot
 * (Adam's `m` and `v`, momentum's `velocity`) one array per param, of its shape.
 */
export type OptimizerState<P = Tensors> = { step: number } & { [slot: string]: P | number };

/** A generated JS (or wasm) module. */
export interface CpuModule<P = Tensors, FI = Tensors, TI = Tensors, O = Tensors, S = OptimizerState<P>> {
  readonly meta: ModuleMeta;
  /** Fresh params, drawn from a seeded generator: the same seed gives the same params. */
  initParams(seed?: number): P;
  /** The outputs for one batch: fresh arrays. */
  forward(params: P, inputs: FI): O;
  /** The loss J for one batch. */
  loss(params: P, inputs: TI): number;
  /** The loss and its gradient with respect to every param. */
  gradient(params: P, inputs: TI): Gradient<P>;
  /**
   * One optimizer step on one batch, params (and `state`, which an optimizer with state
   * needs) updated in place; returns J before the update. A step whose new values would not
   * all be finite throws and changes nothing.
   */
  trainStep(params: P, inputs: TI, learningRate: number, state?: S): number;
  /** The optimizer's state before the first step (only where the optimizer keeps state). */
  initOptimizerState?(): S;
}

/** A generated wasm module: a `CpuModule` whose kernels can run on several threads (spec/wasm.md). */
export interface WasmCpuModule<P = Tensors, FI = Tensors, TI = Tensors, O = Tensors, S = OptimizerState<P>> extends CpuModule<P, FI, TI, O, S> {
  /** How many threads run the kernels (the caller's included), and why not as many as asked for. */
  readonly threads: { readonly threads: number; readonly reason?: string };
  /** Runs the kernels on `count` threads from now on where threads can run; resolves to how many do. */
  useThreads(count: number): Promise<number>;
}

/** Rows of a dataset kept on the GPU; `trainSteps` copies mini-batches out of it by offset. */
export interface GpuDataset {
  /** Examples (rows) in the dataset. */
  readonly rows: number;
  /** Frees the dataset's GPU buffers. */
  destroy(): void;
}

/** What every GPU model does, a forward-only one too. Reads resolve to fresh Float32Arrays shaped as in the JS module. */
export interface GpuForwardModel<P = Tensors, FI = Tensors, O = Tensors> {
  /** The host module's `meta`: what `train`, `evaluate` and `predict` of gradc/runtime/webgpu batch by. */
  readonly meta: ModuleMeta;
  /** Uploads params (validated as the JS module's; applied after calls made before it). */
  setParams(params: P): Promise<void>;
  getParams(): Promise<P>;
  forward(inputs: FI): Promise<O>;
  /** Frees the model's GPU buffers; any later call throws. */
  destroy(): void;
}

/** Options of `trainSteps`. */
export interface TrainStepsOptions {
  /** The dataset row the first step's mini-batch starts at. */
  readonly firstRow: number;
  /** Steps, each on the next mini-batch (default 1). */
  readonly steps?: number;
  readonly learningRate: number;
  /**
   * Read the last step's loss back (the default), or not: then the promise resolves as soon as
   * the steps are submitted, and a training loop never waits for the GPU.
   */
  readonly readLoss?: boolean;
}

/** A trainable graph on one GPUDevice. */
export interface GpuModel<P = Tensors, FI = Tensors, TI = Tensors, O = Tensors, S = OptimizerState<P>> extends GpuForwardModel<P, FI, O> {
  loss(inputs: TI): Promise<number>;
  gradient(inputs: TI): Promise<Gradient<P>>;
  /**
   * One train step on the GPU; resolves to the loss before the update. A step whose new values
   * would not all be finite changes nothing and rejects.
   */
  trainStep(inputs: TI, learningRate: number): Promise<number>;
  /** The optimizer's state, kept on the GPU: the steps taken and each state slot's arrays. */
  getOptimizerState(): Promise<S>;
  /** Replaces the optimizer's state (as `getOptimizerState` or the JS module's `initOptimizerState` give it). */
  setOptimizerState(state: S): Promise<void>;
  /** Uploads whole training inputs once: `rows` examples of every train input. */
  createDataset(inputs: TI): GpuDataset;
  /**
   * `steps` train steps over consecutive mini-batches of a GPU dataset, starting at row
   * `firstRow`, in one submission; resolves to the loss before the last step (NaN when
   * `readLoss` is false). A step whose new values would not all be finite changes nothing, nor
   * do the steps after it; the call that reads the loss back rejects, naming the step.
   */
  trainSteps(dataset: GpuDataset, options: TrainStepsOptions): Promise<number>;
}

/** Options of a host module's `createModel`. */
export interface CreateModelOptions {
  /**
   * The seed of the params the model starts from: `initParams(seed)`, the very values the JS
   * module's `initParams(seed)` gives. Default 0, as `initParams`'s. `setParams` replaces them.
   */
  readonly seed?: number;
}

/** A generated WebGPU host module; `M` is its model (`GpuForwardModel` when built forward-only), `P` its params. */
export interface GpuModule<M = GpuModel, P = Tensors> {
  readonly meta: ModuleMeta;
  /** Every kernel of the graph (the .wgsl file, without its comments). */
  readonly WGSL: string;
  /** Fresh params, drawn as the JS module's `initParams(seed)` draws them (the same values). */
  initParams(seed?: number): P;
  /** Compiles the kernels (pipelines created asynchronously), allocates the buffers and uploads `initParams(options.seed)`. */
  createModel(device: WebGpuDevice, options?: CreateModelOptions): Promise<M>;
}

/**
 * Where an argument lives: [name, floats, shape as text, offset in its buffer], and the row
 * width of an input or output over a dynamic batch (its floats are then the largest batch's).
 */
export type Spec = readonly (readonly [name: string, length: number, shape: string, offset: number, width?: number])[];

/**
 * What the WebGPU driver (`createGpuModel` in `gradc/runtime/webgpu`) reads from a generated
 * host module: the shader, its buffers and bindings, its kernels, and where values live.
 */
export interface GpuModuleTables {
  readonly meta: ModuleMeta;
  readonly WGSL: string;
  /** Floats of each GPU buffer; `hyper` is the uniform of per-step scalars. */
  readonly buffers: Readonly<Record<string, number>>;
  /** The buffer behind each binding. */
  readonly bindings: readonly string[];
  /** Each entry point: [name, workgroups x, y, z, bindings it uses]. */
  readonly kernels: readonly (readonly [string, number, number, number, readonly number[]])[];
  /** The kernels `forward` runs, in order (indices into `kernels`). */
  readonly forward: readonly number[];
  /** A dynamic batch: its largest, and the float in `hyper` where each call's rows (u32) and 1/rows (f32) go. */
  readonly rows?: { readonly max: number; readonly at: number };
  readonly params: Spec;
  readonly forwardInputs: Spec;
  readonly allInputs: Spec;
  /** Offsets in the arena. */
  readonly outputs: Spec;
  /** Absent when built forward-only. */
  readonly training?: GpuTrainingTables;
}

export interface GpuTrainingTables {
  /** The kernels of each entry point, in order. */
  readonly entries: { readonly loss: readonly number[]; readonly gradient: readonly number[]; readonly train: readonly number[] };
  readonly trainInputs: Spec;
  /** Offsets in the gradients' buffer. */
  readonly grads: Spec;
  /** The loss's offset in the arena. */
  readonly loss: number;
  /** Rows per batch, shared by every input (0 if they differ). */
  readonly batch: number;
  /** The optimizer's state slots, each a buffer laid out as the params. */
  readonly slots: readonly string[];
  /** The uniform of step t ≥ 1: the optimizer's per-step scalars, then t (at most four). */
  stepScalars(learningRate: number, t: number): readonly number[];
}
