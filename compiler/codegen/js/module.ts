/**
 * Assembles the generated TypeScript module (and its .d.ts) from a module plan, as ts-morph
 * structures built in one go. The module imports nothing and allocates one arena at load;
 * each entry point's buffers are views into it, placed by the memory plan so that buffers
 * whose lifetimes do not overlap share space. Kernel functions take every array they touch
 * as a parameter, so entry points with identical kernels share one function. Every loop
 * bound is a constant.
 */
import type {
  FunctionDeclarationStructure, OptionalKind, ParameterDeclarationStructure, VariableStatementStructure,
} from 'ts-morph';
import type { Graph, InitKind } from '../../ir/graph.ts';
import { sizeOf } from '../../ir/graph.ts';
import type { Kernel } from '../../kernels/kernel.ts';
import { readNodes, updatedParams, writtenNodes } from '../../kernels/kernel.ts';
import { planMemory, type MemoryPlan } from '../../kernels/memory.ts';
import { describeKernel } from '../describe.ts';
import { entriesOf, type Entry, type EntryName, type ModulePlan } from '../plan.ts';
import { Namer, commentText, numberLiteral, property, propertyKey, shapeLabel } from '../text.ts';
import { constant, declaration, doc, interfaces, metaStatement, print, tsMorph, type Statement } from '../ts-module.ts';
import { HELPER_NAMES, jsHelpers } from './helpers.ts';
import { renderKernel, type SharedBuffer } from './kernels.ts';
import { checkJsArena } from '../../dsl/limits.ts';

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
  /** Each entry's memory plan, for `gradc inspect` and tests. */
  readonly memory: ReadonlyMap<EntryName, MemoryPlan>;
  /** Floats in the arena (the largest entry's plan). */
  readonly arenaSize: number;
}

const ENTRY_TAG: Record<EntryName, string> = { forward: 'fw', loss: 'ls', gradient: 'gr', train: 'tr' };

/** One kernel function, shared by every entry whose kernel renders to the same text. */
interface KernelFn {
  readonly name: string;
  /** The node ids passed as array arguments, in order. */
  readonly arrays: readonly number[];
  readonly usesRate: boolean;
  readonly structure: FunctionDeclarationStructure;
}

