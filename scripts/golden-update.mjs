// `npm run golden:update`: regenerates test/golden/ from the sample graphs with the real CLI.
// Review the diff (git diff test/golden) before committing it. Also writes what the targets table
// gives: compiler/bundler/modules.d.ts and compiler/backends/registry.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { sampleGraphs } from './sample-graphs.mjs';

// First what the targets table gives: compiler/bundler/modules.d.ts (`gradc/modules`) and
// compiler/backends/registry.ts (each target's backend, for the build; when it changed, dist/ is
// rebuilt with it before the CLI runs).
const load = async (entry) => {
  const { outputFiles } = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', write: false });
  return import(`data:text/javascript;base64,${Buffer.from(outputFiles[0].text).toString('base64')}`);
};
writeFileSync('compiler/bundler/modules.d.ts', (await load('compiler/bundler/module-declarations.ts')).moduleDeclarations());
const registry = (await load('compiler/backends/registry-source.ts')).registrySource();
if (readFileSync('compiler/backends/registry.ts', 'utf8') !== registry) {
  writeFileSync('compiler/backends/registry.ts', registry);
  execFileSync(process.execPath, ['scripts/build.mjs', '--no-types'], { stdio: 'inherit' });
}

execFileSync(process.execPath, ['dist/cli.js', 'build', ...sampleGraphs(), '--out', 'test/golden', '--target', 'js,wgsl,wasm'], { stdio: 'inherit' });
