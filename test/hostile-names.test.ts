/**
 * Hostile names. Names the DSL rejects (`constructor`, `__proto__`, `x; process.exit()`,
 * quotes, newlines, `*∕`, backticks, `${`, unicode) fail with a one-line error that names the
 * node and the user's file:line. Names it accepts (with '-' and '.') are built for every
 * target, and the emitted TS, JS and WGSL are tokenized to prove that no user string
 * reaches code except inside a sanitized identifier, a JSON string literal or a comment.
 * Graph FILE names are hostile too: the header comments quote the file's base name.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { affine, graph, matmul, mul, relu, sigmoid, squaredLoss, sum, add, type GraphDef } from '../compiler/index.ts';
import { compile } from '../compiler/compile.ts';
import { withoutComments } from '../compiler/backends/wgsl/module.ts';
import { loadGenerated } from './support/fuzz-checks.ts';
import { wgslErrors } from './support/gpu.ts';
import { loadWasmGenerated } from './support/wasm.ts';
import type { GeneratedModule } from './support/module.ts';
import { randomArray } from './support/module.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
const tempDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
};
const CLI = join(ROOT, 'dist', 'cli.js');
const HERE = 'test/hostile-names.test.ts';

const REJECTED: [string, unknown][] = [
  ['constructor', 'constructor'],
  ['__proto__', '__proto__'],
  ['prototype', 'prototype'],
  ['hasOwnProperty', 'hasOwnProperty'],
  ['a statement', 'x; process.exit()'],
  ['a call', 'process.exit()'],
  ['a double quote', 'a"b'],
  ["a single quote", "a'b"],
  ['a backslash', 'a\\b'],
  ['a newline', 'a\nb'],
  ['a carriage return', 'a\rb'],
  ['U+2028', 'a\u2028b'],
  ['a NUL', 'a\u0000b'],
  ['an ANSI escape (CSI)', 'a\u009b31mb'],
  ['a right-to-left override', 'a\u202eb'],
  ['a comment close', 'a*/b'],
  ['a comment open', 'a/*b'],
  ['a line comment', 'a//b'],
  ['a backtick', 'a`b'],
  ['a template hole', '${globalThis.pwned=1}'],
  ['a dollar', '$x'],
  ['unicode letters', 'héllo'],
  ['a Greek identifier', 'Ωmega'],
  ['an emoji', 'w😀'],
  ['a zero-width joiner', 'a\u200db'],
  ['a space', 'a b'],
  ['a leading digit', '1x'],
  ['a leading double dash (sanitizes to __x)', '--x'],
  ['a leading dot pair', '..x'],
  ['a WGSL keyword', 'fn'],
  ['a WGSL type', 'f32'],
  ['a JS keyword', 'return'],
  ['empty', ''],
  ['too long', 'a'.repeat(65)],
  ['not a string', 42],
];

/** Declares `bad` as one kind of name in an otherwise valid graph (the call is on one line, marked). */
function declare(kind: 'graph' | 'input' | 'param' | 'output', bad: unknown): GraphDef {
  const n = bad as string;
  if (kind === 'graph') return graph(n, (g) => { g.output('o', relu(g.input('x', [2, 2]))); }); // @graph
  return graph('ok', (g) => {
    const x = kind === 'input' ? g.input(n, [2, 2]) : g.input('x', [2, 2]); // @input
    const w = kind === 'param' ? g.param(n, [2, 2]) : g.param('w', [2, 2]); // @param
    const o = matmul(x, w);
    if (kind === 'output') g.output(n, o); // @output
    else g.output('o', o);
  });
}

function lineOf(marker: string): number {
  const lines = readFileSync(join(ROOT, HERE), 'utf8').split('\n');
  return lines.findIndex((l) => l.includes(`// @${marker}`)) + 1;
}