export function emitJsModule(plan: ModulePlan, info: ModuleInfo): EmittedModule {
  const g = plan.graph;
  const names = new Namer(HELPER_NAMES);
  const leafName = new Map<number, string>();
  // User names are identifiers once sanitized and never collide (the DSL checks), so the
  // prefixes keep them apart from each other and from everything else here.
  for (const r of g.params) leafName.set(r.id, `p_${sanitizedLocal(r.name)}`);
  for (const r of g.inputs) leafName.set(r.id, `in_${sanitizedLocal(r.name)}`);
  const scratch: VariableStatementStructure[] = [];
  const sharedSize: Record<SharedBuffer, number> = { tile: 0, panelB: 0, panelsA: 0 };
  const fns = new Map<string, KernelFn>();
  const kernelFn = (k: Kernel): KernelFn => {
    const made = kernelFunction(k, g, leafName, sharedSize);
    const key = JSON.stringify([made.arrays, made.body]);
    const existing = fns.get(key);
    if (existing) return existing;
    const name = names.take('k_', k.name);
    made.scratch.forEach((length, i) => scratch.push(constant(`${name}_acc${i}`, `new Float64Array(${length})`, `Float64 accumulator of ${name}.`)));
    const fn = made.finish(name);
    fns.set(key, fn);
    return fn;
  };

  const entries = entriesOf(plan);
  const memory = new Map<EntryName, MemoryPlan>();
  const views: VariableStatementStructure[] = [];
  const viewNames = new Map<string, string>();
  const calls = new Map<EntryName, { fn: KernelFn; args: string[] }[]>();
  const arrayOf = new Map<EntryName, Map<number, string>>();
  for (const e of entries) {
    const mem = planMemory(g, e.kernels, e.roots);
    memory.set(e.name, mem);
    const arrays = new Map(leafName);
    for (const id of e.buffers) {
      const n = g.nodes[id];
      const [offset, length] = [mem.offsets.get(id)!, sizeOf(n.shape)];
      const key = `${n.name}@${offset}:${length}`;
      let view = viewNames.get(key);
      if (!view) {
        view = names.take(`${ENTRY_TAG[e.name]}_`, n.name);
        viewNames.set(key, view);
        views.push(constant(view, `arena.subarray(${offset}, ${offset + length})`, `${n.name} ${shapeLabel(n.shape)}`));
      }
      arrays.set(id, view);
    }
    arrayOf.set(e.name, arrays);
    calls.set(e.name, e.kernels.map((k) => {
      const fn = kernelFn(k);
      return { fn, args: fn.arrays.map((id) => arrays.get(id)!) };
    }));
  }
  const arenaSize = Math.max(0, ...[...memory.values()].map((m) => m.size));
  checkJsArena(g, arenaSize, entries.flatMap((e) => e.buffers));

  const entryFns = [
    initParamsFn(g),
    forwardFn(plan, calls.get('forward')!, arrayOf.get('forward')!),
    ...(plan.loss ? [lossFn(plan, plan.loss, calls.get('loss')!, arrayOf.get('loss')!)] : []),
    ...(plan.gradient ? [gradientFn(plan, plan.gradient, calls.get('gradient')!, arrayOf.get('gradient')!)] : []),
    ...(plan.train ? [trainStepFn(plan, plan.train, calls.get('train')!, arrayOf.get('train')!)] : []),
  ];

  // Every exported function's doc ends with what it reads and which build made it.
  const readsOf: Record<string, readonly string[]> = { forward: plan.forward.inputs, loss: plan.gradient?.inputs ?? [], gradient: plan.gradient?.inputs ?? [], trainStep: plan.gradient?.inputs ?? [] };
  const described = entryFns.map((f) => {
    const inputs = g.inputs.filter((r) => readsOf[f.name!]?.includes(r.name));
    const lines = [
      ...(f.name === 'initParams' ? [] : [`Params: ${list(g.params, g)}.`, `Inputs: ${list(inputs, g)}.`]),
      `Generated by gradc ${info.version} from graph ${g.name} (hash ${info.hash}).`,
    ];
    return { ...f, docs: [`${f.docs![0] as string}\n\n${doc(lines.join('\n'))}`] };
  });
  const header = jsHeader(g, info);
  const unshared = Math.max(0, ...[...memory.values()].map((m) => m.unshared));
  const ts = print(`${g.name}.ts`, [
    header,
    metaStatement(g, false),
    ...interfaces(plan),
    '// Shapes the entry points check their arguments against: [name, length, shape].',
    ...recordSpecs(plan),
    jsHelpers(g.params.some((r) => (g.nodes[r.id].attrs.init ?? 'zeros') !== 'zeros')),
    `// Workspace: one arena of ${arenaSize} floats (${kib(arenaSize)}; ${kib(unshared)} without sharing), allocated once.`,
    '// Each entry point\'s buffers are views into it; buffers whose lifetimes do not overlap share space.',
    constant('arena', `new Float32Array(${arenaSize})`),
    ...views,
    ...(sharedSize.tile ? [constant('tile', `new Float64Array(${sharedSize.tile})`, 'A finished 4×4 matmul tile, in float64.')] : []),
    ...(sharedSize.panelB ? [constant('panelB', `new Float32Array(${sharedSize.panelB})`, 'Four columns of op(B), packed along k.')] : []),
    ...(sharedSize.panelsA ? [constant('panelsA', `new Float32Array(${sharedSize.panelsA})`, 'The columns of A, packed four at a time along k (for Aᵀ·B).')] : []),
    ...scratch,
    ...[...fns.values()].map((f) => f.structure),
    ...described,
  ]);
  const dts = print(`${g.name}.d.ts`, [header, metaStatement(g, true), ...interfaces(plan), ...described.map(declaration)]);
  return { ts, dts, memory, arenaSize };
}

