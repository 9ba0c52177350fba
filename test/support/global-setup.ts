/** Builds dist/ before any test runs, so tests that spawn the CLI never see a stale build. */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}
