/**
 * Puts the latest benchmark results into docs/performance.md (where the README's benchmark
 * tables live), between the lines
 * `<!-- bench:start -->` and `<!-- bench:end -->`, replacing what is there.
 *
 *   tsx bench/update-readme.ts          # from bench/results.md
 *   npm run bench -- --readme           # run the benchmark, then the same
 *
 * If docs/performance.md lacks either marker, nothing is written and a message says so.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS_FILE = join(ROOT, 'bench', 'results.md');
const README = join(ROOT, 'docs', 'performance.md');
const SHOWN = 'docs/performance.md';
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/** The part of results.md that goes into the README: everything after its `# ` title. */
export function readmeSection(resultsMarkdown: string): string {
  return resultsMarkdown.replace(/^# [^\n]*\n+/, '').trim();
}

/** Replaces the marked section of docs/performance.md. Returns whether it was written. */
export function updateReadme(section: string): boolean {
  if (!existsSync(README)) {
    console.error(`bench: ${README} not found; ${SHOWN} not updated`);
    return false;
  }
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < 0 || end < start) {
    console.error(`bench: ${SHOWN} has no "${START}" … "${END}" section; add both markers where the results should go. ${SHOWN} not updated.`);
    return false;
  }
  const next = `${text.slice(0, start + START.length)}\n${section.trim()}\n${text.slice(end)}`;
  if (next === text) {
    console.log(`bench: ${SHOWN} results already up to date`);
    return true;
  }
  writeFileSync(README, next);
  console.log(`bench: updated the results section of ${SHOWN}`);
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!existsSync(RESULTS_FILE)) {
    console.error(`bench: ${RESULTS_FILE} not found; run npm run bench first`);
    process.exit(1);
  }
  if (!updateReadme(readmeSection(readFileSync(RESULTS_FILE, 'utf8')))) process.exit(1);
}
