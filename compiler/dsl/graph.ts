/**
 * `graph(name, g => …)`: the entry point of the DSL. The builder function declares inputs
 * and params, applies ops, and names outputs and the loss; `graph` checks the result and
 * returns it as forward IR.
 */
import { GradcError, quote } from '../errors.ts';
import type { Graph, InitKind, Node, Shape, SourceLoc } from '../ir/graph.ts';
import { optimizerFromChoice, type OptimizerDef } from '../ir/optimizers.ts';
import { reachable, shapeText, sizeOf } from '../ir/graph.ts';
import { MAX_ARRAY_ELEMENTS, elementsProblem } from './limits.ts';
import { clearSourceCache } from './location.ts';
import { formatLoc } from '../ir/location.ts';
import { graphNameProblem, nameProblem, sanitize } from './names.ts';
import { GraphScope, UserCall } from './scope.ts';
import { closest } from '../suggest.ts';
import { DEFAULT_TARGET, HOST_FILE, QUERY_FRAME, targetRow } from '../targets.ts';
import { BatchDim, Tensor } from './tensor.ts';

export const GRAPH_BRAND = Symbol.for('gradc.graph');

/** What `graph()` returns and a graph file exports by default. */
export interface GraphDef {
  readonly [GRAPH_BRAND]: true;
  readonly name: string;
  /** The forward graph, checked. */
  readonly ir: Graph;
  /** How train steps update params (default: plain SGD). */
  readonly optimizer?: OptimizerDef;
}

export interface ParamOptions {
  /**
   * `he` (N(0, 2/in)), `xavier` (N(0, 2/(in+out))), `normal` (N(0, 0.01²)) or `zeros`.
   * Default: zeros for rank 0–1 params (biases); for a weight, `he` when the layer it feeds
   * goes into a ReLU, else `xavier`.
   */
  readonly init?: InitKind;
}

export interface GraphContext {
  /**
   * Data given at each call, e.g. `[batch, features]`: one example per row. The first
   * dimension may be the graph's batch dimension (`g.batch(max)`).
   */
  input(name: string, shape: readonly (number | BatchDim)[]): Tensor;
  /**
   * The batch dimension, for the first dimension of inputs: every call then takes any whole
   * number of rows from 1 to `max` (read from the input lengths), and outputs and the mean
   * loss are over the rows given. Memory is planned for `max`.
   */
  batch(max: number): BatchDim;
  /** A trained parameter: `[in, out]` for a weight, `[out]` for a bias. */
  param(name: string, shape: Shape, options?: ParamOptions): Tensor;
  /** Names a tensor as an output of `forward`. */
  output(name: string, value: Tensor): void;
  /** The scalar loss J that `loss`, `gradient` and `trainStep` use. */
  loss(value: Tensor): void;
  /**
   * How `trainStep` updates params: `sgd()` (the default), `momentum({ momentum })` or
   * `adam({ beta1, beta2, epsilon })`. The learning rate stays an argument of each step.
   */
  optimizer(def: OptimizerDef): void;
}

const INITS: readonly InitKind[] = ['he', 'xavier', 'normal', 'zeros'];
const MAX_RANK = 2;

export function isGraphDef(value: unknown): value is GraphDef {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[GRAPH_BRAND] === true;
}

export function graph(name: string, build: (g: GraphContext) => void): GraphDef {
  // Sources are cached for quoting calls; a new graph may come from an edited file (watch mode).
  clearSourceCache();
  const call = new UserCall('graph');
  const plain = QUERY_FRAME.exec(new Error().stack ?? '')?.[1];
  if (plain) throw new GradcError(plain, `was imported as plain code: no gradc plugin compiled it. ${ADD_PLUGIN}`);
  const problem = graphNameProblem(name);
  if (problem) throw new GradcError(`graph ${quote(String(name))}`, problem, call.loc);
  if (name.toLowerCase() === HOST_FILE) {
    throw new GradcError(`graph '${name}'`, `the name is gradc's: its modules import ${HOST_FILE}.js, written beside them`, call.loc);
  }
  if (typeof build !== 'function') throw new GradcError(`graph '${name}'`, 'the second argument must be a function (g) => { … }', call.loc);
  const scope = new GraphScope(name);
  const result: unknown = build(strictContext(context(scope)));
  scope.open = false;
  if (result instanceof Promise) {
    // The builder may go on after an await and throw; that is not the error to report.
    result.catch(() => undefined);
    throw new GradcError(`graph '${name}'`, 'the builder function must be synchronous', call.loc);
  }
  return notAModule(brandGraph(name, finish(scope, call.loc), scope.optimizer?.def));
}

