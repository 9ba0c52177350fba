/**
 * The JS matmul kernels at the shapes where their code changes: tile edges (sizes not a
 * multiple of 4, widths 1–3) and the packing threshold (rows of 511, 512, 513 floats), in
 * all three forms a train step uses (X·W forward, δ·Wᵀ and Xᵀ·δ backward). The generated
 * gradient is checked against the float64 reference evaluation of the backward graph, which
 * test/gradients.test.ts checks against finite differences.
 */
import { describe, expect, it } from 'vitest';
import { differentiate } from '../compiler/autodiff/backward.ts';
import { affine, graph, squaredLoss, tanh } from '../compiler/index.ts';
import { evaluate } from '../compiler/ir/interpret.ts';
import { optimize } from '../compiler/passes/pipeline.ts';
import { JS_LOWERING } from '../compiler/backends/js/module.ts';
const PACK_ROWS = JS_LOWERING.packRows;
import { worstError } from './support/finite-differences.ts';
import { buildModule, randomArray, randomInputs } from './support/module.ts';

const cases: [batch: number, inputs: number, hidden: number][] = [
  [5, 1, 1], [7, 3, 2], [6, 5, 7], [9, 17, 3],
  [3, PACK_ROWS - 1, 2], [2, PACK_ROWS, 3], [3, PACK_ROWS + 1, 5],
  [4, 6, PACK_ROWS - 1], [3, 5, PACK_ROWS], [2, 7, PACK_ROWS + 1],
];

describe.each(cases)('batch %i, %i → %i → 1', (batch, inputs, hidden) => {
  it('the module gradient equals the float64 backward graph', async () => {
    const def = graph('mm', (g) => {
      const x = g.input('x', [batch, inputs]);
      const h = tanh(affine(x, g.param('W', [inputs, hidden]), g.param('b', [hidden])));
      const o = affine(h, g.param('V', [hidden, 1]), g.param('c', [1]));
      g.output('o', o);
      g.loss(squaredLoss(o, g.input('y', [batch, 1])));
    });
    const mod = await buildModule(def);
    const inputsRecord = randomInputs(mod.meta, batch + inputs);
    const params = Object.fromEntries(Object.entries(mod.meta.params).map(([name, shape], i) =>
      [name, randomArray(shape.reduce((a, b) => a * b, 1), i + hidden, 1 / Math.sqrt(shape[0]))]));
    const full = optimize(differentiate(def.ir));
    const ref = evaluate(full, { ...inputsRecord, ...params }, [...full.grads!.map((r) => r.id), ...full.outputs.map((r) => r.id)]);
    const { grads } = mod.gradient(params, inputsRecord);
    for (const r of full.grads!) expect(worstError(grads[r.name], ref.get(r.id)!, 1e-6, 1e-4), r.name).toBeLessThanOrEqual(1);
    const out = mod.forward(params, { x: inputsRecord.x });
    expect(worstError(out.o, ref.get(full.outputs[0].id)!, 1e-6, 1e-4)).toBeLessThanOrEqual(1);
  });
});
