/**
 * The graph-independent part of every generated WebGPU host module, embedded verbatim: it
 * reads the module's constant tables (arena offsets, kernels and their dispatch sizes, the
 * kernels of each entry point) and drives the device. Pipelines, the bind group, the arena
 * and the staging buffer are created once in createModel; each call records one command
 * encoder. Calls are serialized, so a model is safe to use from overlapping async code.
 */

export const HOST_HELPER_NAMES = ['createModel', 'GpuModel', 'GpuDataset', 'WGSL', 'KERNELS', 'ENTRIES', 'ARENA', 'OUTPUTS', 'GRADS', 'LOSS', 'LEARNING_RATE', 'BATCH'];

export const HOST_HELPERS_TS = `
// WebGPU flag values (spec constants), so the module needs no globals beyond the device.
const STORAGE = 0x80, COPY_SRC = 0x04, COPY_DST = 0x08, MAP_READ = 0x01, MAP_MODE_READ = 0x1;

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
  /** One SGD step on the GPU; resolves to the loss before the update. */
  trainStep(inputs: TrainInputs, learningRate: number): Promise<number>;
  /** Uploads whole training inputs once: \`rows\` examples of every TrainInputs name. */
  createDataset(inputs: TrainInputs): GpuDataset;
  /**
   * \`steps\` SGD steps over consecutive mini-batches of a GPU dataset, starting at row
   * \`firstRow\`, in one submission; resolves to the loss before the last step.
   */
  trainSteps(dataset: GpuDataset, options: { firstRow: number; steps?: number; learningRate: number }): Promise<number>;
  /** Frees the model's GPU buffers; any later call throws. */
  destroy(): void;
}

/** Compiles the kernels (pipelines created asynchronously) and allocates the arena. */
export async function createModel(device: GPUDevice): Promise<GpuModel> {
  if (!device || typeof (device as { createShaderModule?: unknown }).createShaderModule !== 'function') {
    throw new TypeError(\`createModel: expected a GPUDevice, got \${describe(device)}\`);
  }
  let lostReason: string | null = null;
  device.lost?.then((info) => { lostReason = info.message || String(info.reason); });
  const module = device.createShaderModule({ code: WGSL, label: meta.name });
  const layout = device.createBindGroupLayout({ entries: [{ binding: 0, visibility: 4 /* COMPUTE */, buffer: { type: 'storage' } }] });
  const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
  const pipelines = await Promise.all(KERNELS.map(([entryPoint]) =>
    device.createComputePipelineAsync({ layout: pipelineLayout, compute: { module, entryPoint }, label: entryPoint })));
  const arena = device.createBuffer({ size: ARENA * 4, usage: STORAGE | COPY_SRC | COPY_DST, label: \`\${meta.name} arena\` });
  const stagingFloats = Math.max(1, ...[PARAMS, OUTPUTS, GRADS].map((spec) => spec.reduce((n, s) => n + s[1], 1)));
  const staging = device.createBuffer({ size: stagingFloats * 4, usage: MAP_READ | COPY_DST, label: \`\${meta.name} staging\` });
  const bindGroup = device.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer: arena } }] });
  // A device lost before or while the pipelines compiled leaves every object invalid.
  if (lostReason !== null) throw new Error(\`createModel: the GPU device was lost (\${lostReason}); create a new device\`);
  const rate = new Float32Array(1);
  let destroyed = false;
  /** This model's live datasets: one from another model, or destroyed, is refused. */
  const datasets = new WeakMap<object, [GPUBuffer, number, number][]>();
  let chain: Promise<unknown> = Promise.resolve();

  const alive = (fn: string) => {
    if (destroyed) throw new Error(\`\${fn}: the model was destroyed; create a new one\`);
    if (lostReason !== null) throw new Error(\`\${fn}: the GPU device was lost (\${lostReason}); create a new device and model\`);
  };
  /** Runs calls one after another, so staging reads never overlap. */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };
  const upload = (spec: Spec, record: Record<string, Float32Array>) => {
    for (const [name, , , offset] of spec) device.queue.writeBuffer(arena, offset * 4, record[name] as unknown as GPUAllowSharedBufferSource);
  };
  const dispatch = (pass: GPUComputePassEncoder, kernels: readonly number[]) => {
    for (const k of kernels) {
      const [, x, y, z] = KERNELS[k];
      pass.setPipeline(pipelines[k]);
      pass.dispatchWorkgroups(x, y, z);
    }
  };
  const compute = (encoder: GPUCommandEncoder, kernels: readonly number[]) => {
    const pass = encoder.beginComputePass();
    pass.setBindGroup(0, bindGroup);
    dispatch(pass, kernels);
    pass.end();
  };
  /** Copies arena regions into the staging buffer, submits, and reads them back. */
  const finish = async (fn: string, encoder: GPUCommandEncoder, regions: readonly (readonly [number, number])[]): Promise<Float32Array> => {
    let at = 0;
    for (const [offset, length] of regions) {
      encoder.copyBufferToBuffer(arena, offset * 4, staging, at * 4, length * 4);
      at += length;
    }
    device.queue.submit([encoder.finish()]);
    if (at === 0) return new Float32Array(0);
    try {
      await staging.mapAsync(MAP_MODE_READ, 0, at * 4);
    } catch (e) {
      // A lost device or a destroyed model aborts the read; the device's lost promise may
      // settle just after, so give it a turn, then say which it was.
      await new Promise((resolve) => setTimeout(resolve, 0));
      alive(fn);
      throw new Error(\`\${fn}: reading the results back from the GPU failed (\${e instanceof Error ? e.name + (e.message ? ': ' + e.message : '') : String(e)})\`);
    }
    const values = new Float32Array(staging.getMappedRange(0, at * 4).slice(0));
    staging.unmap();
    alive(fn);
    return values;
  };
  const unpack = (spec: Spec, values: Float32Array, from = 0) => {
    const out: Record<string, Float32Array> = {};
    let at = from;
    for (const [name, length] of spec) {
      out[name] = values.slice(at, at + length);
      at += length;
    }
    return out;
  };
  const regions = (spec: Spec) => spec.map((s) => [s[3], s[1]] as const);
  const run = async (fn: string, inputs: unknown, spec: Spec, kernels: readonly number[], reads: readonly (readonly [number, number])[]) => {
    alive(fn);
    checkRecord(fn, 'inputs', inputs, spec, ALL_INPUTS);
    upload(spec, inputs as Record<string, Float32Array>);
    const encoder = device.createCommandEncoder();
    compute(encoder, kernels);
    return finish(fn, encoder, reads);
  };

  return {
    // async: a bad argument rejects the promise, like every other call, instead of throwing.
    async setParams(params) {
      alive('setParams');
      checkRecord('setParams', 'params', params, PARAMS, PARAMS);
      checkFinite('setParams', 'params', params as unknown as Record<string, Float32Array>, PARAMS);
      const copy = Object.fromEntries(PARAMS.map(([name]) => [name, (params as unknown as Record<string, Float32Array>)[name].slice()]));
      return serial(async () => {
        alive('setParams');
        upload(PARAMS, copy);
      });
    },
    getParams: () => serial(async () => {
      alive('getParams');
      return unpack(PARAMS, await finish('getParams', device.createCommandEncoder(), regions(PARAMS))) as unknown as Params;
    }),
    forward: (inputs) => serial(async () => unpack(OUTPUTS, await run('forward', inputs, FORWARD_INPUTS, ENTRIES.forward, regions(OUTPUTS))) as unknown as Outputs),
    loss: (inputs) => serial(async () => (await run('loss', inputs, TRAIN_INPUTS, ENTRIES.loss, [[LOSS, 1]]))[0]),
    gradient: (inputs) => serial(async () => {
      const values = await run('gradient', inputs, TRAIN_INPUTS, ENTRIES.gradient, [[LOSS, 1], ...regions(GRADS)]);
      return { loss: values[0], grads: unpack(GRADS, values, 1) as unknown as Params };
    }),
    trainStep: (inputs, learningRate) => serial(async () => {
      checkRate(learningRate);
      rate[0] = learningRate;
      alive('trainStep');
      device.queue.writeBuffer(arena, LEARNING_RATE * 4, rate);
      return (await run('trainStep', inputs, TRAIN_INPUTS, ENTRIES.train, [[LOSS, 1]]))[0];
    }),
    createDataset(inputs) {
      alive('createDataset');
      if (BATCH === 0) throw new TypeError('createDataset: the inputs of this graph do not share a batch dimension');
      if (typeof inputs !== 'object' || inputs === null) throw new TypeError(\`createDataset: inputs must be an object of Float32Arrays, got \${describe(inputs)}\`);
      const record = inputs as unknown as Record<string, unknown>;
      let rows = -1;
      const buffers: [GPUBuffer, number, number][] = [];
      for (const [name, length, shape, offset] of TRAIN_INPUTS) {
        const v = record[name];
        const width = length / BATCH;
        if (!(v instanceof Float32Array) || v.length === 0 || v.length % width !== 0) {
          throw new TypeError(\`createDataset: inputs.\${name} must be a Float32Array of rows of \${width} values (shape \${shape} per batch), got \${v instanceof Float32Array ? v.length + ' values' : describe(v)}\`);
        }
        if (rows >= 0 && v.length / width !== rows) throw new RangeError(\`createDataset: inputs.\${name} has \${v.length / width} rows, other inputs have \${rows}\`);
        rows = v.length / width;
        buffers.push([device.createBuffer({ size: v.byteLength, usage: COPY_SRC | COPY_DST, label: \`\${meta.name} dataset \${name}\` }), offset, width]);
      }
      if (rows < BATCH) throw new RangeError(\`createDataset: \${rows} rows is fewer than one batch of \${BATCH}\`);
      TRAIN_INPUTS.forEach(([name], i) => device.queue.writeBuffer(buffers[i][0], 0, record[name] as unknown as GPUAllowSharedBufferSource));
      let freed = false;
      const dataset = {
        rows,
        destroy() { if (!freed) { freed = true; datasets.delete(dataset); for (const [b] of buffers) b.destroy(); } },
      };
      datasets.set(dataset, buffers);
      return dataset;
    },
    trainSteps: (dataset, options) => serial(async () => {
      alive('trainSteps');
      const buffers = datasets.get(dataset);
      if (!buffers) throw new TypeError('trainSteps: the dataset was destroyed, or was not created by this model\\'s createDataset');
      const { firstRow, steps = 1, learningRate } = options ?? ({} as never);
      checkRate(learningRate, 'trainSteps');
      if (!Number.isInteger(steps) || steps < 1) throw new RangeError(\`trainSteps: steps must be an integer ≥ 1, got \${String(steps)}\`);
      if (!Number.isInteger(firstRow) || firstRow < 0 || firstRow + steps * BATCH > dataset.rows) {
        throw new RangeError(\`trainSteps: rows \${String(firstRow)} to \${firstRow + steps * BATCH - 1} are outside the dataset's \${dataset.rows} rows\`);
      }
      rate[0] = learningRate;
      device.queue.writeBuffer(arena, LEARNING_RATE * 4, rate);
      const encoder = device.createCommandEncoder();
      for (let s = 0; s < steps; s++) {
        const row = firstRow + s * BATCH;
        for (const [buffer, offset, width] of buffers) encoder.copyBufferToBuffer(buffer, row * width * 4, arena, offset * 4, BATCH * width * 4);
        compute(encoder, ENTRIES.train);
      }
      return (await finish('trainSteps', encoder, [[LOSS, 1]]))[0];
    }),
    destroy() {
      if (destroyed) return;
      destroyed = true;
      arena.destroy();
      staging.destroy();
    },
  };
}`.trim();
