/**
 * The WebGPU host module of a graph (`<name>.gpu.ts` and its .d.ts): the WGSL text, the
 * constant tables the embedded driver code reads (arena offsets, kernels, dispatch sizes,
 * the kernels of each entry point), and `createModel(device)`. It imports nothing.
 */
import type { Graph } from '../../ir/graph.ts';
import { GradcError } from '../../errors.ts';
import { sizeOf } from '../../ir/graph.ts';
import { CHECK_HELPERS_TS } from '../js/helpers.ts';
import type { ModulePlan } from '../plan.ts';
import { shapeLabel } from '../text.ts';
import { constant, interfaces, metaStatement, print, type Statement } from '../ts-module.ts';
import { HOST_HELPERS_TS } from './host-helpers.ts';
import type { WgslModule } from './shader.ts';

/** The WGSL text as a template literal that reads back exactly. */
function templateLiteral(text: string): string {
  return '`' + text.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${') + '`';
}

export function emitGpuHost(plan: ModulePlan, wgsl: WgslModule, header: string): { ts: string; dts: string } {
  const g = plan.graph;
  if (!plan.gradient || !plan.loss || g.loss === undefined) {
    throw new GradcError(`graph '${g.name}'`, 'the wgsl target needs a loss: forward-only GPU modules are not supported yet; build with --target js', g.loc);
  }
  const { layout } = wgsl;
  const offset = (id: number) => layout.regions.get(id)!.offset;
  const spec = (name: string, list: readonly { name: string; id: number }[], comment: string) => {
    const rows = list.map((r) => `[${JSON.stringify(r.name)}, ${sizeOf(g.nodes[r.id].shape)}, ${JSON.stringify(shapeLabel(g.nodes[r.id].shape))}, ${offset(r.id)}]`);
    return constant(name, `[${rows.join(', ')}] as const`, comment);
  };
  const inputsOf = (names: readonly string[]) => g.inputs.filter((r) => names.includes(r.name));
  const kernelRows = wgsl.kernels.map((k) => `[${JSON.stringify(k.entry)}, ${k.dispatch.join(', ')}]`);
  const statements: Statement[] = [
    header,
    '/// <reference types="@webgpu/types" />',
    metaStatement(g, false),
    ...interfaces(plan),
    '// Where every value lives in the arena: [name, length, shape, offset].',
    spec('PARAMS', g.params, 'Every param.'),
    spec('FORWARD_INPUTS', inputsOf(plan.forward.inputs), 'The inputs forward reads.'),
    spec('TRAIN_INPUTS', inputsOf(plan.gradient.inputs), 'The inputs loss, gradient and trainStep read.'),
    spec('OUTPUTS', g.outputs, 'What forward reads back.'),
    spec('GRADS', g.grads!, 'What gradient reads back: dJ/dparam.'),
    spec('ALL_INPUTS', g.inputs, 'Every declared input: others are rejected as misspellings.'),
    constant('ARENA', String(layout.size), 'Floats in the arena.'),
    constant('LOSS', String(offset(g.loss)), 'Offset of the loss.'),
    constant('LEARNING_RATE', String(layout.learningRate), 'Offset of the learning-rate slot.'),
    constant('BATCH', `${batchOf(g)} as number`, 'Rows per batch, shared by every input (0 if they differ).'),
    constant('KERNELS', `[\n${kernelRows.map((r) => `  ${r},`).join('\n')}\n] as const`, 'Entry points and their dispatch sizes (workgroups in x, y, z).'),
    constant('ENTRIES', `{ forward: [${wgsl.entries.forward.join(', ')}], loss: [${wgsl.entries.loss.join(', ')}], gradient: [${wgsl.entries.gradient.join(', ')}], train: [${wgsl.entries.train.join(', ')}] }`, 'The kernels each entry point runs, in order (indices into KERNELS).'),
    constant('WGSL', templateLiteral(wgsl.text), 'Every kernel of the graph (also written to the .wgsl file).', true),
    CHECK_HELPERS_TS,
    HOST_HELPERS_TS,
  ];
  const ts = print(`${g.name}.gpu.ts`, statements);
  const dts = print(`${g.name}.gpu.d.ts`, [
    header,
    '/// <reference types="@webgpu/types" />',
    metaStatement(g, true),
    ...interfaces(plan),
    '/** Every kernel of the graph (also written to the .wgsl file). */\nexport declare const WGSL: string;',
    declarationsOf(HOST_HELPERS_TS),
  ]);
  return { ts, dts };
}

function batchOf(g: Graph): number {
  const firsts = g.inputs.map((r) => g.nodes[r.id].shape).map((s) => (s.length === 2 ? s[0] : -1));
  return firsts.length > 0 && firsts.every((b) => b === firsts[0] && b > 0) ? firsts[0] : 0;
}

/** The exported interfaces of the host helpers, and createModel's signature. */
function declarationsOf(helpers: string): string {
  const interfacesText = [...helpers.matchAll(/(\/\*\*(?:(?!\*\/)[\s\S])*\*\/\n)?export interface [\s\S]*?\n}\n/g)].map((m) => m[0]).join('\n');
  return `${interfacesText}\n/** Compiles the kernels (pipelines created asynchronously) and allocates the arena. */\nexport declare function createModel(device: GPUDevice): Promise<GpuModel>;`;
}