const kib = (floats: number) => `${(floats * 4 / 1024).toFixed(1)} KiB`;

/** The first lines of every generated JS/TS file: what it is, where from, which gradc. */
export function jsHeader(g: Graph, info: ModuleInfo): string {
  return [
    `// ${commentText(`${g.name}.ts — generated by gradc ${info.version} from ${info.source} (graph ${g.name}, hash ${info.hash}).`)}`,
    '// Do not edit: regenerate with `gradc build`. Every shape is fixed at build time; the module imports nothing.',
  ].join('\n');
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

/**
 * Renders a kernel with canonical parameter names (the arrays it reads and writes, in
 * first-use order), so identical kernels of different entries render identically.
 */
function kernelFunction(k: Kernel, g: Graph, leafName: ReadonlyMap<number, string>, sharedSize: Record<SharedBuffer, number>) {
  const arrays = [...new Set([...readNodes(k), ...updatedParams(k), ...writtenNodes(k)])];
  const local = new Namer(['lr']);
  const param = new Map<number, string>();
  for (const id of arrays) param.set(id, leafName.get(id) ?? local.take('t_', g.nodes[id].name));
  const scratchLengths: number[] = [];
  const body = renderKernel(k, {
    array: (id) => {
      const name = param.get(id);
      if (!name) throw new Error(`internal: no array for ${g.nodes[id].name} in kernel ${k.name}`);
      return name;
    },
    scratch: (length) => {
      scratchLengths.push(length);
      return `$scratch${scratchLengths.length - 1}$`;
    },
    shared: (kind, length) => {
      sharedSize[kind] = Math.max(sharedSize[kind], length);
      return kind;
    },
  });
  const usesRate = updatedParams(k).length > 0;
  return {
    arrays,
    body,
    scratch: scratchLengths,
    finish: (name: string): KernelFn => ({
      name,
      arrays,
      usesRate,
      structure: {
        kind: tsMorph().StructureKind.Function,
        name,
        docs: [doc(describeKernel(k, g).join('\n'))],
        parameters: [
          ...arrays.map((id) => ({ name: param.get(id)!, type: 'Float32Array' })),
          ...(usesRate ? [{ name: 'lr', type: 'number' }] : []),
        ],
        returnType: 'void',
        statements: [body.join('\n').replace(/\$scratch(\d+)\$/g, (_, i) => `${name}_acc${i}`)],
      },
    }),
  };
}

const PARAMS_PARAM: OptionalKind<ParameterDeclarationStructure> = { name: 'params', type: 'Params' };

/** Argument checks, each leaf bound to a local, then the entry's kernels in order. */
function prologue(fn: string, plan: ModulePlan, entry: Entry, inputsSpec: string, calls: readonly { fn: KernelFn; args: string[] }[]): string[] {
  const g = plan.graph;
  return [
    `checkRecord(${JSON.stringify(fn)}, 'params', params, PARAMS, PARAMS);`,
    `checkRecord(${JSON.stringify(fn)}, 'inputs', inputs, ${inputsSpec}, ALL_INPUTS);`,
    ...g.params.map((r) => `const p_${sanitizedLocal(r.name)} = ${property('params', r.name)};`),
    ...g.inputs.filter((r) => entry.inputs.includes(r.name)).map((r) => `const in_${sanitizedLocal(r.name)} = ${property('inputs', r.name)};`),
    ...calls.map(({ fn, args }) => `${fn.name}(${[...args, ...(fn.usesRate ? ['learningRate'] : [])].join(', ')});`),
  ];
}

const sanitizedLocal = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_');

function forwardFn(plan: ModulePlan, calls: { fn: KernelFn; args: string[] }[], arrays: Map<number, string>): FunctionDeclarationStructure {
  const g = plan.graph;
  const outs = g.outputs.map((r) => `${propertyKey(r.name)}: ${arrays.get(r.id)}.slice()`);
  return entryFn('forward', `Evaluates the outputs (${list(g.outputs, g)}) for one batch. Returns fresh arrays.`,
    [PARAMS_PARAM, { name: 'inputs', type: 'ForwardInputs' }], 'Outputs',
    [...prologue('forward', plan, plan.forward, 'FORWARD_INPUTS', calls), `return { ${outs.join(', ')} };`]);
}

function lossFn(plan: ModulePlan, entry: Entry, calls: { fn: KernelFn; args: string[] }[], arrays: Map<number, string>): FunctionDeclarationStructure {
  return entryFn('loss', 'The loss J for one batch.', [PARAMS_PARAM, { name: 'inputs', type: 'TrainInputs' }], 'number',
    [...prologue('loss', plan, entry, 'TRAIN_INPUTS', calls), `return ${arrays.get(plan.graph.loss!)}[0];`]);
}

function gradientFn(plan: ModulePlan, entry: Entry, calls: { fn: KernelFn; args: string[] }[], arrays: Map<number, string>): FunctionDeclarationStructure {
  const g = plan.graph;
  const grads = (g.grads ?? []).map((r) => `${propertyKey(r.name)}: ${arrays.get(r.id)}.slice()`);
  return entryFn('gradient', 'The loss J and its exact gradient dJ/dparam for every param (backpropagation, notes Algorithm 4). Returns fresh arrays.',
    [PARAMS_PARAM, { name: 'inputs', type: 'TrainInputs' }], 'Gradient',
    [...prologue('gradient', plan, entry, 'TRAIN_INPUTS', calls), `return { loss: ${arrays.get(g.loss!)}[0], grads: { ${grads.join(', ')} } };`]);
}

function trainStepFn(plan: ModulePlan, entry: Entry, calls: { fn: KernelFn; args: string[] }[], arrays: Map<number, string>): FunctionDeclarationStructure {
  return entryFn('trainStep', 'One SGD step in place (notes eq. 1.3: θ := θ − α∇θJ), each update applied where its gradient is made once nothing later reads the param. Arguments are checked before anything runs, so a failed call changes nothing. Returns the loss before the update.',
    [PARAMS_PARAM, { name: 'inputs', type: 'TrainInputs' }, { name: 'learningRate', type: 'number' }], 'number', [
      'checkRate(learningRate);',
      ...prologue('trainStep', plan, entry, 'TRAIN_INPUTS', calls),
      `return ${arrays.get(plan.graph.loss!)}[0];`,
    ]);
}

const STD: Record<InitKind, (fanIn: number, fanOut: number) => number> = {
  he: (fanIn) => Math.sqrt(2 / fanIn),
  xavier: (fanIn, fanOut) => Math.sqrt(2 / (fanIn + fanOut)),
  normal: () => 0.01,
  zeros: () => 0,
};

function initParamsFn(g: Graph): FunctionDeclarationStructure {
  const random = g.params.some((r) => (g.nodes[r.id].attrs.init ?? 'zeros') !== 'zeros');
  const lines = ['checkSeed(seed);', ...(random ? ['const next = makeRng(seed);'] : [])];
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

function entryFn(name: string, description: string, parameters: OptionalKind<ParameterDeclarationStructure>[], returnType: string, statements: string[]): FunctionDeclarationStructure {
  return { kind: tsMorph().StructureKind.Function, name, isExported: true, docs: [doc(description)], parameters, returnType, statements: [statements.join('\n')] };
}

function list(refs: readonly { name: string; id: number }[], g: Graph): string {
  return refs.map((r) => `${r.name} ${shapeLabel(g.nodes[r.id].shape)}`).join(', ');
}
