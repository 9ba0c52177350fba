/**
 * Where in the user's file a DSL call was made, and what the user wrote there.
 * The location is the first stack frame outside gradc's own code; the call text is read
 * back from the file, so errors can quote `affine(h, W2, b2)` and name `h`, not `%7`.
 */
import { readFileSync } from 'node:fs';
import { dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SourceLoc } from '../ir/graph.ts';

const FRAME = /\(?((?:file:\/\/)?[^\s()]+?):(\d+):(\d+)\)?$/;

/** The source locations of a stack trace's frames, innermost first (source-mapped where maps are on). */
function frames(stack: string): SourceLoc[] {
  return stack.split('\n').slice(1).flatMap((line) => {
    const m = FRAME.exec(line.trim());
    if (!m) return [];
    const file = m[1].startsWith('file://') ? fileURLToPath(m[1]) : m[1];
    return [{ file, line: Number(m[2]), column: Number(m[3]) }];
  });
}

let ownRoot: string | undefined;

/**
 * gradc's own code: the `compiler/` (sources) or `dist/` (the built package) folder holding
 * this file. It is found from this function's own stack frame, not from import.meta.url: a
 * graph file is loaded as one bundle with gradc inlined, whose frames source maps lead back
 * to gradc's files while import.meta.url names the bundle.
 */
function ownCodeRoot(): string {
  if (ownRoot) return ownRoot;
  const here = frames(new Error().stack ?? '')[0]?.file ?? fileURLToPath(import.meta.url);
  ownRoot = dirname(here) + sep;
  for (let d = dirname(here); d !== dirname(d); d = dirname(d)) {
    const base = d.slice(d.lastIndexOf(sep) + 1);
    if (base === 'compiler' || base === 'dist') {
      ownRoot = d + sep;
      break;
    }
  }
  return ownRoot;
}

export function captureLoc(): SourceLoc | undefined {
  const own = ownCodeRoot();
  return frames(new Error().stack ?? '').find(({ file }) =>
    !file.startsWith('node:') && !file.startsWith(own) && file.includes('/') && !file.includes(`${sep}node_modules${sep}`));
}

const sourceCache = new Map<string, string[] | null>();
function sourceLines(file: string): string[] | null {
  if (!sourceCache.has(file)) {
    let lines: string[] | null = null;
    try {
      lines = readFileSync(file, 'utf8').split(/\r?\n/);
    } catch {
      lines = null;
    }
    sourceCache.set(file, lines);
  }
  return sourceCache.get(file)!;
}

/** Forget cached sources (watch mode rereads files that changed). */
export function clearSourceCache(): void {
  sourceCache.clear();
}

export interface CallText {
  /** The whole call as written, e.g. `affine(h, W2, b2)`. */
  readonly text: string;
  /** Each argument as written. */
  readonly args: readonly string[];
  /** `x` in `const x = relu(…)` when this call is the whole right-hand side. */
  readonly assignedTo?: string;
  /** The variable the enclosing statement assigns, e.g. `h` for an inner call in `const h = relu(affine(…))`. */
  readonly statementVar?: string;
}

/** How far past its start a call's text is read; a longer call is not quoted. */
const MAX_CALL_TEXT = 4096;

/**
 * The lines from `first` on, joined, up to at least `chars` characters: only as much of the
 * file as one call can span, so quoting every call of a long file stays linear in its length.
 */
function textFrom(lines: readonly string[], first: number, chars: number): string {
  let end = first;
  for (let length = 0; end < lines.length && length <= chars; end++) length += lines[end].length + 1;
  return lines.slice(first, end).join('\n');
}

/**
 * Reads the call that starts at `loc` (V8 points at the callee name). Returns undefined
 * when the file cannot be read or the text there is not a simple call of `callee`.
 */
export function readCall(loc: SourceLoc | undefined, callee: string): CallText | undefined {
  if (!loc) return undefined;
  const lines = sourceLines(loc.file);
  if (!lines) return undefined;
  const lineText = lines[loc.line - 1];
  if (lineText === undefined) return undefined;
  const rest = textFrom(lines, loc.line - 1, loc.column - 1 + MAX_CALL_TEXT).slice(loc.column - 1);
  // V8 points at the function name, or at a member access (`g.input`): find the callee.
  const start = rest.indexOf(callee + '(');
  if (start < 0 || start > 64) return undefined;
  const args: string[] = [];
  let depth = 0;
  let current = '';
  let end = -1;
  let quote: string | null = null;
  for (let i = start + callee.length; i < rest.length && i < MAX_CALL_TEXT; i++) {
    const c = rest[i];
    if (quote) {
      current += c;
      if (c === quote && rest[i - 1] !== '\\') quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      quote = c;
      current += c;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') {
      depth++;
      if (depth === 1) continue;
    } else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) {
        end = i;
        break;
      }
    } else if (c === ',' && depth === 1) {
      args.push(current.trim());
      current = '';
      continue;
    }
    current += c;
  }
  if (end < 0) return undefined;
  if (current.trim()) args.push(current.trim());
  const text = rest.slice(start, end + 1).replace(/\s+/g, ' ');
  const before = lineText.slice(0, loc.column - 1);
  const direct = /(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*(?:[\w$]+\.)?$/.exec(before);
  const stmt = /(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=/.exec(before);
  return { text, args, assignedTo: direct?.[1], statementVar: stmt?.[1] };
}
