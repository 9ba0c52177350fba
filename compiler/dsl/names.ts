/**
 * Names users give to graphs, inputs, params and outputs become identifiers in generated
 * JS and WGSL and keys of the records the generated functions take. Sanitization is
 * deliberately small: `-` and `.` become `_`; anything else that is not an identifier is
 * an error, never silently rewritten into code.
 */
import { quote } from '../errors.ts';

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
  const id = sanitize(name);
  if (!IDENT.test(id)) {
    return `the name ${quote(name)} is not an identifier: use letters, digits, '_', '-' or '.', not starting with a digit`;
  }
  if (id.startsWith('__')) return `the name ${quote(name)} starts with '__', which gradc reserves`;
  if (RESERVED.has(id)) return `the name ${quote(name)} is reserved in JavaScript or WGSL`;
  return undefined;
}
