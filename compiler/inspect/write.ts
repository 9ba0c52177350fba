/**
 * `gradc inspect --html <file>`: plans the graph as a build does and writes its page. The
 * page is written whole or not at all (a temporary file beside it, then renamed), and never
 * over the graph file or a file it imports.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, basename, resolve } from 'node:path';
import type { GraphDef } from '../dsl/graph.ts';
import { GradcError } from '../errors.ts';
import { planModule } from '../kernels/plan.ts';
import type { Target } from '../compile.ts';
import { inspectPage } from './page.ts';
import '../ops/all.ts';

export interface WriteOptions {
  readonly target: Target;
  readonly forwardOnly?: boolean;
  /** The graph file, for the page's title. */
  readonly source?: string;
  /** Files the page must not replace: the graph file and what it imports. */
  readonly inputs?: readonly string[];
}

export function writeInspectPage(def: GraphDef, file: string, options: WriteOptions): void {
  const path = resolve(file);
  if ((options.inputs ?? []).some((input) => resolve(input) === path)) {
    throw new GradcError('--html', `${file} is an input of the graph; name a new file for the page`);
  }
  const plan = planModule(def, { forwardOnly: options.forwardOnly });
  const html = inspectPage(plan, { target: options.target, source: options.source });
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, html);
    renameSync(temporary, path);
  } catch (e) {
    rmSync(temporary, { force: true });
    throw new GradcError('--html', `cannot write ${file}: ${(e as Error).message}`);
  }
}
