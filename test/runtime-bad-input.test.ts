/**
 * Bad input at run time, in the generated JS module and the WebGPU host module: NaN or
 * ±Infinity in params, bad learning rates, a model used after destroy(), a GPU device lost
 * mid-run. Each gets a clear error before anything is computed, and a failed train step
 * never leaves the params half-updated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestDevice } from '../runtime/webgpu/index.ts';
import housing from '../samples/housing/housing.graph.ts';
import { buildBoth, gpuDevice, type GpuHostModule, type GpuModelLike } from './support/gpu.ts';
import { randomArray, randomInputs, type Arrays, type GeneratedModule } from './support/module.ts';

let js: GeneratedModule;
let gpu: GpuHostModule;
beforeAll(async () => {
  ({ js, gpu } = await buildBoth(housing));
});

const copy = (p: Arrays): Arrays => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.slice()]));
/** Params with no zeros, so a step changes every one of them. */
const params = (): Arrays => Object.fromEntries(Object.entries(js.initParams(3)).map(([k, v], i) => [k, randomArray(v.length, i + 1, 0.5)]));
const inputs = () => randomInputs(js.meta, 4);

function expectUnchanged(p: Arrays, before: Arrays): void {
  for (const [k, v] of Object.entries(before)) expect(Array.from(p[k]), `params.${k}`).toEqual(Array.from(v));
}

const POISON: [string, number, string][] = [['NaN', NaN, 'NaN'], ['Infinity', Infinity, 'Infinity'], ['-Infinity', -Infinity, '-Infinity']];

describe('JS: non-finite params', () => {
  // The last element of the last param: a check made while updating would already have
  // changed every other param by then.
  const spots = (p: Arrays): [string, number][] => [['W1', 0], ['W1', p.W1.length - 1], ['b1', 1], ['b2', 0]];

  it.each(POISON)('%s in any param: trainStep throws a RangeError naming it, and changes nothing', (_, bad, shown) => {
    for (const [name, index] of spots(params())) {
      const p = params();
      p[name][index] = bad;
      const before = copy(p);
      expect(() => js.trainStep(p, inputs(), 0.1)).toThrow(new RangeError(
        `trainStep: params.${name}[${index}] is ${shown}; params must be finite (NaN or Infinity would spread to every param in one step)`));
      expectUnchanged(p, before);
    }
  });

  it('the check is not fooled by values that are merely large or tiny, or by -0', () => {
    const p = params();
    p.W1[0] = 3.4e38;
    p.W1[1] = -3.4e38;
    p.b1[0] = 1e-45;
    p.b1[1] = -0;
    // The step itself overflows (and is rejected for that); the params' check lets them through.
    expect(() => js.trainStep(p, inputs(), 1e-30)).not.toThrow(/params\.\w+\[\d+\] is/);
  });

  it('after a rejected step, fixing the param lets training go on', () => {
    const p = params();
    p.W2[1] = NaN;
    expect(() => js.trainStep(p, inputs(), 0.1)).toThrow(/params\.W2\[1\] is NaN/);
    p.W2[1] = 0.25;
    const before = copy(p);
    expect(Number.isFinite(js.trainStep(p, inputs(), 0.1))).toBe(true);
    for (const k of Object.keys(before)) expect(Array.from(p[k]), k).not.toEqual(Array.from(before[k]));
  });

  it('forward, loss and gradient do not write params, and pass NaN through instead of checking', () => {
    const p = params();
    p.b2[0] = NaN;
    expect(Number.isNaN(js.forward(p, { x: inputs().x }).price[0])).toBe(true);
    expect(Number.isNaN(js.loss(p, inputs()))).toBe(true);
  });

  it('a step whose inputs are NaN is rejected, naming the element, and changes nothing', () => {
    const p = params();
    const before = copy(p);
    const x = inputs();
    x.x[5] = NaN;
    expect(() => js.trainStep(p, x, 0.1)).toThrow(/trainStep: the step was rejected, because it would make params or optimizer state NaN or ±Infinity: inputs\.x\[5\] is NaN\. Nothing was changed/);
    expect(p).toEqual(before);
  });
});

