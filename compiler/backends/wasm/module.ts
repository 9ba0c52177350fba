/**
 * The wasm target: `<name>.wat` (the WebAssembly text of every kernel and entry point) and
 * `<name>.wasm.ts` (with .js and .d.ts), a module with exactly the API of the JS module
 * (`CpuModule`) whose kernels run as WebAssembly SIMD128. It imports nothing: the binary is
 * embedded (base64) and instantiated once when the module loads (top-level await).
 *
 * Memory: one linear memory, sized at build time, holding at constant byte addresses the
 * regions of the shared memory plan (params, gradients, the optimizer's state, inputs, the
 * arena) and the kernels' scratch arrays. Each entry point copies the caller's params and
 * inputs into their places, runs its kernels (one exported wasm function per entry), and
 * reads back what it returns; the train step also copies the updated params back out.
 */
import { GradcError } from '../../errors.ts';
import type { Graph } from '../../ir/graph.ts';
import type { Region } from '../../kernels/memory.ts';
import type { EntryName } from '../../kernels/plan.ts';
import type { BufferParam, LoweredKernel, Slot } from '../../lowering/lir.ts';
import type { Launch, LaunchScalar, LoweredEntry, LoweredModule, LoweringParams } from '../../lowering/lower.ts';
import type { Backend, EmittedFile } from '../backend.ts';
import { batchRows, cpuEntryFunctions, cpuModuleText, type EntryArgs } from '../common/cpu-entries.ts';
import { header, HostUses, type ModuleInfo } from '../common/host.ts';
import { hostFiles } from '../common/runtime-source.ts';
import { commentText, shapeLabel } from '../common/text.ts';
import { constText, docBlock } from '../common/ts.ts';
import { encodeModule, functionLines, printWat, type Instr, type WasmFunction, type WasmModule } from './instructions.ts';
import { renderWasmKernel } from './render.ts';

/**
 * 4 × 8 register tiles of f32x4 accumulators (XNNPACK's shape for 128-bit SIMD: eight
 * accumulators, two vectors of B and one broadcast of A in 11 of the 16 registers); B rows of
 * 32 floats and more are packed into panels; params are one block; exp and log approximated.
 */
export const WASM_LOWERING: LoweringParams = {
  parallel: 'serial', tile: { rows: 4, cols: 8 }, packRows: 32, contiguousParams: true, vector: 4, approximateMath: ['exp', 'log', 'log1p'],
  threads: { maxThreads: 16, minFlops: 4e6 },
};

/**
 * Whether a lowered module has kernels split across threads (`LoweringParams.threads`): then its memory
 * is imported (threads share one) and every kernel is exported (`k0`, `k1`, …) for the host
 * to launch one at a time.
 */
export const isThreaded = (module: LoweredModule): boolean => module.entries.some((e) => e.launches.some((l) => l.split !== undefined));

/** The export name of kernel `i` of a threaded module. */
const kernelExport = (i: number) => `k${i}`;

/** Memory past this is refused at build time (a wasm32 memory can hold 4 GiB; browsers often allow less). */
export const MAX_MEMORY_BYTES = 2 ** 31;

/** Where every region and scratch array starts, in bytes. */
export interface WasmLayout {
  readonly region: Readonly<Record<Region | 'status', number>>;
  /** The optimizer's state slots, each laid out as the param region. */
  readonly state: readonly number[];
  readonly scratch: ReadonlyMap<string, number>;
  readonly bytes: number;
}

const ALIGN_BYTES = 64;
const alignUp = (bytes: number) => Math.ceil(bytes / ALIGN_BYTES) * ALIGN_BYTES;

export function wasmLayout(module: LoweredModule): WasmLayout {
  const { sizes } = module.plan.memory;
  const slots = module.plan.optimizer?.slots.length ?? 0;
  let at = 0;
  const take = (floats: number) => {
    const start = at;
    at = alignUp(at + floats * 4);
    return start;
  };
  const param = take(sizes.param);
  const grad = take(sizes.grad);
  const state = Array.from({ length: slots }, () => take(sizes.param));
  const input = take(sizes.input);
  const arena = take(sizes.arena);
  const status = take(1);
  const lengths = new Map<string, number>();
  for (const k of module.kernels) for (const s of k.scratch) lengths.set(s.name, Math.max(s.length, lengths.get(s.name) ?? 0));
  const scratch = new Map([...lengths].map(([name, length]) => [name, take(length)]));
  return { region: { param, grad, input, arena, status }, state, scratch, bytes: Math.max(at, 1) };
}

