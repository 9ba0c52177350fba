/**
 * The README's tutorial, run as written: its shell blocks and files, in order, in a fresh
 * folder outside the repository, with gradc installed from the packed tarball. The one
 * liberty taken: `npm install <tarball>` needs the registry for gradc's dependencies, so
 * a shell function named npm answers that one command by unpacking the tarball into
 * node_modules/gradc (with its bin link) and linking each dependency it declares from this
 * repository's node_modules, as test/package.test.ts installs it; every other command is the
 * README's own.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The fenced blocks of the README's tutorial section: [language, text]. */
function tutorialBlocks(readme: string): [string, string][] {
  const start = readme.indexOf('\n## Tutorial');
  const end = readme.indexOf('\n## ', start + 1);
  expect(start).toBeGreaterThan(0);
  return [...readme.slice(start, end).matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((m) => [m[1]!, m[2]!]);
}

let work = '';
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the README tutorial', () => {
  it('runs as written from a packed tarball, training a classifier on a CSV and printing its held-out accuracy', () => {
    work = mkdtempSync(join(tmpdir(), 'gradc-tutorial-'));
    // What the reader has beside the project folder: the clone, with the packed tarball in it.
    const clone = join(work, 'gradc');
    mkdirSync(join(clone, 'docs', 'tutorial'), { recursive: true });
    const [report] = JSON.parse(execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', clone], { cwd: root, encoding: 'utf8' })) as { filename: string }[];
    copyFileSync(join(root, 'docs', 'tutorial', 'iris.csv'), join(clone, 'docs', 'tutorial', 'iris.csv'));
    const deps = Object.keys((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
    const prelude = [
      'set -e',
      'npm() {',
      '  case "$1 $2" in',
      '    "install "*.tgz)',
      '      mkdir -p node_modules/gradc node_modules/.bin',
      '      tar -xzf "$2" -C node_modules/gradc --strip-components=1',
      '      ln -s ../gradc/dist/cli.js node_modules/.bin/gradc',
      ...deps.map((d) => `      mkdir -p node_modules/${dirname(d)} && ln -s ${JSON.stringify(join(root, 'node_modules', d))} node_modules/${d}`),
      '      ;;',
      '    *) command npm "$@" ;;',
      '  esac',
      '}',
    ].join('\n');
    const blocks = tutorialBlocks(readFileSync(join(root, 'README.md'), 'utf8'));
    expect(blocks.map(([lang]) => lang)).toEqual(['sh', 'ts', 'sh', 'js', 'sh']);
    expect(blocks[0]![1]).toContain(`npm install ../gradc/${report!.filename}`);
    let cwd = work;
    let output = '';
    for (const [lang, text] of blocks) {
      if (lang === 'sh') {
        const run = spawnSync('bash', ['-c', `${prelude}\n${text}\npwd > "${join(work, '.cwd')}"`], { cwd, encoding: 'utf8', env: { ...process.env, npm_config_offline: 'true' } });
        expect(run.status, `${text}\n${run.stdout}${run.stderr}`).toBe(0);
        output += run.stdout;
        cwd = readFileSync(join(work, '.cwd'), 'utf8').trim();
      } else {
        const name = /^\/\/ (\S+)\n/.exec(text)?.[1];
        expect(name, `a ${lang} block names its file on its first line`).toBeDefined();
        writeFileSync(join(cwd, name!), text);
      }
    }
    expect(cwd).toBe(join(work, 'iris-model'));
    const accuracies = [...output.matchAll(/accuracy: ([\d.]+) %/g)].map((m) => Number(m[1]));
    expect(accuracies.length).toBe(2);
    expect(accuracies[0]).toBeGreaterThanOrEqual(90);
    expect(accuracies[1]).toBe(accuracies[0]);
    // What the README says it prints.
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(`twice: ${accuracies[0]!.toFixed(1)} %`);
  }, 180_000);
});
