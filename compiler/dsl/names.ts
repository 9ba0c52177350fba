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
  const foreign = [...name].find((ch) => ch.codePointAt(0)! > 0x7e);
  if (foreign !== undefined) {
    const code = `U+${foreign.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    return `the name ${quote(name)} has the character ${code}${/[\p{L}\p{N}\p{P}\p{S}]/u.test(foreign) ? ` (${JSON.stringify(foreign)})` : ''}: names become identifiers and file names, so use ASCII letters, digits, '_', '-' or '.'`;
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
 * The words after a graph name's last '.' that would make its files another kind of gradc
 * file: `m.gpu` would write `m.gpu.js`, graph m's WebGPU module (each target's suffix, from
 * the targets table); `m.graph` would write `m.graph.ts`, which gradc reads as a graph file;
 * `m.d` would write `m.d.ts`, graph m's declarations.
 */
const FILE_KIND_WORDS = new Set(['graph', 'd', ...TARGET_TABLE.map((t) => t.suffix.slice(1)).filter((w) => w)]);

/** Why `name` cannot name a graph (it also names the generated files), or undefined when it can. */
export function graphNameProblem(name: unknown): string | undefined {
  const problem = nameProblem(name);
  if (problem || typeof name !== 'string') return problem;
  const last = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : undefined;
  if (last !== undefined && FILE_KIND_WORDS.has(last)) {
    const kinds = [...FILE_KIND_WORDS].map((w) => `'.${w}'`).join(', ');
    return `the graph name ${quote(name)} ends in '.${last}', so its files (${name}.ts, ${name}.js) would pass for another kind of gradc file; a graph name may not end in ${kinds}: use '_' or '-'`;
  }
  return undefined;
}
