/**
 * The WGSL target: `<name>.wgsl` (every kernel, as compute entry points over storage buffers
 * bound by role) and the WebGPU host module `<name>.gpu.ts` (with .js and .d.ts), which
 * embeds the shader and the tables the driver reads, and imports the driver
 * (`gradc/runtime/webgpu`) and its types (`gradc/module`).
 *
 * Buffers by role, each at a fixed binding: params (read-only, except to the update kernel),
 * inputs (read-only), the arena of stored values and the gradients (read-write, placed by
 * the shared memory plan), scratch for partial reductions, the optimizer's state, and a
 * uniform with the optimizer's per-step scalars.
 */
import { GradcError } from '../../errors.ts';
import type { Graph } from '../../ir/graph.ts';
import { dimMax } from '../../ir/graph.ts';
import type { BufferParam, LoweredKernel } from '../../lowering/lir.ts';
import type { LoweredModule, LoweringParams } from '../../lowering/lower.ts';
import { fromScalar, ref } from '../../lowering/lir.ts';
import { ALIGN, type MemoryPlan, type Region } from '../../kernels/memory.ts';
import type { Backend, EmittedFile } from '../backend.ts';
import { printExpr } from '../common/cstyle.ts';
import { apiTypes, drawsRandom, header, initParamsFunction, metaText, shapesNote, specRows, type ModuleInfo } from '../common/host.ts';
import { entryOf } from '../../kernels/plan.ts';
import { commentText, shapeLabel } from '../common/text.ts';
import { constText, joinBlocks, listText, packedList } from '../common/ts.ts';
import { JS_SYNTAX } from '../common/js-syntax.ts';
import { renderWgslKernel, type Placement } from './render.ts';

/**
 * The WebGPU default limit the build plans against (every conforming device offers it):
 * grids are folded or refused at it. Buffer sizes are checked where a model is made, against
 * its device (runtime/webgpu/driver.ts).
 */
export const LIMITS = {
  maxComputeWorkgroupsPerDimension: 65_535,
} as const;

export const WGSL_LOWERING: LoweringParams = {
  parallel: 'gpu',
  tile: { rows: 4, cols: 4 },
  packRows: 512,
  contiguousParams: true,
  // WGSL has no log1p; its expressions print as trees.
  approximateMath: ['log1p'],
  printsTrees: true,
  // 8×8 invocations of 4×4 outputs (32×32 a workgroup), 32-deep slices through workgroup memory.
  gpu: {
    workgroup: 256, threads: 8, perThread: 4, depth: 32, directDepth: 16, skinnyWidth: 4, minWorkgroups: 16, splitWork: 1 << 22,
    maxWorkgroupsPerDimension: LIMITS.maxComputeWorkgroupsPerDimension,
  },
};

/** The storage buffers by binding: the WGSL variable, the GPU buffer behind it, its access. */
const BINDINGS = [
  { variable: 'params', buffer: 'params', access: 'read' },
  { variable: 'inputs', buffer: 'inputs', access: 'read' },
  { variable: 'arena', buffer: 'arena', access: 'read_write' },
  { variable: 'grads', buffer: 'grads', access: 'read_write' },
  { variable: 'scratch', buffer: 'scratch', access: 'read_write' },
  { variable: 'params_rw', buffer: 'params', access: 'read_write' },
  { variable: 'hyper', buffer: 'hyper', access: 'uniform' },
  { variable: 'status', buffer: 'status', access: 'read_write' },
] as const;

function variableOf(b: BufferParam): string {
  const slot = b.slot!;
  switch (slot.region) {
    case 'param': return b.access === 'read' ? 'params' : 'params_rw';
    case 'input': return 'inputs';
    case 'arena': return 'arena';
    case 'grad': return 'grads';
    case 'state': return `state${slot.stateSlot}`;
    case 'status': return 'status';
  }
}

/** Where scratch arrays live in the scratch buffer: by name, the largest any kernel needs. */
function scratchLayout(kernels: readonly LoweredKernel[]): { offsets: Map<string, number>; size: number } {
  const lengths = new Map<string, number>();
  for (const k of kernels) for (const s of k.scratch) if (!s.scope) lengths.set(s.name, Math.max(s.length, lengths.get(s.name) ?? 0));
  const offsets = new Map<string, number>();
  let size = 0;
  for (const [name, length] of lengths) {
    offsets.set(name, size);
    size += Math.ceil(length / ALIGN) * ALIGN;
  }
  return { offsets, size };
}

