/**
 * The WebGPU driver of every generated host module, written once: `createModel` of a
 * `<name>.gpu.js` passes its tables (buffers and bindings, kernels with their dispatch sizes,
 * the kernels of each entry point, where values live) to `createGpuModel`. Pipelines, buffers
 * and bind groups are made once; each call records one command encoder. Calls are serialized,
 * and each reads and copies its arguments when it is made, so changing an array after the call
 * cannot change what the call computes.
 */
import type { CreateModelOptions, GpuDataset, GpuForwardModel, GpuModel, GpuModuleTables, GpuTrainingTables, OptimizerState, Spec, Tensors, WebGpuDevice } from '../module.ts';
import { checkFinite, checkLabels, checkRate, describe, isFloat32Array, lengthOf, rejectedStep, rowsOf, show, take, takeState } from '../checks.ts';

// WebGPU flag values (spec constants), so the driver needs no globals beyond the device.
const STORAGE = 0x80, UNIFORM = 0x40, COPY_SRC = 0x04, COPY_DST = 0x08, MAP_READ = 0x01;
/** A range of a GPU buffer, in floats: [buffer, offset, length]. */
type Range = readonly [GPUBuffer, number, number];

/** A copy made from the array's internal slots: `slice()` would ask a subclass's species for it. */
function copyOf(a: Float32Array): Float32Array {
  const copy = new Float32Array(lengthOf(a));
  copy.set(a);
  return copy;
}

/** The array's buffer and offset from its internal slots (a subclass's getters could lie). */
const slot = <T>(key: string) => Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Float32Array.prototype), key)!.get! as (this: Float32Array) => T;
const bufferOf = slot<ArrayBufferLike>('buffer');
const byteOffsetOf = slot<number>('byteOffset');
/** Floats a shared array is staged in per upload: bounds the extra memory for a large dataset. */
const STAGE_FLOATS = 1 << 20;

/**
 * `queue.writeBuffer` of a Float32Array, also one over a SharedArrayBuffer: Dawn's Node
 * binding (`webgpu` 0.6.2) crashes the process on a shared view, and the WebGPU spec lets a
 * browser refuse one, so such an array is staged through plain copies of at most 4 MiB.
 */
function writeFloats(device: GPUDevice, buffer: GPUBuffer, offsetBytes: number, a: Float32Array): void {
  const shared = typeof SharedArrayBuffer === 'function' && bufferOf.call(a) instanceof SharedArrayBuffer;
  if (!shared) {
    device.queue.writeBuffer(buffer, offsetBytes, a as unknown as GPUAllowSharedBufferSource);
    return;
  }
  const n = lengthOf(a);
  const from = byteOffsetOf.call(a);
  for (let at = 0; at < n; at += STAGE_FLOATS) {
    const stage = new Float32Array(Math.min(STAGE_FLOATS, n - at));
    stage.set(new Float32Array(bufferOf.call(a), from + at * 4, stage.length));
    device.queue.writeBuffer(buffer, offsetBytes + at * 4, stage);
  }
}

/** A generated host module's graph on `device`: compiles its kernels (pipelines created asynchronously) and allocates its buffers. */
/** The module's `initParams`: the params a model starts from (`initParams(options.seed)`). */
type InitParams = (seed?: number) => object;

/**
 * A generated host module's graph on `device`: compiles its kernels (pipelines created
 * asynchronously), allocates its buffers and, given the module's `initParams`, uploads
 * `initParams(options.seed)`, so that the model starts where the JS module starts.
 */
