/**
 * The part of a graph file's bundle that runs first, inside the worker thread that loads it
 * (see load-graph.ts): it watches the graph file run, then sends back one reply — the graph
 * as plain data, or what went wrong. It guards against what a careless graph file may do:
 *
 * - throw anything, even a value whose `toString` throws: it is described without calling
 *   code of the graph file that could throw again;
 * - call `process.exit()`: reported as such, instead of ending the load as if it had succeeded;
 * - leave timers or other handles behind, which would keep a build running after it is done.
 *
 * An endless loop or a top-level await that never settles is the parent's to catch (by a
 * time limit, and by the worker ending without a reply). This file imports only gradc's
 * public entry, which the bundle shares with the graph file.
 */
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { isGraphDef } from 'gradc';
import type { Graph, SourceLoc } from '../ir/graph.ts';
import type { OptimizerChoice } from '../ir/optimizers.ts';

/** What the worker sends back: exactly one of these per load. */
export type WorkerReply =
  | { readonly kind: 'graph'; readonly name: string; readonly ir: Graph; readonly optimizer?: OptimizerChoice }
  | { readonly kind: 'gradc-error'; readonly subject: string; readonly detail: string; readonly loc?: SourceLoc }
  | { readonly kind: 'threw'; readonly message: string; readonly site?: SourceLoc }
  | { readonly kind: 'exit'; readonly code: string }
  | { readonly kind: 'not-a-graph'; readonly what: string }
  | { readonly kind: 'left-running'; readonly handles: readonly string[] };

export interface WorkerData {
  /** The graph file, absolute: stack frames in it locate a throw. */
  readonly path: string;
}

const { path } = workerData as WorkerData;
let replied = false;

function reply(message: WorkerReply): void {
  if (replied) return;
  replied = true;
  try {
    parentPort!.postMessage(message);
  } catch (e) {
    // The graph could not be copied (a hand-made object posing as a graph, holding functions).
    parentPort!.postMessage({ kind: 'threw', message: `its default export cannot be sent back (${describe(e)})` } satisfies WorkerReply);
  }
}

/** Handles the worker itself uses (its stdout and stderr are message ports), not the graph file's. */
const OWN_HANDLES = new Set(['MessagePort']);
const before = countHandles();

function countHandles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) if (!OWN_HANDLES.has(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** A sentinel thrown by the replaced process.exit, so nothing after the call runs. */
const EXIT = Symbol('gradc: process.exit');
process.exit = ((code?: unknown) => {
  reply({ kind: 'exit', code: describe(code ?? 0) });
  throw EXIT;
}) as typeof process.exit;

const onThrow = (e: unknown) => {
  if (e !== EXIT) reply(failure(e));
};
process.on('uncaughtException', onThrow);
process.on('unhandledRejection', onThrow);

function failure(e: unknown): WorkerReply {
  if (isGradcError(e)) {
    const { subject, detail, loc } = e as { subject?: unknown; detail?: unknown; loc?: SourceLoc };
    if (typeof subject === 'string' && typeof detail === 'string') return { kind: 'gradc-error', subject, detail, loc: loc && { file: loc.file, line: loc.line, column: loc.column } };
  }
  return { kind: 'threw', message: describe(e), site: throwSite(e) };
}

/** True for a GradcError from any copy of gradc (errors.ts's isGradcError, without importing it twice). */
function isGradcError(e: unknown): boolean {
  try {
    return e instanceof Error && e.name === 'GradcError';
  } catch {
    return false;
  }
}

/** Longest description kept of a thrown value: it goes into a one-line message. */
const MAX_TEXT = 400;

/**
 * A thrown value as text, whatever it is: an Error's message, a string, a number, or for
 * other objects their `toString`, JSON or kind — each step guarded, since any of them may
 * be a getter or a Proxy trap that throws.
 */
export function describe(value: unknown): string {
  const attempts: (() => unknown)[] = [
    () => (value instanceof Error ? value.message || value.name : undefined),
    () => (typeof value === 'object' && value !== null ? undefined : String(value)),
    () => {
      const text = String(value);
      return text === '[object Object]' ? undefined : text;
    },
    () => JSON.stringify(value),
    () => `a value of kind ${Object.prototype.toString.call(value).slice(8, -1)}`,
  ];
  for (const attempt of attempts) {
    try {
      const text = attempt();
      if (typeof text === 'string' && text !== '') return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
    } catch {
      // Try the next way.
    }
  }
  return 'a value that cannot be shown';
}

const FRAME = /\(?((?:file:\/\/)?[^\s()]+?):(\d+):(\d+)\)?$/;

/** Where in the graph file the value was thrown: the first frame there (the stack is source-mapped). */
function throwSite(e: unknown): SourceLoc | undefined {
  let stack: unknown;
  try {
    stack = e instanceof Error ? e.stack : undefined;
  } catch {
    return undefined;
  }
  if (typeof stack !== 'string') return undefined;
  for (const line of stack.split('\n')) {
    const m = FRAME.exec(line.trim());
    const file = m && (m[1].startsWith('file://') ? fileURLToPath(m[1]) : m[1]);
    if (m && file === path) return { file, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

/** Called by the bundle's entry once the graph file has run (and any top-level await settled). */
export async function finish(graphFile: { readonly default?: unknown }): Promise<void> {
  let graph: unknown;
  try {
    graph = graphFile.default;
  } catch (e) {
    reply(failure(e));
    return;
  }
  if (!isGraphDef(graph)) {
    reply({ kind: 'not-a-graph', what: graph === undefined ? 'has no default export' : `exports ${typeof graph} by default` });
    return;
  }
  // Timers the file set with a zero delay, and promise callbacks, get their turn first.
  await new Promise((resolve) => setImmediate(resolve));
  const after = countHandles();
  const left = [...after].flatMap(([kind, n]) => Array<string>(Math.max(0, n - (before.get(kind) ?? 0))).fill(kind));
  if (left.length) reply({ kind: 'left-running', handles: left });
  else reply({ kind: 'graph', name: graph.name, ir: graph.ir, optimizer: graph.optimizer?.choice });
}
