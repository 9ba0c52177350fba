/** Builds a graph in memory and imports its generated JS module, as a user would. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compile, type CompileOptions } from '../../compiler/compile.ts';
import type { GraphDef } from '../../compiler/index.ts';
import type { CpuModule } from '../../runtime/module.ts';
import { HOST_FILE } from '../../compiler/targets.ts';

export type Arrays = Record<string, Float32Array>;

/** The generated module's exports: gradc/module's declared type. */
export type GeneratedModule = CpuModule;

let counter = 0;
const dir = mkdtempSync(join(tmpdir(), 'gradc-test-'));

/** Writes the host file a build made (`gradc-host.js`, which the CPU modules import) into `into`, as the CLI does. */
export function writeHostFile(into: string, files: readonly { readonly name: string; readonly contents: string }[]): void {
  for (const f of files) if (f.name === `${HOST_FILE}.js`) writeFileSync(join(into, f.name), f.contents);
}

export async function buildModule(def: GraphDef, options: CompileOptions = {}): Promise<GeneratedModule> {
  const { files } = compile(def, options);
  const js = files.find((f) => f.name === `${def.name}.js`)!;
  const path = join(dir, `${counter++}-${js.name}`);
  writeFileSync(path, js.contents);
  writeHostFile(dir, files);
  return (await import(pathToFileURL(path).href)) as GeneratedModule;
}

/** Deterministic test data: values in [-scale, scale). */
export function randomArray(length: number, seed: number, scale = 1): Float32Array {
  let x = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = ((x >>> 0) / 4294967296 * 2 - 1) * scale;
  }
  return out;
}

/** Random inputs for every declared input of a module. */
export function randomInputs(meta: GeneratedModule['meta'], seed: number, scale = 1): Arrays {
  const out: Arrays = {};
  Object.entries(meta.inputs).forEach(([name, shape], i) => {
    out[name] = randomArray(shape.reduce((a, b) => a * b, 1), seed * 31 + i, scale);
  });
  return out;
}