/** A slot's byte address. */
function slotAddress(layout: WasmLayout, slot: Slot): number {
  const base = slot.region === 'state' ? layout.state[slot.stateSlot!] : layout.region[slot.region];
  return base + slot.offset * 4;
}

export const backend: Backend<WasmFunction> = {
  target: 'wasm',
  lowering: WASM_LOWERING,
  renderKernel: (k, name, module) =>
    renderWasmKernel(k, name, bufferAddresses(k, wasmLayout(module)), isThreaded(module) ? kernelExport(module.kernels.indexOf(k)) : undefined),
  renderModule: emitWasmModule,
  kernelText: functionText,
};

/** One kernel's text as its module prints it, without its type's index, which is the whole module's to number. */
function functionText(f: WasmFunction): string {
  return functionLines(f, { func: () => f.name }).join('\n');
}

function bufferAddresses(k: LoweredKernel, layout: WasmLayout): (buffer: string) => number {
  const at = new Map<string, number>(k.buffers.map((b: BufferParam) => {
    if (!b.slot) throw new Error(`internal: kernel ${k.name} binds ${b.name} per launch; the wasm target places every buffer at build time`);
    return [b.name, slotAddress(layout, b.slot)];
  }));
  for (const s of k.scratch) at.set(s.name, layout.scratch.get(s.name)!);
  return (buffer) => {
    const address = at.get(buffer);
    if (address === undefined) throw new Error(`internal: kernel ${k.name} has no buffer ${buffer}`);
    return address;
  };
}

/**
 * The wasm functions of an entry point: its kernels' calls in order, and for the train step
 * two, `train` up to the update's check and `apply` after it, so the host reads the check
 * between them (see update.ts).
 */
function entryFunctions(module: LoweredModule, name: EntryName, kernels: readonly WasmFunction[], layout: WasmLayout): WasmFunction[] {
  return entryParts(module.entries.find((e) => e.name === name)!).map(([fn, list]) => {
    const scalars = entryScalars(list);
    const body: Instr[] = list.flatMap((l: Launch): Instr[] => {
      const k = module.kernels[l.kernel];
      k.buffers.forEach((b, i) => {
        if (slotAddress(layout, b.slot!) !== slotAddress(layout, l.bind[i])) throw new Error(`internal: launch of ${k.name} binds ${b.name} elsewhere than its place`);
      });
      const args = l.scalars.map((s, i): Instr => {
        if (s.k === 'const') return { op: k.scalars[i].type === 'f32' ? 'f32.const' : 'i32.const', value: s.value };
        const key = scalarKey(s);
        return { op: 'local.get', index: scalars.findIndex((x) => x.name === key), name: key };
      });
      return [...args, { op: 'call', index: l.kernel, name: kernels[l.kernel].name }];
    });
    const doc = [`entry ${fn}: ${list.map((l) => kernels[l.kernel].name).join(', ')}`];
    return { name: fn, doc, params: scalars.map(({ name, type }) => ({ name, type })), locals: [], body, export: fn };
  });
}

/** An entry's wasm functions' names and launches: the train step's in two, around its check. */
function entryParts(e: LoweredEntry): (readonly [string, readonly Launch[]])[] {
  const { name, launches, verifyAfter } = e;
  return verifyAfter === undefined ? [[name, launches]] : [[name, launches.slice(0, verifyAfter)], ['apply', launches.slice(verifyAfter)]];
}

/** The name a per-call scalar goes by in an entry function and its host call. */
const scalarKey = (s: LaunchScalar): string => (s.k === 'step' ? s.name : s.k === 'count' ? 't' : s.k === 'const' ? '' : s.k);

/** The per-call scalars an entry function takes, in first-use order (step scalars, t, rows, invRows): each with the launch scalar it is. */
function entryScalars(launches: readonly Launch[]): { name: string; type: 'f32' | 'i32'; scalar: LaunchScalar }[] {
  const out: { name: string; type: 'f32' | 'i32'; scalar: LaunchScalar }[] = [];
  for (const l of launches) {
    for (const s of l.scalars) {
      const name = scalarKey(s);
      if (name && !out.some((x) => x.name === name)) out.push({ name, type: s.k === 'rows' ? 'i32' : 'f32', scalar: s });
    }
  }
  return out;
}

