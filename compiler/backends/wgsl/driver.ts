/**
 * The graph-independent part of every generated WebGPU host module, written once and embedded
 * as text: it reads the module's tables (buffers and bindings, kernels with their dispatch
 * sizes, the kernels of each entry point, where values live) and drives the device. Pipelines,
 * buffers and bind groups are made once in createModel; each call records one command
 * encoder. Calls are serialized, and each reads its arguments when it is made.
 */

/** Identifiers the driver declares. */
export const DRIVER_NAMES = ['createModel', 'GpuModel', 'GpuDataset', 'WGSL', 'BUFFERS', 'BINDINGS', 'KERNELS', 'ENTRIES', 'OUTPUTS',
  'GRADS', 'LOSS', 'BATCH', 'stepScalars', 'STORAGE', 'UNIFORM', 'COPY_SRC', 'COPY_DST', 'MAP_READ', 'Range'];

/** The driver's exported interfaces, also the .d.ts's. */
export const DRIVER_TYPES = `
/** Rows of a dataset kept on the GPU; \`trainSteps\` copies mini-batches out of it by offset. */
export interface GpuDataset {
  /** Examples (rows) in the dataset. */
  readonly rows: number;
  /** Frees the dataset's GPU buffers. */
  destroy(): void;
}

/** The graph on one GPUDevice. Reads resolve to fresh Float32Arrays shaped as in the JS module. */
export interface GpuModel {
  /** Uploads params (validated as the JS module's; applied after calls made before it). */
  setParams(params: Params): Promise<void>;
  getParams(): Promise<Params>;
  forward(inputs: ForwardInputs): Promise<Outputs>;
  loss(inputs: TrainInputs): Promise<number>;
  gradient(inputs: TrainInputs): Promise<Gradient>;
  /** One train step on the GPU; resolves to the loss before the update. */
  trainStep(inputs: TrainInputs, learningRate: number): Promise<number>;
  /** Uploads whole training inputs once: \`rows\` examples of every TrainInputs name. */
  createDataset(inputs: TrainInputs): GpuDataset;
  /**
   * \`steps\` train steps over consecutive mini-batches of a GPU dataset, starting at row
   * \`firstRow\`, in one submission; resolves to the loss before the last step.
   */
  trainSteps(dataset: GpuDataset, options: { firstRow: number; steps?: number; learningRate: number }): Promise<number>;
  /** Frees the model's GPU buffers; any later call throws. */
  destroy(): void;
}`.trim();

