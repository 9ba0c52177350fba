/**
 * `gradc inspect --html`: the page of every sample, opened in headless Chromium (Debian's
 * `chromium`, driven by playwright-core as in web-demo.test.ts). Each page must draw without
 * a console error and show every IR node, every kernel and every arena range of the plan
 * (counted from the plan, not from the page's data), and the code a selected kernel shows
 * must be text of the module the build emits for that target. Also: names and paths reach
 * the page as text only, a 2000-layer graph's page is built in seconds and opens, and the
 * CLI writes the page.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, type Target } from '../compiler/compile.ts';
import { loadGraphFile } from '../compiler/load/load-checked.ts';
import type { GraphDef } from '../compiler/dsl/graph.ts';
import { planModule, type ModulePlan } from '../compiler/kernels/plan.ts';
import { inspectPage } from '../compiler/inspect/page.ts';
import { notationOf } from '../compiler/inspect/notation.ts';
import { deepGraph } from './support/deep-graph.ts';

const root = resolve(import.meta.dirname, '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SAMPLES = readdirSync(join(root, 'samples'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(root, 'samples', d.name)).filter((f) => f.endsWith('.graph.ts')).map((f) => join('samples', d.name, f)));

let browser: Browser | undefined;
const scratch: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: this test drives Debian's Chromium (apt-get install -y chromium), or set CHROMIUM_PATH`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

/** Opens a page's HTML; collects console errors and uncaught exceptions into `errors`. */
async function open(html: string, errors: string[]): Promise<Page> {
  const page = await browser!.newPage({ viewport: { width: 1500, height: 1000 } });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith('data:') && !r.url().startsWith('about:')) errors.push(`request: ${r.url()}`);
  });
  await page.setContent(html);
  await page.waitForSelector('body[data-ready]', { timeout: 20_000 });
  return page;
}

interface Seen {
  nodes: Set<number>;
  /** What each node's box or stub says (its tooltip). */
  nodeText: Map<number, string>;
  kernels: Set<string>;
  arena: Set<string>;
}

/** Every window of every entry the page offers, shown in turn: what its graph, kernel list and memory chart hold. */
async function everything(page: Page): Promise<Seen> {
  const seen: Seen = { nodes: new Set(), nodeText: new Map(), kernels: new Set(), arena: new Set() };
  const entries = await page.$$eval('#entries button', (bs) => bs.map((b) => b.getAttribute('data-entry')!));
  for (const entry of entries) {
    await page.click(`#entries button[data-entry="${entry}"]`);
    const windows = await page.$$eval('#window option', (os) => os.length);
    for (let w = 0; w < Math.max(windows, 1); w++) {
      if (windows > 0) await page.selectOption('#window', String(w));
      const shown = await page.evaluate(() => ({
        nodes: Array.from(document.querySelectorAll('#graph .node')).map((n) => [Number(n.getAttribute('data-node')), n.querySelector('title')!.textContent!] as const),
        kernels: Array.from(document.querySelectorAll('#kernels tr[data-kernel]')).map((r) => r.getAttribute('data-kernel')!),
        arena: Array.from(document.querySelectorAll('#memory .mem')).map((m) => `${m.getAttribute('data-node')}@${m.getAttribute('data-offset')}`),
        rows: Array.from(document.querySelectorAll('#memory-table tr[data-node]')).map((m) => `${m.getAttribute('data-node')}@${m.getAttribute('data-offset')}`),
      }));
      for (const [id, text] of shown.nodes) {
        seen.nodes.add(id);
        seen.nodeText.set(id, text);
      }
      for (const k of shown.kernels) seen.kernels.add(k);
      // The chart and the table list the same ranges.
      expect(new Set(shown.rows)).toEqual(new Set(shown.arena));
      for (const a of shown.arena) seen.arena.add(a);
    }
  }
  return seen;
}

/** The file of a build whose text holds the kernels, per target. */
const CODE_FILE: Record<Target, (name: string) => string> = { js: (n) => `${n}.ts`, wasm: (n) => `${n}.wat`, wgsl: (n) => `${n}.wgsl` };
const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

async function checkPage(def: GraphDef, plan: ModulePlan, target: Target): Promise<Page> {
  const errors: string[] = [];
  const page = await open(inspectPage(plan, { target, source: 'x.graph.ts' }), errors);
  const seen = await everything(page);
  const g = plan.graph;
  expect([...seen.nodes].sort((a, b) => a - b)).toEqual(g.nodes.map((n) => n.id));
  for (const n of g.nodes) expect(seen.nodeText.get(n.id), `node ${n.name}`).toContain(`%${n.id} ${n.name}`);
  expect(seen.kernels).toEqual(new Set([...plan.kernels.map((_, i) => String(i)), ...(plan.optimizer ? ['update'] : [])]));
  const arena = [...plan.memory.place].filter(([, p]) => p.region === 'arena').map(([id, p]) => `${id}@${p.offset}`);
  expect(arena.length).toBeGreaterThan(0);
  expect(seen.arena).toEqual(new Set(arena));

  // A selected kernel shows its code: text of the module the build emits.
  // (A wasm function's type index is the module's: the page leaves it out.)
  const emitted = squash(compile(def, { targets: [target] }).files.find((f) => f.name === CODE_FILE[target](g.name))!.contents.replace(/ \(type \$t\d+\)/g, ''));
  for (const entry of ['forward', 'train'].filter((e) => plan.entries.some((p) => p.name === e))) {
    await page.click(`#entries button[data-entry="${entry}"]`);
    for (const row of await page.$$('#kernels tr[data-kernel]')) {
      await row.click();
      const code = (await page.textContent('#code'))!;
      expect(code.length).toBeGreaterThan(20);
      for (const part of code.split('\n\n')) expect(emitted).toContain(squash(part));
    }
  }
  expect(errors).toEqual([]);
  return page;
}