/** The text of a module's kernels and entry points, and the instructions both spellings come from. */
export function wasmModule(module: LoweredModule, kernels: readonly WasmFunction[], info: ModuleInfo): WasmModule {
  const { plan } = module;
  const g = plan.graph;
  const layout = wasmLayout(module);
  checkMemory(g, layout.bytes);
  const entries = module.entries.flatMap((e) => entryFunctions(module, e.name, kernels, layout));
  const arena = [...plan.memory.place].filter(([, p]) => p.region === 'arena')
    .map(([id, p]) => `  ${String(layout.region.arena + p.offset * 4).padStart(10)}  ${commentText(g.nodes[id].name)} ${shapeLabel(g.nodes[id].shape)}`);
  const header = [
    commentText(`${g.name}.wat — WebAssembly (SIMD128) kernels, generated by gradc ${info.version} from ${info.source}`),
    commentText(`(graph ${g.name}, hash ${info.hash}). Do not edit: regenerate with \`gradc build\`.`),
    `Memory, byte addresses: params ${layout.region.param}, gradients ${layout.region.grad}${layout.state.map((s, i) => `, state ${i} ${s}`).join('')}, inputs ${layout.region.input}, status ${layout.region.status},`,
    `arena ${layout.region.arena}${[...layout.scratch].map(([n, a]) => `, ${n} ${a}`).join('')}; ${layout.bytes} bytes in all. The arena's values:`,
    ...arena,
  ];
  return { header, pages: Math.max(1, Math.ceil(layout.bytes / 65536)), functions: [...kernels, ...entries], ...(isThreaded(module) ? { importMemory: true } : {}) };
}

function checkMemory(g: Graph, bytes: number): void {
  if (bytes > MAX_MEMORY_BYTES) {
    throw new GradcError(`graph '${g.name}'`, `the wasm target needs ${(bytes / 2 ** 20).toFixed(1)} MiB of memory; it allows ${MAX_MEMORY_BYTES / 2 ** 20} MiB: use smaller batches or layers, or --target js`, g.loc);
  }
}

/** Base64 in lines that fit the line width (decoders skip the line breaks). */
function base64Lines(bytes: Uint8Array): string[] {
  const text = Buffer.from(bytes).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += 120) lines.push(text.slice(i, i + 120));
  return lines;
}

/** The statement that instantiates the embedded binary; test loaders that cannot await replace it. */
export const INSTANTIATE = 'const instance = (await WebAssembly.instantiate(bytesOf(WASM))).instance;';
/** The same, for a threaded module, whose memory is imported. */
export const INSTANTIATE_IMPORTING = 'const instance = (await WebAssembly.instantiate(bytesOf(WASM), { env: { memory } })).instance;';

/**
 * A threaded module's entry function run kernel by kernel through the pool, the split ones
 * shared by rows (the one-thread path calls the wasm entry function instead).
 */
function onThreads(module: LoweredModule, fn: WasmFunction, launches: readonly Launch[], kernels: readonly WasmFunction[]): string[] {
  const param = (name: string) => `s${fn.params.findIndex((p) => p.name === name)}`;
  const lines = launches.map((l) => {
    const k = module.kernels[l.kernel];
    const scalars = l.scalars.flatMap((sc, i) => {
      if (l.split !== undefined && k.scalars[i].role.k === 'range') return [];
      return [sc.k === 'const' ? String(sc.value) : param(scalarKey(sc))];
    });
    const rows = l.split === undefined ? '0' : l.split === 'rows' ? param('rows') : String(l.split);
    return `  pool.run(${[l.kernel, rows, ...scalars].join(', ')}); // ${commentText(kernels[l.kernel].name)}${l.split === undefined ? '' : `, ${l.split === 'rows' ? 'the call\'s rows' : l.split} shared by the threads`}`;
  });
  return [
    `/** ${fn.name} on the pool's threads: its kernels one at a time (see runtime/threads.ts). */`,
    `function ${fn.name}OnThreads(${fn.params.map((_, i) => `s${i}: number`).join(', ')}): void {`,
    ...lines,
    '}',
  ];
}

