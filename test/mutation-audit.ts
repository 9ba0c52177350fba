/**
 * The mutation audit: plants each deliberate bug of test/support/mutations.ts, one at a time,
 * in a copy of the project, runs the tests that check values (gradients against the
 * independent references, closed forms, numeric edges, the fuzzer, optimizers against
 * TensorFlow.js, training outcomes, and the golden files), and prints which tests each one
 * fails. Every mutation must be caught by tests built on at least two different oracles (a
 * golden-file diff does not count: it flags any change, right or wrong); the exit code is 1
 * otherwise, and 2 when the tests fail without any mutation.
 *
 *   npm run mutations                              every mutation, the default test files
 *   npm run mutations -- --only sigmoid            mutations whose name contains "sigmoid"
 *   npm run mutations -- --files test/wgsl.test.ts,test/gradients.test.ts
 *   npm run mutations -- --out audit.md            also write the report to a file
 *
 * It takes several minutes (one vitest run of the chosen files per mutation, plus one
 * without), so it is not part of `npm test`; test/mutations.test.ts checks that every
 * mutation still applies to the sources. The fuzzer runs with a fixed seed
 * (GRADC_FUZZ_SEED, which also stops it at the first failure without shrinking) so the
 * table is the same from run to run.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MUTATIONS, mutatedFiles, type Mutation } from './support/mutations.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const DEFAULT_FILES = ['gradients', 'op-table', 'notes-closed-form', 'numeric-edges', 'numeric-claims', 'fuzz', 'optimizers', 'optimizers-torch', 'runtime-cpu', 'weights', 'onnx', 'threads', 'golden'].map((f) => `test/${f}.test.ts`);
const FUZZ_ENV = { GRADC_FUZZ_SEED: '424242', GRADC_FUZZ_RUNS: '8', GRADC_FUZZ_GPU_RUNS: '1' };

interface Failure {
  readonly file: string;
  readonly test: string;
  readonly message: string;
}

/**
 * What each test compares against. Two failures count as independent only when their oracles
 * differ; `null` marks a check that any change fails (golden text).
 */
const ORACLES: readonly { readonly file: string; readonly test?: RegExp; readonly message?: RegExp; readonly oracle: string | null }[] = [
  { file: 'gradients.test.ts', test: /TensorFlow\.js/, oracle: 'TensorFlow.js tf.valueAndGrads' },
  { file: 'gradients.test.ts', test: /trainStep applies|SGD step lowers/, oracle: 'train-step consistency and descent' },
  { file: 'gradients.test.ts', oracle: 'float64 reference (hand-written rules)' },
  { file: 'fuzz.test.ts', test: /threads/, oracle: 'the same bits on 1, 2 and 3 threads' },
  { file: 'fuzz.test.ts', message: /^trainStep/, oracle: 'train-step consistency and descent' },
  { file: 'fuzz.test.ts', oracle: 'float64 reference (hand-written rules)' },
  { file: 'optimizers.test.ts', test: /TensorFlow\.js/, oracle: 'TensorFlow.js optimizers' },
  { file: 'optimizers.test.ts', oracle: 'optimizer behaviour' },
  { file: 'optimizers-torch.test.ts', oracle: 'PyTorch torch.optim (float64 fixtures)' },
  { file: 'op-table.test.ts', test: /central differences/, oracle: 'float64 central differences (op table)' },
  { file: 'op-table.test.ts', test: /hand-written reference/, oracle: 'float64 reference (hand-written rules)' },
  { file: 'op-table.test.ts', oracle: 'the op table\'s declarations' },
  { file: 'numeric-claims.test.ts', oracle: 'closed forms at ±1e3 on every target' },
  { file: 'weights.test.ts', test: /cut short by any number of bytes/, oracle: 'exhaustive truncation' },
  { file: 'weights.test.ts', oracle: 'hand-made bad files' },
  { file: 'notes-closed-form.test.ts', oracle: 'hand-derived closed forms' },
  { file: 'numeric-edges.test.ts', oracle: 'closed forms at numeric edges' },
  { file: 'runtime-cpu.test.ts', oracle: 'training outcomes' },
  { file: 'wgsl.test.ts', oracle: 'WGSL vs JS' },
  { file: 'onnx.test.ts', test: /PyTorch's own outputs/, oracle: "PyTorch's outputs (fixture)" },
  { file: 'onnx.test.ts', test: /round trip|state dict/, oracle: 'PyTorch state dict and round trip' },
  { file: 'onnx.test.ts', oracle: 'onnxruntime' },
  { file: 'threads.test.ts', test: /whole tiles/, oracle: 'row shares: every row once' },
  { file: 'threads.test.ts', test: /float64 reference/, oracle: 'float64 reference (hand-written rules)' },
  { file: 'threads.test.ts', oracle: 'the same bits on 1, 2 and 3 threads' },
  { file: 'golden.test.ts', oracle: null },
];

function oracleOf({ file, test, message }: Failure): string | null {
  const base = file.split('/').pop()!;
  const rule = ORACLES.find((o) => o.file === base && (!o.test || o.test.test(test)) && (!o.message || o.message.test(message)));
  return rule ? rule.oracle : base;
}

function parseArgs(argv: readonly string[]): { only?: string; files: string[]; out?: string } {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  for (const a of argv) if (a.startsWith('--') && !['--only', '--files', '--out'].includes(a)) throw new Error(`unknown option ${a}; options: --only <text>, --files <a,b>, --out <file>`);
  return { only: value('--only'), files: value('--files')?.split(',').filter(Boolean) ?? DEFAULT_FILES, out: value('--out') };
}

/** The project's files (tracked, and new ones git does not ignore) copied to a fresh folder, node_modules linked. */
function copyProject(): string {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), 'gradc-mutant-'));
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    const to = join(dir, file);
    mkdirSync(dirname(to), { recursive: true });
    try {
      copyFileSync(join(ROOT, file), to);
    } catch {
      // A file deleted in the working tree but still tracked: nothing to copy.
    }
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** One vitest run of `files` in `dir`: every failed test, or the file that did not run. */
function runTests(dir: string, files: readonly string[]): { failures: Failure[]; seconds: number } {
  const json = join(dir, '.mutation-results.json');
  rmSync(json, { force: true });
  const started = Date.now();
  const run = spawnSync(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', ...files, '--reporter=json', `--outputFile=${json}`], {
    cwd: dir, env: { ...process.env, ...FUZZ_ENV }, encoding: 'utf8', maxBuffer: 256 * 2 ** 20,
  });
  const seconds = (Date.now() - started) / 1000;
  let report: { testResults: { name: string; status: string; message?: string; assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[] };
  try {
    report = JSON.parse(readFileSync(json, 'utf8'));
  } catch {
    throw new Error(`vitest wrote no report (exit ${run.status}):\n${run.stderr.slice(-3000)}`);
  }
  const failures: Failure[] = [];
  for (const f of report.testResults) {
    const file = relative(dir, f.name);
    const failed = f.assertionResults.filter((a) => a.status === 'failed');
    for (const a of failed) failures.push({ file, test: a.fullName, message: gist(a.failureMessages[0] ?? '') });
    if (f.status === 'failed' && failed.length === 0) failures.push({ file, test: '(the file did not run)', message: gist(f.message ?? '') });
  }
  return { failures, seconds };
}

