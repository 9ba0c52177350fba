/**
 * Deliberate bugs for the mutation audit (`npm run mutations`, test/mutation-audit.ts): each is
 * a small edit of the compiler's own source, made in a copy of the project, so the whole
 * pipeline (op table, autodiff, lowering, both backends) carries the bug as a real one would.
 * `find` must occur exactly once in its file: a mutation that no longer applies is an error,
 * never a silent pass (test/mutations.test.ts checks that every one still applies).
 *
 * Unlike test/support/plants.ts, which plants wrong rules into the independent reference to
 * measure the fuzzer's comparison, these change the compiler under test.
 */

export interface Patch {
  /** Relative to the project root. */
  readonly file: string;
  readonly find: string;
  readonly replace: string;
}

export interface Mutation {
  readonly name: string;
  readonly patches: readonly Patch[];
}

const ACTIVATIONS = 'compiler/ops/activations.ts';

export const MUTATIONS: readonly Mutation[] = [
  {
    name: 'sigmoid′ = a',
    patches: [{ file: ACTIVATIONS, find: 'backward: (g, a) => s.mul(g, s.mul(a, s.sub(1, a))),', replace: 'backward: (g, a) => s.mul(g, a),' }],
  },
  {
    name: 'tanh′ = 1 − a',
    patches: [{ file: ACTIVATIONS, find: 'backward: (g, a) => s.mul(g, s.sub(1, s.mul(a, a))),', replace: 'backward: (g, a) => s.mul(g, s.sub(1, a)),' }],
  },
  {
    name: 'relu′(0) = 0',
    patches: [{ file: ACTIVATIONS, find: 'backward: (g, z) => s.ifGe(z, 0, g, 0),', replace: 'backward: (g, z) => s.ifGt(z, 0, g, 0),' }],
  },
  {
    name: "the squared loss's 1/B dropped, forward and backward",
    patches: [
      { file: 'compiler/ops/loss.ts', find: 'reduceScale: ([pred]) => perRow(pred),', replace: 'reduceScale: () => 1,' },
      {
        file: 'compiler/ops/loss.ts',
        find: "const scaled = emit('mul', [grad, constant(perRow(inputShapes[0]))]);\n    const dPred = emit('squared_loss_grad'",
        replace: "const scaled = emit('mul', [grad, constant(1)]);\n    const dPred = emit('squared_loss_grad'",
      },
    ],
  },
  {
    // Every 2-D param gradient stored where its transpose's row-major layout puts it: element
    // (r, c) of an [m,n] gradient at c·m + r. In the lowering both backends share, so the JS
    // and WGSL modules agree with each other and gradient() and trainStep carry it alike.
    name: 'dW transposed (laid out as its transpose)',
    patches: [
      {
        file: 'compiler/lowering/lower.ts',
        find: "import { LANES, assign, float, fromScalar, int, isVector, lane, let_, load, loop, mul, ref, shareSubtrees, splat, store, var_ } from './lir.ts';",
        replace: "import { LANES, add, assign, div, float, fromScalar, int, isVector, lane, let_, load, loop, mul, ref, rem, shareSubtrees, splat, store, sub, var_ } from './lir.ts';",
      },
      {
        file: 'compiler/lowering/lower.ts',
        find: "const stores = k.stores.map((st, i) => store(kb.buffer(st.node, 'write'), el.flat, shared.exprs[i]));",
        replace: [
          'const at = (node: number): Expr => {',
          '    const shape = kb.g.nodes[node].shape;',
          '    if (shape.length !== 2 || !(kb.g.grads ?? []).some((d) => d.id === node)) return el.flat;',
          '    const col = rem(el.flat, int(shape[1]));',
          '    return add(mul(col, int(shape[0])), div(sub(el.flat, col), int(shape[1])));',
          '  };',
          "  const stores = k.stores.map((st, i) => store(kb.buffer(st.node, 'write'), at(st.node), shared.exprs[i]));",
        ].join('\n'),
      },
    ],
  },
  {
    name: 'the SGD sign flipped (θ + α·g)',
    patches: [{ file: 'compiler/ir/optimizers.ts', find: 'update: ({ param, grad, scalars: [lr] }) => ({ param: s.sub(param, s.mul(lr, grad)) }),', replace: 'update: ({ param, grad, scalars: [lr] }) => ({ param: s.add(param, s.mul(lr, grad)) }),' }],
  },
  {
    name: 'sigmoid′ × 1.02',
    patches: [{ file: ACTIVATIONS, find: 'backward: (g, a) => s.mul(g, s.mul(a, s.sub(1, a))),', replace: 'backward: (g, a) => s.mul(g, s.mul(s.mul(a, s.sub(1, a)), 1.02)),' }],
  },
];

/** `text` with one patch applied; throws when `find` is not there exactly once. */
export function applyPatch(text: string, patch: Patch): string {
  const at = text.indexOf(patch.find);
  if (at < 0 || text.indexOf(patch.find, at + 1) >= 0) {
    throw new Error(`${patch.file}: the mutation's text occurs ${at < 0 ? 'nowhere' : 'more than once'}; update test/support/mutations.ts: ${JSON.stringify(patch.find.slice(0, 80))}`);
  }
  return text.slice(0, at) + patch.replace + text.slice(at + patch.find.length);
}

/** Every file a mutation changes, with its mutated text, from the original texts `read` gives. */
export function mutatedFiles(m: Mutation, read: (file: string) => string): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of m.patches) out.set(p.file, applyPatch(out.get(p.file) ?? read(p.file), p));
  return out;
}
