/**
 * The browser demo (samples/web) end to end, in a real browser: `samples/web/serve.ts`
 * builds the page with esbuild and the gradc plugin and serves it on a free port; headless
 * Chromium (Debian's `chromium` package, WebGPU on SwiftShader) opens it through
 * playwright-core and trains. Checks that the WebGPU path was taken, that the loss fell and
 * the fit is right, that without navigator.gpu the page falls back to the JS backend and
 * takes the very same steps, and that the WebAssembly backend (`?backend=wasm`) does too.
 * Screenshots are kept in .artifacts/web-demo/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(root, '.artifacts', 'web-demo');
/** WebGPU needs nothing beyond --enable-unsafe-webgpu: headless Chromium picks SwiftShader. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

interface LossPoint {
  step: number;
  train: number;
  holdout?: number;
  batch?: number;
}

/** Starts `samples/web/serve.ts` on a free port; resolves to the URL it prints. */
function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join('samples', 'web', 'serve.ts')], {
    cwd: root,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolveUrl, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the demo server printed no URL within 40 s:\n${output}`)), 40_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /serving at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolveUrl({ child, url: m[1] });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo server exited (code ${code}):\n${output}`));
    });
  });
}

let server: ChildProcess | undefined;
let url = '';
let browser: BrowserContext | undefined;
let userDataDir = '';
/** Console errors and uncaught exceptions of every page, reported by the test that made them. */
const pageErrors: string[] = [];

async function openPage(query = '', options: { withoutWebGpu?: boolean } = {}): Promise<Page> {
  const page = await browser!.newPage();
  page.on('pageerror', (e) => pageErrors.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console.error: ${m.text()}`);
  });
  if (options.withoutWebGpu) {
    await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }));
  }
  await page.goto(url + query);
  await waitForState(page, 'ready');
  return page;
}

async function waitForState(page: Page, state: string): Promise<void> {
  await page.waitForFunction((s) => document.body.dataset.state === s || document.body.dataset.state === 'error', state, { timeout: 20_000 });
  const now = await page.evaluate(() => document.body.dataset.state);
  if (now !== state) throw new Error(`the page went to '${now}': ${await page.textContent('#status')}`);
}

/** Presses Start, lets it train until `steps` SGD steps are done, pauses; returns the loss history. */
async function train(page: Page, steps: number): Promise<LossPoint[]> {
  await page.click('#start');
  await page.waitForFunction((n) => window.gradcDemo.step >= n || window.gradcDemo.state !== 'running', steps, { timeout: 40_000 });
  const state = await page.evaluate(() => window.gradcDemo.state);
  if (state !== 'running') throw new Error(`training stopped early, in state '${state}': ${await page.textContent('#status')}`);
  await page.click('#start');
  await waitForState(page, 'paused');
  return page.evaluate(() => window.gradcDemo.history);
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}

function expectFinite(history: LossPoint[]): void {
  for (const p of history) expect(Number.isFinite(p.train), `loss at step ${p.step}`).toBe(true);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: this test drives Debian's Chromium (apt-get install -y chromium), or set CHROMIUM_PATH`);
  }
  ({ child: server, url } = await startServer());
  userDataDir = mkdtempSync(join(tmpdir(), 'gradc-chromium-'));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 900 },
    timeout: 30_000,
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  server?.kill();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

