/**
 * `npm run demo` stops cleanly on SIGINT and on SIGTERM sent to npm (as a supervisor or a
 * terminal's job control sends them): npm forwards the signal, the demo server closes, esbuild
 * stops, and no process of the run is left. The run is `npm run demo --ignore-scripts`: the demo
 * script itself, without its predemo build of dist/ (which the test setup built, and which
 * would rewrite dist/ under the tests running beside this one).
 */
import { execFileSync, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

/** The processes of a process group, by pid. */
function groupPids(pgid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '-g', String(pgid)], { encoding: 'utf8' }).split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when the group is empty
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('npm run demo', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('stops the server and esbuild on %s to npm, and leaves no process behind', async (signal) => {
    // Its own process group, so that what the run started can be listed (and cleaned up if the test fails).
    const child = spawn('npm', ['run', 'demo', '--ignore-scripts'], { cwd: root, env: { ...process.env, PORT: '0' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pgid = child.pid!;
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      for (let waited = 0; !/serving at (http:\S+)/.test(output); waited += 100) {
        if (waited > 120_000 || child.exitCode !== null) throw new Error(`the demo printed no URL:\n${output}`);
        await sleep(100);
      }
      const url = /serving at (http:\S+)/.exec(output)![1]!;
      expect((await fetch(url)).status).toBe(200);
      // npm, the demo's node process and esbuild's service at least.
      expect(groupPids(pgid).length, execFileSync('ps', ['-o', 'pid,cmd', '-g', String(pgid)], { encoding: 'utf8' })).toBeGreaterThanOrEqual(3);
      process.kill(pgid, signal);
      expect(await exited, output).toBe(0);
      for (let waited = 0; groupPids(pgid).length > 0 && waited < 10_000; waited += 100) await sleep(100);
      expect(groupPids(pgid)).toEqual([]);
      expect(output).toContain(`gradc demo: ${signal}: stopping`);
      await expect(fetch(url)).rejects.toThrow();
    } finally {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // nothing left: the point of the test
      }
    }
  }, 150_000);
});
