/**
 * Assembles the generated TypeScript module (and its .d.ts) from a module plan, as ts-morph
 * structures built in one go. The module imports nothing, allocates its workspace once at
 * load, and every loop bound in it is a constant.
 */
import {
  StructureKind,
  type FunctionDeclarationStructure, type OptionalKind,
  type ParameterDeclarationStructure, type VariableStatementStructure,
} from 'ts-morph';
import type { Graph, InitKind, Node } from '../../ir/graph.ts';
import { sizeOf } from '../../ir/graph.ts';
import type { Kernel } from '../../kernels/kernel.ts';
import type { Entry, ModulePlan } from '../plan.ts';
import { Namer, commentText, numberLiteral, property, propertyKey, shapeLabel } from '../text.ts';
import { constant, declaration, doc, interfaces, metaStatement, print, type Statement } from '../ts-module.ts';
import { renderKernel } from './kernels.ts';
import { HELPERS_TS, HELPER_NAMES } from './helpers.ts';
import { describeKernel } from '../describe.ts';

export interface ModuleInfo {
  readonly version: string;
  /** Hash of the forward graph, shown in the header and doc comments. */
  readonly hash: string;
  /** The graph file's name (no directories, so output does not depend on where it was built). */
  readonly source: string;
}

export interface EmittedModule {
  readonly ts: string;
  readonly dts: string;
}

export function emitJsModule(plan: ModulePlan, info: ModuleInfo): EmittedModule {
  const { graph: g } = plan;
  const names = new Namer(HELPER_NAMES);
  const arrays = new Map<number, string>();
  const leafName = (n: Node) => names.take(n.op === 'param' ? 'p_' : 'in_', n.attrs.leaf!);
  for (const r of [...g.params, ...g.inputs]) arrays.set(r.id, leafName(g.nodes[r.id]));
  const workspace: VariableStatementStructure[] = [];
  for (const id of plan.schedule.buffers) {
    const n = g.nodes[id];
    const name = names.take('t_', n.name);
    arrays.set(id, name);
    workspace.push(constant(name, `new Float32Array(${sizeOf(n.shape)})`, `${n.name} ${shapeLabel(n.shape)}`));
  }

  const kernelFns = plan.schedule.kernels.map((k) => kernelFunction(k, g, names, arrays, workspace));
  const parts = interfaces(plan);
  const entries = [
    initParamsFn(g),
    forwardFn(plan, arrays, kernelFns),
    ...(plan.loss ? [lossFn(plan, plan.loss, arrays, kernelFns)] : []),
    ...(plan.gradient ? [gradientFn(plan, plan.gradient, arrays, kernelFns), trainStepFn(plan, plan.gradient, arrays, kernelFns)] : []),
  ];

  const header = jsHeader(g, info);
  const specs = recordSpecs(plan);
  const ts = print(`${g.name}.ts`, [
    header,
    metaStatement(g, false),
    ...parts,
    '// Shapes the entry points check their arguments against: [name, length, shape].',
    ...specs,
    HELPERS_TS,
    `// Workspace: every intermediate that some kernel stores, allocated once.`,
    ...workspace,
    ...kernelFns.map((k) => k.structure),
    ...entries.map((e) => e.structure),
  ]);
  const dts = print(`${g.name}.d.ts`, [
    header,
    metaStatement(g, true),
    ...parts,
    ...entries.map((e) => declaration(e.structure)),
  ]);
  return { ts, dts };
}

function recordSpecs(plan: ModulePlan): Statement[] {
  const g = plan.graph;
  const spec = (name: string, list: readonly { name: string; id: number }[], comment: string) => {
    const rows = list.map((r) => `[${JSON.stringify(r.name)}, ${sizeOf(g.nodes[r.id].shape)}, ${JSON.stringify(shapeLabel(g.nodes[r.id].shape))}]`);
    return constant(name, `[${rows.join(', ')}] as const`, comment);
  };
  const inputsOf = (names: readonly string[]) => g.inputs.filter((r) => names.includes(r.name));
  return [
    spec('PARAMS', g.params, 'Every param.'),
    spec('FORWARD_INPUTS', inputsOf(plan.forward.inputs), 'The inputs forward reads.'),
    ...(plan.gradient ? [spec('TRAIN_INPUTS', inputsOf(plan.gradient.inputs), 'The inputs loss, gradient and trainStep read.')] : []),
    spec('ALL_INPUTS', g.inputs, 'Every declared input: others are rejected as misspellings.'),
  ];
}

