/**
 * An A/B of the generated modules of two gradc checkouts, in one process: the same networks
 * built by the checkout at `--base <path>` (A, e.g. a worktree of the previous commit) and by
 * this one (B), trained side by side with interleaved rounds (bench/measure.ts), so drift in a
 * shared machine's speed hits both alike. Prints each step's median time, the spread of its
 * samples and B/A.
 *
 *   mkdir /tmp/gradc-base && git archive HEAD~1 | tar -x -C /tmp/gradc-base && ln -s "$PWD/node_modules" /tmp/gradc-base/
 *   npx tsx bench/ab.ts --base /tmp/gradc-base [S1 S4] [--targets js,wasm] [--mode train|forward] [--rounds 40]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { measure, type Contender } from './measure.ts';
import { NETWORKS, type NetSpec } from './networks.ts';

type Arrays = Record<string, Float32Array>;
interface CpuModule {
  initParams(seed?: number): Arrays;
  forward(params: Arrays, inputs: Arrays): unknown;
  trainStep(params: Arrays, inputs: Arrays, learningRate: number): number;
}

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const at = args.indexOf(name);
  return at < 0 ? fallback : args[at + 1];
};
const base = flag('--base', '');
if (!base) throw new Error('usage: npx tsx bench/ab.ts --base <other gradc checkout> [S1 S4] [--targets js,wasm] [--mode train|forward] [--rounds 40]');
const targets = flag('--targets', 'js,wasm').split(',') as ('js' | 'wasm')[];
const mode = flag('--mode', 'train');
const rounds = Number(flag('--rounds', '40'));
const ids = args.filter((a) => /^S\d$/.test(a));
const specs = NETWORKS.filter((n) => (ids.length ? ids : ['S1', 'S4']).includes(n.id));

/** Builds a network with a checkout's compiler into a folder of its own (its host file beside it) and imports it. */
async function build(checkout: string, spec: NetSpec, target: 'js' | 'wasm'): Promise<CpuModule> {
  const { compile } = (await import(pathToFileURL(join(checkout, 'compiler', 'compile.ts')).href)) as typeof import('../compiler/compile.ts');
  const { mlpGraph } = (await import(pathToFileURL(join(checkout, 'bench', 'networks.ts')).href)) as typeof import('./networks.ts');
  const def = mlpGraph(spec);
  const { files } = compile(def, { targets: [target] });
  const dir = mkdtempSync(join(tmpdir(), 'gradc-ab-'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  for (const f of files) if (f.name.endsWith('.js')) writeFileSync(join(dir, f.name), f.contents);
  return (await import(pathToFileURL(join(dir, `${def.name}${target === 'js' ? '' : `.${target}`}.js`)).href)) as CpuModule;
}

function dataFor(spec: NetSpec): Arrays {
  const b = spec.batch;
  const x = new Float32Array(b * spec.widths[0]).map((_, i) => Math.sin(i * 0.37));
  const y = new Float32Array(b * spec.widths[spec.widths.length - 1]).map((_, i) => Math.cos(i * 0.11));
  return { x, y };
}

const contenders: Contender[] = [];
for (const spec of specs) {
  for (const target of targets) {
    for (const [label, checkout] of [['A', resolve(base)], ['B', resolve('.')]] as const) {
      const m = await build(checkout, spec, target);
      const params = m.initParams(1);
      const inputs = dataFor(spec);
      // A small rate keeps the params finite over the many steps timed.
      const step = mode === 'train' ? () => void m.trainStep(params, inputs, 1e-6) : () => void m.forward(params, { x: inputs.x });
      contenders.push({ name: `${spec.id} ${target} ${label}`, step });
    }
  }
}

const timings = await measure(contenders, { roundMs: 40, maxRounds: rounds, minSamples: 10, slowBudgetMs: 20_000, warmupMs: 300, maxWarmupMs: 3000, skipWarmupAboveMs: 200 });
console.log(`${mode} step, median of ${rounds} interleaved rounds; spread = median |sample − median| / median`);
for (let i = 0; i < timings.length; i += 2) {
  const [a, b] = [timings[i], timings[i + 1]];
  const us = (ms: number) => `${(ms * 1000).toFixed(2)} µs`;
  console.log(`${a.name.slice(0, -2).padEnd(10)} A ${us(a.medianMs).padStart(12)} (±${(a.relSpread * 100).toFixed(1)} %)  B ${us(b.medianMs).padStart(12)} (±${(b.relSpread * 100).toFixed(1)} %)  B/A ${(b.medianMs / a.medianMs).toFixed(3)}`);
}
