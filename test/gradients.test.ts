/**
 * Gradients, checked two ways against float64 central differences of the reference
 * interpreter: the symbolic backward graph itself (evaluated in float64, tight tolerance),
 * and the generated JS module (float32 storage, looser tolerance). One graph per op.
 */
import { describe, expect, it } from 'vitest';
import type { GraphDef } from '../compiler/index.ts';
import { differentiate } from '../compiler/autodiff/backward.ts';
import { evaluate } from '../compiler/ir/interpret.ts';
import { optimize } from '../compiler/passes/pipeline.ts';
import { finiteDifferenceGradient, referenceLoss, referenceOutputs, worstError } from './support/finite-differences.ts';
import { buildModule, randomArray, randomInputs, type Arrays } from './support/module.ts';
import { opGraphs } from './support/op-graphs.ts';
import kink from '../samples/kink/kink.graph.ts';
import housing from '../samples/housing/housing.graph.ts';
import iris from '../samples/iris/iris.graph.ts';

const cases: Record<string, GraphDef> = {
  ...opGraphs(5),
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
  it('the symbolic backward graph matches central differences (float64)', () => {
    const leaves = { ...randomInputs(metaOf(def), 3), ...params(def, 4) };
    const fd = finiteDifferenceGradient(def.ir, leaves);
    const full = optimize(differentiate(def.ir));
    const values = evaluate(full, leaves, full.grads!.map((r) => r.id));
    for (const r of full.grads!) {
      expect(worstError(values.get(r.id)!, fd[r.name], 1e-7, 1e-5), `d${r.name}`).toBeLessThanOrEqual(1);
    }
  });

  it('the generated module computes the same forward, loss and gradient', async () => {
    const mod = await buildModule(def);
    const inputs = randomInputs(mod.meta, 5);
    const p = params(def, 6);
    const leaves = { ...inputs, ...p };
    const fd = finiteDifferenceGradient(def.ir, leaves);
    const ref = referenceOutputs(def.ir, leaves);
    const out = mod.forward(p, inputs);
    for (const name of Object.keys(ref)) expect(worstError(out[name], ref[name], 1e-5, 1e-4), name).toBeLessThanOrEqual(1);
    const J = referenceLoss(def.ir, leaves);
    expect(mod.loss(p, inputs)).toBeCloseTo(J, 5);
    const { loss, grads } = mod.gradient(p, inputs);
    expect(loss).toBeCloseTo(J, 5);
    for (const name of Object.keys(fd)) {
      expect(worstError(grads[name], fd[name], 1e-5, 1e-3), `d${name}`).toBeLessThanOrEqual(1);
    }
  });

  it('trainStep applies θ − α·∇J from gradient() to every param, and returns the loss before', async () => {
    const mod = await buildModule(def);
    const inputs = randomInputs(mod.meta, 12);
    const p = params(def, 13);
    const { loss, grads } = mod.gradient(p, inputs);
    const expected = Object.fromEntries(Object.entries(p).map(([name, v]) => [name, v.map((x, i) => x - 0.1 * grads[name][i])]));
    expect(mod.trainStep(p, inputs, 0.1)).toBe(loss);
    for (const name of Object.keys(expected)) expect(worstError(p[name], expected[name], 1e-6, 1e-5), name).toBeLessThanOrEqual(1);
  });

  it('a small SGD step lowers the loss', async () => {
    const mod = await buildModule(def);
    const inputs = randomInputs(mod.meta, 8);
    const p = params(def, 9);
    const before = mod.loss(p, inputs);
    const returned = mod.trainStep(p, inputs, 1e-3);
    expect(returned).toBe(before);
    expect(mod.loss(p, inputs)).toBeLessThan(before);
  });
});

function metaOf(def: GraphDef) {
  const shapes = (list: readonly { name: string; id: number }[]) => Object.fromEntries(list.map((r) => [r.name, [...def.ir.nodes[r.id].shape]]));
  return { name: def.name, inputs: shapes(def.ir.inputs), params: shapes(def.ir.params), outputs: shapes(def.ir.outputs) };
}
