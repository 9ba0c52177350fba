/**
 * Every op of the table (compiler/ir/op-registry.ts, loaded by compiler/ops/all.ts), every argument with a
 * derivative, two oracles. For each op with a pullback, on small random inputs and on points
 * near its kinks and saturation, a one-op graph J = Σ r ⊙ op(args) (r random, so every
 * element of the adjoint differs) is differentiated by the compiler (autodiff, evaluated in
 * float64 by its interpreter) and compared with
 *
 *   1. central differences in float64 of the independent reference's forward pass
 *      (test/support/reference64.ts: hand-written, not the op table), itself checked against
 *      the compiler's forward value, and
 *   2. the independent reference's own hand-written derivative.
 *
 * The test is driven by the table itself: an op with a pullback and no site below fails, an
 * op that only appears in backward graphs (`…_grad`) must be reached by some site's backward
 * graph (so changing its formula changes a tested derivative), and an argument whose pullback
 * is `null` must be declared in the op's `noGradient` — and only such arguments.
 */
import { describe, expect, it } from 'vitest';
import '../compiler/ops/all.ts';
import { allOps, opDef } from '../compiler/ir/op-registry.ts';
import { inferShape } from '../compiler/ir/builder.ts';
import type { Attrs, Graph, Node, Shape } from '../compiler/ir/graph.ts';
import { differentiate } from '../compiler/autodiff/backward.ts';
import { evaluate } from '../compiler/ir/interpret.ts';
import { forwardValues, reference64 } from './support/reference64.ts';
import { finiteDifferenceGradient, worstError } from './support/finite-differences.ts';

/** A seeded uniform generator (mulberry32), so every failure replays. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a site draws for each argument: values in (lo, hi), or exactly these points (cycled). */
type Draw = { lo: number; hi: number; avoid?: number } | { points: readonly number[] };

interface Site {
  readonly label: string;
  /** Each argument's shape and values. */
  readonly args: readonly { readonly shape: Shape; readonly draw: Draw }[];
  readonly attrs?: Attrs;
  /**
   * Arguments computed from the others rather than drawn (a folded derivative): the
   * softmax cross-entropy's log-sum-exp is made of its logits, its own pullback null.
   */
  readonly wire?: (b: Builder, params: readonly number[]) => readonly number[];
}

const normal = (lo = -2, hi = 2): Draw => ({ lo, hi, avoid: 0.05 });
const M = 3;
const N = 4;
/** Points near kinks (|z| ≥ 1e-3, far beyond h) and saturation (|z| up to 40). */
const EDGES = [-40, -15, -8, -1e-3, 1e-3, 0.7, 8, 15, 40];

/** The sites: each op with a pullback, with every way its arguments broadcast. */
const SITES: Readonly<Record<string, readonly Site[]>> = {
  add: elementwiseBroadcasts(2),
  sub: elementwiseBroadcasts(2),
  mul: elementwiseBroadcasts(2),
  div: elementwiseBroadcasts(2, [normal(), { lo: 0.3, hi: 3 }]),
  neg: [{ label: 'matrix', args: [{ shape: [M, N], draw: normal() }] }],
  relu: activation({ points: [-2, -1e-3, 1e-3, 0.5, 2, -0.5] }),
  sigmoid: activation({ points: EDGES }),
  tanh: activation({ points: EDGES }),
  softsign: activation({ points: EDGES }),
  exp: activation({ points: [-40, -8, -1, 0.3, 2, 8] }),
  log: activation({ points: [1e-3, 0.1, 0.9, 3, 40, 1e3] }, { lo: 0.05, hi: 5 }),
  matmul: [false, true].flatMap((transA) => [false, true].map((transB): Site => ({
    label: `transA ${transA}, transB ${transB}`,
    args: [{ shape: transA ? [N, M] : [M, N], draw: normal() }, { shape: transB ? [2, N] : [N, 2], draw: normal() }],
    attrs: { transA, transB },
  }))),
  transpose: [{ label: 'matrix', args: [{ shape: [M, N], draw: normal() }] }],
  sum: [{ label: 'matrix', args: [{ shape: [M, N], draw: normal() }] }, { label: 'row', args: [{ shape: [N], draw: normal() }] }],
  column_sums: [{ label: 'matrix', args: [{ shape: [M, N], draw: normal() }] }],
  broadcast: [
    { label: 'scalar', args: [{ shape: [], draw: normal() }], attrs: { to: [M, N] } },
    { label: 'row', args: [{ shape: [N], draw: normal() }], attrs: { to: [M, N] } },
    { label: 'column', args: [{ shape: [M, 1], draw: normal() }], attrs: { to: [M, N] } },
  ],
  row_sums: [{ label: 'matrix', args: [{ shape: [M, N], draw: normal() }] }],
  // Entries of a row at least 0.05 apart: no tie within h.
  row_max: [{ label: 'matrix', args: [{ shape: [M, N], draw: { points: [0.3, -1.2, 2.5, 0.9, -0.4, 1.7, -2.2, 0.05, 1.1, -0.8, 2.05, -1.6] } }] }],
  stop_gradient: [{ label: 'matrix', args: [{ shape: [M, N], draw: normal() }] }],
  squared_loss: [{ label: 'batch', args: [{ shape: [M, N], draw: normal() }, { shape: [M, N], draw: normal() }] }],
  // Labels are arguments with a derivative (params-dependent soft targets): drawn as any reals.
  softmax_ce: [
    { label: 'logits and labels', args: [{ shape: [M, N], draw: normal(-3, 3) }, { shape: [M, N], draw: { lo: 0, hi: 1 } }, { shape: [M, 1], draw: normal() }], wire: logSumExp },
    { label: 'saturated logits', args: [{ shape: [M, N], draw: { points: [-40, 30, 0.5, 12, 40, -8, 25, 0.1, -30, 35, -2, 5] } }, { shape: [M, N], draw: { lo: -1, hi: 2 } }, { shape: [M, 1], draw: normal() }], wire: logSumExp },
  ],
  sigmoid_ce: [
    { label: 'logits and labels', args: [{ shape: [M, N], draw: normal(-3, 3) }, { shape: [M, N], draw: { lo: 0, hi: 1 } }] },
    { label: 'saturated logits', args: [{ shape: [M, N], draw: { points: EDGES } }, { shape: [M, N], draw: { lo: -1, hi: 2 } }] },
  ],
};

