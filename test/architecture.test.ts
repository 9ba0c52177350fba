/**
 * The layering the developers' guide asks for, checked on the sources' imports: every import
 * runs down the pipeline's layers, no import circle spans two folders, no backend imports
 * another, and the runtime and the compiler never import each other. The checks are plain
 * functions over an import graph, so the last tests can plant violations in a made-up graph
 * and see each one caught.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TARGET_TABLE } from '../compiler/targets.ts';
import { moduleDeclarations } from '../compiler/bundler/module-declarations.ts';
import { registrySource } from '../compiler/backends/registry-source.ts';

const root = resolve(import.meta.dirname, '..');
const compiler = join(root, 'compiler');

/**
 * Each layer of the compiler, lowest first; a file may import only files of a lower layer or
 * of its own folder (a top-level file is a folder of its own). The IR is the floor every
 * stage shares (the graph, scalar expressions, source locations, the op and optimizer
 * tables); the DSL builds IR; ops, autodiff and passes work on it side by side, none
 * importing another; then the pipeline's stages in order, and the ways in at the top.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['targets.ts', 'suggest.ts', 'version.ts'],
  ['ir'],
  ['errors.ts'],
  ['dsl'],
  ['ops', 'autodiff', 'passes'],
  ['index.ts'],
  ['kernels'],
  ['lowering'],
  ['backends'],
  ['compile.ts'],
  ['load', 'onnx', 'inspect'],
  ['api.ts', 'import-types.ts'],
  ['cli', 'bundler'],
];

/** The backends' folders: one per row of the targets table. */
const BACKENDS = TARGET_TABLE.map((t) => t.name);

/** An import graph: each file (a path under compiler/) and the files it imports. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** The folder a file belongs to: its first path segment (a top-level file is its own). */
const folderOf = (file: string): string => file.split('/')[0];

function layerOf(file: string): number {
  const at = LAYERS.findIndex((names) => names.includes(folderOf(file)));
  if (at < 0) throw new Error(`${file} is in no layer of LAYERS: add its folder there`);
  return at;
}

/** Imports that do not run down: to a higher layer, or sideways to another folder of the same layer. */
export function upwardImports(graph: ImportGraph): string[] {
  const found: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      // Outside the compiler (the runtime): see 'the runtime stands apart' below.
      if (target.startsWith('../') || folderOf(target) === folderOf(file)) continue;
      if (layerOf(target) >= layerOf(file)) found.push(`${file} imports ${target}`);
    }
  }
  return found;
}

/** Strongly connected components of more than one file (Tarjan's algorithm). */
export function importCircles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const circle: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      circle.push(w);
    } while (w !== v);
    if (circle.length > 1) circles.push(circle.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return circles;
}

/** Circles whose files are in more than one folder (a backend's folder counts as its own). */
export function crossFolderCircles(graph: ImportGraph): string[] {
  const place = (f: string) => (f.startsWith('backends/') ? f.split('/').slice(0, 2).join('/') : folderOf(f));
  return importCircles(graph).filter((c) => new Set(c.map(place)).size > 1).map((c) => c.join(' → '));
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : []));
}

