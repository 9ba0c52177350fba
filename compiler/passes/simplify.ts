/**
 * Algebraic simplification: constant folding, identities (x·1, x+0, −(−x), stop_gradient), and reading a
 * broadcast value directly where an elementwise op can broadcast it itself, so the
 * gradient of a sum is never materialized.
 */
import type { Graph, Node } from '../ir/graph.ts';
import { sameShape } from '../ir/graph.ts';
import { evalScalar } from '../ir/scalar.ts';
import { broadcastKind, opDef } from '../ir/op-registry.ts';
import { rewrite, type RewriteContext } from './rewrite.ts';

export function simplify(g: Graph): Graph {
  return rewrite(g, (n, inputs, ctx) => {
    const def = opDef(n.op);
    if (def.kind !== 'elementwise') return undefined;
    const ins = inputs.map((i) => ctx.node(i));
    const constant = (i: number) => (ins[i].op === 'const' ? ins[i].attrs.value : undefined);

    if (ins.every((x) => x.op === 'const') && n.shape.length === 0) {
      const value = evalScalar(def.scalar!, ins.map((x) => x.attrs.value!));
      return ctx.out.push({ op: 'const', inputs: [], attrs: { value }, shape: [], name: n.name, loc: n.loc });
    }
    if (n.op === 'broadcast' && sameShape(ins[0].shape, n.shape)) return inputs[0];
    // Gradients are taken before the passes run: from here on, stop_gradient is the identity.
    if (n.op === 'stop_gradient') return inputs[0];
    const passThrough = (keep: number) => (sameShape(ins[keep].shape, n.shape) ? inputs[keep] : undefined);
    if (n.op === 'mul' && constant(1) === 1) return passThrough(0);
    if (n.op === 'mul' && constant(0) === 1) return passThrough(1);
    if (n.op === 'add' && constant(1) === 0) return passThrough(0);
    if (n.op === 'add' && constant(0) === 0) return passThrough(1);
    if (n.op === 'neg' && ins[0].op === 'neg') return ins[0].inputs[0];
    return readThroughBroadcasts(n, inputs, ins, ctx);
  });
}

function readThroughBroadcasts(n: Node, inputs: readonly number[], ins: readonly Node[], ctx: RewriteContext): number | undefined {
  if (n.op === 'broadcast') return undefined;
  let changed = false;
  const direct = inputs.map((id, k) => {
    const x = ins[k];
    if (x.op !== 'broadcast') return id;
    const source = ctx.node(x.inputs[0]);
    if (!broadcastKind(source.shape, n.shape)) return id;
    changed = true;
    return source.id;
  });
  // The output shape must not change: some input must still carry it.
  if (!changed || !direct.some((id) => sameShape(ctx.node(id).shape, n.shape))) return undefined;
  return ctx.emit(n.op, direct, n.attrs, n);
}
