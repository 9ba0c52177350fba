/**
 * Building and loading the wasm target's module in tests: as a user would (an ES module with
 * top-level await, imported from a file), or from text as a CommonJS function that can be
 * garbage-collected (thousands of fuzzed modules), instantiating synchronously instead.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compile, type CompileOptions } from '../../compiler/compile.ts';
import { INSTANTIATE, INSTANTIATE_IMPORTING } from '../../compiler/backends/wasm/module.ts';
import type { GraphDef } from '../../compiler/index.ts';
import { loadGenerated } from './fuzz-checks.ts';
import { writeHostFile, type GeneratedModule } from './module.ts';

let counter = 0;
const dir = mkdtempSync(join(tmpdir(), 'gradc-wasm-test-'));

/** The generated `.wasm.js` of a graph, imported from a file (top-level await and all). */
export async function buildWasmModule(def: GraphDef, options: CompileOptions = {}): Promise<GeneratedModule> {
  const { files } = compile(def, { ...options, targets: ['wasm'] });
  const js = files.find((f) => f.name === `${def.name}.wasm.js`)!;
  const path = join(dir, `${counter++}-${js.name.replace(/\.js$/, '.mjs')}`);
  writeFileSync(path, js.contents);
  writeHostFile(dir, files);
  return (await import(pathToFileURL(path).href)) as GeneratedModule;
}

/** A `.wasm.js` from its text, instantiated synchronously (Node allows it at any size). */
export function loadWasmGenerated<T>(code: string): T {
  if (code.includes(INSTANTIATE)) return loadGenerated<T>(code.replace(INSTANTIATE, 'const instance = new WebAssembly.Instance(new WebAssembly.Module(bytesOf(WASM)));'));
  if (code.includes(INSTANTIATE_IMPORTING)) {
    return loadGenerated<T>(code.replace(INSTANTIATE_IMPORTING, 'const instance = new WebAssembly.Instance(new WebAssembly.Module(bytesOf(WASM)), { env: { memory } });'));
  }
  throw new Error('the wasm module no longer instantiates as test/support/wasm.ts expects');
}

/** The binary embedded in a generated `.wasm.ts`/`.wasm.js`. */
export function embeddedBytes(code: string): Uint8Array<ArrayBuffer> {
  const m = /const WASM = `([^`]*)`/.exec(code);
  if (!m) throw new Error('no embedded WASM in the module');
  return Uint8Array.from(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
}