export async function createGpuModel<P = Tensors, FI = Tensors, TI = Tensors, O = Tensors, S = OptimizerState<P>>(device: WebGpuDevice, t: GpuModuleTables & { training: GpuTrainingTables }, options?: CreateModelOptions, initParams?: InitParams): Promise<GpuModel<P, FI, TI, O, S>>;
export async function createGpuModel<P = Tensors, FI = Tensors, O = Tensors>(device: WebGpuDevice, t: GpuModuleTables, options?: CreateModelOptions, initParams?: InitParams): Promise<GpuForwardModel<P, FI, O>>;
export async function createGpuModel(device: WebGpuDevice, t: GpuModuleTables, options?: CreateModelOptions, initParams?: InitParams): Promise<GpuForwardModel | GpuModel> {
  if (typeof (device as { createShaderModule?: unknown } | null)?.createShaderModule !== 'function') {
    throw new TypeError(`createModel: expected a GPUDevice, got ${describe(device)}`);
  }
  const seed = seedOption(options);
  checkLimits(device, t);
  let lost: string | null = null;
  let destroyed = false;
  let chain: Promise<unknown> = Promise.resolve();
  /** Calls made and not yet finished. */
  let pending = 0;
  device.lost?.then((info) => { lost = info.message || String(info.reason); });
  const alive = (fn: string) => {
    if (destroyed) throw new Error(`${fn}: the model was destroyed; create a new one`);
    if (lost !== null) throw new Error(`${fn}: the GPU device was lost (${lost}); create a new device${fn === 'createModel' ? '' : ' and model'}`);
  };
  const module = device.createShaderModule({ code: t.WGSL, label: t.meta.name });
  const pipelines = await Promise.all(t.kernels.map(([entryPoint]) =>
    device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint }, label: entryPoint })));
  const make = (name: string, bytes: number, usage: number) =>
    device.createBuffer({ label: `${t.meta.name} ${name}`, size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
  const buffers = Object.fromEntries(Object.entries(t.buffers).map(([name, floats]) =>
    [name, make(name, floats * 4, name === 'hyper' ? UNIFORM | COPY_DST : STORAGE | COPY_SRC | COPY_DST)])) as Record<string, GPUBuffer>;
  const bindGroups = t.kernels.map(([, , , , bindings], k) => device.createBindGroup({
    layout: pipelines[k]!.getBindGroupLayout(0),
    entries: bindings.map((b) => ({ binding: b, resource: { buffer: buffers[t.bindings[b]!]! } })),
  }));
  const floatsOf = (spec: Spec) => spec.reduce((n, s) => n + s[1], 0);
  // The largest read: params, the outputs, the loss and gradients, or every state slot (each with the status).
  const readable = [floatsOf(t.params), floatsOf(t.outputs), ...(t.training ? [1 + floatsOf(t.training.grads), floatsOf(t.params) * t.training.slots.length] : [])];
  const staging = make('staging', 4 * (Math.max(...readable) + 1), MAP_READ | COPY_DST);
  const owned: GPUBuffer[] = [...Object.values(buffers), staging];
  if (initParams) {
    const first = initParams(seed) as Record<string, Float32Array>;
    for (const [name, , , offset] of t.params) device.queue.writeBuffer(buffers.params!, offset * 4, first[name] as unknown as GPUAllowSharedBufferSource);
  }
  // A device lost before or while the pipelines compiled leaves every object invalid.
  alive('createModel');

  /** Runs calls one after another, so staging reads never overlap. */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    pending++;
    const run = () => fn().finally(() => pending--);
    const next = chain.then(run, run);
    chain = next.catch(() => undefined);
    return next;
  };
  const upload = (buffer: GPUBuffer, spec: Spec, arrays: readonly Float32Array[]) =>
    spec.forEach((s, k) => writeFloats(device, buffer, s[3] * 4, arrays[k]!));
  const dispatch = (encoder: GPUCommandEncoder, kernels: readonly number[]) => {
    const pass = encoder.beginComputePass();
    for (const k of kernels) {
      pass.setPipeline(pipelines[k]!);
      pass.setBindGroup(0, bindGroups[k]!);
      pass.dispatchWorkgroups(t.kernels[k]![1], t.kernels[k]![2], t.kernels[k]![3]);
    }
    pass.end();
  };
  /** Submits the encoder with copies of `reads` into the staging buffer, and reads them back. */
  const submit = async (fn: string, encoder: GPUCommandEncoder, reads: readonly Range[]): Promise<Float32Array> => {
    let at = 0;
    for (const [buffer, offset, length] of reads) {
      encoder.copyBufferToBuffer(buffer, offset * 4, staging, at * 4, length * 4);
      at += length;
    }
    device.queue.submit([encoder.finish()]);
    if (at === 0) return new Float32Array(0);
    try {
      await staging.mapAsync(1 /* READ */, 0, at * 4);
    } catch (e) {
      // A lost device or a destroyed model aborts the read; the lost promise may settle just after.
      await new Promise((resolve) => setTimeout(resolve, 0));
      alive(fn);
      throw new Error(`${fn}: reading the results back from the GPU failed (${e instanceof Error ? e.name + (e.message ? ': ' + e.message : '') : String(e)})`);
    }
    const values = new Float32Array(staging.getMappedRange(0, at * 4).slice(0));
    staging.unmap();
    alive(fn);
    return values;
  };
  const unpack = (spec: Spec, values: Float32Array, from = 0): Record<string, Float32Array> =>
    Object.fromEntries(spec.map(([name, length]) => [name, values.slice(from, (from += length))]));
  const ranges = (buffer: GPUBuffer, spec: Spec) => spec.map((s): Range => [buffer, s[3], s[1]]);
  /**
   * Checks the inputs when the call is made and takes their values then: uploaded at once
   * (writeBuffer copies its data when called) when no earlier call is still to run, else
   * copied, and uploaded when the call runs after the calls before it.
   */
  const call = <T>(
    fn: string, inputs: unknown, spec: Spec, kernels: readonly number[], reads: (rows: number) => readonly Range[], done: (v: Float32Array, rows: number) => T,
    before?: () => void, taken?: Float32Array[],
  ) => {
    alive(fn);
    const arrays = take(fn, 'inputs', inputs, spec, t.allInputs);
    taken?.push(...arrays);
    // Over a dynamic batch, the call's rows (and 1/rows) go into the uniform with the inputs.
    const rows = t.rows ? rowsOf(fn, arrays, spec) : 0;
    const send = (list: readonly Float32Array[]) => {
      upload(buffers.inputs!, spec, list);
      if (t.rows) writeRows(rows);
    };
    const now = pending === 0;
    if (now) send(arrays);
    const later = now ? [] : arrays.map((a) => copyOf(a));
    return serial(async () => {
      alive(fn);
      before?.();
      if (!now) send(later);
      const encoder = device.createCommandEncoder();
      dispatch(encoder, kernels);
      return done(await submit(fn, encoder, reads(rows)), rows);
    });
  };
  /** The uniform's rows (u32) and 1/rows (f32) for the next dispatches. */
  const writeRows = (rows: number) => {
    const words = new ArrayBuffer(8);
    new Uint32Array(words, 0, 1)[0] = rows;
    new Float32Array(words, 4, 1)[0] = 1 / rows;
    device.queue.writeBuffer(buffers.hyper!, t.rows!.at * 4, words);
  };
  /** A spec at the call's rows: values over a dynamic batch hold that many rows. */
  const atRows = (spec: Spec, rows: number): Spec => spec.map((s) => (s[4] ? [s[0], rows * s[4], s[2], s[3], s[4]] as const : s));

  const model: GpuForwardModel = {
    meta: t.meta,
    // async: a bad argument rejects the promise, like every other call, instead of throwing.
    async setParams(params) {
      alive('setParams');
      const arrays = take('setParams', 'params', params, t.params, t.params);
      checkFinite('setParams', 'params', arrays, t.params);
      const copies = arrays.map((a) => copyOf(a));
      return serial(async () => (alive('setParams'), upload(buffers.params!, t.params, copies)));
    },
    getParams: () => serial(async () => {
      alive('getParams');
      return unpack(t.params, await submit('getParams', device.createCommandEncoder(), ranges(buffers.params!, t.params)));
    }),
    forward: async (inputs) => call('forward', inputs, t.forwardInputs, t.forward, (rows) => ranges(buffers.arena!, atRows(t.outputs, rows)), (v, rows) => unpack(atRows(t.outputs, rows), v)),
    destroy() {
      if (destroyed) return;
      destroyed = true;
      for (const b of owned) b.destroy();
    },
  };
  return t.training ? { ...model, ...training(t.training) } : model;

  /** What a trainable graph adds: loss, gradient, train steps, GPU-resident datasets. */
  function training(tr: GpuTrainingTables): Omit<GpuModel, keyof GpuForwardModel> {
    /** Steps submitted so far (those a rejected step stopped are taken back when it is read). */
    let steps = 0;
    let stepTable: GPUBuffer | undefined;
    const datasets = new WeakMap<object, { readonly ranges: readonly Range[]; readonly rows: number }>();
    const lossRange: Range = [buffers.arena!, tr.loss, 1];
    const statusRange: Range = [buffers.status!, 0, 1];
    const stateBuffers = tr.slots.map((_, s) => buffers[`state${s}`]!);
    /**
     * The uniform of each of the next `count` steps, 16 bytes a step. Every value must survive
     * f32: a learning rate that rounds to 0 or to Infinity there would silently not train.
     */
    /** The calls whose steps ran since the status was last read: which ran each step, at what rate. */
    let unread: { last: number; fn: string; learningRate: number }[] = [];
    const nextSteps = (fn: string, learningRate: number, count: number) => {
      const values = new Float32Array(count * 4);
      for (let s = 0; s < count; s++) {
        const scalars = tr.stepScalars(learningRate, steps + s + 1);
        values.set(scalars, s * 4);
        scalars.forEach((v, k) => {
          const f = values[s * 4 + k]!;
          if (!Number.isFinite(f) || (f === 0 && v !== 0)) {
            throw new RangeError(`${fn}: learningRate ${learningRate} is ${f === 0 ? 'below' : 'beyond'} what the GPU's f32 holds (its step scalars round to ${f}); use a rate within about 1e-38 to 1e38`);
          }
        });
      }
      unread.push({ last: steps + count, fn, learningRate });
      steps += count;
      return values;
    };
    /**
     * A step the GPU rejected (the status holds its number): the steps from it on did nothing,
     * so they are taken back, the status is cleared, and the error names the step.
     */
    const rejection = (fn: string, status: number, learningRate: number, inputs: readonly Float32Array[] = [], spec: Spec = []) => {
      const calls = unread;
      unread = [];
      if (status === 0) return undefined;
      steps = status - 1;
      device.queue.writeBuffer(buffers.status!, 0, new Float32Array(1));
      // A step of an earlier call whose status was never read (trainSteps with readLoss: false)
      // is named with that call's rate, not this one's.
      const owner = calls.find((c) => status <= c.last);
      if (owner && owner !== calls.at(-1)) {
        return rejectedStep(fn, status, [], [], undefined, owner.learningRate, `an earlier ${owner.fn} call whose loss was not read`);
      }
      return rejectedStep(fn, status, inputs, spec, undefined, learningRate);
    };
    return {
      loss: async (inputs) => call('loss', inputs, tr.trainInputs, tr.entries.loss, () => [lossRange], (v) => v[0]!),
      gradient: async (inputs) => call('gradient', inputs, tr.trainInputs, tr.entries.gradient, () => [lossRange, ...ranges(buffers.grads!, tr.grads)],
        (v) => ({ loss: v[0]!, grads: unpack(tr.grads, v, 1) })),
      async trainStep(inputs, learningRate, ...extra: unknown[]) {
        // The CPU modules' state argument has no place here: refused, not ignored (as checkRate does on the CPU).
        if (extra[0] !== undefined) {
          throw new TypeError(`trainStep: a WebGPU model keeps its params and optimizer state on the GPU, so trainStep takes (inputs, learningRate); got a third argument (${describe(extra[0])})`);
        }
        checkRate(learningRate);
        const taken: Float32Array[] = [];
        return call('trainStep', inputs, tr.trainInputs, tr.entries.train, () => [lossRange, statusRange], (v) => {
          const rejected = rejection('trainStep', v[1]!, learningRate, taken, tr.trainInputs);
          if (rejected) throw rejected;
          return v[0]!;
        }, () => device.queue.writeBuffer(buffers.hyper!, 0, nextSteps('trainStep', learningRate, 1)), taken);
      },
      getOptimizerState: () => serial(async () => {
        alive('getOptimizerState');
        const values = await submit('getOptimizerState', device.createCommandEncoder(), [statusRange, ...stateBuffers.flatMap((b) => ranges(b, t.params))]);
        const status = values[0]!;
        const step = status === 0 ? steps : status - 1;
        const size = floatsOf(t.params);
        return { step, ...Object.fromEntries(tr.slots.map((slot, s) => [slot, unpack(t.params, values, 1 + s * size)])) } as never;
      }),
      async setOptimizerState(state) {
        alive('setOptimizerState');
        const { t: next, arrays } = takeState('setOptimizerState', state, tr.slots, t.params);
        const copies = arrays.map((list) => list.map((a) => copyOf(a)));
        return serial(async () => {
          alive('setOptimizerState');
          copies.forEach((list, s) => upload(stateBuffers[s]!, t.params, list));
          device.queue.writeBuffer(buffers.status!, 0, new Float32Array(1));
          unread = [];
          steps = next - 1;
        });
      },
      createDataset(inputs): GpuDataset {
        alive('createDataset');
        if (tr.batch === 0) throw new TypeError('createDataset: the inputs of this graph do not share a batch dimension');
        if (typeof inputs !== 'object' || inputs === null) throw new TypeError(`createDataset: inputs must be an object of Float32Arrays, got ${describe(inputs)}`);
        const record = inputs as Record<string, unknown>;
        // Each array read once (a getter could return another on a second read), all before any is checked.
        const given = tr.trainInputs.map(([name]) => record[name]);
        const rows = tr.trainInputs.map(([name, length, shape], k) => {
          const v = given[k];
          const width = length / tr.batch;
          if (!isFloat32Array(v) || lengthOf(v) === 0 || lengthOf(v) % width !== 0) {
            const got = isFloat32Array(v) ? `${lengthOf(v)} values` : describe(v);
            throw new TypeError(`createDataset: inputs.${name} must be a Float32Array of rows of ${width} values (shape ${shape} per batch), got ${got}`);
          }
          return lengthOf(v) / width;
        });
        const count = rows[0]!;
        rows.forEach((r, k) => {
          if (r !== count) throw new RangeError(`createDataset: inputs.${tr.trainInputs[k]![0]} has ${r} rows, other inputs have ${count}`);
        });
        // Checked once here, so that a rejected step of trainSteps can only mean the update itself.
        const arrays = given as Float32Array[];
        checkFinite('createDataset', 'inputs', arrays, tr.trainInputs);
        checkLabels('createDataset', arrays, tr.trainInputs);
        if (count < tr.batch) throw new RangeError(`createDataset: ${count} rows is fewer than one batch of ${tr.batch}`);
        // Each input is one GPU buffer: past the device's limit, WebGPU would only report a
        // validation error, and trainSteps would train on nothing.
        tr.trainInputs.forEach(([name, length]) => {
          const bytes = count * (length / tr.batch) * 4;
          if (bytes > device.limits.maxBufferSize) {
            throw new RangeError(`createDataset: inputs.${name} needs ${mib(bytes)} but this device's maxBufferSize is ${mib(device.limits.maxBufferSize)}; `
              + 'split the data into several datasets, or request a device with the adapter\'s limits (requestDevice from gradc/runtime/webgpu does)');
          }
        });
        const made = tr.trainInputs.map(([name, length, , offset], k): Range => {
          const b = make(`dataset ${name}`, count * (length / tr.batch) * 4, COPY_SRC | COPY_DST);
          writeFloats(device, b, 0, arrays[k]!);
          return [b, offset, length / tr.batch];
        });
        const dataset = {
          rows: count,
          destroy() { if (datasets.delete(dataset)) for (const [b] of made) b.destroy(); },
        };
        datasets.set(dataset, { ranges: made, rows: count });
        return dataset;
      },
      // The options are read when the call is made, like every other argument; the dataset
      // is looked up when the call runs, so one destroyed in between is refused, never used.
      async trainSteps(dataset, options) {
        alive('trainSteps');
        const { firstRow, steps: count = 1, learningRate, readLoss = true } = options ?? ({} as never);
        return serial(async () => {
          alive('trainSteps');
          const data = datasets.get(dataset);
          if (!data) throw new TypeError('trainSteps: the dataset was destroyed, or was not created by this model\'s createDataset');
          checkRate(learningRate, 'trainSteps');
          if (!Number.isInteger(count) || count < 1) throw new RangeError(`trainSteps: steps must be an integer ≥ 1, got ${String(count)}`);
          // The rows createDataset counted: the dataset object's own `rows` is the caller's to change.
          if (!Number.isInteger(firstRow) || firstRow < 0 || firstRow + count * tr.batch > data.rows) {
            throw new RangeError(`trainSteps: rows ${String(firstRow)} to ${firstRow + count * tr.batch - 1} are outside the dataset's ${data.rows} rows`);
          }
          // Every step's scalars go up at once; each step copies its own into `hyper`, in order.
          const table = nextSteps('trainSteps', learningRate, count);
          if (!stepTable || stepTable.size < table.byteLength) {
            stepTable?.destroy();
            stepTable = make('step scalars', table.byteLength, COPY_SRC | COPY_DST);
            owned.push(stepTable);
          }
          device.queue.writeBuffer(stepTable, 0, table);
          // A dataset's mini-batches are whole: the largest batch's rows each.
          if (t.rows) writeRows(tr.batch);
          const encoder = device.createCommandEncoder();
          for (let s = 0; s < count; s++) {
            encoder.copyBufferToBuffer(stepTable, s * 16, buffers.hyper!, 0, 16);
            for (const [b, offset, width] of data.ranges) encoder.copyBufferToBuffer(b, (firstRow + s * tr.batch) * width * 4, buffers.inputs!, offset * 4, tr.batch * width * 4);
            dispatch(encoder, tr.entries.train);
          }
          const values = await submit('trainSteps', encoder, readLoss ? [lossRange, statusRange] : []);
          if (!readLoss) return NaN;
          const rejected = rejection('trainSteps', values[1]!, learningRate);
          if (rejected) throw rejected;
          return values[0]!;
        });
      },
    };
  }
}

