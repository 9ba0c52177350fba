/**
 * A one-line progress bar for training runs: epoch, loss and steps per second, redrawn in
 * place on a terminal (at most every 50 ms) and silent elsewhere, so logs stay short.
 */

export interface ProgressOptions {
  readonly label: string;
  readonly total: number;
  /** Where to draw; defaults to standard output. */
  readonly stream?: { isTTY?: boolean; write(text: string): unknown; columns?: number };
}

export interface Progress {
  update(done: number, loss: number, steps: number): void;
  /** Prints a line above the bar. */
  log(line: string): void;
  /** Clears the bar; returns the average steps per second. */
  finish(): number;
}

export function progressBar(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stdout;
  const started = performance.now();
  let lastDraw = 0;
  let steps = 0;
  const draw = (done: number, loss: number) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? steps / seconds : 0;
    const width = 24;
    const filled = Math.round((width * done) / options.total);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    stream.write(`\r  ${options.label} ${bar} epoch ${done}/${options.total}  loss ${loss.toPrecision(4)}  ${formatRate(rate)} steps/s `);
  };
  return {
    update(done, loss, stepCount) {
      steps = stepCount;
      if (!stream.isTTY) return;
      const now = performance.now();
      if (now - lastDraw < 50 && done < options.total) return;
      lastDraw = now;
      draw(done, loss);
    },
    log(line) {
      if (stream.isTTY && lastDraw > 0) stream.write(`\r${' '.repeat(Math.min(stream.columns ?? 100, 110))}\r`);
      stream.write(`${line}\n`);
      lastDraw = 0;
    },
    finish() {
      if (stream.isTTY && lastDraw > 0) stream.write(`\r${' '.repeat(Math.min(stream.columns ?? 100, 110))}\r`);
      const seconds = (performance.now() - started) / 1000;
      return seconds > 0 ? steps / seconds : 0;
    },
  };
}

export function formatRate(rate: number): string {
  return rate >= 1e6 ? `${(rate / 1e6).toFixed(1)}M` : rate >= 1e3 ? `${(rate / 1e3).toFixed(1)}k` : rate.toFixed(0);
}
