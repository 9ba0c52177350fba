/**
 * The bundler plugins write one file, `<graph file>.<query>.d.ts` beside the graph file
 * (compiler/bundler/import-types.ts): it must never replace a file of that name that the
 * plugin did not write.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importTypesPath, writeImportTypes } from '../compiler/import-types.ts';
import { QUERIES } from '../compiler/bundler/queries.ts';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
const DTS = 'export declare function forward(): number;\n';

describe('writeImportTypes', () => {
  const query = QUERIES.find((q) => q.query === 'gradc')!;

  it("writes the declarations, and rewrites its own file when they change", () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradc-types-'));
    made.push(dir);
    const graph = join(dir, 'net.graph.ts');
    expect(writeImportTypes(graph, query, DTS)).toBe(true);
    const path = importTypesPath(graph, query);
    expect(readFileSync(path, 'utf8')).toContain('export function forward(): number;');
    expect(writeImportTypes(graph, query, DTS.replace('number', 'string'))).toBe(true);
    expect(readFileSync(path, 'utf8')).toContain('export function forward(): string;');
  });

  it('never replaces a file of that name it did not write', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradc-types-'));
    made.push(dir);
    const graph = join(dir, 'net.graph.ts');
    const path = importTypesPath(graph, query);
    writeFileSync(path, '// my own declarations\ndeclare module "x" {}\n');
    expect(writeImportTypes(graph, query, DTS)).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('// my own declarations\ndeclare module "x" {}\n');
    expect(readdirSync(dir)).toEqual(['net.graph.gradc.d.ts']);
  });
});
