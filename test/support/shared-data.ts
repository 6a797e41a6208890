import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `../shared/data` beside the repository; absent on a user's fresh clone, so tests using it must skip. */
export const SHARED_DATA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data');
export const CAPTURE_PATH = path.join(SHARED_DATA_DIR, 'bybit-v5-capture.jsonl');
export const captureAvailable = existsSync(CAPTURE_PATH);

export interface CaptureLine {
  readonly t: 'recv' | 'send' | 'connect' | 'http' | 'header';
  readonly conn?: string;
  readonly ts?: number;
  readonly data?: string;
  readonly url?: string;
}

/** Lines of the real Bybit capture (see ../shared/data/README.md). Linear frames are on conn BYBIT.ws.2. */
export function readCapture(): CaptureLine[] {
  return readFileSync(CAPTURE_PATH, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as CaptureLine);
}
