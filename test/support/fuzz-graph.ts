/**
 * Graph specs for property-based fuzzing, and the two things made from one: the graph built
 * through the DSL, and the graph file text a person can rerun with `gradc build`. Both come
 * from one program (a list of `const v = expr` steps), so they cannot drift apart.
 */
import fc from 'fast-check';
import {
  adam, add, affine, graph, matmul, mean, momentum, mul, relu, sgd, sigmoid, sigmoidCrossEntropy, softmax, softmaxCrossEntropy, squaredLoss, sub, sum, tanh,
  type GraphDef, type Tensor,
} from '../../compiler/index.ts';
import type { GraphSpec } from './random-graph.ts';
import { randomArray } from './module.ts';

export type Act = 'relu' | 'sigmoid' | 'tanh' | 'none';
/** What the second operand of a layer's extra op is. */
export type Operand = 'row' | 'scalar' | 'const' | 'self' | 'skip';

export interface LayerSpec {
  /** `affine` (xW + b), `matmul` (xW), or `twice`: a square weight used twice, W·act(xW). */
  readonly kind: 'affine' | 'matmul' | 'twice';
  /** Output width (a `twice` layer keeps its input width). */
  readonly width: number;
  readonly act: Act;
  /** An elementwise op applied to the pre-activation z: z op v, or v op z when swapped. */
  readonly extra?: { readonly op: 'add' | 'sub' | 'mul'; readonly operand: Operand; readonly swap: boolean; readonly value: number };
}

export interface FuzzSpec {
  readonly batch: number;
  readonly inputWidth: number;
  readonly layers: readonly LayerSpec[];
  readonly loss: FuzzLoss;
  /** Seed of the params and inputs (see `fuzzData`). */
  readonly seed: number;
  /** Scales the weights' spread around 1/√fanIn. */
  readonly weightScale: number;
  /** The graph's optimizer, with its default options (none: sgd). */
  readonly optimizer?: FuzzOptimizer;
  /**
   * A dynamic batch: the graph declares `B = g.batch(batch)`, its inputs are [B, …], and the
   * data (and every call) have this many rows, 1 to `batch`.
   */
  readonly dynamicRows?: number;
}

export type FuzzOptimizer = 'sgd' | 'momentum' | 'adam';
/**
 * The loss of the last layer's output: squared against an input `y`, its sum, mean or mean
 * square, or a cross-entropy with the output as logits — labels an input `y` (valid labels, see
 * `fuzzData`), or made from params (`…Soft`: softmax or sigmoid of affine(x, T, c), soft
 * targets as in distillation), so the labels' own derivative reaches T and c.
 */
export type FuzzLoss = 'squared' | 'sum' | 'mean' | 'meanSquare' | 'softmaxCE' | 'sigmoidCE' | 'softmaxCESoft' | 'sigmoidCESoft';
export const FUZZ_LOSSES: readonly FuzzLoss[] = ['squared', 'sum', 'mean', 'meanSquare', 'softmaxCE', 'sigmoidCE', 'softmaxCESoft', 'sigmoidCESoft'];
const OPTIMIZERS = { sgd, momentum, adam } as const;

// ── the program ──────────────────────────────────────────────────────────────

type Expr =
  | { readonly ref: string }
  | { readonly num: number }
  | { readonly leaf: 'input' | 'param'; readonly name: string; readonly shape: readonly (number | 'B')[] }
  | { readonly call: string; readonly args: readonly Expr[] };

interface Program {
  readonly name: string;
  readonly steps: readonly { readonly v: string; readonly expr: Expr }[];
  readonly output: string;
  readonly loss: Expr;
}

const ref = (v: string): Expr => ({ ref: v });
const call = (fn: string, ...args: Expr[]): Expr => ({ call: fn, args });
const param = (name: string, shape: readonly number[]): Expr => ({ leaf: 'param', name, shape });
/** The inputs' first dimension: the batch, or `B`, the graph's dynamic batch. */
const rowsDim = (spec: FuzzSpec): number | 'B' => (spec.dynamicRows === undefined ? spec.batch : 'B');

