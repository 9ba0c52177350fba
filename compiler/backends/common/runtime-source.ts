/**
 * The host file every CPU module (JS, wasm) imports its graph-independent code from:
 * runtime/checks.ts and runtime/threads.ts (the wasm modules' threads), one after the other, written beside the modules as `gradc-host.ts` and `gradc-host.js`. Its
 * text is read from the runtime's own file when gradc runs from source and inlined by
 * `scripts/build.mjs` into the package build: the file is written, type-checked and tested
 * once, as ordinary runtime code.
 */
import { readFileSync } from 'node:fs';
import type { EmittedFile } from './emitted-file.ts';
import { HOST_FILE } from '../../targets.ts';

declare const GRADC_RUNTIME_CHECKS: string | undefined;

/** The runtime files the host file is made of (scripts/build.mjs inlines the same list). */
const HOST_SOURCES = ['checks.ts', 'threads.ts'];
const checksFile = (): string => HOST_SOURCES.map((f) => readFileSync(new URL(`../../../runtime/${f}`, import.meta.url), 'utf8')).join('\n');

let cached: string | undefined;
const checksSource = (): string => (cached ??= typeof GRADC_RUNTIME_CHECKS === 'string' ? GRADC_RUNTIME_CHECKS : checksFile());

/** The names the host file exports, and which of them are types. */
export function hostExports(): { readonly name: string; readonly type: boolean }[] {
  return [...checksSource().matchAll(/^export (const|function|type|class|interface) (\w+)/gm)].map((m) => ({ name: m[2]!, type: m[1] === 'type' || m[1] === 'interface' }));
}

/** `gradc-host.ts` and `gradc-host.js`, the same for every graph a gradc version builds. */
export function hostFiles(version: string): EmittedFile[] {
  const top = [
    `// ${HOST_FILE}.ts — the host code shared by the JS and wasm modules gradc ${version} generates, written beside them.`,
    '// Do not edit: regenerate with `gradc build`. It imports nothing; the modules import it.',
  ].join('\n');
  const source = `${top}\n${checksSource()}`;
  return [{ name: `${HOST_FILE}.ts`, contents: source }, { name: `${HOST_FILE}.js`, ts: { source, banner: top } }];
}
