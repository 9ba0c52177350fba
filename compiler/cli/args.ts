/** Command-line parsing for `gradc`: strict, with a suggestion for unknown options. */
import { GradcError } from '../errors.ts';
import { closest } from '../suggest.ts';
import { DEFAULT_LOAD_TIMEOUT_S } from '../load/load-graph.ts';
import { DEFAULT_TARGET, TARGET_TABLE, TARGETS } from '../targets.ts';
import { DEFAULT_BATCH } from '../onnx/graph-file.ts';
import { EXPORT_OPSET } from '../onnx/export.ts';

/** What each target writes, one line per row of the targets table. */
const TARGET_FILES = TARGET_TABLE.map((t) => `  ${t.name.padEnd(6)}${t.files}`).join('\n');

export type Command =
  | { name: 'help'; text: string }
  | { name: 'version' }
  | { name: 'build'; files: string[]; out: string; targets: string[]; forwardOnly: boolean; check: boolean; watch: boolean; force: boolean; timeout: number }
  | { name: 'inspect'; file: string; forwardOnly: boolean; timeout: number; html?: string; target: string }
  | { name: 'types'; files: string[]; targets: string[]; forwardOnly: boolean; timeout: number }
  | { name: 'import'; file: string; out: string; graphName?: string; batch?: number; force: boolean }
  | { name: 'export'; file: string; weights: string; out: string; softmax: string[]; timeout: number };

