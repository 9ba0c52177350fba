/** Command-line parsing for `gradc`: strict, with a suggestion for unknown options. */
import { GradcError } from '../errors.ts';
import { closest } from '../suggest.ts';
import { DEFAULT_LOAD_TIMEOUT_S } from './load-graph.ts';

export type Command =
  | { name: 'help'; text: string }
  | { name: 'version' }
  | { name: 'build'; files: string[]; out: string; targets: string[]; forwardOnly: boolean; check: boolean; watch: boolean; force: boolean; timeout: number }
  | { name: 'inspect'; file: string; forwardOnly: boolean; timeout: number };

export const HELP = {
  main: `gradc — compile a static neural-network graph into specialized JS, WebAssembly and WGSL modules

Usage:
  gradc build <graph-file...> --out <dir> [--target js,wasm,wgsl] [--forward-only] [--check | --watch] [--force] [--timeout <s>]
  gradc inspect <graph-file> [--forward-only] [--timeout <s>]
  gradc --help | --version

Commands:
  build     differentiate, optimize and emit <dir>/<name>.ts, .js and .d.ts for each graph
            (with --target wgsl also <name>.wgsl and the WebGPU host <name>.gpu.js/.d.ts;
            with --target wasm <name>.wat and the WebAssembly module <name>.wasm.ts/.js/.d.ts),
            and gradc-host.ts/.js, the host code the JS and wasm modules import
  inspect   print the forward IR, the optimized forward+backward IR and the kernels

Options:
  --verbose  print stack traces for errors

Examples:
  gradc build samples/housing/housing.graph.ts --out generated
  gradc inspect samples/housing/housing.graph.ts
`,
  build: `Usage: gradc build <graph-file...> --out <dir> [options]

Each graph file is a TS or JS module whose default export is graph('name', g => …).
Writes <dir>/<name>.ts, <dir>/<name>.js and <dir>/<name>.d.ts (target js), and
<dir>/<name>.wgsl with the WebGPU host <dir>/<name>.gpu.js, .gpu.d.ts (target wgsl),
<dir>/<name>.wat with the WebAssembly module <dir>/<name>.wasm.ts, .wasm.js, .wasm.d.ts
(target wasm: the JS module's API, kernels in SIMD), <dir>/gradc-host.ts and .js (the
argument checks and seeded generator the JS and wasm modules import, one for every graph),
and <dir>/.gradc-manifest.json listing them and the graph that wrote each. The folder
changes as one unit: nothing is written unless every graph builds. A build owns only its
graphs' files: other graphs' files in <dir> stay, and files its graphs wrote before and no
longer generate are removed. A file in <dir> that no manifest lists is never replaced
without --force; no graph file or file it imports is ever written over.

Options:
  --out <dir>        output folder (required)
  --target <list>    comma-separated targets: js, wgsl, wasm (default: js)
  --forward-only     emit forward only; the graph needs no loss
  --check            write nothing; exit 1 if the files in <dir> differ from a fresh build,
                     are missing, or are left from an earlier build
  --force            replace files in <dir> that gradc did not write (no manifest lists them)
  --watch            rebuild when a graph file or anything it imports changes; keeps going after errors
  --timeout <s>      seconds a graph file may take to load (default: ${DEFAULT_LOAD_TIMEOUT_S})
  --verbose          print stack traces for errors

Examples:
  gradc build samples/*/*.graph.ts --out samples/.gen
  gradc build model.graph.ts --out generated --target js,wasm,wgsl
  gradc build model.graph.ts --out generated --check
  gradc build model.graph.ts --out generated --watch
`,
  inspect: `Usage: gradc inspect <graph-file> [--forward-only] [--timeout <s>]

Prints the forward IR (with source locations), the optimized forward+backward IR and the
fused kernels. --timeout: seconds the graph file may take to load (default: ${DEFAULT_LOAD_TIMEOUT_S}).

Example:
  gradc inspect samples/housing/housing.graph.ts
`,
};

const OPTIONS: Record<string, readonly string[]> = {
  build: ['--out', '--target', '--forward-only', '--check', '--watch', '--force', '--timeout', '--help'],
  inspect: ['--forward-only', '--timeout', '--help'],
};

/** Options that take a value. */
const VALUED = new Set(['--out', '--target', '--timeout']);

export function parseArgs(argv: readonly string[], targets: readonly string[]): Command {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') return { name: 'help', text: HELP.main };
  if (first === '--version' || first === '-v') return { name: 'version' };
  if (!(first in OPTIONS)) {
    throw new GradcError('', `unknown command ${JSON.stringify(first)}${suggest(first, Object.keys(OPTIONS))}; run gradc --help`);
  }
  const name = first as 'build' | 'inspect';
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
    return { name, file: positional[0], forwardOnly: flags.has('--forward-only'), timeout };
  }
  if (positional.length === 0) throw new GradcError('', 'no graph file given; usage: gradc build <graph-file...> --out <dir>');
  const out = flags.get('--out');
  if (typeof out !== 'string') throw new GradcError('', '--out <dir> is required');
  const list = String(flags.get('--target') ?? 'js').split(',').map((t) => t.trim()).filter(Boolean);
  if (list.length === 0) throw new GradcError('', `--target needs at least one of ${targets.join(', ')}`);
  for (const t of list) {
    if (!targets.includes(t)) throw new GradcError('', `unknown target ${JSON.stringify(t)}${suggest(t, targets)}; targets: ${targets.join(', ')}`);
  }
  if (flags.has('--watch') && flags.has('--check')) throw new GradcError('', '--watch and --check cannot be combined');
  return { name, files: positional, out, targets: list, forwardOnly: flags.has('--forward-only'), check: flags.has('--check'), watch: flags.has('--watch'), force: flags.has('--force'), timeout };
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
