/**
 * Loads graph files. Each is bundled with esbuild (so it may import helpers and packages, and
 * be TypeScript) and run in a worker thread of its own, with source maps on so DSL errors
 * point at the user's file and line. The worker sends the graph back as plain data (the
 * forward IR), which is rebuilt here.
 *
 * The worker keeps a graph file's misbehaviour out of the build: an endless loop or a wait
 * that never ends is stopped by a time limit, and a top-level await that never settles, a
 * call to `process.exit()`, timers left running and throws of any value each end in a
 * one-line error naming the file (graph-worker.ts is the worker's side). It costs about
 * 30 ms a graph file over importing it in process (65 ms against 35 ms on the housing
 * sample; a worker starts in about 20 ms, a child process in about 50 ms).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { build, type Message } from 'esbuild';
import { GradcError } from '../errors.ts';
import { brandGraph, type GraphDef } from '../dsl/graph.ts';
import { optimizerFromChoice } from '../ir/optimizers.ts';
import { formatLoc } from '../ir/location.ts';
import type { Graph, Node } from '../ir/graph.ts';
import type { WorkerData, WorkerReply } from './graph-worker.ts';

/** How long a graph file may take to load, by default (`--timeout` changes it). */
export const DEFAULT_LOAD_TIMEOUT_S = 30;

export interface LoadOptions {
  /** Seconds the graph file may take to run before it is stopped. */
  readonly timeoutSeconds?: number;
}

export interface LoadedGraph {
  readonly file: string;
  readonly def: GraphDef;
  /** Absolute paths of the graph file and every local file it imports (for watching). */
  readonly inputs: readonly string[];
}

/** gradc's own code: its public entry (what `'gradc'` means in a graph file) and the worker's side of loading. */
function ownFile(name: 'entry' | 'worker'): string {
  const here = import.meta.url;
  const source = here.endsWith('.ts');
  const file = name === 'entry' ? (source ? '../index.ts' : './index.js') : source ? './graph-worker.ts' : './graph-worker.js';
  return fileURLToPath(new URL(file, here));
}

