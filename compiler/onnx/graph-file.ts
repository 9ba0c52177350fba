/**
 * A chain of layers read from ONNX (read.ts) as a gradc graph file the user can read, build
 * and extend, and its weights in gradc's layout and names (W1 [in, out], b1 [out], …).
 *
 * Nothing the model names becomes code: its node names appear in `//` comments as escaped
 * JSON strings, and its input and output names only as string literals, after the name
 * rules of compiler/dsl/names.ts (a name they refuse is replaced by a safe one). Variables
 * are gradc's own (`x`, `h1`, …).
 */
import { nameProblem, sanitize } from '../dsl/names.ts';
import { oneLine } from '../errors.ts';
import type { Chain, Layer, Origin } from './read.ts';

export interface GraphFileOptions {
  /** The graph's name (checked by the name rules). */
  readonly name: string;
  /** The dynamic batch's largest row count: used where the ONNX batch axis is dynamic, and for a fixed one when given. */
  readonly batch?: number;
  /** The ONNX file, for the header comment. */
  readonly source: string;
}

export interface NamedWeights {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

export const DEFAULT_BATCH = 64;

/** How each layer kind reads in the graph file: the call that computes it, given the value before it and its params. */
const CALLS: Record<Exclude<Layer['kind'], 'pass'>, (x: string, W: string, b: string) => { fns: string[]; code: string[] }> = {
  dense: (x, W, b) => (b ? { fns: ['affine'], code: [`affine(${x}, ${W}, ${b})`] } : { fns: ['matmul'], code: [`matmul(${x}, ${W})`] }),
  bias: (x, _W, b) => ({ fns: ['add'], code: [`add(${x}, ${b})`] }),
  relu: (x) => ({ fns: ['relu'], code: [`relu(${x})`] }),
  sigmoid: (x) => ({ fns: ['sigmoid'], code: [`sigmoid(${x})`] }),
  tanh: (x) => ({ fns: ['tanh'], code: [`tanh(${x})`] }),
  softmax: (x) => ({ fns: ['softmax'], code: [`softmax(${x})`] }),
  // log softmax(x) = (x − max) − log Σ exp(x − max): the max keeps exp from overflowing.
  logSoftmax: (x) => ({ fns: ['sub', 'rowMax', 'log', 'rowSum', 'exp'], code: [`sub(${x}, rowMax(${x}))`, `sub(#, log(rowSum(exp(#))))`] }),
};

/** `name` if the name rules (`rule`: a node's, or a graph's) take it, else a safe name made from its letters and digits. */
export function safeName(name: string, fallback: string, rule: (name: string) => string | undefined = nameProblem): string {
  if (rule(name) === undefined) return name;
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^_+/, '').slice(0, 60);
  const candidate = /^[A-Za-z]/.test(cleaned) ? cleaned : `${fallback}_${cleaned}`.slice(0, 64);
  return rule(candidate) === undefined ? candidate : fallback;
}

const comment = (text: string) => oneLine(JSON.stringify(text));
const originText = (o: Origin) => `${comment(o.node)} (${o.op}${o.note ? `: ${o.note}` : ''})`;

/** The graph file's text and the weights' tensors. */
export function renderGraphFile(chain: Chain, options: GraphFileOptions): { text: string; weights: NamedWeights[] } {
  const weights: NamedWeights[] = [];
  const taken = new Set<string>();
  const unique = (name: string) => {
    let n = name;
    for (let k = 2; taken.has(sanitize(n).toLowerCase()); k++) n = `${name}_${k}`;
    taken.add(sanitize(n).toLowerCase());
    return n;
  };
  const body: string[] = [];
  const fns = new Set<string>(['graph']);
  let layerIndex = 0;
  let value = 'x';
  let step = 0;
  /** The value before the last softmax or log softmax: the logits a loss takes. */
  let logits: string | undefined;
  const params: { name: string; shape: number[]; values: Float32Array }[] = [];
  for (const layer of chain.layers) {
    body.push(`  // ${layer.origins.map(originText).join(', ')}`);
    if (layer.kind === 'pass') continue;
    let W = '';
    let b = '';
    if (layer.kind === 'dense' || layer.kind === 'bias') layerIndex++;
    if (layer.kind === 'dense') {
      W = `W${layerIndex}`;
      params.push({ name: W, shape: [...layer.shape], values: layer.W });
    }
    const bias = layer.kind === 'dense' || layer.kind === 'bias' ? layer.b : undefined;
    if (bias) {
      b = `b${layerIndex}`;
      params.push({ name: b, shape: [bias.length], values: bias });
    }
    const shapeOf = (p: string) => params.find((q) => q.name === p)!.shape;
    const call = CALLS[layer.kind](value, W && `g.param('${W}', [${shapeOf(W).join(', ')}])`, b && `g.param('${b}', [${shapeOf(b).join(', ')}])`);
    call.fns.forEach((f) => fns.add(f));
    if (layer.kind === 'softmax' || layer.kind === 'logSoftmax') logits = value;
    else logits = undefined;
    let previous = '';
    for (const code of call.code) {
      const name = `h${++step}`;
      body.push(`  const ${name} = ${code.replaceAll('#', previous)};`);
      previous = name;
    }
    value = previous;
  }
  for (const p of params) weights.push({ name: unique(p.name), shape: p.shape, values: p.values });

  const inputName = unique(safeName(chain.input.name, 'input'));
  const outputName = unique(safeName(chain.output.name, 'output'));
  const dynamic = chain.input.rows === undefined || options.batch !== undefined;
  const rows = dynamic ? 'B' : String(chain.input.rows);
  const head: string[] = [];
  if (dynamic) head.push(`  const B = g.batch(${options.batch ?? DEFAULT_BATCH});`);
  head.push(
    `  // ONNX input ${comment(chain.input.name)}: [${chain.input.dims.map((d) => (typeof d === 'number' ? d : comment(d))).join(', ')}]${chain.input.dims.length > 2 ? `, one example per row flattened to ${chain.input.features} values` : ''}`,
    `  const x = g.input(${JSON.stringify(inputName)}, [${rows}, ${chain.input.features}]);`,
  );
  const target = `g.input('target', [${rows}, ${chain.output.features}])`;
  const hint = logits
    ? [`  //   g.loss(softmaxCrossEntropy(${logits}, ${target}));`]
    : [`  //   g.loss(squaredLoss(${value}, ${target}));`];
  const lines = [
    `// Imported by \`gradc import\` from ${comment(options.source)}: ONNX opset ${chain.opset}${chain.producer ? `, made by ${comment(chain.producer)}` : ''}.`,
    `// The weights are in ${options.name}.safetensors, in gradc's layout (W [in, out]); load them with`,
    `// loadParams(model, bytes, { allowOtherGraph: true }). Each step names the ONNX node it comes from.`,
    `import { ${[...fns].join(', ')} } from 'gradc';`,
    '',
    `export default graph(${JSON.stringify(options.name)}, (g) => {`,
    ...head,
    ...body,
    `  g.output(${JSON.stringify(outputName)}, ${value});`,
    `  // To fine-tune, add a loss and an optimizer (import them from 'gradc'), e.g.`,
    ...hint,
    `  //   g.optimizer(adam());`,
    '});',
    '',
  ];
  return { text: lines.join('\n'), weights };
}
