/**
 * Gradients, one graph per op, against two references that share nothing with the
 * compiler's op table: an independent float64 evaluator with hand-written derivatives and
 * reverse mode of its own (support/reference64.ts, itself checked against central
 * differences), and TensorFlow.js's `tf.valueAndGrads` (support/tfjs-reference.ts). Checked:
 * the symbolic backward graph (evaluated in float64, tight tolerance) and the generated JS
 * module (float32, looser tolerance).
 */
import { describe, expect, it } from 'vitest';
import { affine, graph, sigmoidCrossEntropy, softmaxCrossEntropy, type GraphDef } from '../compiler/index.ts';
import { lossGraphs, withLabels } from './support/loss-graphs.ts';
import { differentiate } from '../compiler/autodiff/backward.ts';
import { evaluate } from '../compiler/ir/interpret.ts';
import { optimize } from '../compiler/passes/pipeline.ts';
import { finiteDifferenceGradient, worstError } from './support/finite-differences.ts';
import { reference64 } from './support/reference64.ts';
import { tfjsGradient } from './support/tfjs-reference.ts';
import { buildModule, randomArray, randomInputs, type Arrays } from './support/module.ts';
import { opGraphs } from './support/op-graphs.ts';
import kink from '../samples/kink/kink.graph.ts';
import housing from '../samples/housing/housing.graph.ts';
import iris from '../samples/iris/iris.graph.ts';

const cases: Record<string, GraphDef> = {
  ...opGraphs(5),
  ...lossGraphs(5),
  'kink sample': kink,
  'housing sample': housing,
  'iris sample': iris,
};

/** Params with nonzero biases, so no unit sits exactly on a kink. */
function params(def: GraphDef, seed: number): Arrays {
  return Object.fromEntries(def.ir.params.map(({ name, id }, i) => {
    const shape = def.ir.nodes[id].shape;
    return [name, randomArray(shape.reduce((a, b) => a * b, 1), seed * 7 + i, 0.8)];
  }));
}

describe.each(Object.entries(cases))('%s', (_, def) => {
  it('the independent reference agrees with central differences of its own forward pass (float64)', () => {
    const leaves = { ...inputsFor(def, 3), ...params(def, 4) };
    const { grads } = reference64(def.ir, leaves);
    const fd = finiteDifferenceGradient(def.ir, leaves);
    for (const name of Object.keys(grads)) expect(worstError(grads[name], fd[name], 1e-7, 1e-5), `d${name}`).toBeLessThanOrEqual(1);
  });

  it('the symbolic backward graph matches the independent reference (float64)', () => {
    const leaves = { ...inputsFor(def, 3), ...params(def, 4) };
    const want = reference64(def.ir, leaves).grads;
    const full = optimize(differentiate(def.ir));
    const values = evaluate(full, leaves, full.grads!.map((r) => r.id));
    for (const r of full.grads!) {
      expect(worstError(values.get(r.id)!, want[r.name], 1e-12, 1e-9), `d${r.name}`).toBeLessThanOrEqual(1);
    }
  });

  it('the generated module computes the forward, loss and gradient of the independent reference', async () => {
    const mod = await buildModule(def);
    const inputs = inputsFor(def, 5);
    const p = params(def, 6);
    const ref = reference64(def.ir, { ...inputs, ...p });
    const out = mod.forward(p, inputs);
    for (const name of Object.keys(ref.outputs)) expect(worstError(out[name], ref.outputs[name], 1e-5, 1e-4), name).toBeLessThanOrEqual(1);
    expect(mod.loss(p, inputs)).toBeCloseTo(ref.loss, 5);
    const { loss, grads } = mod.gradient(p, inputs);
    expect(loss).toBeCloseTo(ref.loss, 5);
    for (const name of Object.keys(ref.grads)) {
      expect(worstError(grads[name], ref.grads[name], 1e-5, 1e-3), `d${name}`).toBeLessThanOrEqual(1);
    }
  });

  it("the generated module's loss and gradient equal TensorFlow.js's (float32)", async () => {
    const mod = await buildModule(def);
    const inputs = inputsFor(def, 7);
    const p = params(def, 8);
    const tf = await tfjsGradient(def.ir, { ...inputs, ...p });
    const { loss, grads } = mod.gradient(p, inputs);
    expect(Math.abs(loss - tf.loss)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(tf.loss)));
    for (const name of Object.keys(tf.grads)) {
      const scale = Math.max(...Array.from(tf.grads[name], Math.abs));
      expect(worstError(grads[name], tf.grads[name], 1e-5 * (1 + scale), 1e-3), `d${name}`).toBeLessThanOrEqual(1);
    }
  });

  it('trainStep applies θ − α·∇J from gradient() to every param, and returns the loss before', async () => {
    const mod = await buildModule(def);
    const inputs = inputsFor(def, 12);
    const p = params(def, 13);
    const { loss, grads } = mod.gradient(p, inputs);
    const expected = Object.fromEntries(Object.entries(p).map(([name, v]) => [name, v.map((x, i) => x - 0.1 * grads[name][i])]));
    expect(mod.trainStep(p, inputs, 0.1)).toBe(loss);
    for (const name of Object.keys(expected)) expect(worstError(p[name], expected[name], 1e-6, 1e-5), name).toBeLessThanOrEqual(1);
  });

  it('a small SGD step lowers the loss', async () => {
    const mod = await buildModule(def);
    const inputs = inputsFor(def, 8);
    const p = params(def, 9);
    const before = mod.loss(p, inputs);
    const returned = mod.trainStep(p, inputs, 1e-3);
    expect(returned).toBe(before);
    expect(mod.loss(p, inputs)).toBeLessThan(before);
  });
});