describe('the inspect page of every sample', () => {
  it('finds the samples', () => {
    expect(SAMPLES.length).toBeGreaterThanOrEqual(4);
  });

  for (const file of SAMPLES) {
    const targets: Target[] = /housing|digits/.test(file) ? ['js', 'wasm', 'wgsl'] : ['js'];
    for (const target of targets) {
      it(`${file} (${target}): every node, kernel and arena range is shown, with the emitted code`, async () => {
        const { def } = await loadGraphFile(join(root, file));
        const page = await checkPage(def, planModule(def), target);
        await page.close();
      }, 120_000);
    }
  }

  it('a forward-only build: the forward entry alone', async () => {
    const { def } = await loadGraphFile(join(root, 'samples/digits/digits.graph.ts'));
    const plan = planModule(def, { forwardOnly: true });
    const page = await checkPage(def, plan, 'js');
    expect(await page.$$eval('#entries button', (bs) => bs.map((b) => b.getAttribute('data-entry')))).toEqual(['forward']);
    await page.close();
  }, 120_000);
});

describe('notation', () => {
  it('labels the housing network as the notes do', async () => {
    const { def } = await loadGraphFile(join(root, 'samples/housing/housing.graph.ts'));
    const g = planModule(def).graph;
    const { label, forward } = notationOf(g);
    const byName = (name: string) => label.get(g.nodes.find((n) => n.name === name)!.id);
    expect([byName('W1'), byName('b1'), byName('h_affine'), byName('h'), byName('W2'), byName('o')]).toEqual(['W[1]', 'b[1]', 'z[1]', 'a[1]', 'W[2]', 'z[2]']);
    expect([byName('d_o'), byName('d_h_affine'), byName('d_h')]).toEqual(['δ[2] = ∂J/∂z[2]', 'δ[1] = ∂J/∂z[1]', '∂J/∂a[1]']);
    expect([byName('d_W1'), byName('d_b1'), byName('d_W2'), byName('d_b2'), byName('squared_loss')]).toEqual(['∂J/∂W[1]', '∂J/∂b[1]', '∂J/∂W[2]', '∂J/∂b[2]', 'J']);
    expect(forward.has(g.nodes.find((n) => n.name === 'h')!.id)).toBe(true);
    expect(forward.has(g.nodes.find((n) => n.name === 'd_h')!.id)).toBe(false);
  });
});

describe('what reaches the page', () => {
  it('names and paths are text: markup in them is shown, never run', async () => {
    const { def } = await loadGraphFile(join(root, 'samples/kink/kink.graph.ts'));
    const plan = planModule(def);
    const hostile = '</script><img src=x onerror="document.body.dataset.owned=1">';
    const nodes = plan.graph.nodes.map((n) => ({ ...n, loc: { file: `${hostile}.ts`, line: 1, column: 1 } }));
    const page = await open(inspectPage({ ...plan, graph: { ...plan.graph, nodes, name: `${hostile}` } }, { target: 'js', source: hostile }), []);
    expect(await page.$$('img')).toHaveLength(0);
    expect(await page.evaluate(() => document.body.dataset.owned)).toBeUndefined();
    expect(await page.textContent('h1')).toContain(hostile);
    expect(await page.textContent('#graph .node title')).toContain(hostile);
    await page.close();
  }, 60_000);
});

describe('a 2000-layer graph (test/scaling.test.ts\'s)', () => {
  it('has its page built in seconds, in windows that share layouts, and the page opens', async () => {
    const plan = planModule(deepGraph(2000));
    const start = performance.now();
    const html = inspectPage(plan, { target: 'js' });
    const seconds = (performance.now() - start) / 1000;
    // The issue asks for under 5 s; the bound is generous for a loaded two-core machine
    // (about 1 s here unloaded: `npm run bench` reports it).
    expect(seconds, `${seconds.toFixed(1)} s`).toBeLessThan(30);
    const errors: string[] = [];
    const page = await open(html, errors);
    const windows = await page.$$eval('#window option', (os) => os.length);
    expect(windows).toBeGreaterThan(10);
    const first = await page.$$eval('#graph .node', (ns) => ns.length);
    expect(first).toBeGreaterThan(10);
    expect(first).toBeLessThan(400);
    await page.click('#next');
    expect(await page.textContent('#graph-note')).toMatch(/launches 1[0-9]–/);
    await page.selectOption('#window', String(windows - 1));
    expect(await page.textContent('#kernels')).toContain('update');
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});

describe('gradc inspect --html', () => {
  const run = promisify(execFile);
  const CLI = join(root, 'dist', 'cli.js');

  it('writes the page, and refuses --target without --html', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradc-inspect-'));
    scratch.push(dir);
    const out = join(dir, 'housing.html');
    const { stdout } = await run(process.execPath, [CLI, 'inspect', 'samples/housing/housing.graph.ts', '--html', out, '--target', 'wgsl'], { cwd: root });
    expect(stdout).toContain(out);
    const html = readFileSync(out, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/);
    expect(readdirSync(dir)).toEqual(['housing.html']);
    const failed = await run(process.execPath, [CLI, 'inspect', 'samples/housing/housing.graph.ts', '--target', 'wgsl'], { cwd: root }).catch((e: { code: number; stderr: string }) => e);
    expect((failed as { code: number }).code).toBe(1);
    expect((failed as { stderr: string }).stderr).toBe('gradc: --target needs --html <file>: the text of inspect is the same for every target\n');
  }, 120_000);
});
