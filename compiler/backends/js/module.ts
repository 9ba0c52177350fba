/**
 * The JS target: a TypeScript module (and its .js and .d.ts) that imports nothing. It
 * allocates at load one arena for the values kernels store (placed by the shared memory
 * plan) and one block for the gradients; kernels are functions taking the arrays they touch,
 * so every entry point that runs a kernel calls the same function. Params and inputs are the
 * caller's arrays, read once and checked before anything runs.
 */
import { checkJsArena } from '../../dsl/limits.ts';
import type { Slot } from '../../lowering/lir.ts';
import type { Launch, LoweredModule, LoweringParams } from '../../lowering/lower.ts';
import type { Backend, EmittedFile } from '../backend.ts';
import { header, hostNames, HostUses, type ModuleInfo } from '../common/host.ts';
import { hostFiles } from '../common/runtime-source.ts';
import { batchRows, cpuEntryFunctions, cpuModuleText } from '../common/cpu-entries.ts';
import { Namer, shapeLabel } from '../common/text.ts';
import { constText } from '../common/ts.ts';
import { renderJsKernel } from './render.ts';

/** Register tiles of 4×4 float64 accumulators; rows of 512 floats and more are packed. */
export const JS_LOWERING: LoweringParams = { parallel: 'serial', tile: { rows: 4, cols: 4 }, packRows: 512, contiguousParams: false, buffersPerLaunch: true, printsTrees: true };

export const backend: Backend<string[]> = {
  target: 'js',
  lowering: JS_LOWERING,
  renderKernel: renderJsKernel,
  renderModule: (module, kernels, names, info) => emitJsModule(module, kernels, names, info),
  kernelText: (lines) => lines.join('\n'),
};

const kib = (floats: number) => `${(floats * 4 / 1024).toFixed(1)} KiB`;

function emitJsModule(module: LoweredModule, kernels: readonly string[][], names: readonly string[], info: ModuleInfo): EmittedFile[] {
  const { plan } = module;
  const g = plan.graph;
  const { memory } = plan;
  checkJsArena(g, memory.sizes.arena, memory.place.keys());
  const namer = new Namer([...hostNames(), ...names, 'arena', 'grads', 'learningRate', 'seed', 'params', 'inputs', 'state', 't']);
  const local = (prefix: string, name: string) => `${prefix}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const paramLocal = new Map(g.params.map((r) => [r.id, local('p', r.name)]));
  const inputLocal = new Map(g.inputs.map((r) => [r.id, local('in', r.name)]));
  const slots = plan.optimizer?.slots ?? [];
  const stateLocal = slots.map((slot) => new Map(g.params.map((r) => [r.id, local(`s_${slot}`, r.name)])));

  // One view per stored value, named after its node, into the arena or the gradients' block.
  const views = new Map<number, string>();
  const viewLines: string[] = [];
  for (const [id, at] of [...memory.place].filter(([, p]) => p.region === 'arena' || p.region === 'grad')) {
    const name = namer.take('t_', g.nodes[id].name);
    views.set(id, name);
    viewLines.push(`const ${name} = ${at.region === 'arena' ? 'arena' : 'grads'}.subarray(${at.offset}, ${at.offset + at.length}); // ${shapeLabel(g.nodes[id].shape)}`);
  }
  const scratch = new Map<string, { length: number; accumulate: boolean }>();
  for (const k of module.kernels) {
    for (const s of k.scratch) scratch.set(s.name, { length: Math.max(s.length, scratch.get(s.name)?.length ?? 0), accumulate: s.accumulate });
  }

  const arrayFor = (slot: Slot): string => {
    if (slot.region === 'status') return 'status';
    const id = slot.node!;
    if (slot.region === 'state') return stateLocal[slot.stateSlot!]!.get(id)!;
    return paramLocal.get(id) ?? inputLocal.get(id) ?? views.get(id) ?? fail(`no array for ${g.nodes[id].name}`);
  };
  const host = new HostUses();
  const entryFns = cpuEntryFunctions(module, info, {
    local,
    run: (entry, args) => {
      const reads = new Set<string>();
      const bound = (slot: Slot) => {
        const array = arrayFor(slot);
        reads.add(array);
        return array;
      };
      const call = (l: Launch) => `${names[l.kernel]}(${[...l.bind.map(bound), ...l.scalars.map(args.scalar)].join(', ')});`;
      const { launches, verifyAfter } = module.entries.find((e) => e.name === entry)!;
      if (verifyAfter === undefined) return { beforeCheck: launches.map(call), reads };
      return { beforeCheck: launches.slice(0, verifyAfter).map(call), afterCheck: launches.slice(verifyAfter).map(call), reads };
    },
    status: { read: 'status[0]', clear: 'status[0] = 0;' },
    ...(memory.sizes.grad ? { grads: 'grads' } : {}),
    // A value over a dynamic batch: only the call's rows.
    fresh: (id) => {
      const width = batchRows(plan, id);
      return width === undefined ? `${views.get(id)}.slice()` : `${views.get(id)}.slice(0, rows * ${width})`;
    },
    loss: () => `${views.get(g.loss!)}[0]!`,
  }, host);

  const top = header(`${g.name}.ts`, g, info, 'the JS module');
  const memoryLines = [
    `// Memory: one arena of ${memory.sizes.arena} floats (${kib(memory.sizes.arena)}; ${kib(memory.unshared)} without sharing) for the values`,
    '// kernels store, placed so that values whose lifetimes never overlap share space' + (memory.sizes.grad ? ', and one block for the gradients.' : '.'),
    ...constText('arena', `new Float32Array(${memory.sizes.arena})`),
    ...(memory.sizes.grad ? constText('grads', `new Float32Array(${memory.sizes.grad})`) : []),
    ...(plan.optimizer ? constText('status', 'new Float32Array(1)', "0, or the step a train step's check found a non-finite new value in (read, then cleared, before any param is written).") : []),
    ...viewLines,
    ...[...scratch].map(([name, s]) => `const ${name} = new ${s.accumulate ? 'Float64Array' : 'Float32Array'}(${s.length}); // kernel scratch`),
  ];
  const { ts, dts } = cpuModuleText(plan, info, top, [memoryLines, ...kernels], entryFns, host);
  return [
    { name: `${g.name}.ts`, contents: ts },
    // esbuild drops comments: the header goes back on as a banner; the .ts keeps the docs.
    { name: `${g.name}.js`, ts: { source: ts, banner: top.join('\n') } },
    { name: `${g.name}.d.ts`, contents: dts },
    ...hostFiles(info.version),
  ];
}

function fail(message: string): never {
  throw new Error(`internal: ${message}`);
}
