/**
 * Text helpers shared by the backends. Everything that puts a user-influenced string into
 * generated code goes through here: identifiers are checked, comments are escaped.
 */
import { shapeText } from '../../ir/graph.ts';
import { numberKey } from '../../ir/scalar.ts';

/** Generated lines stay within this many characters. */
export const WIDTH = 140;

/** Words of `text` in lines of at most `width` characters (a longer word stays whole). */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/**
 * A comment of any length as lines `prefix` + text (e.g. `// `, `  ;; `), wrapped at word
 * boundaries to the line width, each escaped like `commentText`.
 */
export function commentLines(prefix: string, text: string): string[] {
  return wrapWords(commentText(text), WIDTH - prefix.length).map((l) => `${prefix}${l}`);
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Allocates identifiers that are unique within one generated file. */
export class Namer {
  private readonly used = new Set<string>();
  constructor(reserved: Iterable<string> = []) {
    for (const r of reserved) this.used.add(r);
  }
  /** `prefix + base`, made an identifier and unique (`_2`, `_3`, … on collision). */
  take(prefix: string, base: string): string {
    const cleaned = base.replace(/[^A-Za-z0-9_]/g, '_');
    const stem = `${prefix}${cleaned}`;
    if (!IDENT.test(stem)) throw new Error(`internal: ${JSON.stringify(stem)} is not an identifier`);
    let name = stem;
    for (let k = 2; this.used.has(name); k++) name = `${stem}_${k}`;
    this.used.add(name);
    return name;
  }
}

/** Text safe inside a `//` comment: one line, no control characters. */
export function commentText(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ');
}

/** A record key: bare when it is an identifier, else a JSON string literal. */
export function propertyKey(name: string): string {
  return IDENT.test(name) ? name : JSON.stringify(name);
}

/** `obj.name` or `obj["name"]`. */
export function property(obj: string, name: string): string {
  return IDENT.test(name) ? `${obj}.${name}` : `${obj}[${JSON.stringify(name)}]`;
}

/** A finite number as a literal that reads back to the same double. */
export function numberLiteral(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`internal: non-finite constant ${v}`);
  return numberKey(v);
}

/** A shape as `[64,4]`, for comments and messages. */
/** A shape in generated text: `[64,4]`, or `[B≤64,4]` over a dynamic batch. */
export const shapeLabel = shapeText;