/**
 * The spec with what cannot apply made valid (a skip connection needs equal widths), and
 * without z − z, which zeroes every gradient upstream: a graph in which no gradient could be
 * wrong tests nothing. It becomes z − c.
 */
export function normalize(spec: FuzzSpec): FuzzSpec {
  let width = spec.inputWidth;
  const layers = spec.layers.map((l) => {
    const out = l.kind === 'twice' ? width : l.width;
    const self = l.extra?.operand === 'self' || (l.extra?.operand === 'skip' && out !== width);
    const operand = self && l.extra?.op === 'sub' ? ('const' as const) : self ? ('self' as const) : l.extra?.operand;
    const extra = l.extra && operand ? { ...l.extra, operand } : l.extra;
    width = out;
    return { ...l, width: out, ...(extra ? { extra } : {}) };
  });
  return { ...spec, layers };
}

export function toProgram(input: FuzzSpec, name = 'fuzz'): Program {
  const spec = normalize(input);
  const steps: { v: string; expr: Expr }[] = [{ v: 'x', expr: { leaf: 'input', name: 'x', shape: [rowsDim(spec), spec.inputWidth] } }];
  let h = 'x';
  let width = spec.inputWidth;
  spec.layers.forEach((l, i) => {
    const n = i + 1;
    let z: Expr;
    if (l.kind === 'twice') {
      steps.push({ v: `W${n}`, expr: param(`W${n}`, [width, width]) });
      const inner = call('matmul', ref(h), ref(`W${n}`));
      z = call('matmul', l.act === 'none' ? inner : call(l.act, inner), ref(`W${n}`));
    } else if (l.kind === 'affine') {
      z = call('affine', ref(h), param(`W${n}`, [width, l.width]), param(`b${n}`, [l.width]));
    } else {
      z = call('matmul', ref(h), param(`W${n}`, [width, l.width]));
    }
    if (l.extra) {
      steps.push({ v: `z${n}`, expr: z });
      const e = l.extra;
      const other: Expr = e.operand === 'row' ? param(`s${n}`, [l.width])
        : e.operand === 'scalar' ? param(`s${n}`, [])
        : e.operand === 'const' ? { num: e.value }
        : e.operand === 'skip' ? ref(h)
        : ref(`z${n}`);
      z = e.swap ? call(e.op, other, ref(`z${n}`)) : call(e.op, ref(`z${n}`), other);
    }
    steps.push({ v: `h${n}`, expr: l.act === 'none' ? z : call(l.act, z) });
    h = `h${n}`;
    width = l.width;
  });
  const out = ref(h);
  const y: Expr = { leaf: 'input', name: 'y', shape: [rowsDim(spec), width] };
  const crossEntropy = spec.loss.startsWith('softmax') ? 'softmaxCrossEntropy' : 'sigmoidCrossEntropy';
  if (spec.loss.endsWith('Soft')) {
    const squash = spec.loss.startsWith('softmax') ? 'softmax' : 'sigmoid';
    steps.push({ v: 't', expr: call(squash, call('affine', ref('x'), param('T', [spec.inputWidth, width]), param('c', [width]))) });
  }
  const loss = spec.loss === 'squared' ? call('squaredLoss', out, y)
    : spec.loss === 'sum' ? call('sum', out)
    : spec.loss === 'mean' ? call('mean', out)
    : spec.loss === 'meanSquare' ? call('mean', call('mul', out, out))
    : call(crossEntropy, out, spec.loss.endsWith('Soft') ? ref('t') : y);
  return { name, steps, output: h, loss };
}

const FNS: Record<string, (...args: never[]) => Tensor> = {
  add, sub, mul, affine, matmul, mean, sum, relu, sigmoid, tanh, softmax, squaredLoss, softmaxCrossEntropy, sigmoidCrossEntropy,
};

