import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * External tools some tests drive (promtool, prometheus, chromium). Absent tools skip those tests, unless
 * WHALESTACK_REQUIRE_TOOLS=1 (CI), where a missing tool is a failure rather than a silent skip.
 */
export const requireTools = process.env.WHALESTACK_REQUIRE_TOOLS === '1';

/** The tool's path on PATH (or /usr/bin), or undefined; throws when it is required and absent. */
export function findTool(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin']) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  if (requireTools) throw new Error(`${name} is required (WHALESTACK_REQUIRE_TOOLS=1) but not found on PATH`);
  return undefined;
}
