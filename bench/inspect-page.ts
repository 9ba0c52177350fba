/**
 * `npm run bench:inspect`: how long `gradc inspect --html` takes to build its page (layout,
 * kernel code and HTML, from a plan) for the samples and for test/scaling.test.ts's
 * 2000-layer network, for each target where it is quick enough to repeat. Median of runs,
 * with the machine's load beside it: planning itself (autodiff, passes, fusion, memory) is
 * the build's and is timed once, apart.
 *
 *   npm run bench:inspect            # 5 runs each
 *   npm run bench:inspect -- 3       # 3 runs each
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { loadGraphFile } from '../compiler/load/load-checked.ts';
import type { Target } from '../compiler/compile.ts';
import { planModule, type ModulePlan } from '../compiler/kernels/plan.ts';
import { inspectPage } from '../compiler/inspect/page.ts';
import { deepGraph } from '../test/support/deep-graph.ts';
import { median } from './support.ts';
import { ROOT } from './update-readme.ts';

const runs = Number(process.argv[2] ?? 5);

function time(plan: ModulePlan, target: Target): { ms: number; bytes: number } {
  const ms: number[] = [];
  let bytes = 0;
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    bytes = inspectPage(plan, { target }).length;
    ms.push(performance.now() - start);
  }
  return { ms: median(ms), bytes };
}

const rows: string[] = ['| graph | nodes | kernels | planning (ms, once) | target | page (ms, median) | page size |', '|---|--:|--:|--:|---|--:|--:|'];
const cases: [string, () => Promise<ModulePlan>, Target[]][] = [
  ...['housing', 'digits'].map((name): [string, () => Promise<ModulePlan>, Target[]] => [name, async () => planModule((await loadGraphFile(join(ROOT, 'samples', name, `${name}.graph.ts`))).def), ['js', 'wasm', 'wgsl']]),
  // wasm and WGSL place every buffer in the code, so their 8,000 kernels are each lowered: minutes, not repeated here.
  ['deep (2000 layers)', async () => planModule(deepGraph(2000)), ['js']],
];
for (const [name, make, targets] of cases) {
  const start = performance.now();
  const plan = await make();
  const planning = performance.now() - start;
  for (const target of targets) {
    const { ms, bytes } = time(plan, target);
    rows.push(`| ${name} | ${plan.graph.nodes.length} | ${plan.kernels.length} | ${planning.toFixed(0)} | ${target} | ${ms.toFixed(0)} | ${(bytes / 1024).toFixed(0)} KiB |`);
    console.log(rows.at(-1));
  }
}
console.log(`\n${rows.join('\n')}\n\n${runs} runs each; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (1, 5, 15 min).`);