/** The graph, built through the DSL. */
export function buildFuzzGraph(spec: FuzzSpec, name = 'fuzz'): GraphDef {
  const program = toProgram(spec, name);
  return graph(name, (g) => {
    const B = spec.dynamicRows === undefined ? undefined : g.batch(spec.batch);
    const env = new Map<string, Tensor>();
    const evalExpr = (e: Expr): Tensor | number => {
      if ('ref' in e) return env.get(e.ref)!;
      if ('num' in e) return e.num;
      if ('leaf' in e) {
        const shape = e.shape.map((d) => (d === 'B' ? B! : d));
        return e.leaf === 'input' ? g.input(e.name, shape) : g.param(e.name, shape as number[]);
      }
      const args = e.args.map(evalExpr);
      return (FNS[e.call] as (...a: (Tensor | number)[]) => Tensor)(...args);
    };
    for (const s of program.steps) env.set(s.v, evalExpr(s.expr) as Tensor);
    g.output('o', env.get(program.output)!);
    g.loss(evalExpr(program.loss) as Tensor);
    if (spec.optimizer) g.optimizer(OPTIMIZERS[spec.optimizer]());
  });
}

/** The graph file a person can rerun with `gradc build <file> --out <dir> --target js,wgsl`. */
export function fuzzGraphFileText(spec: FuzzSpec, name = 'repro', note: readonly string[] = []): string {
  const program = toProgram(spec, name);
  const text = (e: Expr): string => {
    if ('ref' in e) return e.ref;
    if ('num' in e) return String(e.num);
    if ('leaf' in e) return `g.${e.leaf}('${e.name}', [${e.shape.join(', ')}])`;
    return `${e.call}(${e.args.map(text).join(', ')})`;
  };
  const used = new Set<string>(['graph']);
  const collect = (e: Expr) => {
    if ('call' in e) {
      used.add(e.call);
      e.args.forEach(collect);
    }
  };
  program.steps.forEach((s) => collect(s.expr));
  collect(program.loss);
  if (spec.optimizer) used.add(spec.optimizer);
  const imports = ['graph', ...Object.keys(FNS), ...Object.keys(OPTIMIZERS)].filter((f) => used.has(f));
  return [
    `import { ${imports.join(', ')} } from 'gradc';`,
    '',
    ...note.map((l) => `// ${l}`),
    `// spec: ${JSON.stringify(spec)}`,
    `export default graph('${name}', (g) => {`,
    ...(spec.dynamicRows === undefined ? [] : [`  const B = g.batch(${spec.batch});`]),
    ...program.steps.map((s) => `  const ${s.v} = ${text(s.expr)};`),
    `  g.output('o', ${program.output});`,
    `  g.loss(${text(program.loss)});`,
    ...(spec.optimizer ? [`  g.optimizer(${spec.optimizer}());`] : []),
    '});',
    '',
  ].join('\n');
}

/** The older MLP spec of random-graph.ts as a fuzz spec (same graph). */
export function fromMlpSpec(spec: GraphSpec, seed = 1): FuzzSpec {
  return {
    batch: spec.batch,
    inputWidth: spec.widths[0],
    layers: spec.widths.slice(1).map((width, i) => ({ kind: 'affine', width, act: i < spec.activations.length ? spec.activations[i] : 'none' })),
    loss: 'squared',
    seed,
    weightScale: 1,
  };
}

// ── data ─────────────────────────────────────────────────────────────────────

/**
 * Params and inputs for a spec, from its seed: weights uniform with variance about
 * weightScale²/fanIn (so activations neither vanish nor explode with depth), other params
 * and inputs uniform in [−1, 1), biases nonzero so no unit sits on the ReLU kink.
 */
