/**
 * A small seeded pseudo-random generator for the CPU runtime and the samples.
 *
 * The core is a 32-bit Weyl counter (stepped by an odd constant, so it visits all 2^32
 * states) whose value is passed through an integer mixing function, mulberry32-style. It
 * is fast, has no dependencies and is fully determined by the seed: two `Rng`s built with
 * the same seed return the same sequence from every method, on every platform. It is not
 * cryptographic.
 */

const TWO_32 = 4294967296;
const WEYL_STEP = 0x6d2b79f5;

export class Rng {
  /** The Weyl counter, a uint32 kept as a signed int32. */
  private state: number;
  /** The second value of the last Box–Muller pair, or NaN when none is waiting. */
  private spare = Number.NaN;

  /**
   * @param seed any safe integer (negative values and values past 2^32 are folded into
   *   32 bits); defaults to 0.
   */
  constructor(seed = 0) {
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
      throw new TypeError(`Rng: the seed must be a safe integer, got ${String(seed)}`);
    }
    const high = Math.floor(seed / TWO_32) | 0;
    this.state = (seed | 0) ^ Math.imul(high, 0x9e3779b9);
  }

  /** The next raw 32-bit value, an integer in [0, 2^32). */
  uint32(): number {
    this.state = (this.state + WEYL_STEP) | 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  }

  /** A uniform float in [0, 1) with 32 random bits. */
  next(): number {
    return this.uint32() / TWO_32;
  }

  /** A uniform float in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /**
   * A uniform integer in {0, …, n − 1}, without modulo bias (draws above the largest
   * multiple of n below 2^32 are rejected and redrawn).
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_32) {
      throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${String(n)}`);
    }
    const limit = TWO_32 - (TWO_32 % n);
    let u = this.uint32();
    while (u >= limit) u = this.uint32();
    return u % n;
  }

  /**
   * A normal draw with the given mean and standard deviation, by the Box–Muller transform:
   * each pair of uniforms gives two independent standard normals; the second is kept for
   * the next call.
   */
  normal(mean = 0, std = 1): number {
    let z = this.spare;
    if (Number.isNaN(z)) {
      const u1 = 1 - this.next(); // (0, 1]: log(u1) is finite
      const u2 = this.next();
      const r = Math.sqrt(-2 * Math.log(u1));
      const theta = 2 * Math.PI * u2;
      z = r * Math.cos(theta);
      this.spare = r * Math.sin(theta);
    } else {
      this.spare = Number.NaN;
    }
    return mean + std * z;
  }
}