function elementwiseBroadcasts(arity: 2, draws: readonly Draw[] = [normal(), normal()]): Site[] {
  const shapes: readonly [string, Shape][] = [['same', [M, N]], ['row', [N]], ['scalar', []], ['column', [M, 1]]];
  // The first argument of the highest rank sets the output's shape: a column comes second.
  return shapes.flatMap(([label, shape]) => [
    { label: `b ${label}`, args: [{ shape: [M, N], draw: draws[0] }, { shape, draw: draws[1] }] },
    ...(label === 'column' ? [] : [{ label: `a ${label}`, args: [{ shape, draw: draws[0] }, { shape: [M, N], draw: draws[1] }] }]),
  ]).map((s) => ({ ...s, args: s.args.slice(0, arity) }));
}

function activation(edges: Draw, random: Draw = normal(-3, 3)): Site[] {
  return [{ label: 'random', args: [{ shape: [M, N], draw: random }] }, { label: 'kinks and saturation', args: [{ shape: [M, N], draw: edges }] }];
}

// ── building one-op graphs ───────────────────────────────────────────────────

class Builder {
  readonly nodes: Node[] = [];
  add(op: string, inputs: readonly number[], attrs: Attrs = {}, shape?: Shape): number {
    const inferred = shape ?? inferShape(op, inputs.map((i) => this.nodes[i].shape), attrs);
    if (!Array.isArray(inferred)) throw new Error(`${op}: ${(inferred as { error: string }).error}`);
    const id = this.nodes.length;
    this.nodes.push({ id, op, inputs, attrs, shape: inferred as Shape, name: `${op}_${id}` });
    return id;
  }
}

/** lse = max + log Σ e^(z − max), as softmaxCrossEntropy makes it (the max a stop_gradient). */
function logSumExp(b: Builder, [z, y]: readonly number[]): readonly number[] {
  const max = b.add('stop_gradient', [b.add('row_max', [z])]);
  const lse = b.add('add', [max, b.add('log', [b.add('row_sums', [b.add('exp', [b.add('sub', [z, max])])])])]);
  return [z, y, lse];
}

interface Case {
  readonly graph: Graph;
  readonly leaves: Record<string, Float64Array>;
  /** Which params are the op's drawn arguments, by argument index. */
  readonly argParams: readonly (string | undefined)[];
}

function caseFor(op: string, site: Site, seed: number): Case {
  const random = rng(seed);
  const b = new Builder();
  const wired = new Set(site.wire ? [2] : []);
  const params: { name: string; id: number }[] = [];
  const leaves: Record<string, Float64Array> = {};
  const drawn = site.args.map((arg, k) => {
    if (wired.has(k)) return -1;
    const name = `a${k}`;
    const id = b.add('param', [], { leaf: name }, arg.shape);
    params.push({ name, id });
    leaves[name] = values(arg.shape, arg.draw, random);
    return id;
  });
  const args = site.wire ? site.wire(b, drawn) : drawn;
  const out = b.add(op, args, site.attrs ?? {});
  const r = b.add('input', [], { leaf: 'r' }, b.nodes[out].shape);
  leaves.r = values(b.nodes[out].shape, { lo: -1.5, hi: 1.5, avoid: 0.2 }, random);
  const loss = b.add('sum', [b.add('mul', [out, r])]);
  const graph: Graph = { name: `${op}_site`, nodes: b.nodes, inputs: [{ name: 'r', id: r }], params, outputs: [{ name: 'out', id: out }], loss };
  return { graph, leaves, argParams: site.args.map((_, k) => (wired.has(k) ? undefined : `a${k}`)) };
}