export const HELP = {
  main: `gradc — compile a static neural-network graph into specialized JS, WebAssembly and WGSL modules

Usage:
  gradc build <graph-file...> --out <dir> [--target ${TARGETS.join(',')}] [--forward-only] [--check | --watch] [--force] [--timeout <s>]
  gradc inspect <graph-file> [--html <file> [--target ${TARGETS.join('|')}]] [--forward-only] [--timeout <s>]
  gradc types <graph-file...> [--target ${TARGETS.join(',')}] [--forward-only] [--timeout <s>]
  gradc import <model.onnx> --out <dir> [--name <graph>] [--batch <n>] [--force]
  gradc export <graph-file> --weights <file.safetensors> --out <model.onnx> [--softmax <output,...>]
  gradc --help | --version

Commands:
  build     differentiate, optimize and emit each graph's module for every --target
            (default ${DEFAULT_TARGET}; gradc build --help lists the files of each), and
            gradc-host.ts/.js, the host code the JS and wasm modules import
  inspect   print the forward IR, the optimized forward+backward IR and the kernels;
            with --html, write them as one self-contained page: the graphs, the fused
            kernels with their costs and code, and the memory plan over time
  types     write the typed-import declarations the bundler plugins write (<graph>.gradc.d.ts),
            so that tsc passes before any bundler has run (a "prebuild" script)
  import    turn an ONNX model (an MLP, e.g. from torch.onnx.export) into <dir>/<name>.graph.ts
            and its weights <dir>/<name>.safetensors
  export    write a graph's forward pass with trained weights as an ONNX model

Options:
  --verbose  print stack traces for errors

Examples:
  gradc build samples/housing/housing.graph.ts --out generated
  gradc inspect samples/housing/housing.graph.ts
  gradc inspect samples/digits/digits.graph.ts --html digits.html --target wasm
`,
  build: `Usage: gradc build <graph-file...> --out <dir> [options]

Each graph file is a TS or JS module whose default export is graph('name', g => …).
Writes into <dir>, for each target:
${TARGET_FILES}
and gradc-host.ts and .js (the argument checks and seeded generator the JS and wasm modules
import, one for every graph), and .gradc-manifest.json listing them and the graph that wrote
each. The folder changes as one unit: nothing is written unless every graph builds. A build
owns only its graphs' files: other graphs' files in <dir> stay, and files its graphs wrote
before and no longer generate are removed. A file in <dir> that no manifest lists is never
replaced without --force; no graph file or file it imports is ever written over.

Options:
  --out <dir>        output folder (required)
  --target <list>    comma-separated targets: ${TARGETS.join(', ')} (default: ${DEFAULT_TARGET})
  --forward-only     emit forward only; the graph needs no loss
  --check            write nothing; exit 1 if the files in <dir> differ from a fresh build,
                     are missing, or are left from an earlier build
  --force            replace files in <dir> that gradc did not write (no manifest lists them)
  --watch            rebuild when a graph file or anything it imports changes; keeps going after errors
  --timeout <s>      seconds a graph file may take to load (default: ${DEFAULT_LOAD_TIMEOUT_S})
  --verbose          print stack traces for errors

Examples:
  gradc build samples/*/*.graph.ts --out samples/.gen
  gradc build model.graph.ts --out generated --target ${TARGETS.join(',')}
  gradc build model.graph.ts --out generated --check
  gradc build model.graph.ts --out generated --watch
`,
  import: `Usage: gradc import <model.onnx> --out <dir> [options]

Reads an ONNX model that is a chain of layers (Gemm, MatMul + Add, Relu, Sigmoid, Tanh,
Softmax and LogSoftmax over the last axis, Flatten, Identity, Dropout, constant Reshape;
opsets 9 to 21) and writes <dir>/<name>.graph.ts, a graph file that builds as is (each step
commented with its ONNX node), and <dir>/<name>.safetensors, the weights in gradc's layout.
See spec/onnx.md.

Options:
  --out <dir>      output folder (required; created if missing)
  --name <graph>   the graph's name (default: the file's name)
  --batch <n>      the dynamic batch's largest row count (default: ${DEFAULT_BATCH}); also
                   makes a model exported with a fixed row count take 1 to n rows
  --force          write over an earlier import's files

Example:
  gradc import mlp.onnx --out src/models
`,
  export: `Usage: gradc export <graph-file> --weights <file.safetensors> --out <model.onnx> [--softmax <outputs>]

Writes the graph's forward pass, its params taken from the weights file (as saveParams
writes it), as an ONNX model (opset ${EXPORT_OPSET}) that onnxruntime runs. See spec/onnx.md.

Options:
  --weights <file>     the trained params (required)
  --out <model.onnx>   the ONNX file to write (required)
  --softmax <list>     comma-separated outputs to also give as softmax probabilities,
                       as extra outputs <name>_softmax
  --timeout <s>        seconds the graph file may take to load (default: ${DEFAULT_LOAD_TIMEOUT_S})

Example:
  gradc export src/models/mlp.graph.ts --weights mlp.safetensors --out mlp.onnx
`,
  inspect: `Usage: gradc inspect <graph-file> [--html <file> [--target <target>]] [--forward-only] [--timeout <s>]

Prints the forward IR (with source locations), the optimized forward+backward IR, the
fused kernels (with FLOPs and bytes moved) and the memory plan.

With --html <file>, writes instead one self-contained HTML page (no network, nothing
external) that shows the same as a picture: the forward and backward graphs (each node's
op, shape and line, gradients in the CS229 notes' notation: δ[k] = ∂J/∂z[k], ∂J/∂W[k],
∂J/∂b[k]), the fused kernels of the target in launch order, outlined over the nodes they
compute, with their FLOPs, bytes moved and, when one is clicked, its code, and the arena
over time (which value lives where during which kernel). A long graph is shown in windows
of launches; windows of identical layers share one layout.

Options:
  --html <file>      write the page to <file> instead of printing the text
  --target <target>  the kernels and code of ${TARGETS.join(', ')} (default: ${DEFAULT_TARGET}; needs --html)
  --forward-only     the forward pass only; the graph needs no loss
  --timeout <s>      seconds the graph file may take to load (default: ${DEFAULT_LOAD_TIMEOUT_S})

Examples:
  gradc inspect samples/housing/housing.graph.ts
  gradc inspect samples/housing/housing.graph.ts --html housing.html
  gradc inspect samples/digits/digits.graph.ts --html digits.html --target wgsl
`,
  types: `Usage: gradc types <graph-file...> [--target ${TARGETS.join(',')}] [--forward-only] [--timeout <s>]

Writes, beside each graph file, the declarations gradc's bundler plugins write when they
compile it, one per target, each with that graph's exact types: ${TARGET_TABLE.map((t) => `<graph>.${t.query}.d.ts
for imports of './<graph>.ts?${t.query}' (${t.name})`).join(', ')}.
Run it before tsc on a fresh checkout, e.g. "prebuild": "gradc types src/*.graph.ts".

Options:
  --target <list>    comma-separated targets: ${TARGETS.join(', ')} (default: ${DEFAULT_TARGET})
  --forward-only     the types of a forward-only build (as gradc({ forwardOnly: true }))
  --timeout <s>      seconds a graph file may take to load (default: ${DEFAULT_LOAD_TIMEOUT_S})

Example:
  gradc types src/model.graph.ts --target js,wgsl
`,
};

const OPTIONS: Record<string, readonly string[]> = {
  build: ['--out', '--target', '--forward-only', '--check', '--watch', '--force', '--timeout', '--help'],
  inspect: ['--forward-only', '--timeout', '--html', '--target', '--help'],
  types: ['--target', '--forward-only', '--timeout', '--help'],
  import: ['--out', '--name', '--batch', '--force', '--help'],
  export: ['--weights', '--out', '--softmax', '--timeout', '--help'],
};

/** Options that take a value. */
const VALUED = new Set(['--out', '--target', '--timeout', '--name', '--batch', '--weights', '--softmax', '--html']);