const layouts = new WeakMap<LoweredModule, ReturnType<typeof scratchLayout>>();
const scratchOf = (m: LoweredModule) => {
  let l = layouts.get(m);
  if (!l) layouts.set(m, (l = scratchLayout(m.kernels)));
  return l;
};

/** The bindings a kernel uses. */
function bindingsOf(k: LoweredKernel, stateSlots: number): number[] {
  const variables = new Set<string>(k.buffers.map(variableOf));
  if (k.scratch.some((s) => !s.scope)) variables.add('scratch');
  if (k.scalars.length) variables.add('hyper');
  const all = [...BINDINGS.map((b) => b.variable as string), ...Array.from({ length: stateSlots }, (_, s) => `state${s}`)];
  return all.flatMap((v, i) => (variables.has(v) ? [i] : []));
}

export const backend: Backend<string> = {
  target: 'wgsl',
  lowering: WGSL_LOWERING,
  renderKernel: (k, name, module) => {
    const { offsets } = scratchOf(module);
    const place: Placement = { variable: variableOf, scratchOffset: (s) => offsets.get(s)! };
    return renderWgslKernel(k, name, place);
  },
  renderModule: emitWgslModule,
  kernelText: (text) => text,
};

function emitWgslModule(module: LoweredModule, kernels: readonly string[], names: readonly string[], info: ModuleInfo): EmittedFile[] {
  const { plan } = module;
  const g = plan.graph;
  const opt = plan.optimizer;
  const { sizes } = plan.memory;
  const scratch = scratchOf(module);
  checkBufferSizes(g, plan.memory, scratch.size);
  const slots = opt?.slots ?? [];
  const stateSlots = slots.length;
  // The uniform holds the per-step scalars and t, the step's number: 16 bytes.
  if (opt && opt.scalars.length > 3) throw new Error(`internal: optimizer ${opt.name} has more than 3 per-step scalars`);
  // Then, over a dynamic batch, the call's rows and 1/rows, from the uniform's second 16 bytes
  // when the first hold the step's (the driver writes them at each call).
  const stepFields = opt ? [...opt.scalars.map((sc) => sc.name), 't'] : [];
  const rowsAt = g.batch === undefined ? undefined : stepFields.length ? 4 : 0;
  const hyperFields: [string, string][] = [
    ...stepFields.map((name): [string, string] => [name, 'f32']),
    ...(rowsAt === undefined ? [] : [
      ...Array.from({ length: rowsAt - stepFields.length }, (_, i): [string, string] => [`pad${i}`, 'f32']),
      ['rows', 'u32'], ['invRows', 'f32'],
    ] as [string, string][]),
  ];

  const shared = new Map<string, { length: number; vector?: 4 }>();
  for (const k of module.kernels) {
    for (const s of k.grid!.shared) shared.set(s.name, { length: Math.max(s.length, shared.get(s.name)?.length ?? 0), vector: s.vector });
  }
  const used = new Set(module.kernels.flatMap((k) => bindingsOf(k, stateSlots)));
  const declarations = [...BINDINGS, ...slots.map((_, s) => ({ variable: `state${s}`, buffer: `state${s}`, access: 'read_write' }))]
    .flatMap((b, i) => {
      if (!used.has(i)) return [];
      if (b.access === 'uniform') return [`struct Hyper { ${hyperFields.map(([name, type]) => `${name}: ${type}`).join(', ')} }`, `@group(0) @binding(${i}) var<uniform> hyper: Hyper;`];
      return [`@group(0) @binding(${i}) var<storage, ${b.access}> ${b.variable}: array<f32>;`];
    });
  const regionLines = [...plan.memory.place].filter(([, p]) => p.region === 'arena')
    .map(([id, p]) => `//   ${String(p.offset).padStart(8)}  ${commentText(g.nodes[id].name)} ${shapeLabel(g.nodes[id].shape)}`);
  const wgslHeader = `// ${g.name}.wgsl — WGSL kernels generated by gradc ${info.version} from ${info.source} (graph ${g.name}, hash ${info.hash}). Do not edit.`;
  const shaderBody = [
    ...declarations,
    ...[...shared].map(([name, { length, vector }]) => `var<workgroup> ${name}: array<${vector ? 'vec4<f32>' : 'f32'}, ${vector ? length / 4 : length}>;`),
    '',
    kernels.join('\n\n'),
    '',
  ];
  const wgsl = [
    wgslHeader,
    `// Params, inputs and gradients are in blocks of their own; the arena (${sizes.arena} f32) holds what kernels store:`,
    ...regionLines,
    ...shaderBody,
  ].join('\n');

  const entry = (name: string) => module.entries.find((e) => e.name === name)!.launches.map((l) => l.kernel);
  const spec = (key: string, list: readonly { name: string; id: number }[], indent = '  ') => listText(`${key}: [`, specRows(plan, list), '],', indent);
  const inputsOf = (names: readonly string[]) => g.inputs.filter((r) => names.includes(r.name));
  const regions = { params: sizes.param, inputs: sizes.input, arena: sizes.arena, grads: sizes.grad, scratch: scratch.size };
  const hyper = hyperFields.length ? { hyper: Math.ceil(hyperFields.length / 4) * 4 } : {};
  const buffers = { ...regions, ...hyper, ...(opt ? { status: 1 } : {}), ...Object.fromEntries(slots.map((_, s) => [`state${s}`, sizes.param])) };
  const bindingBuffers = [...BINDINGS.map((b) => b.buffer), ...slots.map((_, s) => `state${s}`)];
  const training = (): string[] => {
    if (!opt || g.loss === undefined) return [];
    const scalarArgs = [ref('learningRate', 'f32'), ref('t', 'f32')];
    const stepScalars = opt.scalars.map((sc) => printExpr(fromScalar(sc.expr, scalarArgs), JS_SYNTAX));
    return [
      '  training: {',
      ...listText('entries: { ', ['loss', 'gradient', 'train'].map((e) => `${e}: [${entry(e).join(', ')}]`), ' },', '    '),
      ...spec('trainInputs', inputsOf(entryOf(plan, 'gradient')!.inputs), '    '),
      ...spec('grads', g.grads!, '    '),
      `    loss: ${plan.memory.place.get(g.loss)!.offset},`,
      `    batch: ${batchOf(g)},`,
      `    slots: [${slots.map((s) => JSON.stringify(s)).join(', ')}],`,
      `    // The ${opt.name} optimizer's per-step scalars (${opt.scalars.map((sc) => sc.name).join(', ')}), then t, for step t.`,
      ...packedList('stepScalars: (learningRate, t) => [', [...stepScalars, 't'], '],', '    '),
      '  },',
    ];
  };
  const tables = [
    '/**',
    ' * What the WebGPU driver (gradc/runtime/webgpu) reads: the GPU buffers (floats) and the buffer of each binding, every',
    ' * kernel (dispatch size in workgroups, bindings), the kernels of each entry point, and where each value lives:',
    ' * [name, floats, shape, offset] in params, inputs, the arena (outputs, loss) and the gradients.',
    ' */',
    `const TABLES = {`,
    '  meta,',
    '  WGSL,',
    `  buffers: { ${Object.entries(buffers).map(([k, v]) => `${k}: ${v}`).join(', ')} },`,
    `  bindings: [${bindingBuffers.map((b) => JSON.stringify(b)).join(', ')}],`,
    '  kernels: [',
    ...module.kernels.map((k, i) => `    [${JSON.stringify(names[i])}, ${k.grid!.workgroups.join(', ')}, [${bindingsOf(k, stateSlots).join(', ')}]],`),
    '  ],',
    `  forward: [${entry('forward').join(', ')}],`,
    ...(rowsAt === undefined ? [] : [`  // A dynamic batch: its largest, and where the call's rows go in the uniform (floats).`, `  rows: { max: ${g.batch}, at: ${rowsAt} },`]),
    ...spec('params', g.params),
    ...spec('forwardInputs', inputsOf(entryOf(plan, 'forward')!.inputs)),
    ...spec('allInputs', g.inputs),
    ...spec('outputs', g.outputs),
    ...training(),
    `} satisfies GpuModuleTables;`,
  ];
  const hostHeader = header(`${g.name}.gpu.js`, g, info, 'the WebGPU host module');
  // The declared model type (gradc/module), with this graph's records.
  const [declared, records] = opt ? ['GpuModel', 'Params, ForwardInputs, TrainInputs, Outputs, OptimizerState'] : ['GpuForwardModel', 'Params, ForwardInputs, Outputs'];
  const modelType = (declare: boolean) => [
    '/** The graph on one GPUDevice (see gradc/module). */',
    `export type GpuModel = ${declare ? `import('gradc/module').${declared}` : 'Model'}<${records}>;`,
  ];
  // The model starts from the params the JS module's initParams draws (seed 0 unless options.seed).
  const create = (declare: boolean) => [
    '/** Compiles the kernels (pipelines created asynchronously), allocates the buffers and uploads initParams(options.seed). */',
    declare ? "export declare function createModel(\n  device: import('gradc/module').WebGpuDevice,\n  options?: import('gradc/module').CreateModelOptions,\n): Promise<GpuModel>;"
      : 'export function createModel(device: WebGpuDevice, options?: CreateModelOptions): Promise<GpuModel> {\n  return createGpuModel(device, TABLES, options, initParams);\n}',
  ];
  // What initParams calls, from the driver's package (the host file is the JS modules').
  const initImports = ['checkSeed', ...(drawsRandom(g) ? ['fillNormal', 'makeRng'] : [])];
  const ts = joinBlocks([
    [
      ...hostHeader.slice(0, 1),
      `// Do not edit: regenerate with \`gradc build\`. ${shapesNote(g)}; the WebGPU driver is gradc/runtime/webgpu.`,
      `import { ${['createGpuModel', ...initImports].join(', ')} } from 'gradc/runtime/webgpu';`,
      `import type { CreateModelOptions, ${declared} as Model, GpuModuleTables, WebGpuDevice } from 'gradc/module';`,
    ],
    metaText(plan, info, false),
    ...apiTypes(plan, true),
    modelType(false),
    constText('WGSL', templateLiteral(withoutComments(wgsl)), 'Every kernel of the graph (the .wgsl file, without its comments).', true),
    tables,
    initParamsFunction(plan, info),
    create(false),
  ]);
  const dts = joinBlocks([
    // No WebGPU types package referenced: the device's type is the project's own GPUDevice (gradc/module's WebGpuDevice).
    hostHeader.slice(0, 1),
    metaText(plan, info, true),
    ...apiTypes(plan, true),
    modelType(true),
    ['/** Every kernel of the graph (the .wgsl file, without its comments). */', 'export declare const WGSL: string;'],
    initParamsFunction(plan, info, true),
    create(true),
  ]);
  return [
    { name: `${g.name}.wgsl`, contents: wgsl },
    // Written as JavaScript with its declarations only: the .wgsl file is the kernels to read, and
    // a TypeScript copy would be a third copy of every kernel. Its TypeScript is type-checked in
    // the tests (`satisfies GpuModuleTables`).
    { name: `${g.name}.gpu.js`, ts: { source: ts, banner: hostHeader[0] } },
    { name: `${g.name}.gpu.d.ts`, contents: dts },
  ];
}

