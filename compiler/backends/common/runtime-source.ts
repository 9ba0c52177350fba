/**
 * Source text of the runtime code generated modules embed (they import nothing): read from
 * the runtime's own file when gradc runs from source, inlined by `scripts/build.mjs` into the
 * package build. The file is written, type-checked and tested once, as ordinary runtime code.
 */
import { readFileSync } from 'node:fs';

declare const GRADC_RUNTIME_CHECKS: string | undefined;

const checksFile = (): string => readFileSync(new URL('../../../runtime/checks.ts', import.meta.url), 'utf8');

/** runtime/checks.ts as it goes into a generated module: without its header comment and exports. */
let cached: string | undefined;
export function embeddedChecks(): string {
  const text = (cached ??= typeof GRADC_RUNTIME_CHECKS === 'string' ? GRADC_RUNTIME_CHECKS : checksFile());
  return text.replace(/^\/\*\*[\s\S]*?\*\/\n\n/, '').replace(/^export /gm, '').trim();
}
