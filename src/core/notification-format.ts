/**
 * Number formatting shared by the notification producers: short, phone-readable and never in exponent notation
 * (a meme coin's 0.00000123 must not become `1.23e-6`, which reads like garbage on a phone).
 */

/** A price with six significant digits, trailing zeros dropped. */
export function fmtPrice(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0';
  const digits = Math.max(0, 5 - Math.floor(Math.log10(Math.abs(n))));
  return trimZeros(n.toFixed(Math.min(digits, 12)));
}

/** USD amounts: two decimals with thousands separators (`-1,234.50`). */
export function fmtUsd(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const sign = n < 0 ? '-' : '';
  const [int, frac] = Math.abs(n).toFixed(2).split('.') as [string, string];
  return `${sign}${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${frac}`;
}

/** Large USD totals (cluster sizes) as `12.3M`, `4.5K`. */
export function fmtCompactUsd(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${trimZeros((n / 1e9).toFixed(2))}B`;
  if (a >= 1e6) return `${trimZeros((n / 1e6).toFixed(2))}M`;
  if (a >= 1e3) return `${trimZeros((n / 1e3).toFixed(1))}K`;
  return trimZeros(n.toFixed(0));
}

/** Signed percent with two decimals (`+1.25 %`). */
export function fmtPct(n: number): string {
  return `${n > 0 ? '+' : ''}${n.toFixed(2)} %`;
}

/** A duration as `45 s`, `12 min`, `3.5 h`, `2.0 d`. */
export function fmtDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/**
 * `2026-12-07 08:15 UTC` from epoch ms, by arithmetic (civil-from-days), so core stays free of `Date` objects
 * (the architecture test bans Date objects here: a stray one without arguments would read the wall clock).
 */
export function fmtUtcMinute(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  const minuteOfDay = Math.floor((ms - days * 86_400_000) / 60_000);
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${y}-${p2(m)}-${p2(d)} ${p2(Math.floor(minuteOfDay / 60))}:${p2(minuteOfDay % 60)} UTC`;
}
