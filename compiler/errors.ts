/**
 * The one error type gradc throws for anything the user can fix: a bad graph, a bad build
 * option. Its message is a single line that names the node and the user's file:line; the
 * CLI prints exactly that (no stack trace unless --verbose).
 */
import type { SourceLoc } from './ir/graph.ts';
import { formatLoc } from './ir/location.ts';

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

/**
 * Characters a terminal or editor may take as a line break or a control sequence, or that
 * reorder the text shown: DEL and the C1 controls (U+009B starts an ANSI sequence), the
 * Unicode line and paragraph separators, and the bidirectional overrides and isolates.
 * JSON.stringify escapes C0 controls but leaves these raw.
 */
const UNSAFE = /[\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const escapeUnsafe = (text: string) => text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * ANSI escape sequences: CSI (colours, cursor moves, erasing: ESC [ … or U+009B …), OSC
 * (window titles, links: ESC ] … BEL or ESC \) and the two-character ones. A message that
 * quotes text from a graph file must not restyle or rewrite the user's terminal.
 */
const ANSI = /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_]/g;
/** C0 controls other than tab, newline and carriage return (which become `\n`, `\r`). */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;

/**
 * Messages stay on one line even when they quote user strings containing newlines, and
 * carry no terminal escape sequences (stripped) or other control characters (escaped).
 */
export function oneLine(text: string): string {
  const plain = text.replace(ANSI, '').replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escapeUnsafe(plain.replace(/\r?\n/g, '\\n').replace(/\r/g, '\\r'));
}

/** A user string shown in a message: quoted, escaped, and cut short. */
export function quote(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return escapeUnsafe(JSON.stringify(shown));
}

/**
 * True for a GradcError from any copy of gradc: a graph file's `'gradc'` may be another
 * module instance than the compiler's own.
 */
export function isGradcError(e: unknown): e is Error {
  return e instanceof Error && e.name === 'GradcError';
}