export const DRIVER = `
// WebGPU flag values (spec constants), so the module needs no globals beyond the device.
const STORAGE = 0x80, UNIFORM = 0x40, COPY_SRC = 0x04, COPY_DST = 0x08, MAP_READ = 0x01;
/** A range of a GPU buffer, in floats: [buffer, offset, length]. */
type Range = readonly [GPUBuffer, number, number];

/** Compiles the kernels (pipelines created asynchronously) and allocates the buffers. */
export async function createModel(device: GPUDevice): Promise<GpuModel> {
  if (typeof (device as { createShaderModule?: unknown } | null)?.createShaderModule !== 'function') {
    throw new TypeError(\`createModel: expected a GPUDevice, got \${describe(device)}\`);
  }
  let lost: string | null = null;
  let destroyed = false;
  let steps = 0;
  let chain: Promise<unknown> = Promise.resolve();
  let stepTable: GPUBuffer | undefined;
  device.lost?.then((info) => { lost = info.message || String(info.reason); });
  const alive = (fn: string) => {
    if (destroyed) throw new Error(\`\${fn}: the model was destroyed; create a new one\`);
    if (lost !== null) throw new Error(\`\${fn}: the GPU device was lost (\${lost}); create a new device\${fn === 'createModel' ? '' : ' and model'}\`);
  };
  const module = device.createShaderModule({ code: WGSL, label: meta.name });
  const pipelines = await Promise.all(KERNELS.map(([entryPoint]) =>
    device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint }, label: entryPoint })));
  const make = (name: string, bytes: number, usage: number) =>
    device.createBuffer({ label: \`\${meta.name} \${name}\`, size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
  const buffers = Object.fromEntries(Object.entries(BUFFERS).map(([name, floats]) =>
    [name, make(name, floats * 4, name === 'hyper' ? UNIFORM | COPY_DST : STORAGE | COPY_SRC | COPY_DST)])) as Record<keyof typeof BUFFERS, GPUBuffer>;
  const bindGroups = KERNELS.map(([, , , , bindings], k) => device.createBindGroup({
    layout: pipelines[k]!.getBindGroupLayout(0),
    entries: bindings.map((b) => ({ binding: b, resource: { buffer: buffers[BINDINGS[b]!] } })),
  }));
  const staging = make('staging', 4 * Math.max(...[PARAMS, OUTPUTS, GRADS].map((spec) => spec.reduce((n, s) => n + s[1], 1))), MAP_READ | COPY_DST);
  const datasets = new WeakMap<object, Range[]>();
  // A device lost before or while the pipelines compiled leaves every object invalid.
  alive('createModel');

  /** Runs calls one after another, so staging reads never overlap. */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };
  const upload = (buffer: GPUBuffer, spec: Spec, arrays: readonly Float32Array[]) =>
    spec.forEach((s, k) => device.queue.writeBuffer(buffer, s[3] * 4, arrays[k] as unknown as GPUAllowSharedBufferSource));
  const dispatch = (encoder: GPUCommandEncoder, kernels: readonly number[]) => {
    const pass = encoder.beginComputePass();
    for (const k of kernels) {
      pass.setPipeline(pipelines[k]!);
      pass.setBindGroup(0, bindGroups[k]!);
      pass.dispatchWorkgroups(KERNELS[k]![1], KERNELS[k]![2], KERNELS[k]![3]);
    }
    pass.end();
  };
  /** Submits the encoder with copies of \`reads\` into the staging buffer, and reads them back. */
  const submit = async (fn: string, encoder: GPUCommandEncoder, reads: readonly Range[]): Promise<Float32Array> => {
    let at = 0;
    for (const [buffer, offset, length] of reads) encoder.copyBufferToBuffer(buffer, offset * 4, staging, (at += length) * 4 - length * 4, length * 4);
    device.queue.submit([encoder.finish()]);
    try {
      await staging.mapAsync(1 /* READ */, 0, Math.max(at, 1) * 4);
    } catch (e) {
      // A lost device or a destroyed model aborts the read; the lost promise may settle just after.
      await new Promise((resolve) => setTimeout(resolve, 0));
      alive(fn);
      throw new Error(\`\${fn}: reading the results back from the GPU failed (\${e instanceof Error ? e.name + (e.message ? ': ' + e.message : '') : String(e)})\`);
    }
    const values = new Float32Array(staging.getMappedRange(0, Math.max(at, 1) * 4).slice(0));
    staging.unmap();
    alive(fn);
    return values;
  };
  const unpack = (spec: Spec, values: Float32Array, from = 0): Record<string, Float32Array> =>
    Object.fromEntries(spec.map(([name, length]) => [name, values.slice(from, (from += length))]));
  const ranges = (buffer: GPUBuffer, spec: Spec) => spec.map((s): Range => [buffer, s[3], s[1]]);
  const lossRange: Range = [buffers.arena, LOSS, 1];
  /** The optimizer's per-step scalars of the next \`count\` steps, 16 bytes a step. */
  const nextSteps = (learningRate: number, count: number) => {
    const values = new Float32Array(count * 4);
    for (let s = 0; s < count; s++) values.set(stepScalars(learningRate, ++steps), s * 4);
    return values;
  };
  /** Checks and copies the inputs when the call is made; the call runs when the calls before it are done. */
  const call = <T>(fn: string, inputs: unknown, spec: Spec, kernels: readonly number[], reads: readonly Range[], done: (v: Float32Array) => T, before?: () => void) => {
    alive(fn);
    const arrays = take(fn, 'inputs', inputs, spec, ALL_INPUTS).map((a) => a.slice());
    return serial(async () => {
      alive(fn);
      before?.();
      upload(buffers.inputs, spec, arrays);
      const encoder = device.createCommandEncoder();
      dispatch(encoder, kernels);
      return done(await submit(fn, encoder, reads));
    });
  };

  return {
    // async: a bad argument rejects the promise, like every other call, instead of throwing.
    async setParams(params) {
      alive('setParams');
      const arrays = take('setParams', 'params', params, PARAMS, PARAMS);
      checkFinite('setParams', 'params', arrays, PARAMS);
      const copies = arrays.map((a) => a.slice());
      return serial(async () => (alive('setParams'), upload(buffers.params, PARAMS, copies)));
    },
    getParams: () => serial(async () => {
      alive('getParams');
      return unpack(PARAMS, await submit('getParams', device.createCommandEncoder(), ranges(buffers.params, PARAMS))) as unknown as Params;
    }),
    forward: async (inputs) => call('forward', inputs, FORWARD_INPUTS, ENTRIES.forward, ranges(buffers.arena, OUTPUTS), (v) => unpack(OUTPUTS, v) as unknown as Outputs),
    loss: async (inputs) => call('loss', inputs, TRAIN_INPUTS, ENTRIES.loss, [lossRange], (v) => v[0]!),
    gradient: async (inputs) => call('gradient', inputs, TRAIN_INPUTS, ENTRIES.gradient, [lossRange, ...ranges(buffers.grads, GRADS)],
      (v) => ({ loss: v[0]!, grads: unpack(GRADS, v, 1) as unknown as Params })),
    async trainStep(inputs, learningRate) {
      checkRate(learningRate);
      return call('trainStep', inputs, TRAIN_INPUTS, ENTRIES.train, [lossRange], (v) => v[0]!,
        () => device.queue.writeBuffer(buffers.hyper, 0, nextSteps(learningRate, 1)));
    },
    createDataset(inputs) {
      alive('createDataset');
      if (BATCH === 0) throw new TypeError('createDataset: the inputs of this graph do not share a batch dimension');
      if (typeof inputs !== 'object' || inputs === null) throw new TypeError(\`createDataset: inputs must be an object of Float32Arrays, got \${describe(inputs)}\`);
      const record = inputs as unknown as Record<string, unknown>;
      const rows = TRAIN_INPUTS.map(([name, length, shape]) => {
        const v = record[name];
        const width = length / BATCH;
        if (!(v instanceof Float32Array) || v.length === 0 || v.length % width !== 0) {
          throw new TypeError(\`createDataset: inputs.\${name} must be a Float32Array of rows of \${width} values (shape \${shape} per batch), got \${v instanceof Float32Array ? v.length + ' values' : describe(v)}\`);
        }
        return v.length / width;
      });
      const count = rows[0]!;
      rows.forEach((r, k) => {
        if (r !== count) throw new RangeError(\`createDataset: inputs.\${TRAIN_INPUTS[k]![0]} has \${r} rows, other inputs have \${count}\`);
      });
      if (count < BATCH) throw new RangeError(\`createDataset: \${count} rows is fewer than one batch of \${BATCH}\`);
      const made = TRAIN_INPUTS.map(([name, length, , offset]): Range => {
        const b = make(\`dataset \${name}\`, count * (length / BATCH) * 4, COPY_SRC | COPY_DST);
        device.queue.writeBuffer(b, 0, record[name] as GPUAllowSharedBufferSource);
        return [b, offset, length / BATCH];
      });
      const dataset = {
        rows: count,
        destroy() { if (datasets.delete(dataset)) for (const [b] of made) b.destroy(); },
      };
      datasets.set(dataset, made);
      return dataset;
    },
    trainSteps: (dataset, options) => serial(async () => {
      alive('trainSteps');
      const made = datasets.get(dataset);
      if (!made) throw new TypeError('trainSteps: the dataset was destroyed, or was not created by this model\\'s createDataset');
      const { firstRow, steps: count = 1, learningRate } = options ?? ({} as never);
      checkRate(learningRate, 'trainSteps');
      if (!Number.isInteger(count) || count < 1) throw new RangeError(\`trainSteps: steps must be an integer ≥ 1, got \${String(count)}\`);
      if (!Number.isInteger(firstRow) || firstRow < 0 || firstRow + count * BATCH > dataset.rows) {
        throw new RangeError(\`trainSteps: rows \${String(firstRow)} to \${firstRow + count * BATCH - 1} are outside the dataset's \${dataset.rows} rows\`);
      }
      // Every step's scalars go up at once; each step copies its own into \`hyper\`, in order.
      const table = nextSteps(learningRate, count);
      if (!stepTable || stepTable.size < table.byteLength) {
        stepTable?.destroy();
        stepTable = make('step scalars', table.byteLength, COPY_SRC | COPY_DST);
      }
      device.queue.writeBuffer(stepTable, 0, table);
      const encoder = device.createCommandEncoder();
      for (let s = 0; s < count; s++) {
        encoder.copyBufferToBuffer(stepTable, s * 16, buffers.hyper, 0, 16);
        for (const [b, offset, width] of made) encoder.copyBufferToBuffer(b, (firstRow + s * BATCH) * width * 4, buffers.inputs, offset * 4, BATCH * width * 4);
        dispatch(encoder, ENTRIES.train);
      }
      return (await submit('trainSteps', encoder, [lossRange]))[0]!;
    }),
    destroy() {
      if (destroyed) return;
      destroyed = true;
      for (const b of [...Object.values(buffers), staging, ...(stepTable ? [stepTable] : [])]) b.destroy();
    },
  };
}`.trim();
