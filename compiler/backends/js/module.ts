/**
 * The JS target: a TypeScript module (and its .js and .d.ts) that imports nothing. It
 * allocates at load one arena for the values kernels store (placed by the shared memory
 * plan) and one block for the gradients; kernels are functions taking the arrays they touch,
 * so every entry point that runs a kernel calls the same function. Params and inputs are the
 * caller's arrays, read once and checked before anything runs.
 */
import { checkJsArena } from '../../dsl/limits.ts';
import type { Slot } from '../../lowering/lir.ts';
import { fromScalar, ref } from '../../lowering/lir.ts';
import type { Launch, LaunchScalar, LoweredModule, LoweringParams } from '../../lowering/lower.ts';
import { entryOf, type EntryName, type ModulePlan } from '../../kernels/plan.ts';
import type { Backend, EmittedFile } from '../backend.ts';
import {
  checkHelpers, HOST_NAMES, apiTypes, entryDoc, header, initHelpers, initParamsFunction, metaText, specTables, usedHelpers, type ModuleInfo,
} from '../common/host.ts';
import { Namer, propertyKey, shapeLabel } from '../common/text.ts';
import { isBatchDim, sizeOf } from '../../ir/graph.ts';
import { constText, functionText, joinBlocks, listText, type FunctionSpec } from '../common/ts.ts';
import { printExpr } from '../common/cstyle.ts';
import { JS_SYNTAX, renderJsKernel } from './render.ts';

/** Register tiles of 4×4 float64 accumulators; rows of 512 floats and more are packed. */
export const JS_LOWERING: LoweringParams = { parallel: 'serial', tile: { rows: 4, cols: 4 }, packRows: 512, contiguousParams: false };

export const jsBackend: Backend<string[]> = {
  target: 'js',
  lowering: JS_LOWERING,
  renderKernel: renderJsKernel,
  renderModule: (module, kernels, names, info) => emitJsModule(module, kernels, names, info),
};

const kib = (floats: number) => `${(floats * 4 / 1024).toFixed(1)} KiB`;

