/**
 * The one error type gradc throws for anything the user can fix: a bad graph, a bad build
 * option. Its message is a single line that names the node and the user's file:line; the
 * CLI prints exactly that (no stack trace unless --verbose).
 */
import type { SourceLoc } from './ir/graph.ts';
import { formatLoc } from './dsl/location.ts';

export class GradcError extends Error {
  override readonly name = 'GradcError';
  constructor(
    /** What the error is about, e.g. `affine(h, W2, b2)` or `param 'W1'`. */
    readonly subject: string,
    readonly detail: string,
    readonly loc?: SourceLoc,
  ) {
    super(oneLine(loc ? `${subject} at ${formatLoc(loc)}: ${detail}` : subject ? `${subject}: ${detail}` : detail));
  }
}

/** Messages stay on one line even when they quote user strings containing newlines. */
export function oneLine(text: string): string {
  return text.replace(/\r?\n/g, '\\n');
}

/** A user string shown in a message: quoted, escaped, and cut short. */
export function quote(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return JSON.stringify(shown);
}

/**
 * True for a GradcError from any copy of gradc: a graph file's `'gradc'` may be another
 * module instance than the compiler's own.
 */
export function isGradcError(e: unknown): e is Error {
  return e instanceof Error && e.name === 'GradcError';
}
