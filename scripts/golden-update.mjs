// `npm run golden:update`: regenerates test/golden/ from the sample graphs with the real CLI.
// Review the diff (git diff test/golden) before committing it.
import { execFileSync } from 'node:child_process';
import { sampleGraphs } from './sample-graphs.mjs';

execFileSync(process.execPath, ['dist/cli.js', 'build', ...sampleGraphs(), '--out', 'test/golden', '--target', 'js,wgsl,wasm'], { stdio: 'inherit' });