interface KernelFn {
  readonly name: string;
  /** Leaf node ids passed as arguments, in order. */
  readonly leaves: readonly number[];
  readonly structure: FunctionDeclarationStructure;
}

function kernelFunction(k: Kernel, g: Graph, names: Namer, arrays: Map<number, string>, workspace: VariableStatementStructure[]): KernelFn {
  const fn = names.take('k_', k.name);
  let scratchCount = 0;
  const body = renderKernel(k, g, {
    array: (id) => {
      const name = arrays.get(id);
      if (!name) throw new Error(`internal: no array for ${g.nodes[id].name} in kernel ${k.name}`);
      return name;
    },
    scratch: (length) => {
      const name = names.take('acc_', `${k.name}${scratchCount++ ? `_${scratchCount}` : ''}`);
      workspace.push(constant(name, `new Float64Array(${length})`, `Float64 accumulator of kernel ${fn}.`));
      return name;
    },
  });
  const reads = k.kind === 'matmul' ? [k.a, k.b, ...k.args.map((a) => a.node)] : k.args.map((a) => a.node);
  const leaves = [...new Set(reads.filter((id) => g.nodes[id].op === 'param' || g.nodes[id].op === 'input'))];
  return {
    name: fn,
    leaves,
    structure: {
      kind: StructureKind.Function,
      name: fn,
      docs: [doc(describeKernel(k, g).join('\n'))],
      parameters: leaves.map((id) => ({ name: arrays.get(id)!, type: 'Float32Array' })),
      returnType: 'void',
      statements: [body.join('\n')],
    },
  };
}

interface EntryFn {
  readonly structure: FunctionDeclarationStructure;
}

const PARAMS_PARAM: OptionalKind<ParameterDeclarationStructure> = { name: 'params', type: 'Params' };

/** Argument checks, then each leaf bound to a local, then the entry's kernels in order. */
function prologue(fn: string, plan: ModulePlan, entry: Entry, inputsSpec: string, arrays: Map<number, string>, kernels: readonly KernelFn[]): string[] {
  const g = plan.graph;
  return [
    `checkRecord(${JSON.stringify(fn)}, 'params', params, PARAMS, PARAMS);`,
    `checkRecord(${JSON.stringify(fn)}, 'inputs', inputs, ${inputsSpec}, ALL_INPUTS);`,
    ...g.params.map((r) => `const ${arrays.get(r.id)} = ${property('params', r.name)};`),
    ...g.inputs.filter((r) => entry.inputs.includes(r.name)).map((r) => `const ${arrays.get(r.id)} = ${property('inputs', r.name)};`),
    ...entry.kernels.map((i) => `${kernels[i].name}(${kernels[i].leaves.map((id) => arrays.get(id)).join(', ')});`),
  ];
}

/** A fresh copy of a stored node's value. */
function copyOf(n: Node, arrays: Map<number, string>): string {
  return `${arrays.get(n.id)}.slice()`;
}

function scalarOf(n: Node, arrays: Map<number, string>): string {
  return `${arrays.get(n.id)}[0]`;
}

function forwardFn(plan: ModulePlan, arrays: Map<number, string>, kernels: readonly KernelFn[]): EntryFn {
  const g = plan.graph;
  const outs = g.outputs.map((r) => `${propertyKey(r.name)}: ${copyOf(g.nodes[r.id], arrays)}`);
  return entryFn('forward', `Evaluates the outputs (${list(g.outputs, g)}) for one batch. Returns fresh arrays.`,
    [PARAMS_PARAM, { name: 'inputs', type: 'ForwardInputs' }], 'Outputs',
    [...prologue('forward', plan, plan.forward, 'FORWARD_INPUTS', arrays, kernels), `return { ${outs.join(', ')} };`]);
}

function lossFn(plan: ModulePlan, entry: Entry, arrays: Map<number, string>, kernels: readonly KernelFn[]): EntryFn {
  const g = plan.graph;
  return entryFn('loss', 'The loss J for one batch.', [PARAMS_PARAM, { name: 'inputs', type: 'TrainInputs' }], 'number',
    [...prologue('loss', plan, entry, 'TRAIN_INPUTS', arrays, kernels), `return ${scalarOf(g.nodes[g.loss!], arrays)};`]);
}