export function parseArgs(argv: readonly string[], targets: readonly string[]): Command {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') return { name: 'help', text: HELP.main };
  if (first === '--version' || first === '-v') return { name: 'version' };
  if (!(first in OPTIONS)) {
    throw new GradcError('', `unknown command ${JSON.stringify(first)}${suggest(first, Object.keys(OPTIONS))}; run gradc --help`);
  }
  const name = first as 'build' | 'inspect' | 'types' | 'import' | 'export';
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (!arg.startsWith('-')) {
      positional.push(arg);
      continue;
    }
    const [key, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (!OPTIONS[name].includes(key)) {
      throw new GradcError('', `unknown option ${key}${suggest(key, OPTIONS[name])}; run gradc ${name} --help`);
    }
    if (VALUED.has(key)) {
      const value = inline ?? rest[++i];
      if (value === undefined || value.startsWith('--')) throw new GradcError('', `${key} needs a value`);
      flags.set(key, value);
    } else {
      if (inline !== undefined) throw new GradcError('', `${key} takes no value`);
      flags.set(key, true);
    }
  }
  if (flags.has('--help')) return { name: 'help', text: HELP[name] };
  const timeout = timeoutOf(flags.get('--timeout'));
  if (name === 'inspect') {
    if (positional.length !== 1) throw new GradcError('', `inspect takes one graph file, got ${positional.length}`);
    const html = flags.get('--html') as string | undefined;
    const target = String(flags.get('--target') ?? DEFAULT_TARGET);
    if (flags.has('--target') && html === undefined) throw new GradcError('', '--target needs --html <file>: the text of inspect is the same for every target');
    if (!targets.includes(target)) throw new GradcError('', `unknown target ${JSON.stringify(target)}${suggest(target, targets)}; targets: ${targets.join(', ')}`);
    return { name, file: positional[0], forwardOnly: flags.has('--forward-only'), timeout, target, ...(html === undefined ? {} : { html }) };
  }
  if (name === 'import') return importCommand(positional, flags);
  if (name === 'export') return exportCommand(positional, flags, timeout);
  if (positional.length === 0) throw new GradcError('', `no graph file given; usage: gradc ${name} <graph-file...>${name === 'build' ? ' --out <dir>' : ''}`);
  const out = flags.get('--out');
  if (name === 'build' && typeof out !== 'string') throw new GradcError('', '--out <dir> is required');
  const list = String(flags.get('--target') ?? DEFAULT_TARGET).split(',').map((t) => t.trim()).filter(Boolean);
  if (list.length === 0) throw new GradcError('', `--target needs at least one of ${targets.join(', ')}`);
  for (const t of list) {
    if (!targets.includes(t)) throw new GradcError('', `unknown target ${JSON.stringify(t)}${suggest(t, targets)}; targets: ${targets.join(', ')}`);
  }
  if (name === 'types') return { name, files: positional, targets: list, forwardOnly: flags.has('--forward-only'), timeout };
  if (flags.has('--watch') && flags.has('--check')) throw new GradcError('', '--watch and --check cannot be combined');
  return { name, files: positional, out: out as string, targets: list, forwardOnly: flags.has('--forward-only'), check: flags.has('--check'), watch: flags.has('--watch'), force: flags.has('--force'), timeout };
}

function importCommand(positional: string[], flags: Map<string, string | true>): Command {
  if (positional.length !== 1) throw new GradcError('', `import takes one ONNX file, got ${positional.length}; usage: gradc import <model.onnx> --out <dir>`);
  const out = flags.get('--out');
  if (typeof out !== 'string') throw new GradcError('', '--out <dir> is required');
  const text = flags.get('--batch');
  const batch = text === undefined ? undefined : Number(text);
  if (batch !== undefined && !(Number.isInteger(batch) && batch >= 1 && batch <= 2 ** 30)) {
    throw new GradcError('', `--batch needs a whole number of rows from 1 to 1073741824, got ${JSON.stringify(text)}`);
  }
  const graphName = flags.get('--name');
  return { name: 'import', file: positional[0], out, graphName: typeof graphName === 'string' ? graphName : undefined, batch, force: flags.has('--force') };
}

function exportCommand(positional: string[], flags: Map<string, string | true>, timeout: number): Command {
  if (positional.length !== 1) throw new GradcError('', `export takes one graph file, got ${positional.length}; usage: gradc export <graph-file> --weights <file.safetensors> --out <model.onnx>`);
  const weights = flags.get('--weights');
  if (typeof weights !== 'string') throw new GradcError('', '--weights <file.safetensors> is required');
  const out = flags.get('--out');
  if (typeof out !== 'string') throw new GradcError('', '--out <model.onnx> is required');
  const softmax = String(flags.get('--softmax') ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  return { name: 'export', file: positional[0], weights, out, softmax, timeout };
}

/** `--timeout <seconds>`: a positive number, at most a day. */
function timeoutOf(value: string | true | undefined): number {
  if (value === undefined) return DEFAULT_LOAD_TIMEOUT_S;
  const seconds = Number(value);
  if (!(seconds > 0 && seconds <= 86_400)) throw new GradcError('', `--timeout needs a number of seconds above 0 (at most 86400), got ${JSON.stringify(value)}`);
  return seconds;
}

/** `; did you mean --out?` when some known word is close. */
export function suggest(word: string, known: readonly string[]): string {
  const best = closest(word, known);
  return best === undefined ? '' : ` (did you mean ${best}?)`;
}