/** `options.seed` of createModel (0 when not given), checked as initParams checks its seed. */
function seedOption(options: unknown): number {
  if (options === undefined) return 0;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`createModel: options must be an object { seed }, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) if (key !== 'seed') throw new TypeError(`createModel: unknown option ${JSON.stringify(key)}; expected seed`);
  const { seed = 0 } = options as { seed?: unknown };
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new TypeError(`createModel: options.seed must be an integer, got ${show(seed)}`);
  return seed;
}

/** A size in MiB, or in KiB below one MiB. */
const mib = (bytes: number) => (bytes < 2 ** 20 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`);

/** Every buffer against the device's limits, with what to do when one is past them. */
function checkLimits(device: GPUDevice, t: GpuModuleTables): void {
  const binding = device.limits.maxStorageBufferBindingSize;
  const buffer = device.limits.maxBufferSize;
  for (const [name, floats] of Object.entries(t.buffers)) {
    const bytes = floats * 4;
    const limit = Math.min(binding, buffer);
    if (bytes <= limit) continue;
    const which = binding <= buffer ? `maxStorageBufferBindingSize is ${mib(binding)}` : `maxBufferSize is ${mib(buffer)}`;
    throw new RangeError(`createModel: the ${name} buffer needs ${mib(bytes)} but this device's ${which}; request a device with the adapter's limits (requestDevice from gradc/runtime/webgpu does), or use a smaller batch or narrower layers`);
  }
}
