/**
 * The fusion design, pinned: for an MLP of L affine layers, forward is L kernels (bias and
 * activation in each matmul's epilogue), the loss adds no kernel (summed in the last
 * matmul), the gradient is 3L − 1 (each δ kernel also sums its bias gradient; one Aᵀ·δ
 * per weight), and the train step runs those same 3L − 1 kernels, then the optimizer's update.
 * Memory planning shares space between buffers whose lifetimes do not overlap.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import type { GraphDef } from '../compiler/index.ts';
import { entryOf } from '../compiler/kernels/plan.ts';
import housing from '../samples/housing/housing.graph.ts';
import iris from '../samples/iris/iris.graph.ts';
import kink from '../samples/kink/kink.graph.ts';
import { buildGraph } from './support/random-graph.ts';

const counts = (def: GraphDef) => Object.fromEntries(compile(def).plan.entries.map((e) => [e.name, e.steps.length]));

describe('kernel counts', () => {
  it.each([
    ['housing (L = 2)', housing, { forward: 2, loss: 2, gradient: 5, train: 6 }],
    ['iris (L = 3)', iris, { forward: 3, loss: 3, gradient: 8, train: 9 }],
    // One neuron with a ReLU on the output: loss, delta, act' and db all fuse into the forward kernel.
    ['kink (L = 1)', kink, { forward: 1, loss: 1, gradient: 2, train: 3 }],
    ['a 5-layer random MLP', buildGraph({ batch: 33, widths: [7, 17, 16, 3, 31, 2], activations: ['tanh', 'relu', 'sigmoid', 'relu'] }), { forward: 5, loss: 5, gradient: 14, train: 15 }],
  ] as const)('%s', (_, def, expected) => {
    expect(counts(def)).toEqual(expected);
  });

  it("the train step runs the gradient's kernels, then the optimizer's update: no kernel is copied", () => {
    for (const def of [housing, iris, kink]) {
      const { plan } = compile(def);
      const gradient = entryOf(plan, 'gradient')!;
      const train = entryOf(plan, 'train')!;
      expect(train.steps).toEqual([...gradient.steps, { kind: 'update' }]);
      expect(plan.optimizer?.name).toBe('sgd');
    }
  });

  it('every kernel of a plan is distinct, and each is named once', () => {
    for (const def of [housing, iris, kink]) {
      const { plan } = compile(def);
      const keys = plan.kernels.map((k) => JSON.stringify({ ...k, name: '' }));
      expect(new Set(keys).size).toBe(keys.length);
      expect(new Set(plan.kernels.map((k) => k.name)).size).toBe(plan.kernels.length);
    }
  });
});

describe('memory plan', () => {
  it.each([
    ['housing', housing],
    ['iris', iris],
    ['a 784-256-128-10 network', buildGraph({ batch: 256, widths: [784, 256, 128, 10], activations: ['relu', 'relu'] })],
  ] as const)('%s: the arena is smaller than the sum of its buffers', (_, def) => {
    const { memory } = compile(def);
    expect(memory.arena).toBeGreaterThan(0);
    expect(memory.arena).toBeLessThan(memory.unshared);
  });
});

describe('the GPU arena is planned as the JS one (issue 9: at most 1.25×)', () => {
  it.each([
    ['a 784-256-128-10 network (S2)', buildGraph({ batch: 256, widths: [784, 256, 128, 10], activations: ['relu', 'relu'] })],
    ['iris', iris],
  ] as const)('%s', (_, def) => {
    const { files, memory } = compile(def, { targets: ['js', 'wgsl'] });
    const text = (suffix: string) => files.find((f) => f.name === `${def.name}${suffix}`)!.contents;
    const js = Number(/const arena = new Float32Array\((\d+)\)/.exec(text('.js'))![1]);
    const gpu = Number(/buffers: \{[^}]*\barena: (\d+)/.exec(text('.gpu.js'))![1]);
    expect(js).toBe(memory.arena);
    expect(gpu).toBeGreaterThanOrEqual(js);
    expect(gpu / js).toBeLessThanOrEqual(1.25);
  });
});

describe('gradc inspect', () => {
  it('prints the IR, each op with its definition, and every entry with kernels, costs and memory', async () => {
    const { inspectText } = await import('../compiler/cli/inspect.ts');
    const text = inspectText(compile(housing).plan);
    for (const section of ['# forward IR', '# optimized forward + backward IR', '# ops', '# forward: 2 kernels', '# train: 6 kernels']) expect(text).toContain(section);
    expect(text).toMatch(/relu_grad +g ⊙ relu'\(z\), from z/);
    expect(text).toMatch(/sgd update of every param: θ := θ − α·g/);
    expect(text).toMatch(/# memory: arena \d+ floats/);
    expect(text).toMatch(/FLOP, .*B moved/);
  });
});