export async function loadGraph(file: string, options: LoadOptions = {}): Promise<LoadedGraph> {
  const path = resolve(file);
  const dir = mkdtempSync(join(tmpdir(), 'gradc-'));
  try {
    const bundled = join(dir, 'graph.mjs');
    const { code, inputs } = await bundle(path, bundled, file);
    writeFileSync(bundled, code);
    const reply = await runInWorker(bundled, path, file, options.timeoutSeconds ?? DEFAULT_LOAD_TIMEOUT_S);
    return { file, def: graphOf(reply, file), inputs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the bundle in a worker thread and waits, at most `seconds`, for its one reply; then ends the worker. */
function runInWorker(bundled: string, path: string, file: string, seconds: number): Promise<WorkerReply> {
  const worker = new Worker(bundled, { workerData: { path } satisfies WorkerData, execArgv: ['--enable-source-maps'] });
  const reply = new Promise<WorkerReply>((settle, fail) => {
    const timer = setTimeout(() => fail(new GradcError(file, `did not finish loading within ${seconds} s: an endless loop, or a wait that never ends? (the limit is set by --timeout <seconds>)`)), seconds * 1000);
    const end = <T>(outcome: (value: T) => void) => (value: T) => {
      clearTimeout(timer);
      outcome(value);
    };
    worker.once('message', end(settle));
    worker.once('error', end((e: unknown) => fail(new GradcError(file, `could not be loaded: ${e instanceof Error ? e.message : String(e)}`))));
    worker.once('exit', end(() => fail(new GradcError(file, 'stopped before its graph was ready, with nothing left to wait for: a top-level await that never settles?'))));
  });
  return reply.finally(() => worker.terminate());
}

const HANDLE_NAMES: Record<string, string> = { Timeout: 'a timer', Immediate: 'an immediate callback' };

/** The graph of a reply, or the error it reports. */
function graphOf(reply: WorkerReply, file: string): GraphDef {
  switch (reply.kind) {
    case 'graph': {
      const optimizer = reply.optimizer === undefined ? undefined : optimizerFromChoice(reply.optimizer);
      if (typeof optimizer === 'string') throw new GradcError(file, `its graph's optimizer: ${optimizer}`);
      return brandGraph(reply.name, checkedGraph(reply.ir, file), optimizer);
    }
    case 'gradc-error':
      throw new GradcError(reply.subject, reply.detail, reply.loc);
    case 'threw':
      throw new GradcError(reply.site ? formatLoc(reply.site) : file, `the graph file threw while loading: ${reply.message}`);
    case 'exit':
      throw new GradcError(file, `called process.exit(${reply.code}) while loading; a graph file must only build its graph, not end the process`);
    case 'not-a-graph':
      throw new GradcError(file, `${reply.what}; a graph file must \`export default graph('name', (g) => { … })\``);
    case 'left-running': {
      const kinds = [...new Set(reply.handles)].map((k) => HANDLE_NAMES[k] ?? k).join(', ');
      throw new GradcError(file, `left ${kinds} running after it loaded, which would keep the build from ending; a graph file must not start timers or open handles`);
    }
  }
}

/**
 * The forward IR as the worker sent it, checked to be one `graph()` could have made (a
 * default export can pose as a graph by carrying its brand), and copied field by field.
 */
function checkedGraph(ir: Graph, file: string): Graph {
  const ids = (list: unknown, below: number) => Array.isArray(list) && list.every((id) => Number.isInteger(id) && id >= 0 && id < below);
  const roots = (list: unknown, n: number) => Array.isArray(list) && list.every((r) => typeof r?.name === 'string' && ids([r.id], n));
  // A negative dimension is the batch dimension: only where the graph declares one, as −batch.
  const batch = ir?.batch;
  const batchOk = batch === undefined || (Number.isInteger(batch) && batch >= 1);
  const dimOk = (d: number) => Number.isInteger(d) && (d > 0 || (batch !== undefined && d === -batch));
  const nodeOk = (node: Node, i: number) => node?.id === i && typeof node.op === 'string' && typeof node.name === 'string'
    && ids(node.inputs, i) && Array.isArray(node.shape) && node.shape.every(dimOk) && typeof node.attrs === 'object' && node.attrs !== null;
  const n = Array.isArray(ir?.nodes) ? ir.nodes.length : -1;
  const ok = n >= 0 && batchOk && ir.nodes.every(nodeOk) && roots(ir.inputs, n) && roots(ir.params, n) && roots(ir.outputs, n) && (ir.loss === undefined || ids([ir.loss], n));
  if (!ok) throw new GradcError(file, "its default export carries gradc's graph brand but was not made by graph()");
  const node = ({ id, op, inputs, shape, attrs, name, loc }: Node): Node => ({ id, op, inputs: [...inputs], shape: [...shape], attrs: { ...attrs }, name, ...(loc ? { loc } : {}) });
  const root = ({ name, id }: { name: string; id: number }) => ({ name, id });
  return {
    name: ir.name,
    nodes: ir.nodes.map(node),
    inputs: ir.inputs.map(root),
    params: ir.params.map(root),
    outputs: ir.outputs.map(root),
    loss: ir.loss,
    loc: ir.loc,
    ...(batch === undefined ? {} : { batch }),
  };
}

/**
 * The entry point's name as esbuild sees it. esbuild expands `*` in entry points as a glob,
 * so a graph file named `a*b.graph.ts` would bundle every match (or fail); the entry is a
 * module of its own that imports the graph file under this name, which a plugin maps to the
 * real path.
 */
const GRAPH_FILE = 'gradc:graph-file';
const ENTRY = 'gradc-worker:entry';

async function bundle(path: string, outfile: string, shown: string): Promise<{ code: string; inputs: string[] }> {
  const own = dirname(ownFile('entry')) + sep;
  try {
    const result = await build({
      entryPoints: [ENTRY],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      sourcesContent: false,
      logLevel: 'silent',
      outfile,
      metafile: true,
      plugins: [{
        name: 'gradc-self',
        setup(b) {
          // The worker's side runs first, then the graph file, then the worker replies.
          b.onResolve({ filter: /^gradc-worker:entry$/ }, () => ({ path: 'entry', namespace: 'gradc-worker' }));
          b.onLoad({ filter: /.*/, namespace: 'gradc-worker' }, () => ({
            contents: `import { finish } from ${JSON.stringify(ownFile('worker'))};\nimport * as graphFile from '${GRAPH_FILE}';\nawait finish(graphFile);\n`,
            resolveDir: dirname(path),
            loader: 'js',
          }));
          b.onResolve({ filter: /^gradc:graph-file$/ }, (args) => {
            if (args.namespace !== 'gradc-worker') return undefined;
            return existsSync(path) ? { path } : { errors: [{ text: `Could not resolve ${JSON.stringify(path)}` }] };
          });
          // Built gradc is imported as it is; its TypeScript sources (when gradc runs from
          // them, as in its own tests) are bundled in, since the worker runs plain JavaScript.
          b.onResolve({ filter: /^gradc$/ }, () => {
            const entry = ownFile('entry');
            return entry.endsWith('.ts') ? { path: entry } : { path: pathToFileURL(entry).href, external: true };
          });
        },
      }],
    });
    const inputs = Object.keys(result.metafile.inputs)
      .filter((f) => !f.startsWith('gradc-worker:') && !f.includes('node_modules'))
      .map((f) => resolve(f))
      .filter((f) => !f.startsWith(own));
    return { code: result.outputFiles[0].text, inputs };
  } catch (e) {
    const errors = (e as { errors?: Message[] }).errors;
    const first = errors?.[0];
    if (!first) throw e;
    // An error in the entry module (the graph file is missing) is about the graph file itself.
    const loc = first.location && !first.location.file.startsWith('gradc-worker:') ? first.location : undefined;
    const where = loc ? `${loc.file}:${loc.line}:${loc.column + 1}` : shown;
    throw new GradcError(where, first.text);
  }
}