function values(shape: Shape, draw: Draw, random: () => number): Float64Array {
  const n = shape.reduce((a, c) => a * c, 1);
  return Float64Array.from({ length: n }, (_, i) => {
    if ('points' in draw) return draw.points[i % draw.points.length];
    for (;;) {
      const v = draw.lo + (draw.hi - draw.lo) * random();
      if (draw.avoid === undefined || Math.abs(v) >= draw.avoid) return v;
    }
  });
}

/** dJ/d(each param) from the compiler's own backward graph, in float64. */
function compilerGradient(c: Case): Record<string, Float64Array> {
  const full = differentiate(c.graph);
  const got = evaluate(full, c.leaves, full.grads!.map((g) => g.id));
  return Object.fromEntries(full.grads!.map((g) => [g.name, got.get(g.id)!]));
}

/** Ops reached by the backward graph of a case. */
const backwardOps = (c: Case) => new Set(differentiate(c.graph).nodes.map((n) => n.op));

const forwardOps = allOps().filter((op) => op.kind !== 'leaf' && op.vjp);
const SEEDS = [1, 2, 3];

describe('the op table: every op, every differentiable argument, two oracles', () => {
  it('every op with a pullback has sites here, and every backward-only op is reached by one', () => {
    expect(forwardOps.length).toBeGreaterThan(15);
    expect(forwardOps.map((op) => op.name).filter((name) => !SITES[name])).toEqual([]);
    expect(Object.keys(SITES).filter((name) => !opDef(name).vjp)).toEqual([]);
    const reached = new Set(Object.entries(SITES).flatMap(([op, sites]) => sites.flatMap((site) => [...backwardOps(caseFor(op, site, 1))])));
    const backwardOnly = allOps().filter((op) => op.kind !== 'leaf' && !op.vjp).map((op) => op.name);
    expect(backwardOnly.length).toBeGreaterThan(5);
    expect(backwardOnly.filter((name) => !reached.has(name))).toEqual([]);
  });

  it('an argument gets no gradient exactly where the op declares it (noGradient), with the reason', () => {
    for (const op of forwardOps) {
      const declared = op.noGradient ?? {};
      for (const reason of Object.values(declared)) expect(reason.length, `${op.name}: a reason`).toBeGreaterThan(20);
      for (const site of SITES[op.name] ?? []) {
        const c = caseFor(op.name, { ...site, wire: undefined }, 1);
        const node = c.graph.nodes[c.graph.outputs[0].id];
        const emitted: string[] = [];
        const results = op.vjp!({
          node, inputShapes: node.inputs.map((i) => c.graph.nodes[i].shape), grad: 0,
          emit: (name) => (emitted.push(name), 1000 + emitted.length), constant: () => 999,
        });
        expect(results.length, `${op.name}: one result per argument`).toBe(op.arity);
        const nulls = results.flatMap((r, k) => (r === null ? [String(k)] : []));
        expect(nulls, `${op.name} (${site.label}): arguments without a gradient`).toEqual(Object.keys(declared));
      }
    }
  });

  for (const op of forwardOps) {
    describe(op.name, () => {
      for (const site of SITES[op.name] ?? []) {
        /** For each seed and each argument with a derivative: the compiler's, and the oracle's. */
        const pairs = (oracle: (c: Case) => Record<string, Float64Array>) => SEEDS.flatMap((seed) => {
          const c = caseFor(op.name, site, seed);
          const mine = compilerGradient(c);
          const theirs = oracle(c);
          return c.argParams.filter((n): n is string => n !== undefined && (op.noGradient ?? {})[Number(n.slice(1))] === undefined)
            .map((name) => ({ name, seed, mine: mine[name], theirs: theirs[name] }));
        });

        it(`${site.label}: the compiler's backward equals float64 central differences of the reference's forward, for every argument`, () => {
          for (const seed of SEEDS) {
            // The reference computes the compiler's function: forward values agree.
            const c = caseFor(op.name, site, seed);
            const out = c.graph.outputs[0].id;
            const refOut = forwardValues(c.graph, c.leaves)[out];
            const myOut = evaluate(c.graph, c.leaves, [out]).get(out)!;
            expect(worstError(myOut, refOut, 1e-12, 1e-12), `${op.name} forward: ${myOut} vs ${refOut}`).toBeLessThanOrEqual(1);
          }
          for (const { name, seed, mine, theirs } of pairs((c) => finiteDifferenceGradient(c.graph, c.leaves, 1e-6))) {
            const scale = theirs.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-6);
            expect(worstError(mine, theirs, 1e-7 * scale + 1e-8, 1e-5), `${op.name} d/${name} vs central differences (seed ${seed})`).toBeLessThanOrEqual(1);
          }
        });

        it(`${site.label}: the compiler's backward equals the hand-written reference's derivative, for every argument`, () => {
          for (const { name, seed, mine, theirs } of pairs((c) => reference64(c.graph, c.leaves).grads)) {
            const scale = theirs.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-6);
            expect(worstError(mine, theirs, 1e-12 * scale + 1e-14, 1e-9), `${op.name} d/${name} vs the reference (seed ${seed})`).toBeLessThanOrEqual(1);
          }
        });
      }
    });
  }
});