describe('names the DSL rejects', () => {
  describe.each(['graph', 'input', 'param', 'output'] as const)('as a %s name', (kind) => {
    it.each(REJECTED)('%s', (_, bad) => {
      let error: unknown;
      try {
        declare(kind, bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(Error);
      const e = error as Error;
      expect(e.name).toBe('GradcError');
      // One line, naming the node (its kind and the name, quoted and escaped) and file:line.
      expect(e.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
      const text = String(bad);
      const quoted = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)
        .replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
      expect(e.message.startsWith(`${kind} ${quoted} at ${HERE}:${lineOf(kind)}: `), e.message).toBe(true);
    });
  });

  it('in a graph file, through the CLI: one line on stderr, exit 1, nothing written', () => {
    const dir = tempDir('gradc-hostile-');
    const out = join(dir, 'out');
    for (const [i, bad] of ['x; process.exit()', 'a\\nb', '__proto__', 'a`${1}`'].entries()) {
      const file = join(dir, `bad${i}.graph.ts`);
      writeFileSync(file, [
        "import { graph, matmul } from 'gradc';",
        "export default graph('g', (g) => {",
        `  const x = g.input(${JSON.stringify(bad)}, [2, 2]);`,
        "  g.output('o', matmul(x, g.param('w', [2, 2])));",
        '});',
        '',
      ].join('\n'));
      const r = spawnSync(process.execPath, [CLI, 'build', `bad${i}.graph.ts`, '--out', out, '--target', 'js,wgsl'], { cwd: dir, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^gradc: input ".*" at bad${i}\\.graph\\.ts:3: the name .*\\n$`));
      expect(r.stderr.split('\n')).toHaveLength(2);
      expect(existsSync(out)).toBe(false);
    }
  });
});

// ── accepted names: no user string reaches code ─────────────────────────────

/** Names with '-' and '.' (so no raw occurrence can be part of an identifier), and names of things generated code defines. */
const DASHED = ['net-a.v1', 'in-put.x', 'y.target-1', 'layer-1.W', 'layer-1.b', 'W.2', 'out-put.v2', 'qa-', 'qb.', 'c-d-e.f.g'];

const hostile = graph('net-a.v1', (g) => {
  const x = g.input('in-put.x', [5, 3]);
  const y = g.input('y.target-1', [5, 2]);
  // Names that are also identifiers in the generated modules, runtime globals, or JS/WGSL
  // builtins that are not reserved words.
  const h = relu(affine(x, g.param('layer-1.W', [3, 4]), g.param('layer-1.b', [4])));
  const h2 = sigmoid(mul(affine(h, g.param('W.2', [4, 4]), g.param('arena', [4])), g.param('qa-', [])));
  const mixed = add(h2, g.param('qb.', [4]));
  const o = affine(mixed, g.param('c-d-e.f.g', [4, 2]), g.param('Float32Array', [2]));
  const extra = matmul(h, g.param('Math', [4, 1]));
  g.output('out-put.v2', o);
  g.output('PARAMS', extra);
  g.output('checkRecord', h);
  g.loss(add(squaredLoss(o, y), mul(sum(extra), 0.01)));
});

type Where = 'string' | 'comment' | 'template';

/**
 * Each occurrence of `needle` in a TS/JS file, with the token that holds it: a string
 * literal, a comment, a template literal, or `code` when no single such token holds it all
 * (a name pasted into code spans several tokens: `p_layer`, `-`, `1.`, `W`).
 */
function tsOccurrences(text: string, needle: string): { kind: Where | 'code'; token: string }[] {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text);
  const tokens: { start: number; end: number; kind: Where | 'code' }[] = [];
  let depth = 0;
  const templateDepths: number[] = [];
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    // Template literals: a `}` that closes a `${` continues the template.
    if (kind === ts.SyntaxKind.OpenBraceToken) depth++;
    if (kind === ts.SyntaxKind.CloseBraceToken) {
      if (templateDepths.length && templateDepths[templateDepths.length - 1] === depth) {
        kind = scanner.reScanTemplateToken(false);
        if (kind === ts.SyntaxKind.TemplateTail) templateDepths.pop();
      } else depth--;
    }
    if (kind === ts.SyntaxKind.TemplateHead) templateDepths.push(depth);
    if (kind === ts.SyntaxKind.SlashToken || kind === ts.SyntaxKind.SlashEqualsToken) {
      // A regular expression where a division cannot be (the helpers use /s$/).
      const prev = text.slice(0, scanner.getTokenStart()).trimEnd().slice(-1);
      if ('(,=:[!&|?{};'.includes(prev)) kind = scanner.reScanSlashToken();
    }
    const where: Where | 'code' =
      kind === ts.SyntaxKind.StringLiteral ? 'string'
      : kind === ts.SyntaxKind.SingleLineCommentTrivia || kind === ts.SyntaxKind.MultiLineCommentTrivia ? 'comment'
      : kind === ts.SyntaxKind.NoSubstitutionTemplateLiteral || kind === ts.SyntaxKind.TemplateHead || kind === ts.SyntaxKind.TemplateMiddle || kind === ts.SyntaxKind.TemplateTail ? 'template'
      : 'code';
    tokens.push({ start: scanner.getTokenStart(), end: scanner.getTokenEnd(), kind: where });
  }
  const found: { kind: Where | 'code'; token: string }[] = [];
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    const t = tokens.find((k) => k.start <= at && at < k.end)!;
    const whole = at + needle.length <= t.end;
    found.push({ kind: whole ? t.kind : 'code', token: whole ? text.slice(t.start, t.end) : text.slice(t.start, at + needle.length) });
  }
  return found;
}

/** WGSL: no strings; comments are `//…` and (nesting) `/* … *∕`. Returns the code with comments removed. */
function wgslCode(text: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (depth === 0 && text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      i = (end < 0 ? text.length : end) - 1;
      continue;
    }
    if (text.startsWith('/*', i)) {
      depth++;
      i++;
      continue;
    }
    if (depth > 0 && text.startsWith('*/', i)) {
      depth--;
      i++;
      continue;
    }
    if (depth === 0) out += text[i];
  }
  return out;
}

/** A string token must be exactly a JSON string literal (so its content cannot escape it). */
function isJsonLiteral(token: string): boolean {
  if (!token.startsWith('"')) return false;
  try {
    return JSON.stringify(JSON.parse(token)) === token;
  } catch {
    return false;
  }
}

describe('names the DSL accepts', () => {
  const { files } = compile(hostile, { targets: ['js', 'wgsl'], sourceFile: 'hostile.graph.ts' });
  const byName = Object.fromEntries(files.map((f) => [f.name, f.contents]));
  const wgsl = byName['net-a.v1.wgsl'];

  it('every target is built, with the graph name as given in the file names', () => {
    expect(Object.keys(byName).sort()).toEqual(['gradc-host.js', 'gradc-host.ts', 'net-a.v1.d.ts', 'net-a.v1.gpu.d.ts', 'net-a.v1.gpu.js', 'net-a.v1.js', 'net-a.v1.ts', 'net-a.v1.wgsl']);
  });

  const tsFiles = files.filter((f) => !f.name.endsWith('.wgsl'));
  describe.each(tsFiles.map((f) => [f.name, f.contents] as const))('%s', (_, text) => {
    it.each(DASHED)('%s occurs only in JSON string literals, comments, or the embedded WGSL', (name) => {
      const hits = tsOccurrences(text, name);
      for (const h of hits) {
        if (h.kind === 'string') expect(isJsonLiteral(h.token), h.token).toBe(true);
        else if (h.kind === 'template') {
          // Only the WGSL text is a template literal: its content is exactly the .wgsl file's code.
          expect(h.token.startsWith('`') && h.token.endsWith('`')).toBe(true);
          expect(new Function(`return ${h.token};`)()).toBe(withoutComments(wgsl));
        } else expect(h.kind, `raw ${JSON.stringify(name)} in code: ${h.token}`).toBe('comment');
      }
    });
  });

  it.each(DASHED)('the WGSL mentions %s only in comments', (name) => {
    expect(wgslCode(wgsl)).not.toContain(name);
  });

  it('the check can fail: a name pasted into code is found', () => {
    expect(tsOccurrences('const p_layer-1.W = 1; // layer-1.W', 'layer-1.W').map((h) => h.kind)).toEqual(['code', 'comment']);
    expect(tsOccurrences('const s = `x ${"layer-1.W"}`;', 'layer-1.W').map((h) => h.kind)).toEqual(['string']);
    expect(tsOccurrences("const s = 'layer-1.W';", 'layer-1.W').map((h) => isJsonLiteral(h.token))).toEqual([false]);
    expect(wgslCode('// a-\n/* b. /* nested */ still */ let a- = 1;')).toContain('a-');
    expect(wgslCode('// a-\n/* b. /* nested */ still */ let x = 1;')).not.toMatch(/a-|b\./);
  });

  it('the modules work, keyed by the names as given', async () => {
    const js = loadGenerated<GeneratedModule>(byName['net-a.v1.js']);
    expect(Object.keys(js.meta.params)).toEqual(['layer-1.W', 'layer-1.b', 'W.2', 'arena', 'qa-', 'qb.', 'c-d-e.f.g', 'Float32Array', 'Math']);
    const params = js.initParams(1);
    const inputs = { 'in-put.x': randomArray(15, 1), 'y.target-1': randomArray(10, 2) };
    const out = js.forward(params, inputs);
    expect(Object.keys(out)).toEqual(['out-put.v2', 'PARAMS', 'checkRecord']);
    expect(Object.keys(js.gradient(params, inputs).grads)).toEqual(Object.keys(js.meta.params));
    expect(Number.isFinite(js.trainStep(params, inputs, 0.01))).toBe(true);
    expect(await wgslErrors(wgsl)).toEqual([]);
    // The .ts and .d.ts type-check as TypeScript.
    for (const name of ['net-a.v1.ts', 'net-a.v1.d.ts', 'net-a.v1.gpu.d.ts', 'gradc-host.ts']) {
      const diagnostics = ts.transpileModule(byName[name], { reportDiagnostics: true, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).diagnostics ?? [];
      expect(diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')), name).toEqual([]);
    }
  });
});

describe('names the DSL accepts, on the wasm target', () => {
  const { files } = compile(hostile, { targets: ['wasm'], sourceFile: 'hostile.graph.ts' });
  const byName = Object.fromEntries(files.map((f) => [f.name, f.contents]));

  it('every file is built, with the graph name as given in the file names', () => {
    expect(Object.keys(byName).sort()).toEqual(['gradc-host.js', 'gradc-host.ts', 'net-a.v1.wasm.d.ts', 'net-a.v1.wasm.js', 'net-a.v1.wasm.ts', 'net-a.v1.wat']);
  });

  describe.each(files.filter((f) => !f.name.endsWith('.wat')).map((f) => [f.name, f.contents] as const))('%s', (_, text) => {
    it.each(DASHED)('%s occurs only in JSON string literals and comments', (name) => {
      for (const h of tsOccurrences(text, name)) {
        if (h.kind === 'string') expect(isJsonLiteral(h.token), h.token).toBe(true);
        else expect(h.kind, `raw ${JSON.stringify(name)} in code: ${h.token}`).toBe('comment');
      }
    });
  });

  it.each(DASHED)('the .wat mentions %s only in comments', (name) => {
    const code = byName['net-a.v1.wat'].split('\n').map((l) => l.replace(/;;.*$/, '')).join('\n');
    expect(code).not.toContain(name);
  });

  it('the module works, keyed by the names as given, as the JS module does', () => {
    const js = loadGenerated<GeneratedModule>(compile(hostile, { targets: ['js'] }).files.find((f) => f.name === 'net-a.v1.js')!.contents);
    const wasm = loadWasmGenerated<GeneratedModule>(byName['net-a.v1.wasm.js']);
    expect(wasm.meta).toEqual(js.meta);
    const params = wasm.initParams(1);
    const inputs = { 'in-put.x': randomArray(15, 1), 'y.target-1': randomArray(10, 2) };
    expect(Object.keys(wasm.forward(params, inputs))).toEqual(['out-put.v2', 'PARAMS', 'checkRecord']);
    expect(Math.abs(wasm.loss(params, inputs) - js.loss(params, inputs))).toBeLessThanOrEqual(1e-5 * Math.abs(js.loss(params, inputs)));
    expect(Number.isFinite(wasm.trainStep(params, inputs, 0.01))).toBe(true);
    for (const name of ['net-a.v1.wasm.ts', 'net-a.v1.wasm.d.ts']) {
      const diagnostics = ts.transpileModule(byName[name], { reportDiagnostics: true, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).diagnostics ?? [];
      expect(diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')), name).toEqual([]);
    }
  });
});

// ── hostile graph FILE names ─────────────────────────────────────────────────

describe('hostile graph file names', () => {
  // No '/' (a path separator) and no NUL; everything else a file name may hold.
  const names = [
    'x`${globalThis.__gradcPwned=1}`.graph.ts',
    'quote"and\'apostrophe.graph.ts',
    'qqnew\nzzline\r\u2028process.exit(3);#.graph.ts',
    'star*-and-back\\slash.graph.ts',
    'ünïcödé Ω 😀.graph.ts',
  ];

  it.each(names)('%j: builds, and the name reaches only comments', (fileName) => {
    const dir = tempDir('gradc-hostile-file-');
    writeFileSync(join(dir, fileName), [
      "import { graph, affine, squaredLoss } from 'gradc';",
      "export default graph('filenet', (g) => {",
      "  const o = affine(g.input('x', [3, 2]), g.param('W', [2, 1]), g.param('b', [1]));",
      "  g.output('o', o);",
      "  g.loss(squaredLoss(o, g.input('y', [3, 1])));",
      '});',
      '',
    ].join('\n'));
    const r = spawnSync(process.execPath, [CLI, 'build', fileName, '--out', 'out', '--target', 'js,wgsl'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = join(dir, 'out');
    expect(readdirSync(out).sort()).toEqual([
      '.gradc-manifest.json', 'filenet.d.ts', 'filenet.gpu.d.ts', 'filenet.gpu.js', 'filenet.js', 'filenet.ts', 'filenet.wgsl', 'gradc-host.js', 'gradc-host.ts',
    ]);
    // The base name, as it reaches comments: control characters and line separators become spaces.
    const shown = fileName.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ');
    const fragments = shown.split(/[\s.]+/).filter((s) => s.length >= 3 && !['graph', 'ts'].includes(s));
    const wgsl = readFileSync(join(out, 'filenet.wgsl'), 'utf8');
    expect(wgsl.split('\n')[0]).toContain(shown);
    for (const f of readdirSync(out)) {
      const text = readFileSync(join(out, f), 'utf8');
      expect(text).not.toMatch(/[\r\u2028\u2029]/);
      if (f === '.gradc-manifest.json') {
        // It lists output files by the graph's name; the file name reaches it not at all.
        for (const frag of fragments) expect(text).not.toContain(frag);
        continue;
      }
      if (f.endsWith('.wgsl')) {
        for (const frag of fragments) expect(wgslCode(text)).not.toContain(frag);
        continue;
      }
      if (f.startsWith('gradc-host.')) {
        // The host file is the same for every graph: no file name reaches it.
        for (const frag of fragments) expect(text).not.toContain(frag);
        continue;
      }
      expect(text.split('\n')[0]).toContain(shown);
      for (const frag of fragments) {
        for (const h of tsOccurrences(text, frag)) {
          if (h.kind === 'template') expect(new Function(`return ${h.token};`)()).toBe(withoutComments(wgsl));
          else expect(h.kind, `${f}: ${JSON.stringify(frag)} in ${h.token}`).toBe('comment');
        }
      }
    }
    // Importing the modules runs nothing from the name.
    const g = globalThis as { __gradcPwned?: unknown };
    loadGenerated(readFileSync(join(out, 'filenet.js'), 'utf8'));
    loadGenerated(readFileSync(join(out, 'filenet.gpu.js'), 'utf8'));
    expect(g.__gradcPwned).toBeUndefined();
  });
});
