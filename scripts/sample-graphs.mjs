// The sample graph files: samples/<name>/<name>.graph.ts, sorted. Shared by the golden
// update script, the golden test and `npm run sample`.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export function sampleGraphs(root = '.') {
  const dir = join(root, 'samples');
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, `${d.name}.graph.ts`)))
    .map((d) => join('samples', d.name, `${d.name}.graph.ts`))
    .sort();
}
