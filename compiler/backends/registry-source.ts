/**
 * The text of `compiler/backends/registry.ts`, the build's map from each target to its
 * backend, derived from the targets table: row `name`'s backend is the `backend` that
 * `compiler/backends/<name>/module.ts` exports. So adding a target is its row plus its folder;
 * `npm run golden:update` rewrites the registry from the table and test/architecture.test.ts
 * checks that it is what the table gives. (Static imports, not a load by name at run time:
 * the build stays synchronous and the bundled package keeps every backend in its chunks.)
 */
import { TARGET_TABLE } from '../targets.ts';

/** A target's name as an identifier (a name may hold characters an identifier may not). */
const binding = (name: string) => `${name.replace(/[^A-Za-z0-9_$]/g, '_')}Backend`;

export function registrySource(table: readonly { readonly name: string }[] = TARGET_TABLE): string {
  return [
    '// Generated from compiler/targets.ts by `npm run golden:update` (compiler/backends/registry-source.ts): do not edit.',
    "// Each target's backend is the `backend` its folder's module.ts exports.",
    "import type { Target } from '../targets.ts';",
    "import type { Backend } from './backend.ts';",
    ...table.map((t) => `import { backend as ${binding(t.name)} } from './${t.name}/module.ts';`),
    '',
    "/** Each target's backend, by its row's name. */",
    'export const BACKENDS: Record<Target, Backend<never>> = {',
    ...table.map((t) => `  ${/^[A-Za-z_$][\w$]*$/.test(t.name) ? t.name : JSON.stringify(t.name)}: ${binding(t.name)} as Backend<never>,`),
    '};',
    '',
  ].join('\n');
}