/**
 * What the host module embeds of the WGSL text: the code without comments, blank lines or
 * indentation (the .wgsl file beside it is the copy to read).
 */
export function withoutComments(wgsl: string): string {
  return wgsl.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('//')).join('\n');
}

/** The WGSL text as a template literal that reads back exactly. */
function templateLiteral(text: string): string {
  return '`' + text.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${') + '`';
}

function batchOf(g: Graph): number {
  const firsts = g.inputs.map((r) => g.nodes[r.id].shape).map((s) => (s.length === 2 ? dimMax(s[0]) : -1));
  return firsts.length > 0 && firsts.every((b) => b === firsts[0] && b > 0) ? firsts[0] : 0;
}

/**
 * Every storage buffer against what WGSL can address at all (2^32 − 4 bytes: a u32 byte
 * size). What a given device allows is checked when the model is created (the driver's
 * `checkLimits`), since devices differ: WebGPU's default is 128 MiB a binding, and gradc's
 * `requestDevice` asks for the adapter's own limits.
 */
function checkBufferSizes(g: Graph, memory: MemoryPlan, scratchFloats: number): void {
  const buffers: [string, number, Region | undefined][] = [
    ['params', memory.sizes.param, 'param'], ['inputs', memory.sizes.input, 'input'], ['arena', memory.sizes.arena, 'arena'],
    ['gradients', memory.sizes.grad, 'grad'], ['scratch', scratchFloats, undefined],
  ];
  for (const [name, floats, region] of buffers) {
    const bytes = floats * 4;
    if (bytes <= MAX_BUFFER_BYTES) continue;
    const largest = [...memory.place].filter(([, p]) => p.region === region).sort((a, b) => b[1].length - a[1].length).slice(0, 3)
      .map(([id, p]) => `${g.nodes[id].name} ${(p.length * 4 / 2 ** 20).toFixed(1)} MiB`).join(', ');
    throw new GradcError(`graph '${g.name}'`, `the WGSL ${name} buffer needs ${(bytes / 2 ** 20).toFixed(1)} MiB but a WebGPU buffer binding can address at most 4 GiB${largest ? `; largest values: ${largest}` : ''}. Use a smaller batch or narrower layers`, g.loc);
  }
}

/** The largest storage binding WGSL can address: its size in bytes is a u32. */
export const MAX_BUFFER_BYTES = 2 ** 32 - 4;
