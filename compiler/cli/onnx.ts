/**
 * `gradc import` and `gradc export`: an ONNX model in as a graph file and weights, a graph
 * with trained weights out as an ONNX model. Files are written whole (a temporary file
 * renamed into place), and only once everything has been read and checked.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { GradcError } from '../errors.ts';
import { readOnnx } from '../onnx/read.ts';
import { renderGraphFile, safeName } from '../onnx/graph-file.ts';
import { toOnnx } from '../onnx/export.ts';
import { graphNameProblem } from '../dsl/names.ts';
import { decodeSafetensors, encodeSafetensors, readFloats } from '../../runtime/cpu/safetensors.ts';
import type { Command } from './args.ts';
import { loadGraphFile } from '../load/load-checked.ts';

function readInput(file: string, what: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new GradcError(file, `cannot read the ${what}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** Writes each file through a temporary beside it, after all are ready. */
function writeWhole(files: readonly { path: string; contents: string | Uint8Array }[]): void {
  for (const f of files) writeFileSync(`${f.path}.tmp-${process.pid}`, f.contents);
  for (const f of files) renameSync(`${f.path}.tmp-${process.pid}`, f.path);
}

export function importOnnx(cmd: Extract<Command, { name: 'import' }>): string[] {
  const bytes = readInput(cmd.file, 'ONNX model');
  const name = cmd.graphName ?? safeName(basename(cmd.file, extname(cmd.file)), 'model', graphNameProblem);
  const problem = graphNameProblem(name);
  if (problem) throw new GradcError('--name', problem);
  const chain = readOnnx(cmd.file, bytes);
  const { text, weights } = renderGraphFile(chain, { name, batch: cmd.batch, source: basename(cmd.file) });
  const files = [
    { path: join(cmd.out, `${name}.graph.ts`), contents: text },
    { path: join(cmd.out, `${name}.safetensors`), contents: encodeSafetensors(weights, {}) },
  ];
  const existing = files.find((f) => existsSync(f.path));
  if (existing && !cmd.force) throw new GradcError(existing.path, 'exists already (an earlier import, perhaps edited since); pass --force to write over it');
  mkdirSync(cmd.out, { recursive: true });
  writeWhole(files);
  return files.map((f) => f.path);
}

export async function exportOnnx(cmd: Extract<Command, { name: 'export' }>): Promise<string> {
  const { def } = await loadGraphFile(cmd.file, { timeoutSeconds: cmd.timeout });
  const { tensors } = decodeSafetensors(cmd.weights, readInput(cmd.weights, 'weights file'));
  const params: Record<string, Float32Array> = {};
  for (const t of tensors) params[t.name] = readFloats(t.bytes);
  const bytes = toOnnx(def, params, { softmax: cmd.softmax });
  writeWhole([{ path: cmd.out, contents: bytes }]);
  return cmd.out;
}
