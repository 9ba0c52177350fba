// Builds the package: dist/index.js (the DSL graph files import as 'gradc') and dist/cli.js
// (the gradc command). esbuild and ts-morph stay external: they are runtime dependencies.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' };
await build({ ...common, entryPoints: ['compiler/index.ts'], outfile: 'dist/index.js' });
await build({ ...common, entryPoints: ['compiler/cli/main.ts'], outfile: 'dist/cli.js' });
// The worker's side of loading a graph file; load-graph.ts bundles it with each graph file.
await build({ ...common, entryPoints: ['compiler/cli/graph-worker.ts'], outfile: 'dist/graph-worker.js', external: ['gradc'] });
chmodSync('dist/cli.js', 0o755);
await build({ ...common, entryPoints: ['runtime/cpu/index.ts'], outfile: 'dist/runtime-cpu.js' });
await build({ ...common, entryPoints: ['runtime/webgpu/index.ts'], outfile: 'dist/runtime-webgpu.js' });
await build({ ...common, entryPoints: ['compiler/esbuild/plugin.ts'], outfile: 'dist/esbuild.js' });
await build({ ...common, platform: 'browser', entryPoints: ['runtime/webgpu/browser.ts'], outfile: 'dist/runtime-webgpu-browser.js' });