/** The line of a failure message that says what disagreed (a fuzz report's is inside its repro file's comment). */
function gist(message: string): string {
  const lines = message.split('\n');
  const fuzz = lines.findIndex((l) => l.startsWith('// gradc fuzz counterexample'));
  return (fuzz >= 0 ? lines[fuzz + 1]!.replace(/^\/\/\s*/, '') : lines[0]!).slice(0, 200);
}

interface Row {
  readonly mutation: Mutation;
  readonly failures: readonly Failure[];
  readonly oracles: readonly string[];
  readonly seconds: number;
}

function report(rows: readonly Row[], files: readonly string[]): string {
  const short = (f: string) => f.replace(/^test\//, '').replace(/\.test\.ts$/, '');
  const header = ['mutation', ...files.map(short), 'oracles that caught it', ''];
  const lines = [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 || i > files.length ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => {
      const counts = files.map((f) => {
        const n = r.failures.filter((x) => x.file === f).length;
        return n === 0 ? '·' : String(n);
      });
      return `| ${r.mutation.name} | ${counts.join(' | ')} | ${r.oracles.length ? r.oracles.join('; ') : 'none'} | ${r.oracles.length >= 2 ? 'caught' : '**NOT ENOUGH**'} |`;
    }),
  ];
  const details = rows.flatMap((r) => [
    '',
    `${r.mutation.name} (${r.seconds.toFixed(0)} s): ${r.failures.length} failed`,
    ...r.failures.map((f) => `  ${short(f.file)} › ${f.test}: ${f.message}`),
  ]);
  return [
    `Cells: tests of that file that failed with the mutation (· none). Fuzzer: ${Object.entries(FUZZ_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}.`,
    '',
    ...lines,
    ...details,
    '',
  ].join('\n');
}

function main(): number {
  const { only, files, out } = parseArgs(process.argv.slice(2));
  const chosen = MUTATIONS.filter((m) => !only || m.name.includes(only));
  if (chosen.length === 0) throw new Error(`no mutation's name contains ${JSON.stringify(only)}; mutations: ${MUTATIONS.map((m) => m.name).join(', ')}`);
  const dir = copyProject();
  try {
    console.log(`gradc mutation audit: ${chosen.length} mutations × ${files.join(', ')} (in ${dir})`);
    const baseline = runTests(dir, files);
    console.log(`without a mutation: ${baseline.failures.length} failed (${baseline.seconds.toFixed(0)} s)`);
    if (baseline.failures.length > 0) {
      for (const f of baseline.failures) console.log(`  ${f.file} › ${f.test}: ${f.message}`);
      console.log('The tests must pass without a mutation before the audit means anything.');
      return 2;
    }
    const rows: Row[] = [];
    for (const mutation of chosen) {
      const originals = new Map<string, string>();
      const changed = mutatedFiles(mutation, (file) => {
        const text = readFileSync(join(dir, file), 'utf8');
        originals.set(file, text);
        return text;
      });
      for (const [file, text] of changed) writeFileSync(join(dir, file), text);
      try {
        const { failures, seconds } = runTests(dir, files);
        const oracles = [...new Set(failures.map(oracleOf).filter((o): o is string => o !== null))];
        rows.push({ mutation, failures, oracles, seconds });
        console.log(`${mutation.name}: ${failures.length} failed, oracles: ${oracles.join('; ') || 'none'} (${seconds.toFixed(0)} s)`);
      } finally {
        for (const [file, text] of originals) writeFileSync(join(dir, file), text);
      }
    }
    const text = report(rows, files);
    console.log(`\n${text}`);
    if (out) writeFileSync(out, text);
    return rows.every((r) => r.oracles.length >= 2) ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main();
