import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium package; playwright-core drives it without downloading a browser of its own. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Whether the browser tests can run: chromium present, or absent and allowed to skip. With
 * WHALESTACK_REQUIRE_TOOLS=1 (CI) an absent browser is a failure, not a skip.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.WHALESTACK_REQUIRE_TOOLS === '1') throw new Error(`WHALESTACK_REQUIRE_TOOLS=1 but chromium is not at ${CHROMIUM_PATH}`);
  return false;
}

/**
 * Headless chromium as this sandbox allows it: `--no-sandbox` because the tests may run as root or in a
 * container without user namespaces; software GL is fine for 2D canvases.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}