describe('JS: a failed train step changes nothing', () => {
  const failing: [string, (p: Arrays) => unknown][] = [
    ['NaN in the last param', (p) => js.trainStep({ ...p, b2: new Float32Array([NaN]) }, inputs(), 0.1)],
    ['learning rate 0', (p) => js.trainStep(p, inputs(), 0)],
    ['learning rate NaN', (p) => js.trainStep(p, inputs(), NaN)],
    ['a missing input', (p) => js.trainStep(p, { x: inputs().x }, 0.1)],
    ['the last input too short', (p) => js.trainStep(p, { ...inputs(), y: new Float32Array(3) }, 0.1)],
    ['the last param too long', (p) => js.trainStep({ ...p, b2: new Float32Array(2) }, inputs(), 0.1)],
    ['an unknown input', (p) => js.trainStep(p, { ...inputs(), z: new Float32Array(1) }, 0.1)],
    ['params null', () => js.trainStep(null as unknown as Arrays, inputs(), 0.1)],
  ];
  it.each(failing)('%s', (_, step) => {
    const p = params();
    const before = copy(p);
    expect(() => step(p)).toThrow();
    expectUnchanged(p, before);
  });
});

describe('WebGPU: bad input', () => {
  let model: GpuModelLike;
  let start: Arrays;
  beforeAll(async () => {
    start = params();
    model = await gpu.createModel(await gpuDevice());
    await model.setParams(start);
  }, 60_000);
  afterAll(() => model?.destroy());

  it.each(POISON)('setParams with %s rejects (a rejected promise, not a throw) and keeps the params on the GPU', async (_, bad, shown) => {
    const p = params();
    p.b2[0] = bad;
    const call = model.setParams(p);
    expect(call).toBeInstanceOf(Promise);
    await expect(call).rejects.toThrow(new RangeError(`setParams: params.b2[0] is ${shown}; params must be finite (NaN or Infinity would spread to every param in one step)`));
    expectUnchanged(await model.getParams(), start);
  });

  it('setParams with a wrong array rejects too', async () => {
    await expect(model.setParams({ ...params(), W1: new Float32Array(3) })).rejects.toThrow('setParams: params.W1 must have shape [4,3] (12 values), got 3 values');
    expectUnchanged(await model.getParams(), start);
  });

  it.each([0, -1, NaN, Infinity, '0.1', undefined])('trainStep with learning rate %s rejects and changes nothing', async (rate) => {
    await expect(model.trainStep(inputs(), rate as number)).rejects.toThrow(/^trainStep: learningRate must be a finite number > 0, got /);
    expectUnchanged(await model.getParams(), start);
  });

  it('trainStep with bad inputs rejects and changes nothing', async () => {
    await expect(model.trainStep({ x: inputs().x }, 0.1)).rejects.toThrow('trainStep: inputs.y must be a Float32Array of shape [64,1] (64 values), got nothing');
    await expect(model.trainStep({ ...inputs(), y: new Float64Array(64) as unknown as Float32Array }, 0.1)).rejects.toThrow(/inputs\.y must be a Float32Array/);
    expectUnchanged(await model.getParams(), start);
  });

  it('trainSteps with a bad learning rate or range rejects and changes nothing', async () => {
    const data = { x: randomArray(64 * 4 * 2, 1), y: randomArray(64 * 2, 2) };
    const ds = model.createDataset(data);
    await expect(model.trainSteps(ds, { firstRow: 0, steps: 2, learningRate: -1 })).rejects.toThrow(/trainSteps: learningRate must be a finite number > 0, got -1/);
    await expect(model.trainSteps(ds, { firstRow: 64, steps: 2, learningRate: 0.1 })).rejects.toThrow(/outside the dataset's 128 rows/);
    await expect(model.trainSteps(ds, { firstRow: 0, steps: 0, learningRate: 0.1 })).rejects.toThrow(/steps must be an integer ≥ 1/);
    expectUnchanged(await model.getParams(), start);
    ds.destroy();
  });

  it('a good step afterwards does change them (so the checks above can fail)', async () => {
    const other = await gpu.createModel(await gpuDevice());
    await other.setParams(start);
    await other.trainStep(inputs(), 0.1);
    const after = await other.getParams();
    expect(Object.keys(start).some((k) => Array.from(after[k]).some((v, i) => v !== start[k][i]))).toBe(true);
    other.destroy();
    // Used after destroy(): every call rejects (or, for the synchronous createDataset, throws).
    const calls: [string, () => unknown][] = [
      ['setParams', () => other.setParams(start)],
      ['getParams', () => other.getParams()],
      ['forward', () => other.forward({ x: inputs().x })],
      ['loss', () => other.loss(inputs())],
      ['gradient', () => other.gradient(inputs())],
      ['trainStep', () => other.trainStep(inputs(), 0.1)],
      ['trainSteps', () => other.trainSteps({ rows: 64, destroy() {} }, { firstRow: 0, learningRate: 0.1 })],
    ];
    for (const [fn, call] of calls) await expect(call(), fn).rejects.toThrow(`${fn}: the model was destroyed; create a new one`);
    expect(() => other.createDataset(inputs())).toThrow('createDataset: the model was destroyed; create a new one');
    other.destroy(); // twice is fine
  }, 60_000);
});

describe('WebGPU: the device is lost mid-run', () => {
  it('calls in flight and later calls reject with a clear message; a new model on the lost device is refused', async () => {
    // A device of its own: destroying it must not disturb the other tests' device.
    const device = await requestDevice();
    const model = await gpu.createModel(device);
    await model.setParams(params());
    const rows = 64 * 50;
    const ds = model.createDataset({ x: randomArray(rows * 4, 5), y: randomArray(rows, 6) });
    const running = model.trainSteps(ds, { firstRow: 0, steps: 50, learningRate: 0.01 });
    const queued = model.gradient(inputs());
    device.destroy();
    const lost = /^(trainSteps|gradient): the GPU device was lost \(.+\); create a new device and model$/;
    await expect(running).rejects.toThrow(lost);
    await expect(queued).rejects.toThrow(lost);
    for (const [fn, call] of [
      ['loss', () => model.loss(inputs())],
      ['forward', () => model.forward({ x: inputs().x })],
      ['getParams', () => model.getParams()],
      ['setParams', () => model.setParams(params())],
      ['trainStep', () => model.trainStep(inputs(), 0.1)],
    ] as const) {
      await expect(call(), fn).rejects.toThrow(new RegExp(`^${fn}: the GPU device was lost \\(.+\\); create a new device and model$`));
    }
    await expect(gpu.createModel(device)).rejects.toThrow(/^createModel: the GPU device was lost \(.+\); create a new device$/);
    model.destroy();
  }, 60_000);
});

/** A Proxy of a Float32Array that passes `instanceof` and answers reads: `hooks` changes some. */
const posing = (target: Float32Array, hooks: ProxyHandler<Float32Array> = {}): Float32Array => new Proxy(target, {
  get: (t, k) => {
    const v = Reflect.get(t, k, t);
    return typeof v === 'function' ? v.bind(t) : v;
  },
  ...hooks,
});

describe('JS: arrays that are not what they claim', () => {
  it('a Proxy posing as a param is refused before anything runs (a throwing set trap once left the params half-updated)', () => {
    const p = params();
    const before = copy(p);
    const real = p.b2;
    const call = () => js.trainStep({ ...p, b2: posing(real, { set: () => { throw new Error('set trap'); } }) }, inputs(), 0.1);
    expect(call).toThrow(new TypeError('trainStep: params.b2 must be a Float32Array of shape [1] (1 values), got an object posing as one (a Proxy?)'));
    expectUnchanged(p, before);
    expect(Array.from(real)).toEqual(Array.from(before.b2));
  });

  it('a Proxy posing as a param cannot show the check one value and the update another (it once wrote Infinity)', () => {
    const p = params();
    const before = copy(p);
    let reads = 0;
    const W1 = posing(p.W1, { get: (t, k) => (k === '0' ? (++reads > 1 ? Infinity : t[0]) : Reflect.get(t, k, t)) });
    expect(() => js.trainStep({ ...p, W1 }, inputs(), 0.1)).toThrow(/params\.W1 must be a Float32Array .* got an object posing as one/);
    expectUnchanged(p, before);
  });

  it('a subclass whose buffer getter lies cannot hide that two params share memory', () => {
    class Liar extends Float32Array {
      override get buffer(): ArrayBuffer { return new ArrayBuffer(8); }
    }
    const p = params();
    const block = new ArrayBuffer(4 * 16);
    const W1 = new Liar(block, 0, 12);
    const b1 = new Liar(block, 4 * 10, 3);
    W1.set(p.W1);
    const before = { W1: W1.slice(), b1: b1.slice() };
    expect(() => js.trainStep({ ...p, W1, b1 }, inputs(), 0.1)).toThrow(/params\.W1 and params\.b1 share memory/);
    expect([Array.from(W1), Array.from(b1)]).toEqual([Array.from(before.W1), Array.from(before.b1)]);
  });

  it('a getter that shrinks a param read before it is caught, naming the param', () => {
    const p = params();
    // Resizable buffers are ES2024 (Node 20 has them; this project's TypeScript lib does not).
    const Resizable = ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => ArrayBuffer & { resize(bytes: number): void };
    const resizable = new Resizable(4 * 12, { maxByteLength: 4 * 12 });
    const W1 = new Float32Array(resizable);
    W1.set(p.W1);
    const kept = W1.slice();
    const { x, y } = inputs();
    const hostile = { get x() { resizable.resize(8); return x; }, y };
    expect(() => js.trainStep({ ...p, W1 }, hostile, 0.1)).toThrow(/^trainStep: params\.W1 changed length while the arguments were read \(to 2 values/);
    expect(Array.from(W1)).toEqual(Array.from(kept.subarray(0, 2)));
  });
});

describe('WebGPU: arguments read once, when the call is made', () => {
  let model: GpuModelLike;
  beforeAll(async () => {
    model = await gpu.createModel(await gpuDevice());
  }, 60_000);
  afterAll(() => model?.destroy());
  const rows = 64 * 2;
  const data = () => ({ x: randomArray(rows * 4, 11), y: randomArray(rows, 12) });

  it('createDataset reads each array once (a getter once slipped a NaN array past the check)', async () => {
    const good = data();
    const poisoned = good.x.slice().fill(NaN);
    let reads = 0;
    const dataset = model.createDataset({ get x() { return reads++ === 0 ? good.x : poisoned; }, y: good.y });
    expect(reads).toBe(1);
    await model.setParams(params());
    expect(Number.isFinite(await model.trainSteps(dataset, { firstRow: 0, steps: 2, learningRate: 0.01 }))).toBe(true);
    dataset.destroy();
  });

  it("trainSteps keeps to the rows createDataset counted, whatever the dataset's rows property says", async () => {
    const dataset = model.createDataset(data());
    await model.setParams(params());
    (dataset as { rows: number }).rows = 1e6;
    await expect(model.trainSteps(dataset, { firstRow: 64, steps: 2, learningRate: 0.01 })).rejects.toThrow(/^trainSteps: rows 64 to 191 are outside the dataset's 128 rows$/);
    expectUnchanged(await model.getParams(), params());
    dataset.destroy();
  });

  it('trainSteps reads its options when it is called: changing them afterwards changes nothing', async () => {
    const d = data();
    const dataset = model.createDataset(d);
    await model.setParams(params());
    const options = { firstRow: 0, steps: 1, learningRate: 0.01 };
    const running = model.trainSteps(dataset, options);
    Object.assign(options, { firstRow: 64, learningRate: 1e30 });
    await running;
    const want = params();
    js.trainStep(want, { x: d.x.subarray(0, 256), y: d.y.subarray(0, 64) }, 0.01);
    const got = await model.getParams();
    for (const k of Object.keys(want)) for (let i = 0; i < want[k].length; i++) expect(Math.abs(got[k][i] - want[k][i]), `${k}[${i}]`).toBeLessThanOrEqual(1e-5 + 1e-3 * Math.abs(want[k][i]));
    dataset.destroy();
  });

  it('a Proxy posing as an input is refused, and nothing runs', async () => {
    await model.setParams(params());
    const x = posing(inputs().x);
    await expect(model.trainStep({ ...inputs(), x }, 0.1)).rejects.toThrow('trainStep: inputs.x must be a Float32Array of shape [64,4] (256 values), got an object posing as one (a Proxy?)');
    expectUnchanged(await model.getParams(), params());
  });
});

describe('WebGPU: a dataset past the device\'s buffer limit', () => {
  it('is refused by createDataset, naming the input and the limit (WebGPU alone only logged a validation error, and trainSteps resolved to a loss nothing computed)', async () => {
    const real = await gpuDevice();
    // The same device, reporting a 16 KiB maxBufferSize: the model's own buffers fit, a dataset of 2,048 rows of x (32 KiB) does not.
    const small = new Proxy(real, {
      get(target, key) {
        // GPUSupportedLimits keeps its values behind prototype getters: copied one by one.
        if (key === 'limits') {
          const names = Object.keys(Object.getOwnPropertyDescriptors(Object.getPrototypeOf(target.limits)));
          return { ...Object.fromEntries(names.map((k) => [k, (target.limits as unknown as Record<string, unknown>)[k]])), maxBufferSize: 16 * 1024 };
        }
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const model = await gpu.createModel(small as GPUDevice);
    try {
      const rows = 2048;
      expect(() => model.createDataset({ x: randomArray(rows * 4, 1), y: randomArray(rows, 2) }))
        .toThrow(/^createDataset: inputs\.x needs 32\.0 KiB but this device's maxBufferSize is 16\.0 KiB; split the data into several datasets/);
      // Within the limit it is made as before.
      const ok = model.createDataset({ x: randomArray(128 * 4, 1), y: randomArray(128, 2) });
      expect(ok.rows).toBe(128);
      ok.destroy();
    } finally {
      model.destroy();
    }
  }, 60_000);
});

describe('arguments a call cannot use are refused alike on JS, wasm and WebGPU, naming them', async () => {
  const { adam, affine, graph, squaredLoss } = await import('../compiler/index.ts');
  const { buildWasmModule } = await import('./support/wasm.ts');
  const net = graph('adam_args', (g) => {
    const o = affine(g.input('x', [4, 3]), g.param('W', [3, 2]), g.param('b', [2]));
    g.output('o', o);
    g.loss(squaredLoss(o, g.input('y', [4, 2])));
    g.optimizer(adam());
  });
  const both = await buildBoth(net);
  const cpu: [string, GeneratedModule][] = [['JS', both.js], ['wasm', await buildWasmModule(net)]];
  const data = () => ({ x: randomArray(12, 1), y: randomArray(8, 2) });
  const detachedArray = () => {
    const a = new Float32Array(12);
    structuredClone(a.buffer, { transfer: [a.buffer] });
    return a;
  };

  describe.each(cpu)('%s', (_, mod) => {
    it('a frozen state is refused before anything is written, naming state.step', () => {
      const p = mod.initParams(1);
      const before = copy(p as Arrays);
      const state = Object.freeze(mod.initOptimizerState!());
      expect(() => mod.trainStep(p, data(), 0.01, state as never)).toThrow(new TypeError(
        'trainStep: state.step cannot be written (the state is frozen, or step is read-only), so the step could not be counted; pass a state the call can update, as initOptimizerState() gives'));
      expectUnchanged(p as Arrays, before);
      expect((state as { step: number }).step).toBe(0);
      // A read-only step alone, too.
      const readOnly = mod.initOptimizerState!();
      Object.defineProperty(readOnly, 'step', { value: 0, writable: false });
      expect(() => mod.trainStep(p, data(), 0.01, readOnly as never)).toThrow(/^trainStep: state\.step cannot be written/);
      expectUnchanged(p as Arrays, before);
    });

    it('a state with an extra slot is refused, naming it', () => {
      const p = mod.initParams(1);
      const state = { ...mod.initOptimizerState!(), velocity: mod.initParams(2) };
      expect(() => mod.trainStep(p, data(), 0.01, state as never)).toThrow(new TypeError('trainStep: unknown state slot "velocity"; this optimizer\'s state is { step, m, v }'));
    });

    it('a BigInt learning rate is named as one', () => {
      expect(() => mod.trainStep(mod.initParams(1), data(), 10n as never, mod.initOptimizerState!() as never)).toThrow(
        new RangeError('trainStep: learningRate must be a finite number > 0, got 10n (a BigInt, not a number)'));
    });

    it('an input over a detached buffer is named as one, not as "0 values"', () => {
      expect(() => mod.loss(mod.initParams(1), { x: detachedArray(), y: randomArray(8, 2) })).toThrow(
        new TypeError('loss: inputs.x must have shape [4,3] (12 values), got a Float32Array whose buffer was detached (transferred, e.g. by postMessage, so it holds no values)'));
    });
  });

  describe('WebGPU', () => {
    it('a BigInt learning rate, a detached input and a state with an extra slot are refused, naming them', async () => {
      const model = await both.gpu.createModel(await gpuDevice());
      await expect(model.trainStep(data(), 10n as never)).rejects.toThrow('trainStep: learningRate must be a finite number > 0, got 10n (a BigInt, not a number)');
      await expect(model.loss({ x: detachedArray(), y: randomArray(8, 2) })).rejects.toThrow(/^loss: inputs\.x must have shape \[4,3\] \(12 values\), got a Float32Array whose buffer was detached/);
      const state = { ...(await model.getOptimizerState()), velocity: {} };
      await expect(model.setOptimizerState(state as never)).rejects.toThrow('setOptimizerState: unknown state slot "velocity"; this optimizer\'s state is { step, m, v }');
      model.destroy();
    });
  });
});

describe('a state given to a stateless (SGD) train step is refused alike on JS, wasm and WebGPU, not ignored', async () => {
  const { affine, graph, sgd, squaredLoss } = await import('../compiler/index.ts');
  const { buildWasmModule } = await import('./support/wasm.ts');
  const net = graph('sgd_args', (g) => {
    const o = affine(g.input('x', [4, 3]), g.param('W', [3, 2]), g.param('b', [2]));
    g.output('o', o);
    g.loss(squaredLoss(o, g.input('y', [4, 2])));
    g.optimizer(sgd());
  });
  const both = await buildBoth(net);
  const cpu: [string, GeneratedModule][] = [['JS', both.js], ['wasm', await buildWasmModule(net)]];
  const data = () => ({ x: randomArray(12, 1), y: randomArray(8, 2) });

  it.each(cpu)('%s: a fourth argument throws one line naming it, and changes nothing; undefined is fine', (_, mod) => {
    expect(mod.initOptimizerState).toBeUndefined();
    const p = mod.initParams(1);
    const before = copy(p as Arrays);
    const state = { step: 0, m: mod.initParams(2) };
    const trainStep = mod.trainStep as (...args: unknown[]) => number;
    expect(() => trainStep(p, data(), 0.01, state)).toThrow(new TypeError(
      'trainStep: the sgd optimizer keeps no state, so trainStep takes (params, inputs, learningRate); got a fourth argument (Object)'));
    expect(() => trainStep(p, data(), 0.01, 0)).toThrow(/^trainStep: the sgd optimizer keeps no state, .*got a fourth argument \(number\)$/);
    expectUnchanged(p as Arrays, before);
    expect(state.step).toBe(0);
    // Code written for any optimizer passes initOptimizerState?.(), undefined here: a plain step.
    expect(Number.isFinite(trainStep(p, data(), 0.01, undefined))).toBe(true);
    expect(p.W).not.toEqual(before.W);
  });

  it('WebGPU: a third argument (a state) throws one line naming it, and changes nothing', async () => {
    const model = await both.gpu.createModel(await gpuDevice());
    try {
      const trainStep = model.trainStep as (...args: unknown[]) => Promise<number>;
      const params = await model.getParams();
      await expect(trainStep(data(), 0.01, { step: 0 })).rejects.toThrow(new TypeError(
        'trainStep: a WebGPU model keeps its params and optimizer state on the GPU, so trainStep takes (inputs, learningRate); got a third argument (Object)'));
      expectUnchanged(await model.getParams() as Arrays, params as Arrays);
      expect(Number.isFinite(await trainStep(data(), 0.01, undefined))).toBe(true);
    } finally {
      model.destroy();
    }
  }, 60_000);
});