describe('browser demo', () => {
  let webgpuKink: LossPoint[] = [];
  let jsKink: LossPoint[] = [];

  it('trains the kink model on WebGPU: the loss falls and the kink lands where the data bends', async () => {
    pageErrors.length = 0;
    const page = await openPage();
    const backend = await page.evaluate(() => document.body.dataset.backend);
    expect(backend, `expected WebGPU; the page says: ${await page.textContent('#backend-note')}`).toBe('webgpu');
    expect(await page.textContent('#backend')).toBe('WebGPU');
    expect(await page.evaluate(() => [window.gradcDemo.model, window.gradcDemo.batch])).toEqual(['kink', 16]);
    await page.selectOption('#speed', '8');

    webgpuKink = await train(page, 320);
    await screenshot(page, 'kink-webgpu.png');
    // The footer names the graph and the module in use; steps/s is the steps' own rate.
    expect(await page.textContent('#import-line')).toBe("import * as kink from '../kink/kink.graph.ts?gradc-gpu'");
    expect(Number((await page.textContent('#stat-speed'))!.replace(/,/g, ''))).toBeGreaterThan(0);
    expectFinite(webgpuKink);
    const first = webgpuKink[0];
    const last = webgpuKink[webgpuKink.length - 1];
    expect(first.step).toBe(0);
    expect(last.step).toBeGreaterThanOrEqual(320);
    expect(last.train).toBeLessThan(first.train / 20);
    // The caption reads the kink off the learned w and b: "… above 1,006 sq ft · truth: …".
    const caption = (await page.textContent('#fit-note')) ?? '';
    const kink = /learned: .* above ([\d,]+) sq ft/.exec(caption);
    expect(kink, caption).not.toBeNull();
    expect(Math.abs(Number(kink![1].replace(/,/g, '')) - 1000)).toBeLessThan(150);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('trains the two-layer housing network on WebGPU, and the held-out loss falls too', async () => {
    pageErrors.length = 0;
    const page = await openPage('?model=housing');
    expect(await page.evaluate(() => [document.body.dataset.backend, window.gradcDemo.model, window.gradcDemo.batch])).toEqual(['webgpu', 'housing', 64]);
    await page.selectOption('#batch', '16');
    await waitForState(page, 'ready');
    expect(await page.evaluate(() => window.gradcDemo.batch)).toBe(16);
    expect(await page.textContent('#import-line')).toBe("import * as housing from './graphs/housing-16.graph.ts?gradc-gpu'");

    const history = await train(page, 160);
    await screenshot(page, 'housing-webgpu.png');
    expectFinite(history);
    const first = history[0];
    const last = history[history.length - 1];
    expect(last.train).toBeLessThan(first.train / 5);
    expect(last.holdout!).toBeLessThan(first.holdout! / 5);
    expect(await page.textContent('#fit-note')).toMatch(/held-out RMSE \$\d+/);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('falls back to the JS backend without navigator.gpu, and takes the same steps as WebGPU', async () => {
    pageErrors.length = 0;
    const page = await openPage('', { withoutWebGpu: true });
    expect(await page.evaluate(() => document.body.dataset.backend)).toBe('js');
    expect(await page.textContent('#backend')).toBe('JS backend');
    expect(await page.textContent('#backend-note')).toContain('navigator.gpu is missing');
    await page.selectOption('#speed', '8');

    const history = await train(page, 320);
    jsKink = history;
    expect(await page.textContent('#import-line')).toBe("import * as kink from '../kink/kink.graph.ts?gradc'");
    await screenshot(page, 'kink-js.png');
    expectFinite(history);
    expect(history[history.length - 1].train).toBeLessThan(history[0].train / 20);
    expect(pageErrors).toEqual([]);
    await page.close();
    // Same init, same shuffled batches: f32 on the GPU and in JS agree step for step.
    if (webgpuKink.length === 0) return; // the WebGPU test did not run
    const gpuAt = new Map(webgpuKink.map((p) => [p.step, p.train]));
    const common = history.filter((p) => gpuAt.has(p.step));
    expect(common.length).toBeGreaterThan(10);
    for (const p of common) expect(Math.abs(p.train - gpuAt.get(p.step)!), `step ${p.step}`).toBeLessThanOrEqual(1e-3 * p.train + 1e-6);
  });

  it('trains on the WebAssembly backend when asked (?backend=wasm), taking the same steps as JS', async () => {
    pageErrors.length = 0;
    const page = await openPage('?backend=wasm&threads=2');
    expect(await page.evaluate(() => document.body.dataset.backend)).toBe('wasm');
    // Served cross-origin isolated, so threads could run; the demo's networks are too small for them to pay.
    expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
    expect(await page.inputValue('#threads-choice')).toBe('2');
    expect(await page.evaluate(() => document.body.dataset.threads)).toBe('1');
    expect(await page.textContent('#backend-note')).toMatch(/on 1 thread \(no kernel of this graph is large enough for threads to pay/);
    expect(await page.textContent('#backend')).toBe('WebAssembly');
    expect(await page.inputValue('#backend-choice')).toBe('wasm');
    await page.selectOption('#speed', '8');

    const history = await train(page, 320);
    await screenshot(page, 'kink-wasm.png');
    expect(await page.textContent('#import-line')).toBe("import * as kink from '../kink/kink.graph.ts?gradc-wasm'");
    expectFinite(history);
    expect(history[history.length - 1].train).toBeLessThan(history[0].train / 20);
    expect(pageErrors).toEqual([]);
    // The picker reloads the page with another backend.
    await page.selectOption('#backend-choice', 'js');
    await page.waitForURL(/backend=js/);
    await waitForState(page, 'ready');
    expect(await page.evaluate(() => document.body.dataset.backend)).toBe('js');
    await page.close();
    if (jsKink.length === 0) return; // the JS test did not run
    const jsAt = new Map(jsKink.map((p) => [p.step, p.train]));
    const common = history.filter((p) => jsAt.has(p.step));
    expect(common.length).toBeGreaterThan(10);
    for (const p of common) expect(Math.abs(p.train - jsAt.get(p.step)!), `step ${p.step}`).toBeLessThanOrEqual(1e-3 * p.train + 1e-6);
  });

  it('links to the `gradc inspect --html` page of the graph it trains, which opens', async () => {
    pageErrors.length = 0;
    const page = await openPage('?model=housing');
    await page.selectOption('#batch', '16');
    await waitForState(page, 'ready');
    const href = await page.getAttribute('#inspect', 'href');
    expect(href).toBe('inspect-housing-16.html');
    await page.goto(url + href);
    await page.waitForSelector('body[data-ready]', { timeout: 20_000 });
    expect(await page.textContent('h1')).toContain('housing');
    expect(await page.textContent('.summary')).toContain('kernels for js');
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
