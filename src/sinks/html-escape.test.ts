import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml, jsonForScript } from './html-escape.js';

/** Reverses the five entities escapeHtml writes (and nothing else), as an HTML parser would for them. */
function unescape(html: string): string {
  return html.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
}

/**
 * Strings rich in what matters here (markup characters, the letters of `script`, line separators, a lone
 * surrogate) mixed with any grapheme. Not `unit: 'binary'`: its first use costs fast-check ~8 s of set-up.
 */
const text = fc.string({
  unit: fc.oneof(fc.constantFrom('<', '>', '&', '"', "'", '/', '!', '-', 's', 'S', 't', '\u2028', '\u2029', '\ud800'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })),
  maxLength: 40,
});

describe('escapeHtml', () => {
  it('escapes markup, both quotes and ampersands', () => {
    expect(escapeHtml(`<script>alert("x")</script> & 'y'`)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;');
    expect(escapeHtml('&lt;')).toBe('&amp;lt;'); // an entity in the data stays text, not a decoded '<'
    expect(escapeHtml('BTCUSDT')).toBe('BTCUSDT');
  });

  it('leaves no markup character behind and round-trips any string', () => {
    fc.assert(
      fc.property(text, (s) => {
        const out = escapeHtml(s);
        return !/[<>"']/.test(out) && !out.replace(/&(amp|lt|gt|quot|#39);/g, '').includes('&') && unescape(out) === s;
      }),
    );
  });
});

describe('jsonForScript', () => {
  it('cannot end a script element or open a comment, whatever the case', () => {
    const hostile = { reason: '</script><script>alert(1)</script>', b: '</SCRIPT >', c: '<!--', d: '-->', e: '\u2028\u2029', f: 'a & b > c' };
    const out = jsonForScript(hostile);
    expect(out).not.toMatch(/<\/script|<!--|[<>&\u2028\u2029]/i);
    expect(JSON.parse(out)).toEqual(hostile);
  });

  it('round-trips any JSON value and never contains < > & or line separators', () => {
    fc.assert(
      fc.property(fc.jsonValue(), text, (value, s) => {
        const doc = { value, s, tag: `</script${s}<!--${s}` };
        const out = jsonForScript(doc);
        expect(out).not.toMatch(/[<>&\u2028\u2029]/);
        expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(doc)));
      }),
    );
  });
});