function emitJsModule(module: LoweredModule, kernels: readonly string[][], names: readonly string[], info: ModuleInfo): EmittedFile[] {
  const { plan } = module;
  const g = plan.graph;
  const { memory } = plan;
  checkJsArena(g, memory.sizes.arena, memory.place.keys());
  const namer = new Namer([...HOST_NAMES, ...names, 'arena', 'grads', 'learningRate', 'seed', 'params', 'inputs']);
  const local = (prefix: string, name: string) => `${prefix}${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const paramLocal = new Map(g.params.map((r) => [r.id, local('p_', r.name)]));
  const inputLocal = new Map(g.inputs.map((r) => [r.id, local('in_', r.name)]));

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

  const slots = plan.optimizer?.slots ?? [];
  const stateLocal = slots.map((slot) => new Map(g.params.map((r) => [r.id, local(`s_${slot}_`, r.name)])));
  const arrayFor = (slot: Slot): string => {
    if (slot.region === 'status') return 'status';
    const id = slot.node!;
    if (slot.region === 'state') return stateLocal[slot.stateSlot!]!.get(id)!;
    return paramLocal.get(id) ?? inputLocal.get(id) ?? views.get(id) ?? fail(`no array for ${g.nodes[id].name}`);
  };
  // The optimizer's per-step scalars: the learning rate itself, or computed once a step.
  const stepScalars = new Map((plan.optimizer?.scalars ?? []).map((sc) => {
    const text = printExpr(fromScalar(sc.expr, [ref('learningRate', 'f32'), ref('t', 'f32')]), JS_SYNTAX);
    return [sc.name, text === 'learningRate' ? { text } : { text: namer.take('step_', sc.name), init: text }];
  }));
  const scalarFor = (s: LaunchScalar): string => {
    switch (s.k) {
      case 'const': return String(s.value);
      case 'count': return 't';
      case 'rows': case 'invRows': return s.k;
      case 'step': return stepScalars.get(s.name)!.text;
    }
  };
  const call = (l: Launch) => `${names[l.kernel]}(${[...l.bind.map(arrayFor), ...l.scalars.map(scalarFor)].join(', ')});`;
  const entryOfModule = (name: EntryName) => module.entries.find((e) => e.name === name)!;

  /** Reads and checks params and inputs once, binding what the entry uses (every one, for a train step) to locals. */
  const readArgs = (fn: string, entry: EntryName, inputsSpec: string, train = false) => {
    const { launches } = entryOfModule(entry);
    const used = new Set(launches.flatMap((l) => l.bind.flatMap((s) => (s.node === undefined ? [] : [s.node]))));
    // A dynamic batch's rows come from every input the entry reads.
    const batch = g.batch !== undefined;
    const bind = (ids: readonly number[], locals: Map<number, string>) => ids.map((id) => (used.has(id) || train || batch ? locals.get(id)! : '')).join(', ');
    const usesInvRows = launches.some((l) => l.scalars.some((s) => s.k === 'invRows'));
    const paramNames = bind(g.params.map((r) => r.id), paramLocal);
    const inputs = g.inputs.filter((r) => entryOf(plan, entry)!.inputs.includes(r.name));
    const inputNames = bind(inputs.map((r) => r.id), inputLocal);
    const stateNames = stateLocal.map((m) => `[${g.params.map((r) => m.get(r.id)!).join(', ')}]`);
    return [
      `const [${paramNames}] = take('${fn}', 'params', params, PARAMS, PARAMS);`,
      ...(train ? [`checkFinite('${fn}', 'params', [${paramNames}], PARAMS);`] : []),
      `const [${inputNames}] = take('${fn}', 'inputs', inputs, ${inputsSpec}, ALL_INPUTS);`,
      ...(batch ? [`const rows = rowsOf('${fn}', [${inputNames}], ${inputsSpec});`, ...(usesInvRows ? ['const invRows = 1 / rows;'] : [])] : []),
      ...(train && slots.length ? [`const { t, arrays: [${stateNames.join(', ')}] } = takeState('${fn}', state, SLOTS, PARAMS);`] : []),
      ...(train ? [
        ...listText(`checkDisjoint('${fn}', [`, [paramNames, inputNames, ...stateNames.map((s) => s.slice(1, -1))], '], DISJOINT);'),
        // Written before any kernel runs (a setter that calls back in finds nothing half-done).
        ...(slots.length ? ['state.step = t;'] : ['const t = 1;']),
        ...[...stepScalars.values()].flatMap((s) => (s.init ? [`const ${s.text} = ${s.init};`] : [])),
      ] : []),
    ];
  };
  /** The entry's launches; a train step's host reads the update's check before its apply. */
  const run = (name: EntryName, train?: { inputs: string }) => {
    const { launches, verifyAfter } = entryOfModule(name);
    if (verifyAfter === undefined || !train) return launches.map(call);
    const grads = memory.sizes.grad ? 'grads' : 'undefined';
    return [
      ...launches.slice(0, verifyAfter).map(call),
      '// Nothing is written until every new value is known to be finite.',
      'if (status[0] !== 0) {',
      '  status[0] = 0;',
      ...(slots.length ? ['  state.step = t - 1;'] : []),
      `  throw rejectedStep('trainStep', ${slots.length ? 't' : 'undefined'}, ${train.inputs}, TRAIN_INPUTS, ${grads}, learningRate);`,
      '}',
      ...launches.slice(verifyAfter).map(call),
    ];
  };
  // A value over a dynamic batch: only the call's rows.
  const fresh = (id: number) => (isBatchDim(g.nodes[id].shape[0] ?? 1) ? `${views.get(id)}.slice(0, rows * ${g.nodes[id].shape[1]})` : `${views.get(id)}.slice()`);
  const lossValue = () => `${views.get(g.loss!)}[0]!`;
  const paramsArg = { name: 'params', type: 'Params' };
  const reads = (e: EntryName) => entryOf(plan, e)?.inputs ?? [];

  const entryFns: FunctionSpec[] = [{
    name: 'forward', exported: true, params: [paramsArg, { name: 'inputs', type: 'ForwardInputs' }], returns: 'Outputs',
    doc: entryDoc(plan, info, `Evaluates the outputs (${g.outputs.map((o) => o.name).join(', ')}) for one batch. Returns fresh arrays.`, reads('forward')),
    body: [...readArgs('forward', 'forward', 'FORWARD_INPUTS'), ...run('forward'), ...listText('return { ', g.outputs.map((o) => `${propertyKey(o.name)}: ${fresh(o.id)}`), ' };')],
  }];
  if (plan.optimizer) {
    const opt = plan.optimizer;
    const train = { name: 'inputs', type: 'TrainInputs' };
    const trainInputs = `[${g.inputs.filter((r) => reads('train').includes(r.name)).map((r) => inputLocal.get(r.id)!).join(', ')}]`;
    const stateful = slots.length > 0;
    if (stateful) {
      entryFns.push({
        name: 'initOptimizerState', exported: true, params: [], returns: 'OptimizerState',
        doc: [`The ${opt.name} optimizer's state before the first step: step 0 and zeros for ${slots.join(' and ')}. Pass it to every trainStep.`],
        body: [
          'const zeros = (): Params => ({',
          ...g.params.map((r) => `  ${propertyKey(r.name)}: new Float32Array(${sizeOf(g.nodes[r.id].shape)}),`),
          '});',
          `return { step: 0, ${slots.map((s) => `${propertyKey(s)}: zeros()`).join(', ')} };`,
        ],
      });
    }
    entryFns.push(
      {
        name: 'loss', exported: true, params: [paramsArg, train], returns: 'number',
        doc: entryDoc(plan, info, 'The loss J for one batch.', reads('loss')),
        body: [...readArgs('loss', 'loss', 'TRAIN_INPUTS'), ...run('loss'), `return ${lossValue()};`],
      },
      {
        name: 'gradient', exported: true, params: [paramsArg, train], returns: 'Gradient',
        doc: entryDoc(plan, info, 'The loss J and its gradient dJ/dparam for every param, by backpropagation. Returns fresh arrays.', reads('gradient')),
        body: [
          ...readArgs('gradient', 'gradient', 'TRAIN_INPUTS'), ...run('gradient'),
          ...listText(`return { loss: ${lossValue()}, grads: { `, (g.grads ?? []).map((r) => `${propertyKey(r.name)}: ${fresh(r.id)}`), ' } };'),
        ],
      },
      {
        name: 'trainStep', exported: true,
        params: [paramsArg, train, { name: 'learningRate', type: 'number' }, ...(stateful ? [{ name: 'state', type: 'OptimizerState' }] : [])],
        returns: 'number',
        doc: entryDoc(plan, info, [
          `One ${opt.name} step in place (${opt.doc}, α the learning rate${stateful ? `; state.${slots.join(' and state.')} updated too, and state.step` : ''}):`,
          'the gradient\'s kernels, then the update of every param. Arguments are checked before anything runs, and the update only',
          'runs when every new value is finite, so a failed call changes nothing. Returns the loss before the update.',
        ].join(' '), reads('train')),
        body: ['checkRate(learningRate);', ...readArgs('trainStep', 'train', 'TRAIN_INPUTS', true), ...run('train', { inputs: trainInputs }), `return ${lossValue()};`],
      },
    );
  }

  const top = header(`${g.name}.ts`, g, info, 'the JS module');
  const memoryLines = [
    `// Memory: one arena of ${memory.sizes.arena} floats (${kib(memory.sizes.arena)}; ${kib(memory.unshared)} without sharing) for the values`,
    '// kernels store, placed so that values whose lifetimes never overlap share space' + (memory.sizes.grad ? ', and one block for the gradients.' : '.'),
    ...constText('arena', `new Float32Array(${memory.sizes.arena})`),
    ...(memory.sizes.grad ? constText('grads', `new Float32Array(${memory.sizes.grad})`) : []),
    ...(plan.optimizer ? constText('status', 'new Float32Array(1)', "0, or the step a train step's check found a non-finite new value in (read, then cleared, before any param is written).") : []),
    ...(plan.optimizer ? constText('DISJOINT', `[${disjointLabels(plan).map((l) => JSON.stringify(l)).join(', ')}]`, "What a train step's arrays are called when two share memory.") : []),
    ...(slots.length ? constText('SLOTS', `[${slots.map((s) => JSON.stringify(s)).join(', ')}] as const`, "The optimizer's state slots: one array per param each.") : []),
    ...viewLines,
    ...[...scratch].map(([name, s]) => `const ${name} = new ${s.accumulate ? 'Float64Array' : 'Float32Array'}(${s.length}); // kernel scratch`),
  ];
  const code = [memoryLines, ...kernels, initParamsFunction(plan, info), ...entryFns.map((f) => functionText(f))];
  const ts = joinBlocks([
    top,
    metaText(plan, info, false),
    ...apiTypes(plan),
    specTables(plan),
    [usedHelpers(`${checkHelpers()}\n\n${initHelpers(g)}`, code.flat().join('\n'))],
    ...code,
  ]);
  const dts = joinBlocks([top, metaText(plan, info, true), ...apiTypes(plan), initParamsFunction(plan, info, true), ...entryFns.map((f) => functionText(f, true))]);
  return [
    { name: `${g.name}.ts`, contents: ts },
    // esbuild drops comments: the header goes back on as a banner; the .ts keeps the docs.
    { name: `${g.name}.js`, ts: { source: ts, banner: top.join('\n') } },
    { name: `${g.name}.d.ts`, contents: dts },
  ];
}

/** The train step's arrays, in the order it checks them: params, inputs, then each state slot's. */
function disjointLabels(plan: ModulePlan): string[] {
  const g = plan.graph;
  const inputs = g.inputs.filter((r) => entryOf(plan, 'train')!.inputs.includes(r.name));
  return [
    ...g.params.map((r) => `params.${r.name}`), ...inputs.map((r) => `inputs.${r.name}`),
    ...(plan.optimizer?.slots ?? []).flatMap((s) => g.params.map((r) => `state.${s}.${r.name}`)),
  ];
}

function fail(message: string): never {
  throw new Error(`internal: ${message}`);
}