export function fuzzData(def: GraphDef, spec: FuzzSpec): { params: Record<string, Float32Array>; inputs: Record<string, Float32Array> } {
  const arrays = (list: readonly { name: string; id: number }[], salt: number, scaleOf: (shape: readonly number[]) => number) =>
    Object.fromEntries(list.map(({ name, id }, i) => {
      // A dynamic batch's inputs hold the spec's rows.
      const shape = def.ir.nodes[id].shape.map((d) => (d < 0 ? spec.dynamicRows! : d));
      return [name, randomArray(shape.reduce((a, b) => a * b, 1), spec.seed * 7919 + salt + i * 131, scaleOf(shape))];
    }));
  const inputs = arrays(def.ir.inputs, 3, () => 1);
  // Cross-entropy labels the modules accept: in [0, 1], and for softmax each row a distribution.
  if (spec.loss === 'sigmoidCE' || spec.loss === 'softmaxCE') {
    const y = inputs.y.map((u) => (u + 1) / 2);
    if (spec.loss === 'softmaxCE') {
      const width = normalize(spec).layers.at(-1)!.width;
      for (let r = 0; r < y.length / width; r++) {
        const row = y.subarray(r * width, (r + 1) * width);
        const total = row.reduce((a, v) => a + v, 0);
        row.forEach((v, i) => (row[i] = total > 0 ? v / total : 1 / width));
      }
    }
    inputs.y = y;
  }
  return {
    params: arrays(def.ir.params, 17, (shape) => (shape.length === 2 ? spec.weightScale * Math.sqrt(3 / shape[0]) : 0.5)),
    inputs,
  };
}

/** Multiply-adds of one forward pass: what the float64 reference costs. */
export function forwardCost(spec: FuzzSpec): number {
  const s = normalize(spec);
  let width = s.inputWidth;
  let cost = 0;
  for (const l of s.layers) {
    cost += s.batch * width * l.width * (l.kind === 'twice' ? 2 : 1);
    width = l.width;
  }
  return cost;
}

// ── arbitraries ──────────────────────────────────────────────────────────────

/** Sizes that tend to break tiled code: 1, primes, and just around the GPU tile 16 and workgroup 256. */
export const FUZZ_WIDTHS = [1, 2, 3, 5, 7, 13, 15, 16, 17, 31, 32, 33, 61, 63, 64, 65, 127, 128, 129, 251, 255, 256, 257, 293, 300];
export const FUZZ_BATCHES = [1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129, 255, 256, 257, 509, 511, 512, 513];

/** Weighted toward small and awkward sizes, with the whole range reachable. */
const sizeArb = (awkward: readonly number[], max: number, small: number) => fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: small }), weight: 4 },
  { arbitrary: fc.constantFrom(...awkward), weight: 2 },
  { arbitrary: fc.integer({ min: 1, max }), weight: 1 },
);

export interface FuzzArbOptions {
  readonly maxDepth?: number;
  readonly maxWidth?: number;
  readonly maxBatch?: number;
  /** The losses to draw from (default: every one). */
  readonly losses?: readonly FuzzLoss[];
}

export function fuzzSpecArb(options: FuzzArbOptions = {}): fc.Arbitrary<FuzzSpec> {
  const maxWidth = options.maxWidth ?? 300;
  const maxBatch = options.maxBatch ?? 513;
  const width = sizeArb(FUZZ_WIDTHS.filter((w) => w <= maxWidth), maxWidth, Math.min(maxWidth, 17));
  const extra = fc.record({
    op: fc.constantFrom('add', 'sub', 'mul'),
    operand: fc.constantFrom<Operand>('row', 'scalar', 'const', 'self', 'skip'),
    swap: fc.boolean(),
    value: fc.constantFrom(0.5, 2, -1.5, 0.001, 3),
  });
  const layer = fc.record({
    kind: fc.oneof({ arbitrary: fc.constant('affine' as const), weight: 4 }, { arbitrary: fc.constant('matmul' as const), weight: 1 }, { arbitrary: fc.constant('twice' as const), weight: 1 }),
    width,
    act: fc.constantFrom<Act>('relu', 'sigmoid', 'tanh', 'none'),
    extra: fc.option(extra, { freq: 3, nil: undefined }),
  }, { requiredKeys: ['kind', 'width', 'act'] });
  return fc.record({
    batch: sizeArb(FUZZ_BATCHES.filter((b) => b <= maxBatch), maxBatch, Math.min(maxBatch, 17)),
    inputWidth: width,
    layers: fc.array(layer, { minLength: 1, maxLength: options.maxDepth ?? 6 }),
    loss: fc.constantFrom(...(options.losses ?? FUZZ_LOSSES)),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
    weightScale: fc.constantFrom(0.5, 1, 2),
  }).map(normalize);
}