function emitWasmModule(module: LoweredModule, kernels: readonly WasmFunction[], _names: readonly string[], info: ModuleInfo): EmittedFile[] {
  const { plan } = module;
  const g = plan.graph;
  const wasm = wasmModule(module, kernels, info);
  const { bytes, memoryLimitsAt } = encodeModule(wasm);
  const layout = wasmLayout(module);
  const floats = (bytes: number) => bytes / 4;
  const PARAM_AT = floats(layout.region.param);
  const INPUT_AT = floats(layout.region.input);
  const at = (id: number) => {
    const p = plan.memory.place.get(id)!;
    return floats(layout.region[p.region]) + p.offset;
  };
  const STATUS_AT = floats(layout.region.status);
  const local = (prefix: string, name: string) => `${prefix}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const functions = module.entries.flatMap((e) => entryFunctions(module, e.name, kernels, layout));
  const threaded = isThreaded(module);
  // Each entry function's per-call scalars, as the host passes them.
  const scalarsOf = new Map(module.entries.flatMap(entryParts).map(([fn, list]) => [fn, entryScalars(list).map((x) => x.scalar)]));
  const callOf = (fn: string, args: EntryArgs) => {
    const scalars = scalarsOf.get(fn)!.map(args.scalar).join(', ');
    return threaded ? `if (pool.threads > 1) ${fn}OnThreads(${scalars}); else kernels.${fn}(${scalars});` : `kernels.${fn}(${scalars});`;
  };
  const copyState = (how: 'copyIn' | 'copyOut', args: EntryArgs) =>
    args.state.map((arrays, s) => `${how}([${arrays.join(', ')}], PARAMS, ${floats(layout.state[s])});`);
  const host = new HostUses();
  const entryFns = cpuEntryFunctions(module, info, {
    local,
    run: (entry, args) => {
      // Every param and input is copied into memory.
      const reads = new Set([...args.params, ...args.inputs]);
      const copies = [
        `copyIn([${args.params.join(', ')}], PARAMS, ${PARAM_AT});`,
        `copyIn([${args.inputs.join(', ')}], ${entry === 'forward' ? 'FORWARD_INPUTS' : 'TRAIN_INPUTS'}, ${INPUT_AT});`,
        ...copyState('copyIn', args),
      ];
      if (entry !== 'train') return { beforeCheck: [...copies, callOf(entry, args)], reads };
      return {
        beforeCheck: [...copies, callOf('train', args)],
        afterCheck: [callOf('apply', args), `copyOut([${args.params.join(', ')}], PARAMS, ${PARAM_AT});`, ...copyState('copyOut', args)],
        reads,
      };
    },
    status: { read: `heap[${STATUS_AT}]!`, clear: `heap[${STATUS_AT}] = 0;` },
    ...(plan.memory.sizes.grad ? { grads: `heap.subarray(${floats(layout.region.grad)}, ${floats(layout.region.grad) + plan.memory.sizes.grad})` } : {}),
    fresh: (id) => {
      const width = batchRows(plan, id);
      return `heap.slice(${at(id)}, ${at(id)}${width === undefined ? ` + ${plan.memory.place.get(id)!.length}` : ` + rows * ${width}`})`;
    },
    loss: () => `heap[${at(g.loss!)}]!`,
  }, host);
  const kernelsType = [
    '/** The embedded module\'s exports: its memory and one function per entry point (the train step in two, around its check). */',
    'interface Kernels {',
    '  readonly memory: { readonly buffer: ArrayBuffer };',
    ...functions.map((f) => `  ${f.name}(${f.params.map((p) => `${p.name}: number`).join(', ')}): void;`),
    '}',
  ];
  const instantiate = [
    ...docBlock('The two host globals this module uses, declared here (module-scoped, shadowing the DOM\'s or @types/node\'s) so it type-checks with or without either.'),
    threaded
      // A threaded module makes its memory and passes it in; the pool takes the exports as a record.
      ? 'declare const WebAssembly: { Memory: new (limits: { initial: number; maximum: number }) => object; instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }> };'
      : 'declare const WebAssembly: { instantiate(bytes: Uint8Array): Promise<{ instance: { exports: unknown } }> };',
    'declare function atob(base64: string): string;',
    '',
    ...docBlock(`The kernels: ${bytes.length} bytes of WebAssembly (SIMD128), the binary of ${g.name}.wat, base64.`),
    'const WASM = `',
    ...base64Lines(bytes),
    '`;',
    '',
    '/** Base64 to bytes (line breaks skipped). */',
    'function bytesOf(base64: string) {',
    '  const text = atob(base64.replace(/\\s+/g, \'\'));',
    '  const out = new Uint8Array(text.length);',
    '  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);',
    '  return out;',
    '}',
    '',
    ...(threaded ? [
      `const memory = new WebAssembly.Memory({ initial: ${wasm.pages}, maximum: ${wasm.pages} });`,
      INSTANTIATE_IMPORTING,
      '// The instance and its memory change when threads start (useThreads).',
      'let kernels = instance.exports as unknown as Kernels;',
      `// Memory: ${layout.bytes} bytes; params from float ${PARAM_AT}, inputs from float ${INPUT_AT}, the arena from float ${floats(layout.region.arena)} (see ${g.name}.wat).`,
      'let heap = new Float32Array(kernels.memory.buffer);',
      '',
      `/** The threads that run the kernels: the binary's memory limits at byte ${memoryLimitsAt}, room for ${module.params.threads!.maxThreads} threads. */`,
      `const pool = new ${host.use('KernelThreads')}(instance.exports, () => bytesOf(WASM), ${memoryLimitsAt}, ${wasm.pages}, ${module.params.threads!.maxThreads});`,
    ] : [
      INSTANTIATE,
      ...constText('kernels', 'instance.exports as unknown as Kernels'),
      `// Memory: ${layout.bytes} bytes; params from float ${PARAM_AT}, inputs from float ${INPUT_AT}, the arena from float ${floats(layout.region.arena)} (see ${g.name}.wat).`,
      ...constText('heap', 'new Float32Array(kernels.memory.buffer)'),
      '',
      '/** This graph\'s kernels are too small for threads to pay: useThreads keeps one. */',
      `const pool = ${host.use('noThreads')}();`,
    ]),
    '',
    '/** How many threads run the kernels, and why not as many as asked for: read it after useThreads. */',
    `export let threads: ${host.use('ThreadStatus')} = pool.status;`,
    '',
    '/**',
    ' * Runs the kernels on `count` threads (the caller\'s included) from now on, where threads can',
    ' * run (SharedArrayBuffer, workers); resolves to how many do. forward, gradient and trainStep',
    ' * stay synchronous and give the same bits for every count. `threads.reason` says why fewer.',
    ' */',
    'export async function useThreads(count: number): Promise<number> {',
    '  const used = await pool.use(count);',
    ...(threaded ? ['  kernels = pool.exports as unknown as Kernels;', '  heap = new Float32Array(kernels.memory.buffer);'] : []),
    '  threads = pool.status;',
    '  return used;',
    '}',
    ...(threaded ? module.entries.flatMap(entryParts).flatMap(([fn, list]) => ['', ...onThreads(module, functions.find((f) => f.name === fn)!, list, kernels)]) : []),
    '',
    '/** Copies checked arrays into their places in memory: `spec`\'s offsets from float `at`. */',
    `function copyIn(arrays: readonly Float32Array[], spec: ${host.use('Spec')}, at: number): void {`,
    '  for (let i = 0; i < arrays.length; i++) heap.set(arrays[i]!, at + spec[i]![3]);',
    '}',
  ];
  const copyOut = [
    '/** Copies values back out of memory into the caller\'s arrays (the params a train step updated). */',
    `function copyOut(arrays: readonly Float32Array[], spec: ${host.use('Spec')}, at: number): void {`,
    '  for (let i = 0; i < arrays.length; i++) arrays[i]!.set(heap.subarray(at + spec[i]![3], at + spec[i]![3] + spec[i]![1]));',
    '}',
  ];
  const top = header(`${g.name}.wasm.ts`, g, info, 'the WebAssembly module');
  const threadDeclarations = [
    '/** How many threads run the kernels, and why not as many as asked for (see useThreads). */',
    'export declare const threads: { readonly threads: number; readonly reason?: string };',
    '/** Runs the kernels on `count` threads from now on where threads can run; resolves to how many do. */',
    'export declare function useThreads(count: number): Promise<number>;',
  ];
  const { ts, dts } = cpuModuleText(plan, info, top, [kernelsType, instantiate, ...(plan.optimizer ? [copyOut] : [])], entryFns, host, threadDeclarations);
  return [
    { name: `${g.name}.wat`, contents: printWat(wasm) },
    { name: `${g.name}.wasm.ts`, contents: ts },
    { name: `${g.name}.wasm.js`, ts: { source: ts, banner: top.join('\n') } },
    { name: `${g.name}.wasm.d.ts`, contents: dts },
    ...hostFiles(info.version),
  ];
}
