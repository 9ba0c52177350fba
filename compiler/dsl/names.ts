/**
 * Names users give to graphs, inputs, params and outputs become identifiers in generated
 * JS and WGSL and keys of the records the generated functions take. Sanitization is
 * deliberately small: `-` and `.` become `_`; anything else that is not an identifier is
 * an error, never silently rewritten into code.
 */
import { quote } from '../errors.ts';
import { TARGET_TABLE } from '../targets.ts';

const RESERVED = new Set([
  // JavaScript / TypeScript
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum',
  'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null',
  'return', 'super', 'switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield',
  'let', 'static', 'implements', 'interface', 'package', 'private', 'protected', 'public', 'await', 'async',
  'arguments', 'eval', 'undefined', 'NaN', 'Infinity',
  // Object.prototype members: as record keys they would read inherited values
  'constructor', 'prototype', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString',
  'toString', 'valueOf', '__proto__', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__',
  // WGSL keywords and predeclared types
  'alias', 'bitcast', 'bool', 'const_assert', 'continuing', 'diagnostic', 'discard', 'f16', 'f32', 'fallthrough',
  'fn', 'i32', 'loop', 'override', 'requires', 'struct', 'u32', 'array', 'atomic', 'mat2x2', 'mat3x3', 'mat4x4',
  'ptr', 'sampler', 'texture_2d', 'vec2', 'vec3', 'vec4', 'workgroup', 'uniform', 'storage', 'private', 'function',
  'read', 'write', 'read_write',
]);

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The identifier a user name becomes in generated code. */
export function sanitize(name: string): string {
  return name.replace(/[-.]/g, '_');
}

/** Why `name` cannot be used, or undefined when it can. */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `the name must be a string, got ${typeof name}`;
  if (name.length === 0) return 'the name is empty';
  if (name.length > 64) return `the name ${quote(name)} is longer than 64 characters`;
  // Named apart: "use letters" would mislead whoever typed 'é' or 'Ω', which are letters.
  const wide = /[^\u0000-\u007f]/u.exec(name)?.[0];
  if (wide !== undefined) {
    const code = `U+${wide.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    return `the name ${quote(name)} has the non-ASCII character ${code}: names become identifiers and file names, so use ASCII letters, digits, '_', '-' or '.'`;
  }
  const id = sanitize(name);
  if (!IDENT.test(id)) {
    return `the name ${quote(name)} is not an identifier: use letters, digits, '_', '-' or '.', not starting with a digit`;
  }
  if (id.startsWith('__')) return `the name ${quote(name)} starts with '__', which gradc reserves`;
  if (RESERVED.has(id)) return `the name ${quote(name)} is reserved in JavaScript or WGSL`;
  return undefined;
}

/**
 * The suffixes of gradc's own file names: a graph named `a.graph` would write `a.graph.ts`,
 * which the next `gradc build dir/*.graph.ts` takes for a graph file, and a target's suffix or
 * `.d` would write what reads as graph `a`'s files (its module, host, declarations).
 */
const FILE_SUFFIXES = ['graph', ...TARGET_TABLE.flatMap((t) => (t.suffix ? [t.suffix.slice(1)] : [])), 'd'];

/** Why `name` (already a valid name) cannot name a graph, whose name names its files; or undefined. */
export function graphNameProblem(name: string): string | undefined {
  const last = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : undefined;
  if (last === undefined || !FILE_SUFFIXES.includes(last)) return undefined;
  const suffixes = FILE_SUFFIXES.map((s) => `'.${s}'`).join(', ');
  return `a graph's name names its files, and ${quote(`${name}.ts`)} or ${quote(`${name}.js`)} would read as one of gradc's own (${quote(`.${last}`)} is a suffix gradc writes); a graph name may not end in ${suffixes}: use '-' or '_' instead`;
}
