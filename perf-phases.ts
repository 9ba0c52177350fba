import { graph, affine, relu, squaredLoss } from './compiler/index.ts';
import { differentiate } from './compiler/autodiff/backward.ts';
import { optimize } from './compiler/passes/pipeline.ts';
import { planModule } from './compiler/codegen/plan.ts';
import { emitJsModule } from './compiler/codegen/js/module.ts';
import { compile } from './compiler/compile.ts';
const L = Number(process.argv[2]);
const t = () => performance.now();
const row: Record<string, string> = {};
const time = <T>(name: string, f: () => T): T => { const s = t(); const r = f(); row[name] = ((t() - s) / 1000).toFixed(2); return r; };
// warm up the JIT and ts-morph on a small graph first
const small = graph('s', (g) => { const x = g.input('x', [2, 2]); const h = relu(affine(x, g.param('W', [2, 2]), g.param('b', [2]))); g.loss(squaredLoss(h, g.input('y', [2, 2]))); });
compile(small);
const def = time('graph', () => graph('deep', (g) => {
  let h = g.input('x', [4, 8]);
  for (let i = 0; i < L; i++) h = relu(affine(h, g.param(`W${i}`, [8, 8]), g.param(`b${i}`, [8])));
  g.output('o', h);
  g.loss(squaredLoss(h, g.input('y', [4, 8])));
}));
const d = time('differentiate', () => differentiate(def.ir));
time('optimize', () => optimize(d));
const plan = time('planModule', () => planModule(def, { forwardOnly: false, reductionEpilogues: true, trainEntry: true }));
time('emitJsModule', () => emitJsModule(plan, { version: 'x', hash: 'x', source: 'x' }));
time('compile js (total)', () => compile(def));
console.log(JSON.stringify({ L, ...row }));
