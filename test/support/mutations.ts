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
const LOSS = 'compiler/ops/loss.ts';
const ARITHMETIC = 'compiler/ops/arithmetic.ts';
const REDUCTIONS = 'compiler/ops/reductions.ts';
const ROWS = 'compiler/ops/rows.ts';
const OPTIMIZERS = 'compiler/ir/optimizers.ts';
/** A sum's pullback, twice too large. */
const DOUBLED_BROADCAST = "vjp: ({ grad, emit, inputShapes, constant }) => [emit('broadcast', [emit('mul', [grad, constant(2)])], { to: inputShapes[0] })],";

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
        file: 'compiler/lowering/builder.ts',
        find: "import { LANES, assign, float, fromScalar, int, isVector, lane, let_, load, loop, mapExpr, mapStmts, mul, ref, shareSubtrees, splat, store, var_ } from './lir.ts';",
        replace: "import { LANES, add, assign, div, float, fromScalar, int, isVector, lane, let_, load, loop, mapExpr, mapStmts, mul, ref, rem, shareSubtrees, splat, store, sub, var_ } from './lir.ts';",
      },
      {
        file: 'compiler/lowering/builder.ts',
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
  // Issue 23: bugs the suite once missed.
  {
    name: "softmax CE's label derivative sign flipped",
    patches: [{ file: LOSS, find: 'scalar: s.mul(s.sub(s.arg(1), s.arg(0)), s.arg(2)),', replace: 'scalar: s.mul(s.sub(s.arg(0), s.arg(1)), s.arg(2)),' }],
  },
  {
    name: "sigmoid CE's label derivative sign flipped",
    patches: [{ file: LOSS, find: "emit('neg', [emit('mul', [logits, scaled])])]", replace: "emit('mul', [logits, scaled])]" }],
  },
  {
    name: 'log-sum-exp not max-subtracted: log(Σ exp(z))',
    patches: [
      { file: LOSS, find: "applyOp(call, 'sub', [logits, max], {}, `${base}_shifted`)", replace: "applyOp(call, 'mul', [logits, 1], {}, `${base}_shifted`)" },
      { file: LOSS, find: "applyOp(call, 'add', [max, applyOp(call, 'log',", replace: "applyOp(call, 'add', [0, applyOp(call, 'log'," },
    ],
  },
  {
    name: 'safetensors data allowed to end up to 4 bytes short',
    patches: [{ file: 'runtime/cpu/safetensors.ts', find: 'if (at > dataLength) throw fail(', replace: 'if (at > dataLength + 4) throw fail(' }],
  },
  // Issue 23: optimizer bugs, each caught by TensorFlow.js (optimizers.test.ts) and PyTorch (optimizers-torch.test.ts).
  {
    name: "Adam's bias correction a step late (1 − β1^(t+1))",
    patches: [{ file: OPTIMIZERS, find: "{ name: 'c1', expr: (_, t) => s.div(1, s.sub(1, s.exp(s.mul(t, Math.log(o.beta1))))) },", replace: "{ name: 'c1', expr: (_, t) => s.div(1, s.sub(1, s.exp(s.mul(s.add(t, 1), Math.log(o.beta1))))) }," }],
  },
  {
    name: "Adam's ε inside the square root",
    patches: [{ file: OPTIMIZERS, find: 'const step = s.div(s.mul(m2, c1), s.add(s.sqrt(s.mul(v2, c2)), o.epsilon));', replace: 'const step = s.div(s.mul(m2, c1), s.sqrt(s.add(s.mul(v2, c2), o.epsilon)));' }],
  },
  {
    name: 'momentum applied twice (θ − α·(μ·v′ + g))',
    patches: [{ file: OPTIMIZERS, find: 'return { param: s.sub(param, s.mul(lr, velocity)), state: [velocity] };', replace: 'return { param: s.sub(param, s.mul(lr, s.add(s.mul(o.momentum, velocity), grad))), state: [velocity] };' }],
  },
  // Issue 23: what issues 20 and 21 built — the ONNX import's weight layouts, the threads' row shares.
  {
    name: "ONNX import: Gemm's transB ignored",
    patches: [{ file: 'compiler/onnx/read.ts', find: "const layer = addDense(c, B, intAttr(c.node, 'transB', 0) !== 0, alpha);", replace: 'const layer = addDense(c, B, false, alpha);' }],
  },
  {
    name: 'ONNX import: a transposed weight read in the wrong order',
    patches: [{ file: 'compiler/onnx/read.ts', find: 'W[i * outDim + j] = alpha * B.values[transB ? j * inDim + i : i * outDim + j];', replace: 'W[i * outDim + j] = alpha * B.values[transB ? (i * outDim + j) : i * outDim + j];' }],
  },
  {
    name: "threads: the calling thread's share a row short (a gap between row tiles)",
    patches: [{ file: 'runtime/threads.ts', find: 'const end = Math.min(rows, Math.floor(((t + 1) * tiles) / count) * TILE_ROWS);', replace: 'const end = Math.min(rows, Math.floor(((t + 1) * tiles) / count) * TILE_ROWS - (t + 1 < count ? 1 : 0));' }],
  },
  {
    name: "threads: a worker's share starts a tile early (row tiles overlap)",
    patches: [{ file: 'runtime/threads.ts', find: 'const scalars = [r0, r1, tid];', replace: 'const scalars = [Math.max(0, r0 - ${TILE_ROWS}), r1, tid];' }],
  },
  {
    name: "threads: a worker's split kernel given the wrong r0 (a tile late)",
    patches: [{ file: 'runtime/threads.ts', find: 'const scalars = [r0, r1, tid];', replace: 'const scalars = [r0 + ${TILE_ROWS}, r1, tid];' }],
  },
  // One wrong derivative per op of the table (test/op-table.test.ts must catch each).
  ...opDerivative('add', ARITHMETIC, 'vjp: ({ grad }) => [grad, grad],', "vjp: ({ grad, emit }) => [grad, emit('neg', [grad])],"),
  ...opDerivative('sub', ARITHMETIC, "vjp: ({ grad, emit }) => [grad, emit('neg', [grad])],", 'vjp: ({ grad }) => [grad, grad],'),
  ...opDerivative('mul', ARITHMETIC, "[emit('mul', [grad, node.inputs[1]]), emit('mul', [grad, node.inputs[0]])]", "[emit('mul', [grad, node.inputs[0]]), emit('mul', [grad, node.inputs[1]])]"),
  ...opDerivative('div', ARITHMETIC, "return [byB, emit('neg', [emit('mul', [byB, node.id])])];", "return [byB, emit('mul', [byB, node.id])];"),
  ...opDerivative('neg', ARITHMETIC, "vjp: ({ grad, emit }) => [emit('neg', [grad])],\n  doc: '-a',", "vjp: ({ grad }) => [grad],\n  doc: '-a',"),
  ...opDerivative('matmul', 'compiler/ops/linalg.ts', "const dOpB = emit('matmul', [emit('transpose', [opA]), grad]);", "const dOpB = emit('matmul', [emit('transpose', [opA]), emit('neg', [grad])]);"),
  ...opDerivative('transpose', 'compiler/ops/linalg.ts', "vjp: ({ grad, emit }) => [emit('transpose', [grad])],", "vjp: ({ grad, emit }) => [emit('neg', [emit('transpose', [grad])])],"),
  ...opDerivative('sum', REDUCTIONS, "vjp: ({ grad, emit, inputShapes }) => [emit('broadcast', [grad], { to: inputShapes[0] })],\n  doc: 'the sum of all", DOUBLED_BROADCAST + "\n  doc: 'the sum of all"),
  ...opDerivative('column_sums', REDUCTIONS, "vjp: ({ grad, emit, inputShapes }) => [emit('broadcast', [grad], { to: inputShapes[0] })],\n  doc: 'column sums", DOUBLED_BROADCAST + "\n  doc: 'column sums"),
  ...opDerivative('row_sums', ROWS, "vjp: ({ grad, emit, inputShapes }) => [emit('broadcast', [grad], { to: inputShapes[0] })],\n  doc: 'the sum of each row", DOUBLED_BROADCAST + "\n  doc: 'the sum of each row"),
  ...opDerivative('broadcast', REDUCTIONS, "vjp: ({ grad }) => [grad],\n  doc: 'a scalar, a row", "vjp: ({ grad, emit }) => [emit('neg', [grad])],\n  doc: 'a scalar, a row"),
  ...opDerivative('row_max', ROWS, 'scalar: s.ifGe(s.arg(0), s.arg(1), s.arg(2), 0),', 'scalar: s.ifGe(s.arg(0), s.arg(1), 0, s.arg(2)),'),
  ...opDerivative('exp', ACTIVATIONS, 'backward: (g, a) => s.mul(g, a),', 'backward: (g, a) => s.mul(g, s.mul(a, 1.01)),'),
  ...opDerivative('log', ACTIVATIONS, 'backward: (g, z) => s.div(g, z),', 'backward: (g, z) => s.div(g, s.mul(z, 1.01)),'),
  ...opDerivative('squared_loss', LOSS, 'scalar: s.mul(diff, g),', 'scalar: s.mul(s.mul(diff, g), 1.01),'),
  ...opDerivative('softmax_ce (by the logits)', LOSS, 'scalar: s.mul(s.sub(s.mul(s.exp(s.sub(z, lse)), s.arg(3)), lbl), s.arg(4)),', 'scalar: s.mul(s.sub(s.exp(s.sub(z, lse)), lbl), s.arg(4)),'),
  ...opDerivative('sigmoid_ce (by the logits)', LOSS, 'scalar: s.mul(s.sub(stableSigmoid(zz), yy), gg),', 'scalar: s.mul(s.sub(stableSigmoid(s.neg(zz)), yy), gg),'),
  ...opDerivative('softsign', ACTIVATIONS, 'return s.div(g, s.mul(d, d));', 'return s.div(g, d);'),
];

/** The op-table mutations: each a wrong derivative of one op, named `<op>′ wrong`. */
function opDerivative(op: string, file: string, find: string, replace: string): Mutation[] {
  return [{ name: `${op}′ wrong (op table)`, patches: [{ file, find, replace }] }];
}

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