/** Every relative import and re-export of a file (`import … from './x.ts'`, `import './x.ts'`), resolved against `base`. */
function importsOf(file: string, base: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)(?:[^;']*?from)?\s*'(\.[^']+)'/gm)].map((m) => relative(base, resolve(file, '..', m[1])));
}

function importGraph(dir: string): ImportGraph {
  return new Map(sources(dir).map((f) => [relative(dir, f), importsOf(f, dir)]));
}

const graph = importGraph(compiler);

describe('the pipeline\'s layers', () => {
  it('every import runs down: dsl → ir, ops/autodiff/passes → ir and dsl, kernels → …, backends → lowering, compile → backends, api/cli/bundler → compile', () => {
    expect(upwardImports(graph)).toEqual([]);
  });

  it('no import circle spans more than one folder', () => {
    expect(crossFolderCircles(graph)).toEqual([]);
  });

  it('no backend imports another backend', () => {
    const crossings = [...graph].flatMap(([file, targets]) => targets
      .filter((t) => BACKENDS.some((b) => file.startsWith(`backends/${b}/`) && t.startsWith('backends/') && !t.startsWith(`backends/${b}/`) && !t.startsWith('backends/common/') && t !== 'backends/backend.ts'))
      .map((t) => `${file} imports ${t}`));
    expect(crossings).toEqual([]);
  });

  it('the runtime stands apart: it never imports the compiler, and only the top layer (the CLI, the plugins, the API) imports it, as a user would', () => {
    const runtime = importGraph(join(root, 'runtime'));
    const intoCompiler = [...runtime].flatMap(([f, ts]) => ts.filter((t) => t.startsWith('../compiler/')).map((t) => `runtime/${f} imports ${t}`));
    const top = LAYERS.length - 1;
    const intoRuntime = [...graph].filter(([f]) => layerOf(f) < top - 1)
      .flatMap(([f, ts]) => ts.filter((t) => t.startsWith('../runtime/')).map((t) => `compiler/${f} imports ${t}`));
    expect([...intoCompiler, ...intoRuntime]).toEqual([]);
  });

  it('the check sees imports: it found the sources and their imports, re-exports and side-effect imports included', () => {
    expect(graph.size).toBeGreaterThan(80);
    expect(graph.get('backends/wgsl/module.ts')).toContain('backends/common/js-syntax.ts');
    expect(graph.get('compile.ts')).toContain('ops/all.ts');
    expect(graph.get('kernels/plan.ts')).toContain('kernels/entry.ts');
    // Every file of the compiler is in some layer (layerOf throws otherwise).
    for (const file of graph.keys()) expect(layerOf(file)).toBeGreaterThanOrEqual(0);
  });
});

describe('the checks catch what they forbid (planted in a made-up import graph)', () => {
  const clean: ImportGraph = new Map([
    ['ir/graph.ts', []],
    ['ir/print.ts', ['ir/graph.ts']],
    ['dsl/scope.ts', ['ir/graph.ts', 'dsl/tensor.ts']],
    ['dsl/tensor.ts', ['dsl/scope.ts']],
    ['lowering/lower.ts', ['lowering/builder.ts', 'ir/graph.ts']],
    ['lowering/builder.ts', []],
    ['backends/backend.ts', ['lowering/lower.ts']],
  ]);

  it('a clean graph passes, a circle inside one folder included', () => {
    expect(upwardImports(clean)).toEqual([]);
    expect(crossFolderCircles(clean)).toEqual([]);
    expect(importCircles(clean)).toEqual([['dsl/scope.ts', 'dsl/tensor.ts']]);
  });

  it('an upward import is caught (the IR importing the DSL, the lowering a backend)', () => {
    const planted = new Map(clean);
    planted.set('ir/print.ts', ['ir/graph.ts', 'dsl/scope.ts']);
    planted.set('lowering/builder.ts', ['backends/backend.ts']);
    expect(upwardImports(planted)).toEqual(['ir/print.ts imports dsl/scope.ts', 'lowering/builder.ts imports backends/backend.ts']);
  });

  it('a sideways import between folders of one layer is caught (passes importing ops)', () => {
    const planted = new Map(clean);
    planted.set('passes/simplify.ts', ['ops/arithmetic.ts']);
    planted.set('ops/arithmetic.ts', []);
    expect(upwardImports(planted)).toEqual(['passes/simplify.ts imports ops/arithmetic.ts']);
  });

  it('a circle across folders is caught, and named file by file', () => {
    const planted = new Map(clean);
    planted.set('lowering/builder.ts', ['backends/backend.ts']);
    expect(crossFolderCircles(planted)).toEqual(['backends/backend.ts → lowering/builder.ts → lowering/lower.ts']);
  });

  it('a file of a folder no layer names is an error, not a pass', () => {
    expect(() => upwardImports(new Map([['gadgets/x.ts', ['ir/graph.ts']]]))).toThrow(/gadgets\/x\.ts is in no layer/);
  });
});

/** A file's code without its comments (target names in prose are not places a target is wired in). */
const codeOf = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

/**
 * The files (paths under compiler/, with their text) outside targets.ts and the target's own
 * backend folder whose code names the target: its name as a string, its import query after
 * the `?`, or its backend folder. An esbuild loader named like a target is not the target,
 * and the js target's query, gradc, is also the package's name (so a query counts after its `?`).
 */
function targetPlaces(files: ReadonlyMap<string, string>, t: { readonly name: string; readonly query: string }): string[] {
  const mentions = [`'${t.name}'`, `"${t.name}"`, `?${t.query}'`, `backends/${t.name}/`];
  return [...files].filter(([f]) => f !== 'targets.ts' && !f.startsWith(`backends/${t.name}/`))
    .filter(([, text]) => mentions.some((m) => codeOf(text).replaceAll(`loader: '${t.name}'`, '').includes(m)))
    .map(([f]) => f);
}

describe('adding a target', () => {
  const files = new Map(sources(compiler).map((f) => [relative(compiler, f), readFileSync(f, 'utf8')]));

  /**
   * The places adding a target touches, all of them: its row in the table, its backend folder,
   * and what is generated from the table (checked just below). A place added anywhere else
   * (a file naming a target, a hand-kept list of backends) fails this test.
   */
  const PLACES = ['targets.ts', 'backends/<name>/', 'generated: backends/registry.ts, bundler/modules.d.ts (npm run golden:update)'];

  it(`touches only ${PLACES.join('; ')}`, () => {
    for (const t of TARGET_TABLE) {
      expect(targetPlaces(files, t), t.name).toEqual([]);
      expect(files.has(`backends/${t.name}/module.ts`), `backends/${t.name}/module.ts`).toBe(true);
      expect(codeOf(files.get(`backends/${t.name}/module.ts`)!), t.name).toMatch(new RegExp(`^export const backend: Backend<[^>]*> = \\{\\n  target: '${t.name}',`, 'm'));
    }
    // The backend folders are exactly the table's rows (common/ is what they share).
    const folders = [...new Set([...files.keys()].filter((f) => /^backends\/[^/]+\//.test(f)).map((f) => f.split('/')[1]))].filter((f) => f !== 'common');
    expect(folders.sort()).toEqual([...BACKENDS].sort());
  });

  it('the build finds each backend through compiler/backends/registry.ts, which is what the targets table gives: run npm run golden:update after adding a row', () => {
    expect(readFileSync(join(compiler, 'backends', 'registry.ts'), 'utf8')).toBe(registrySource());
    // And a row the registry lacks would show: the derivation follows the table.
    expect(registrySource([...TARGET_TABLE, { name: 'spirv' }])).toContain("import { backend as spirvBackend } from './spirv/module.ts';");
  });

  it('gradc/modules (compiler/bundler/modules.d.ts) is what the targets table gives: run npm run golden:update after adding a row', () => {
    expect(readFileSync(join(compiler, 'bundler', 'modules.d.ts'), 'utf8')).toBe(moduleDeclarations());
  });

  it('the places check sees a target named elsewhere, and not in comments or esbuild loaders', () => {
    const planted = new Map([
      ['targets.ts', "{ name: 'wasm' }"],
      ['backends/wasm/module.ts', "target: 'wasm'"],
      ['bundler/queries.ts', "const Q = 'x.graph.ts?gradc-wasm';"],
      ['cli/args.ts', "if (t === 'wasm') {}"],
      ['api.ts', "/** targets: ['wasm'] */\n// 'wasm'\nconst a = 1;"],
      ['bundler/plugin.ts', "return { loader: 'js' };"],
    ]);
    expect(targetPlaces(planted, { name: 'wasm', query: 'gradc-wasm' })).toEqual(['bundler/queries.ts', 'cli/args.ts']);
    expect(targetPlaces(planted, { name: 'js', query: 'gradc' })).toEqual([]);
  });
});
