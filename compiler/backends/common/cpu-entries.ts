/**
 * The entry points of a CPU module (`forward`, `loss`, `gradient`, `trainStep`), written once
 * for every target that runs on the caller's thread (the JS and wasm modules): signatures,
 * docs, argument checks and what each returns. A target supplies how an entry reads its
 * arguments and runs its kernels, and how a stored value is read back.
 */
import type { EntryName, ModulePlan } from '../../kernels/plan.ts';
import { entryOf } from '../../kernels/plan.ts';
import { CHECK_HELPERS, apiTypes, entryDoc, initHelpers, initParamsFunction, metaText, specTables, usedHelpers, type ModuleInfo } from './host.ts';
import { propertyKey } from './text.ts';
import { functionText, joinBlocks, listText, type FunctionSpec } from './ts.ts';

export interface CpuEntryHooks {
  /**
   * The statements of entry `entry` (in function `fn`) before its return: take and check
   * params and inputs (`inputsSpec` names the inputs table; `checkParams`: also check that
   * params are finite), run the entry's kernels, and write back what it changes.
   */
  run(fn: string, entry: EntryName, inputsSpec: string, checkParams: boolean): string[];
  /** A fresh array holding a stored value (an output, a gradient). */
  fresh(node: number): string;
  /** The loss, a number. */
  loss(): string;
}

export function cpuEntryFunctions(plan: ModulePlan, info: ModuleInfo, hooks: CpuEntryHooks): FunctionSpec[] {
  const g = plan.graph;
  const paramsArg = { name: 'params', type: 'Params' };
  const reads = (e: EntryName) => entryOf(plan, e)?.inputs ?? [];
  // A list as body lines: measured where it will stand, indented by the function body's 2 spaces.
  const bodyList = (open: string, items: readonly string[], close: string) => listText(open, items, close, '  ').map((l) => l.slice(2));
  const fns: FunctionSpec[] = [{
    name: 'forward', exported: true, params: [paramsArg, { name: 'inputs', type: 'ForwardInputs' }], returns: 'Outputs',
    doc: entryDoc(plan, info, `Evaluates the outputs (${g.outputs.map((o) => o.name).join(', ')}) for one batch. Returns fresh arrays.`, reads('forward')),
    body: [...hooks.run('forward', 'forward', 'FORWARD_INPUTS', false), ...bodyList('return { ', g.outputs.map((o) => `${propertyKey(o.name)}: ${hooks.fresh(o.id)}`), ' };')],
  }];
  if (plan.optimizer) {
    const train = { name: 'inputs', type: 'TrainInputs' };
    fns.push(
      {
        name: 'loss', exported: true, params: [paramsArg, train], returns: 'number',
        doc: entryDoc(plan, info, 'The loss J for one batch.', reads('loss')),
        body: [...hooks.run('loss', 'loss', 'TRAIN_INPUTS', false), `return ${hooks.loss()};`],
      },
      {
        name: 'gradient', exported: true, params: [paramsArg, train], returns: 'Gradient',
        doc: entryDoc(plan, info, 'The loss J and its gradient dJ/dparam for every param, by backpropagation. Returns fresh arrays.', reads('gradient')),
        body: [
          ...hooks.run('gradient', 'gradient', 'TRAIN_INPUTS', false),
          ...bodyList(`return { loss: ${hooks.loss()}, grads: { `, (g.grads ?? []).map((r) => `${propertyKey(r.name)}: ${hooks.fresh(r.id)}`), ' } };'),
        ],
      },
      {
        name: 'trainStep', exported: true, params: [paramsArg, train, { name: 'learningRate', type: 'number' }], returns: 'number',
        doc: entryDoc(plan, info, `One ${plan.optimizer.name} step in place (${plan.optimizer.doc}, α the learning rate): the gradient's kernels, then the update of every param. Arguments are checked before anything runs, so a failed call changes nothing. Returns the loss before the update.`, reads('train')),
        body: ['checkRate(learningRate);', ...hooks.run('trainStep', 'train', 'TRAIN_INPUTS', true), `return ${hooks.loss()};`],
      },
    );
  }
  return fns;
}

/**
 * A CPU module's `.ts` and `.d.ts`: the header `top`, `meta`, the records, the spec tables,
 * the shared helpers the code uses, the target's own `code` (its memory and kernels), then
 * `initParams` and the entry points. The declarations are the same for every such target.
 */
export function cpuModuleText(plan: ModulePlan, info: ModuleInfo, top: readonly string[], code: readonly (readonly string[])[], entries: readonly FunctionSpec[]): { ts: string; dts: string } {
  const g = plan.graph;
  const body = [...code, initParamsFunction(plan, info), ...entries.map((f) => functionText(f))];
  const ts = joinBlocks([
    top,
    metaText(g, false),
    ...apiTypes(plan),
    specTables(plan),
    [usedHelpers(`${CHECK_HELPERS}\n\n${initHelpers(g)}`, body.flat().join('\n'))],
    ...body,
  ]);
  const dts = joinBlocks([top, metaText(g, true), ...apiTypes(plan), initParamsFunction(plan, info, true), ...entries.map((f) => functionText(f, true))]);
  return { ts, dts };
}
