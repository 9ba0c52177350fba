/**
 * The entry points of a CPU module (`forward`, `loss`, `gradient`, `trainStep` and, where the
 * optimizer keeps state, `initOptimizerState`), written once for every target that runs on
 * the caller's thread (the JS and wasm modules): signatures, docs, how arguments are read and
 * checked (once each, before anything runs), the rows of a dynamic batch, the optimizer's
 * state and per-step scalars, the check between a train step's update passes, and what each
 * entry returns. A target supplies how an entry runs its kernels and reads values back.
 */
import { isBatchDim, sizeOf } from '../../ir/graph.ts';
import type { EntryName, ModulePlan } from '../../kernels/plan.ts';
import { entryOf } from '../../kernels/plan.ts';
import type { LaunchScalar, LoweredModule } from '../../lowering/lower.ts';
import { apiTypes, entryDoc, HostUses, initParamsFunction, metaText, specTables, type ModuleInfo } from './host.ts';
import { stepScalarText } from './js-syntax.ts';
import { constText, docBlock, functionText, joinBlocks, listText, packedList, type FunctionSpec } from './ts.ts';
import { propertyKey } from './text.ts';

/** What an entry has read: the locals holding its arguments, and the per-step scalars' texts. */
export interface EntryArgs {
  /** A local per param, in declaration order. */
  readonly params: readonly string[];
  /** A local per input the entry reads, in declaration order. */
  readonly inputs: readonly string[];
  /** Per state slot, a local per param. */
  readonly state: readonly (readonly string[])[];
  /** A launch's per-call scalar as the entry has it: a literal, or the local holding it (the learning rate, t, rows, …). */
  scalar(s: LaunchScalar): string;
}

export interface CpuEntryHooks {
  /** A local for a param (`p`), input (`in`), state slot (`s_<slot>`) or step scalar (`step`): unique in the module. */
  local(prefix: string, name: string): string;
  /**
   * The statements running entry `entry` once its arguments are read: for a train step, up
   * to the update's check (`beforeCheck`), and the rest (`afterCheck`), which runs only if
   * every new value is finite; and which argument locals they read (`reads`).
   */
  run(entry: EntryName, args: EntryArgs, host: HostUses): { readonly beforeCheck: readonly string[]; readonly afterCheck?: readonly string[]; readonly reads: ReadonlySet<string> };
  /** The status the update's check sets (an expression), and a statement clearing it. */
  readonly status?: { readonly read: string; readonly clear: string };
  /** The gradients' block as one Float32Array (to say why a step was rejected). */
  readonly grads?: string;
  /** A fresh array holding a stored value (an output, a gradient); `rows` is in scope over a dynamic batch. */
  fresh(node: number): string;
  /** The loss, a number. */
  loss(): string;
}