/** The GraphDef for a checked forward graph (also how a graph loaded in a worker thread is rebuilt). */
export function brandGraph(name: string, ir: Graph, optimizer?: OptimizerDef): GraphDef {
  return Object.freeze({ [GRAPH_BRAND]: true as const, name, ir, ...(optimizer ? { optimizer } : {}) });
}

const ADD_PLUGIN = `Import the graph file with '?${targetRow(DEFAULT_TARGET).query}' through gradc's plugin for your bundler (gradc/vite, gradc/rollup, gradc/webpack or gradc/esbuild), or build it with \`gradc build\` and import the generated module`;

/** What a generated module exports: looked for on a graph definition, they mean a missing plugin. */
const MODULE_EXPORTS = new Set(['meta', 'initParams', 'forward', 'loss', 'gradient', 'trainStep', 'createModel', 'WGSL']);

/**
 * A graph definition that says what went wrong when it is used as the compiled module: an
 * app that imports a graph file without gradc's bundler plugin gets the definition, and
 * `housing.trainStep(…)` would otherwise fail as `undefined is not a function`.
 */
function notAModule(def: GraphDef): GraphDef {
  return new Proxy(def, {
    get(target, key, receiver) {
      if (typeof key === 'string' && MODULE_EXPORTS.has(key) && !(key in target)) {
        throw new GradcError(
          `graph '${target.name}'`,
          `is a graph definition, not a compiled module, so it has no '${key}'. ${ADD_PLUGIN}`,
        );
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

function context(scope: GraphScope): GraphContext {
  const declare = (call: UserCall, kind: string, name: unknown): string => {
    if (!scope.open) call.fail([String(name)], `graph '${scope.name}' is already built`);
    const problem = nameProblem(name);
    if (problem) throw new GradcError(`${kind} ${quote(String(name))}`, problem, call.loc);
    const n = name as string;
    const prev = scope.declared.get(sanitize(n));
    if (prev) {
      const how = prev.name === n ? 'is already used' : `collides with ${quote(prev.name)} once '-' and '.' become '_'`;
      throw new GradcError(`${kind} '${n}'`, `the name ${how} by the ${prev.kind} declared at ${formatLoc(prev.loc)}`, call.loc);
    }
    scope.declared.set(sanitize(n), { name: n, kind, loc: call.loc });
    return n;
  };
  const leaf = (callee: string, kind: 'input' | 'param', name: unknown, shape: unknown, init?: unknown): Tensor => {
    const call = new UserCall(callee);
    const n = declare(call, kind, name);
    const checked = checkShape(shape, `${kind} '${n}'`, call.loc, kind === 'input' ? scope.batch?.dim : undefined);
    if (init !== undefined && !INITS.includes(init as InitKind)) {
      throw new GradcError(`param '${n}'`, `init ${quote(String(init))} is not one of ${INITS.join(', ')}`, call.loc);
    }
    const id = scope.list.push({ op: kind, inputs: [], attrs: { leaf: n, init: init as InitKind | undefined }, shape: checked, name: n, loc: call.loc });
    scope[kind === 'input' ? 'inputs' : 'params'].push({ name: n, id });
    return new Tensor(scope, id);
  };
  /** The tensor argument of output/loss: a tensor of this very graph. */
  const ownTensor = (call: UserCall, value: unknown, index: number): Tensor => {
    const shown = call.argText(index, 'value');
    if (!scope.open) call.fail([shown], `graph '${scope.name}' is already built`);
    if (!(value instanceof Tensor)) {
      const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
      call.fail([shown], `${shown} is ${what}, expected a tensor of graph '${scope.name}'`);
    }
    if (value.scope !== scope) call.fail([shown], `${shown} belongs to graph '${value.scope.name}', not to '${scope.name}'`);
    return value;
  };
  return {
    input: (name, shape) => leaf('input', 'input', name, shape),
    param: (name, shape, options) => leaf('param', 'param', name, shape, options?.init),
    output: (name, value) => {
      const call = new UserCall('output');
      const n = declare(call, 'output', name);
      scope.outputs.push({ name: n, id: ownTensor(call, value, 1).id });
    },
    loss: (value) => {
      const call = new UserCall('loss');
      ownTensor(call, value, 0);
      if (scope.loss) call.fail([value.name], `graph '${scope.name}' already has a loss, set at ${formatLoc(scope.loss.loc)}`);
      if (value.shape.length !== 0) {
        call.fail([value.name], `the loss must be a scalar but ${call.argText(0, value.name)} is ${shapeText(value.shape)}; reduce it with squaredLoss, sum or mean`);
      }
      scope.loss = { id: value.id, loc: call.loc };
    },
    batch: (max) => {
      const call = new UserCall('batch');
      const shown = call.argText(0, String(max));
      if (!scope.open) call.fail([shown], `graph '${scope.name}' is already built`);
      if (scope.batch) call.fail([shown], `graph '${scope.name}' already has a batch dimension, declared at ${formatLoc(scope.batch.loc)}`);
      if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 2 ** 30) {
        call.fail([shown], `the largest batch must be a whole number from 1 to 2^30, got ${typeof max === 'number' ? max : JSON.stringify(max) ?? typeof max}`);
      }
      const dim = new BatchDim(max);
      scope.batch = { dim, loc: call.loc };
      return dim;
    },
    optimizer: (def) => {
      const call = new UserCall('optimizer');
      const shown = call.argText(0, 'def');
      if (!scope.open) call.fail([shown], `graph '${scope.name}' is already built`);
      if (scope.optimizer) call.fail([shown], `graph '${scope.name}' already has an optimizer, set at ${formatLoc(scope.optimizer.loc)}`);
      // Rebuilt from its name and options, so only gradc's own optimizers get in.
      const made = optimizerFromChoice((def as Partial<OptimizerDef> | null)?.choice);
      if (typeof made === 'string') return call.fail([shown], `${shown} is not an optimizer: ${made}`);
      scope.optimizer = { def: made, loc: call.loc };
    },
  };
}

/**
 * Names read from an object by tools that probe it (await, JSON, test matchers, React's
 * element check): reading them from the context is no typo.
 */
const PROBED = new Set(['then', 'toJSON', 'asymmetricMatch', '$$typeof', 'nodeType']);

/**
 * The context the builder gets: reading a name it does not have (`g.parm`) throws a
 * GradcError at that line with the closest method, instead of `g.parm is not a function`.
 */
function strictContext(ctx: GraphContext): GraphContext {
  const methods = Object.keys(ctx);
  return new Proxy(ctx, {
    get(target, key, receiver) {
      if (typeof key !== 'string' || key in target || PROBED.has(key)) return Reflect.get(target, key, receiver);
      const hint = closest(key, methods);
      const call = new UserCall(key);
      call.fail([], `the graph context has no method '${key}'${hint ? `; did you mean g.${hint}?` : ''} (its methods: ${methods.join(', ')})`);
    },
  });
}

/** A declared shape as the IR keeps it: the batch dimension (allowed first, for inputs) becomes −max. */
function checkShape(shape: unknown, subject: string, loc: SourceLoc | undefined, batch?: BatchDim): number[] {
  const fail = (detail: string): never => {
    throw new GradcError(subject, detail, loc);
  };
  if (!Array.isArray(shape)) fail(`the shape must be an array of dimensions, got ${shape === null ? 'null' : typeof shape}`);
  const given = shape as unknown[];
  given.forEach((d, i) => {
    if (!(d instanceof BatchDim)) return;
    if (!subject.startsWith('input')) fail(`the batch dimension ${d} is for inputs; a param's shape is fixed`);
    if (d !== batch) fail(`${d} is another graph's batch dimension`);
    if (i !== 0 || given.length !== 2) fail(`the batch dimension ${d} must be the first of two dimensions, [${d}, features]: one example per row`);
  });
  const dims = given.map((d) => (d instanceof BatchDim ? d.max : d));
  if (dims.length > MAX_RANK) fail(`the shape [${dims.join(',')}] has rank ${dims.length}; gradc supports ranks 0 to ${MAX_RANK}`);
  dims.forEach((d) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d <= 0) {
      fail(`the shape [${dims.join(',')}] has dimension ${typeof d === 'number' ? d : quote(String(d))}; dimensions must be positive integers`);
    }
    if ((d as number) > 2 ** 30) fail(`dimension ${d} exceeds gradc's limit of 2^30`);
  });
  const tooMany = elementsProblem(dims as number[]);
  if (tooMany) fail(`the shape ${tooMany}`);
  return given.map((d) => (d instanceof BatchDim ? -d.max : (d as number)));
}

/** Checks what only the whole graph shows, and settles default initializers. */
function finish(scope: GraphScope, loc: SourceLoc | undefined): Graph {
  const subject = `graph '${scope.name}'`;
  if (scope.outputs.length === 0 && !scope.loss) {
    throw new GradcError(subject, 'declares no output and no loss; call g.output(name, t) or g.loss(t)', loc);
  }
  const draft: Graph = {
    name: scope.name, nodes: scope.list.nodes, inputs: scope.inputs, params: scope.params, outputs: scope.outputs, loss: scope.loss?.id, loc,
    ...(scope.batch ? { batch: scope.batch.dim.max } : {}),
  };
  // forward returns every output at once, so the JS arena holds them all together: a lower
  // bound on its size, known already (the exact size comes with the memory plan).
  const outputFloats = [...new Set(scope.outputs.map((o) => o.id))].filter((id) => scope.list.nodes[id].inputs.length > 0)
    .reduce((n, id) => n + sizeOf(scope.list.nodes[id].shape), 0);
  if (outputFloats > MAX_ARRAY_ELEMENTS) {
    throw new GradcError(subject, `its outputs hold ${outputFloats} floats together, and forward keeps them in one arena, but a Float32Array holds at most 2^32 = ${MAX_ARRAY_ELEMENTS} in Node`, loc);
  }
  if (scope.batch && !scope.inputs.some((r) => scope.list.nodes[r.id].shape[0] < 0)) {
    throw new GradcError(`batch(${scope.batch.dim.max})`, 'no input uses the batch dimension; give it as the first dimension of the inputs, e.g. g.input(\'x\', [B, 4])', scope.batch.loc);
  }
  if (scope.optimizer && !scope.loss) {
    throw new GradcError(`optimizer(${scope.optimizer.def.name}())`, 'an optimizer needs a loss to minimize; call g.loss(t)', scope.optimizer.loc);
  }
  const used = new Set(reachable(draft, [...scope.outputs.map((o) => o.id), ...(scope.loss ? [scope.loss.id] : [])]));
  for (const [kind, list] of [['input', scope.inputs], ['param', scope.params]] as const) {
    for (const { name, id } of list) {
      if (!used.has(id)) {
        throw new GradcError(`${kind} '${name}'`, 'is declared but affects no output and not the loss; remove it or use it', scope.list.nodes[id].loc);
      }
    }
  }
  const consumers = consumersOf(scope.list.nodes);
  const nodes = scope.list.nodes.map((n) => (n.op === 'param' && !n.attrs.init ? { ...n, attrs: { ...n.attrs, init: defaultInit(n, consumers) } } : n));
  return { ...draft, nodes };
}

/** For each node id, the nodes that read it: built once, so settling every init is linear in the graph. */
function consumersOf(nodes: readonly Node[]): readonly Node[][] {
  const out: Node[][] = nodes.map(() => []);
  for (const n of nodes) for (const i of new Set(n.inputs)) out[i].push(n);
  return out;
}

function defaultInit(param: Node, consumers: readonly (readonly Node[])[]): InitKind {
  if (param.shape.length < 2) return 'zeros';
  // weight → matmul → bias add → activation
  const feedsRelu = consumers[param.id].some((mm) => consumers[mm.id].some((z) => z.op === 'relu' || consumers[z.id].some((a) => a.op === 'relu')));
  return feedsRelu ? 'he' : 'xavier';
}
