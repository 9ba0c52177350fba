/**
 * The text of `gradc/modules` (compiler/bundler/modules.d.ts): loose types for a graph
 * imported with any target's query, one block per row of the targets table, with the API of
 * the target's module (the CPU modules' or the WebGPU one's). `npm run golden:update` writes
 * the file from here; test/architecture.test.ts checks it is what the table gives.
 */
import { TARGET_TABLE, type TargetApi } from '../targets.ts';

const API: Record<TargetApi, readonly string[]> = {
  cpu: [
    "  import type { CpuModule } from 'gradc/module';",
    ...['meta', 'initParams', 'forward', 'loss', 'gradient', 'trainStep'].map((name) => `  export const ${name}: CpuModule['${name}'];`),
    '  /** The optimizer\'s state before the first step (a graph whose optimizer keeps one: momentum, Adam). */',
    "  export const initOptimizerState: NonNullable<CpuModule['initOptimizerState']>;",
  ],
  gpu: [
    "  import type { GpuModule, GpuModel as Model } from 'gradc/module';",
    '  export type GpuModel = Model;',
    "  export const meta: GpuModule['meta'];",
    '  export const WGSL: string;',
    "  export const initParams: GpuModule['initParams'];",
    "  export const createModel: GpuModule['createModel'];",
  ],
};

export function moduleDeclarations(): string {
  const blocks = TARGET_TABLE.map((t) => [
    `/** \`--target ${t.name}\`: ${t.files}. */`,
    `declare module '*?${t.query}' {`,
    ...API[t.api],
    '}',
  ].join('\n'));
  return `${[
    '/**',
    ' * Loose types for graph imports through gradc\'s bundler plugins, for any graph. Reference',
    ' * them once in your project:',
    ' *   /// <reference types="gradc/modules" />',
    ' * The plugins also write `<graph file>.gradc.d.ts` beside each graph file they compile with',
    ' * that graph\'s exact types (named params and inputs, `meta.batch` where the graph has one),',
    ' * which take precedence over these; `gradc types <graph files…>` writes the same files',
    ' * before any bundler has run (a `prebuild` script on a fresh checkout).',
    ' * Generated from compiler/targets.ts by `npm run golden:update`; do not edit.',
    ' */',
  ].join('\n')}\n${blocks.join('\n\n')}\n`;
}