function gradientFn(plan: ModulePlan, entry: Entry, arrays: Map<number, string>, kernels: readonly KernelFn[]): EntryFn {
  const g = plan.graph;
  const grads = (g.grads ?? []).map((r) => `${propertyKey(r.name)}: ${copyOf(g.nodes[r.id], arrays)}`);
  return entryFn('gradient', 'The loss J and its exact gradient dJ/dparam for every param (backpropagation, notes Algorithm 4). Returns fresh arrays.',
    [PARAMS_PARAM, { name: 'inputs', type: 'TrainInputs' }], 'Gradient',
    [...prologue('gradient', plan, entry, 'TRAIN_INPUTS', arrays, kernels), `return { loss: ${scalarOf(g.nodes[g.loss!], arrays)}, grads: { ${grads.join(', ')} } };`]);
}

function trainStepFn(plan: ModulePlan, entry: Entry, arrays: Map<number, string>, kernels: readonly KernelFn[]): EntryFn {
  const g = plan.graph;
  const updates = (g.grads ?? []).flatMap((r) => {
    const p = arrays.get(g.params.find((q) => q.name === r.name)!.id)!;
    const d = g.nodes[r.id];
    return [`for (let i = 0; i < ${sizeOf(d.shape)}; i++) ${p}[i] -= learningRate * ${arrays.get(d.id)}[i];`];
  });
  return entryFn('trainStep', 'One SGD step in place (notes eq. 1.3: θ := θ − α∇θJ). Every gradient is computed before any param changes, so a failed call changes nothing. Returns the loss before the update.',
    [PARAMS_PARAM, { name: 'inputs', type: 'TrainInputs' }, { name: 'learningRate', type: 'number' }], 'number', [
      `checkRate(learningRate);`,
      ...prologue('trainStep', plan, entry, 'TRAIN_INPUTS', arrays, kernels),
      '// θ := θ − α·dJ/dθ',
      ...updates,
      `return ${scalarOf(g.nodes[g.loss!], arrays)};`,
    ]);
}

const STD: Record<InitKind, (fanIn: number, fanOut: number) => number> = {
  he: (fanIn) => Math.sqrt(2 / fanIn),
  xavier: (fanIn, fanOut) => Math.sqrt(2 / (fanIn + fanOut)),
  normal: () => 0.01,
  zeros: () => 0,
};

function initParamsFn(g: Graph): EntryFn {
  const lines = ['checkSeed(seed);', 'const next = makeRng(seed);'];
  const fields: string[] = [];
  g.params.forEach((r, i) => {
    const n = g.nodes[r.id];
    const init = n.attrs.init ?? 'zeros';
    const [fanIn, fanOut] = [n.shape[0] ?? 1, n.shape[1] ?? 1];
    const local = `v${i}`;
    lines.push(`const ${local} = new Float32Array(${sizeOf(n.shape)}); // ${commentText(r.name)}: ${init}`);
    if (init !== 'zeros') lines.push(`fillNormal(${local}, next, ${numberLiteral(STD[init](fanIn, fanOut))});`);
    fields.push(`${propertyKey(r.name)}: ${local}`);
  });
  lines.push(`return { ${fields.join(', ')} };`);
  return entryFn('initParams', 'Fresh params, drawn from a seeded generator: the same seed gives the same params.',
    [{ name: 'seed', type: 'number', initializer: '0' }], 'Params', lines);
}

function entryFn(name: string, description: string, parameters: OptionalKind<ParameterDeclarationStructure>[], returnType: string, statements: string[]): EntryFn {
  return { structure: { kind: StructureKind.Function, name, isExported: true, docs: [doc(description)], parameters, returnType, statements: [statements.join('\n')] } };
}

function list(refs: readonly { name: string; id: number }[], g: Graph): string {
  return refs.map((r) => `${r.name} ${shapeLabel(g.nodes[r.id].shape)}`).join(', ');
}

/** The first lines of every generated JS/TS file: what it is, where from, which gradc. */
export function jsHeader(g: Graph, info: ModuleInfo): string {
  return [
    `// ${commentText(`${g.name}.ts — generated by gradc ${info.version} from ${info.source} (graph ${g.name}, hash ${info.hash}).`)}`,
    '// Do not edit: regenerate with `gradc build`. Every shape is fixed at build time; the module imports nothing.',
  ].join('\n');
}
