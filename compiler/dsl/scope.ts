/**
 * The state of one graph while its builder function runs, and the single path by which
 * every DSL call turns into a checked IR node.
 */
import { GradcError } from '../errors.ts';
import { NodeList, inferShape } from '../ir/builder.ts';
import type { Attrs, SourceLoc } from '../ir/graph.ts';
import { elementsProblem } from './limits.ts';
import { captureLoc, readCall, type CallText } from './location.ts';
import { Tensor } from './tensor.ts';

import type { OptimizerDef } from '../ir/optimizers.ts';
import type { BatchDim } from './tensor.ts';

export class GraphScope {
  readonly list = new NodeList();
  /**
   * Declared names (inputs, params, outputs) and where, keyed by the identifier each becomes
   * in generated code (`sanitize`): two names that collide there share a key.
   */
  readonly declared = new Map<string, { name: string; kind: string; loc?: SourceLoc }>();
  readonly inputs: { name: string; id: number }[] = [];
  readonly params: { name: string; id: number }[] = [];
  readonly outputs: { name: string; id: number }[] = [];
  loss?: { id: number; loc?: SourceLoc };
  optimizer?: { def: OptimizerDef; loc?: SourceLoc };
  batch?: { dim: BatchDim; loc?: SourceLoc };
  open = true;

  constructor(readonly name: string) {}
}

/** One user call into the DSL: where it is and how to quote it in errors. */
export class UserCall {
  readonly loc: SourceLoc | undefined;
  readonly source: CallText | undefined;

  constructor(readonly callee: string) {
    this.loc = captureLoc();
    this.source = readCall(this.loc, callee);
  }

  /** `affine(h, W2, b2)` as the user wrote it, or rebuilt from node names. */
  subject(fallbackArgs: readonly string[]): string {
    return this.source?.text ?? `${this.callee}(${fallbackArgs.join(', ')})`;
  }

  fail(fallbackArgs: readonly string[], detail: string): never {
    throw new GradcError(this.subject(fallbackArgs), detail, this.loc);
  }

  /** What the user wrote for argument i, falling back to `fallback`. */
  argText(i: number, fallback: string): string {
    return this.source?.args[i] ?? fallback;
  }

  /** The name a node made by this call gets: the variable it is assigned to, when there is one. */
  nodeName(op: string): string {
    if (this.source?.assignedTo) return this.source.assignedTo;
    if (this.source?.statementVar) return `${this.source.statementVar}_${op}`;
    return op;
  }
}

export type Arg = Tensor | number;

/** Checks the arguments of a call: tensors of one open graph (numbers become constants). */
export function scopeOf(call: UserCall, args: readonly unknown[]): GraphScope {
  let scope: GraphScope | undefined;
  const shown = args.map((a, i) => (a instanceof Tensor ? a.name : typeof a === 'number' ? String(a) : `arg${i}`));
  args.forEach((a, i) => {
    if (typeof a === 'number') {
      if (!Number.isFinite(a)) call.fail(shown, `argument ${i + 1} is ${a}; constants must be finite`);
      return;
    }
    if (!(a instanceof Tensor)) {
      const what = a === null ? 'null' : Array.isArray(a) ? 'an array' : typeof a;
      call.fail(shown, `argument ${i + 1} (${call.argText(i, `arg${i}`)}) is ${what}, expected a tensor`);
    }
    if (scope && a.scope !== scope) {
      call.fail(shown, `mixes tensors of graphs '${scope.name}' and '${a.scope.name}'`);
    }
    scope = a.scope;
  });
  if (!scope) call.fail(shown, 'needs at least one tensor argument');
  if (!scope.open) call.fail(shown, `graph '${scope.name}' is already built; tensors can only be used inside its builder function`);
  return scope;
}

/**
 * Applies an IR op to user arguments. Shape errors quote the user's call and name the
 * arguments as the user wrote them.
 */
export function applyOp(call: UserCall, op: string, args: readonly unknown[], attrs: Attrs = {}, name?: string): Tensor {
  const scope = scopeOf(call, args);
  const ids = args.map((a) =>
    a instanceof Tensor ? a.id : scope.list.push({ op: 'const', inputs: [], attrs: { value: a as number }, shape: [], name: 'c', loc: call.loc }),
  );
  const shapes = ids.map((id) => scope.list.nodes[id].shape);
  const shape = inferShape(op, shapes, attrs);
  if ('error' in shape) {
    const fallback = ids.map((id) => scope.list.nodes[id].name);
    const detail = shape.error.replace(/\{(\d+)\}/g, (_, i) => call.argText(Number(i), fallback[Number(i)]));
    call.fail(fallback, detail);
  }
  const tooMany = elementsProblem(shape);
  if (tooMany) call.fail(ids.map((id) => scope.list.nodes[id].name), `the result ${tooMany}`);
  const id = scope.list.push({ op, inputs: ids, attrs, shape, name: name ?? call.nodeName(op), loc: call.loc });
  return new Tensor(scope, id);
}