/** Random inputs, with labels a cross-entropy can take (`withLabels`). */
function inputsFor(def: GraphDef, seed: number): Arrays {
  return withLabels(def, randomInputs(metaOf(def), seed));
}

function metaOf(def: GraphDef) {
  const shapes = (list: readonly { name: string; id: number }[]) => Object.fromEntries(list.map((r) => [r.name, [...def.ir.nodes[r.id].shape]]));
  return { name: def.name, inputs: shapes(def.ir.inputs), params: shapes(def.ir.params), outputs: shapes(def.ir.outputs) };
}

describe('both cross-entropies at logits of ±1e3 (the stability promise), against TensorFlow.js', () => {
  const B = 4;
  const nets = {
    softmax: graph('ce_1e3_softmax', (g) => {
      const z = affine(g.input('x', [B, 3]), g.param('W', [3, 3]), g.param('b', [3]));
      g.output('z', z);
      g.loss(softmaxCrossEntropy(z, g.input('y', [B, 3])));
    }),
    sigmoid: graph('ce_1e3_sigmoid', (g) => {
      const z = affine(g.input('x', [B, 3]), g.param('W', [3, 3]), g.param('b', [3]));
      g.output('z', z);
      g.loss(sigmoidCrossEntropy(z, g.input('y', [B, 3])));
    }),
  };
  it.each(Object.entries(nets))('%s: loss and gradient finite and equal to TensorFlow.js\'s (whose log-softmax is stable)', async (_, def) => {
    const mod = await buildModule(def);
    // Identity weights: the logits are the inputs, entries of ±1e3 beside small ones.
    const p = { W: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]), b: new Float32Array(3) };
    const inputs = { x: Float32Array.from([1e3, -1e3, 0.5, -1e3, 1e3, 1e3, 0, -1e3, 2, 1e3, 1e3, -1e3]), y: Float32Array.from([1, 0, 0, 0, 0.3, 0.7, 0, 1, 0, 0.5, 0.5, 0]) };
    const tf = await tfjsGradient(def.ir, { ...inputs, ...p });
    expect(Number.isFinite(tf.loss)).toBe(true);
    const { loss, grads } = mod.gradient(p, inputs);
    expect(Math.abs(loss - tf.loss), `loss ${loss} vs ${tf.loss}`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(tf.loss)));
    // TensorFlow.js sums xᵀ·δ in float32 with x of ±1e3: 1e−4 of the gradient's scale.
    for (const name of Object.keys(tf.grads)) {
      const scale = Math.max(...Array.from(tf.grads[name], Math.abs));
      expect(worstError(grads[name], tf.grads[name], 1e-4 * (1 + scale), 1e-3), `d${name}`).toBeLessThanOrEqual(1);
    }
  });
});
