/**
 * Escaping for the self-contained HTML report. Every string that reaches the page (symbols, close reasons,
 * refusal reasons, the title) comes from data, and data can be hostile or just odd (`<`, quotes, `</script`),
 * so text is never concatenated into markup unescaped.
 */

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for an HTML text node or a quoted attribute value (both quote kinds are escaped, so either
 * quoting works). Lone surrogates pass through: the page is UTF-8 and the browser shows a replacement mark.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * JSON for a `<script type="application/json">` block. Inside a script element the HTML parser only looks
 * for `</script` and `<!--` (which can switch it into the "escaped" state), so every `<` (and, for good
 * measure, `>` and `&`) is written as a JSON unicode escape: `JSON.parse` gives back exactly the same value,
 * and no string in the data can end the element or open a comment. U+2028/U+2029 are escaped too, so the
 * text stays valid if someone pastes it into a JavaScript literal.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
