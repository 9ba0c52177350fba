/**
 * Printing TypeScript declarations for the generated host modules (JS module, wasm module,
 * WebGPU host): doc comments, functions, interfaces and constants, deterministically and
 * within the line width. Text in, text out: no compiler API is loaded for this.
 */
import { WIDTH, commentText, wrapWords } from './text.ts';


/**
 * `open item, item, … close` on one line at `indent` when it fits, else one item per line
 * (each followed by `sep`): tables and records of any length stay within the line width.
 */
export function listText(open: string, items: readonly string[], close: string, indent = '', sep = ','): string[] {
  const flat = `${indent}${open}${items.join(`${sep} `)}${close}`;
  if (flat.length <= WIDTH) return [flat];
  return [`${indent}${open.trimEnd()}`, ...items.map((it) => `${indent}  ${it}${sep}`), `${indent}${close.trimStart()}`];
}

/** `open item, item, … close` on one line at `indent` when it fits, else the items packed into as few lines as fit. */
export function packedList(open: string, items: readonly string[], close: string, indent = ''): string[] {
  const flat = `${indent}${open}${items.join(', ')}${close}`;
  if (flat.length <= WIDTH) return [flat];
  return [`${indent}${open.trimEnd()}`, ...packed(items.map((it) => `${it},`), `${indent}  `), `${indent}${close.trimStart()}`];
}

/** Items joined by spaces into as few lines (at `indent`) as fit the width. */
export function packed(items: readonly string[], indent: string): string[] {
  const lines: string[] = [];
  for (const item of items) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + item.length <= WIDTH) lines[lines.length - 1] = `${last} ${item}`;
    else lines.push(indent + item);
  }
  return lines;
}

/** A JSDoc block, its text unable to close the comment, wrapped to the line width. */
export function docBlock(text: string | readonly string[], indent = ''): string[] {
  const lines = (typeof text === 'string' ? text.split('\n') : text.flatMap((t) => t.split('\n')))
    .map((l) => commentText(l).replace(/\*\//g, '* /'))
    .flatMap((l) => (l.length + indent.length + 3 > 100 ? wrapWords(l, 100 - indent.length - 3) : [l]));
  if (lines.length === 1 && indent.length + lines[0].length + 7 <= WIDTH) return [`${indent}/** ${lines[0]} */`];
  return [`${indent}/**`, ...lines.map((l) => (l ? `${indent} * ${l}` : `${indent} *`)), `${indent} */`];
}

export interface Param {
  readonly name: string;
  readonly type: string;
  /** A default value (dropped, with `?`, in declarations). */
  readonly init?: string;
}

export interface FunctionSpec {
  readonly name: string;
  readonly doc?: string | readonly string[];
  readonly exported?: boolean;
  readonly params: readonly Param[];
  readonly returns: string;
  /** Body lines, unindented; absent for a declaration. */
  readonly body?: readonly string[];
}

/** `function f(a: T, …): R {` on one line, or one parameter per line when too long. */
export function functionText(f: FunctionSpec, declare = false): string[] {
  const head = `${f.exported ? 'export ' : ''}${declare ? 'declare ' : ''}function ${f.name}`;
  const param = (p: Param) => (declare && p.init !== undefined ? `${p.name}?: ${p.type}` : `${p.name}: ${p.type}${p.init !== undefined ? ` = ${p.init}` : ''}`);
  const end = `): ${f.returns}${declare ? ';' : ' {'}`;
  const flat = `${head}(${f.params.map(param).join(', ')}${end}`;
  // Too long for one line: the parameters in as few lines as fit.
  const signature = flat.length <= WIDTH ? [flat] : [`${head}(`, ...packed(f.params.map((p) => `${param(p)},`), '  '), end];
  const docs = f.doc ? docBlock(f.doc) : [];
  if (declare) return [...docs, ...signature];
  return [...docs, ...signature, ...(f.body ?? []).map((l) => (l ? `  ${l}` : l)), '}'];
}

export interface Property {
  readonly name: string;
  readonly type: string;
  readonly doc?: string;
  readonly optional?: boolean;
}

/**
 * A record type, as a type alias rather than an interface: an object type alias fits an index
 * signature, so a module's own `Params` is also a `Record<string, Float32Array>`.
 */
export function recordTypeText(name: string, doc: string, props: readonly Property[], exported = true): string[] {
  return [
    ...docBlock(doc),
    `${exported ? 'export ' : ''}type ${name} = {`,
    ...props.flatMap((p) => [...(p.doc ? docBlock(p.doc, '  ') : []), `  ${p.name}${p.optional ? '?' : ''}: ${p.type};`]),
    '};',
  ];
}

export function constText(name: string, value: string, doc?: string, exported = false): string[] {
  return [...(doc ? docBlock(doc) : []), `${exported ? 'export ' : ''}const ${name} = ${value};`];
}

/** Blocks of lines joined with one blank line between them. */
export function joinBlocks(blocks: readonly (readonly string[])[]): string {
  return blocks.filter((b) => b.length > 0).map((b) => b.join('\n')).join('\n\n') + '\n';
}