export function cpuEntryFunctions(module: LoweredModule, info: ModuleInfo, hooks: CpuEntryHooks, host: HostUses): FunctionSpec[] {
  const { plan } = module;
  const g = plan.graph;
  const opt = plan.optimizer;
  const slots = opt?.slots ?? [];
  const batch = g.batch !== undefined;
  const paramsArg = { name: 'params', type: 'Params' };
  const reads = (e: EntryName) => entryOf(plan, e)?.inputs ?? [];
  // A list as body lines: measured where it will stand, indented by the function body's 2 spaces.
  const bodyList = (open: string, items: readonly string[], close: string) => listText(open, items, close, '  ').map((l) => l.slice(2));
  const bodyPacked = (open: string, items: readonly string[], close: string) => packedList(open, items, close, '  ').map((l) => l.slice(2));

  const paramLocals = g.params.map((r) => hooks.local('p', r.name));
  const stateLocals = slots.map((slot) => g.params.map((r) => hooks.local(`s_${slot}`, r.name)));
  // The optimizer's per-step scalars: the learning rate itself (the formula is its argument 0), or computed once a step.
  const stepScalars = new Map((opt?.scalars ?? []).map((sc) => [sc.name,
    sc.expr.k === 'arg' && sc.expr.index === 0 ? { text: 'learningRate' } : { text: hooks.local('step', sc.name), init: stepScalarText(plan, sc.name) }]));

  /** The body of entry `entry` (function `fn`): read and check its arguments once, run it, and return. */
  const body = (fn: string, entry: EntryName, inputsSpec: string, returns: readonly string[]): string[] => {
    const train = entry === 'train';
    const { launches } = module.entries.find((e) => e.name === entry)!;
    const inputs = g.inputs.filter((r) => reads(entry).includes(r.name));
    const inputLocals = inputs.map((r) => hooks.local('in', r.name));
    const args: EntryArgs = {
      params: paramLocals, inputs: inputLocals, state: train ? stateLocals : [],
      // The locals this function declares: t (takeState), rows and invRows (a dynamic batch), the step scalars.
      scalar: (s) => {
        switch (s.k) {
          case 'const': return String(s.value);
          case 'count': return 't';
          case 'rows': case 'invRows': return s.k;
          case 'step': return stepScalars.get(s.name)!.text;
        }
      },
    };
    const run = hooks.run(entry, args, host);
    // Bind what the target's code reads (every argument, for a train step, which checks them all).
    const bound = (locals: readonly string[]) => locals.map((l) => (train || batch || run.reads.has(l) ? l : '')).join(', ');
    const usesInvRows = launches.some((l) => l.scalars.some((s) => s.k === 'invRows'));
    const take = host.use('take');
    const lines = [
      ...(train ? [`${host.use('checkRate')}(learningRate);`] : []),
      `const [${bound(paramLocals)}] = ${take}('${fn}', 'params', params, PARAMS, PARAMS);`,
      ...(train ? [`${host.use('checkFinite')}('${fn}', 'params', [${paramLocals.join(', ')}], PARAMS);`] : []),
      `const [${bound(inputLocals)}] = ${take}('${fn}', 'inputs', inputs, ${inputsSpec}, ALL_INPUTS);`,
      // A dynamic batch's rows come from the inputs' lengths.
      ...(batch ? [`const rows = ${host.use('rowsOf')}('${fn}', [${inputLocals.join(', ')}], ${inputsSpec});`, ...(usesInvRows ? ['const invRows = 1 / rows;'] : [])] : []),
    ];
    if (train) {
      lines.push(
        ...(slots.length ? [`const { t, arrays: [${stateLocals.map((s) => `[${s.join(', ')}]`).join(', ')}] } = ${host.use('takeState')}('${fn}', state, SLOTS, PARAMS);`] : []),
        ...bodyPacked(`${host.use('checkDisjoint')}('${fn}', [`, [...paramLocals, ...inputLocals, ...stateLocals.flat()], `], DISJOINT${batch ? ', rows' : ''});`),
        // Written before any kernel runs (a setter that calls back in finds nothing half-done).
        ...(slots.length ? ['state.step = t;'] : []),
        ...[...stepScalars.values()].flatMap((s) => (s.init ? [`const ${s.text} = ${s.init};`] : [])),
      );
    }
    lines.push(...run.beforeCheck);
    if (run.afterCheck) {
      lines.push(
        '// Nothing is written until every new value is known to be finite.',
        `if (${hooks.status!.read} !== 0) {`,
        `  ${hooks.status!.clear}`,
        ...(slots.length ? ['  state.step = t - 1;'] : []),
        `  throw ${host.use('rejectedStep')}('${fn}', ${slots.length ? 't' : 'undefined'}, [${inputLocals.join(', ')}], ${inputsSpec}, ${hooks.grads ?? 'undefined'}, learningRate);`,
        '}',
        ...run.afterCheck,
      );
    }
    return [...lines, ...returns];
  };

  const fns: FunctionSpec[] = [{
    name: 'forward', exported: true, params: [paramsArg, { name: 'inputs', type: 'ForwardInputs' }], returns: 'Outputs',
    doc: entryDoc(plan, info, `Evaluates the outputs (${g.outputs.map((o) => o.name).join(', ')}) for one batch. Returns fresh arrays.`, reads('forward')),
    body: body('forward', 'forward', 'FORWARD_INPUTS', bodyList('return { ', g.outputs.map((o) => `${propertyKey(o.name)}: ${hooks.fresh(o.id)}`), ' };')),
  }];
  if (!opt) return fns;
  const trainInputs = { name: 'inputs', type: 'TrainInputs' };
  const stateful = slots.length > 0;
  if (stateful) {
    fns.push({
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
  fns.push(
    {
      name: 'loss', exported: true, params: [paramsArg, trainInputs], returns: 'number',
      doc: entryDoc(plan, info, 'The loss J for one batch.', reads('loss')),
      body: body('loss', 'loss', 'TRAIN_INPUTS', [`return ${hooks.loss()};`]),
    },
    {
      name: 'gradient', exported: true, params: [paramsArg, trainInputs], returns: 'Gradient',
      doc: entryDoc(plan, info, 'The loss J and its gradient dJ/dparam for every param, by backpropagation. Returns fresh arrays.', reads('gradient')),
      body: body('gradient', 'gradient', 'TRAIN_INPUTS',
        bodyList(`return { loss: ${hooks.loss()}, grads: { `, (g.grads ?? []).map((r) => `${propertyKey(r.name)}: ${hooks.fresh(r.id)}`), ' } };')),
    },
    {
      name: 'trainStep', exported: true,
      params: [paramsArg, trainInputs, { name: 'learningRate', type: 'number' }, ...(stateful ? [{ name: 'state', type: 'OptimizerState' }] : [])],
      returns: 'number',
      doc: entryDoc(plan, info, [
        `One ${opt.name} step in place (${opt.doc}, α the learning rate${stateful ? `; state.${slots.join(' and state.')} updated too, and state.step` : ''}):`,
        "the gradient's kernels, then the update of every param. Arguments are checked before anything runs, and the update only",
        'runs when every new value is finite, so a failed call changes nothing. Returns the loss before the update.',
      ].join(' '), reads('train')),
      body: body('trainStep', 'train', 'TRAIN_INPUTS', [`return ${hooks.loss()};`]),
    },
  );
  return fns;
}

/** Whether a value spans a dynamic batch: only the call's rows of it are returned. */
export const batchRows = (plan: ModulePlan, node: number): number | undefined => {
  const shape = plan.graph.nodes[node].shape;
  return isBatchDim(shape[0] ?? 1) ? shape[1] : undefined;
};

/** The module constants a train step's checks read: the state slots and the arrays' names. */
function trainConstants(plan: ModulePlan, host: HostUses): string[][] {
  const g = plan.graph;
  const opt = plan.optimizer;
  if (!opt) return [];
  const inputs = g.inputs.filter((r) => entryOf(plan, 'train')!.inputs.includes(r.name));
  // A batch input holds the call's rows × its width: −width.
  const floats = (id: number) => {
    const shape = g.nodes[id].shape;
    return isBatchDim(shape[0] ?? 1) ? -sizeOf(shape.slice(1)) : sizeOf(shape);
  };
  const arrays = [
    ...g.params.map((r) => [`params.${r.name}`, floats(r.id)] as const), ...inputs.map((r) => [`inputs.${r.name}`, floats(r.id)] as const),
    ...opt.slots.flatMap((s) => g.params.map((r) => [`state.${s}.${r.name}`, floats(r.id)] as const)),
  ];
  const table = arrays.map(([label, n]) => `[${JSON.stringify(label)}, ${n}]`);
  return [
    [
      ...docBlock(`A train step's arrays, in order: what each is called (when two share memory) and its floats${
        g.batch === undefined ? '' : " (−width: the call's rows of that width)"}.`),
      ...packedList(`const DISJOINT: ${host.use('Disjoint')} = [`, table, '];'),
    ],
    ...(opt.slots.length ? [constText('SLOTS', `[${opt.slots.map((s) => JSON.stringify(s)).join(', ')}] as const`, "The optimizer's state slots: one array per param each.")] : []),
  ];
}

/**
 * A CPU module's `.ts` and `.d.ts`: the header `top` with the import of the host code the
 * module calls (every name `host` noted as the module's code was written), `meta`, the records, the spec tables, the target's own `code` (its memory and kernels), then
 * `initParams` and the entry points. The declarations are the same for every such target.
 */
export function cpuModuleText(
  plan: ModulePlan, info: ModuleInfo, top: readonly string[], code: readonly (readonly string[])[], entries: readonly FunctionSpec[], host: HostUses,
  declarations: readonly string[] = [],
): { ts: string; dts: string } {
  const body = [...trainConstants(plan, host), ...code, initParamsFunction(plan, info, false, host), ...entries.map((f) => functionText(f))];
  const tables = specTables(plan);
  const ts = joinBlocks([
    [...top, ...host.importLines()],
    metaText(plan, info, false),
    ...apiTypes(plan),
    tables,
    ...body,
  ]);
  const dts = joinBlocks([top, metaText(plan, info, true), ...apiTypes(plan), initParamsFunction(plan, info, true), ...entries.map((f) => functionText(f, true)), ...(declarations.length ? [declarations] : [])]);
  return { ts, dts };
}
