/**
 * Small seeded pseudo-random generator (xoshiro128** seeded through splitmix32).
 *
 * Why not `Math.random`: replay, simulation and property tests must give byte-identical output for the same
 * seed, and `core/`/`actors/` may not read ambient randomness. Gotchas: the stream is only reproducible when
 * every consumer draws in the same order, so give independent consumers their own `fork(salt)` instead of
 * sharing one generator; and it is not cryptographically secure (never use it for ids that must be unguessable).
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** Second value of the last Box–Muller pair, NaN when none is cached. */
  private spareNormal = Number.NaN;
  private readonly seed32: number;

  /** `seed` may be any finite number (integer part of up to 53 bits is used) or a string (hashed). */
  constructor(seed: number | string) {
    this.seed32 = typeof seed === 'string' ? hashString(seed) : hashNumber(seed);
    let s = this.seed32;
    const step = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = step();
    this.b = step();
    this.c = step();
    this.d = step();
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** Uniform unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [minInclusive, maxExclusive). Slightly biased for spans near 2^32; fine for simulation. */
  nextInt(minInclusive: number, maxExclusive: number): number {
    const span = maxExclusive - minInclusive;
    if (!Number.isInteger(minInclusive) || !Number.isInteger(maxExclusive) || span <= 0 || span > 4294967296) {
      throw new Error(`Prng.nextInt: bad range [${minInclusive}, ${maxExclusive})`);
    }
    return minInclusive + Math.floor(this.next() * span);
  }

  /** Gaussian sample (Box–Muller; the pair's second value is cached, so draws stay in a fixed order). */
  normal(mean = 0, sd = 1): number {
    if (!Number.isNaN(this.spareNormal)) {
      const z = this.spareNormal;
      this.spareNormal = Number.NaN;
      return mean + sd * z;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + sd * r * Math.cos(2 * Math.PI * v);
  }

  /** Exponential sample with the given mean (e.g. waiting time between Poisson arrivals). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** Poisson count with mean `lambda` (Knuth; meant for the small means a 100 ms step needs). */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda > 30) return Math.max(0, Math.round(this.normal(lambda, Math.sqrt(lambda))));
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /**
   * An independent generator derived from this one's seed and `salt`, without advancing this one. Forks of
   * the same parent and salt are identical, so a per-symbol stream does not shift when other symbols are added.
   */
  fork(salt: number | string): Prng {
    const saltHash = typeof salt === 'string' ? hashString(salt) : hashNumber(salt);
    return new Prng(mix32(this.seed32 ^ Math.imul(saltHash, 0x9e3779b1)) + (saltHash >>> 11) * 4294967296);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function mix32(x: number): number {
  let z = x | 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d);
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b);
  return (z ^ (z >>> 16)) >>> 0;
}

function hashNumber(seed: number): number {
  if (!Number.isFinite(seed)) throw new Error(`Prng: seed must be finite, got ${seed}`);
  const n = Math.trunc(seed);
  const lo = n % 4294967296 >>> 0;
  const hi = Math.floor(n / 4294967296) >>> 0;
  return mix32(lo ^ mix32(hi + 0x6a09e667));
}

function hashString(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
  return mix32(h);
}
