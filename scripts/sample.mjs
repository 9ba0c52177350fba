// `npm run sample`: builds the sample graphs with the CLI, then trains them (samples/run.ts).
import { execFileSync } from 'node:child_process';
import { sampleGraphs } from './sample-graphs.mjs';

execFileSync(process.execPath, ['dist/cli.js', 'build', ...sampleGraphs(), '--out', 'samples/.gen'], { stdio: 'inherit' });
execFileSync(process.execPath, ['--import', 'tsx', 'samples/run.ts'], { stdio: 'inherit' });
