// `npm run golden:update`: regenerates test/golden/ from the sample graphs with the real CLI.
// Review the diff (git diff test/golden) before committing it. Also writes compiler/bundler/modules.d.ts.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { sampleGraphs } from './sample-graphs.mjs';

execFileSync(process.execPath, ['dist/cli.js', 'build', ...sampleGraphs(), '--out', 'test/golden', '--target', 'js,wgsl,wasm'], { stdio: 'inherit' });

// compiler/bundler/modules.d.ts (`gradc/modules`), written from the targets table.
const { outputFiles } = await build({ entryPoints: ['compiler/bundler/module-declarations.ts'], bundle: true, format: 'esm', platform: 'node', write: false });
const { moduleDeclarations } = await import(`data:text/javascript;base64,${Buffer.from(outputFiles[0].text).toString('base64')}`);
writeFileSync('compiler/bundler/modules.d.ts', moduleDeclarations());
