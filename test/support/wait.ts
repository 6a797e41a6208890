/**
 * Polls `probe` until it yields something other than undefined or false, and returns it; fails with a message
 * naming `what` after `timeoutMs`. For integration tests whose conditions arrive over real sockets.
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Cleanups registered during a test, run last-in first-out by `runAll` (call it from afterEach). */
export class Cleanups {
  private readonly stack: (() => Promise<unknown> | unknown)[] = [];
  push(fn: () => Promise<unknown> | unknown): void {
    this.stack.push(fn);
  }
  async runAll(): Promise<void> {
    while (this.stack.length > 0) {
      try {
        await this.stack.pop()!();
      } catch {
        // A cleanup that fails (a server already stopped) must not hide the test's own result.
      }
    }
  }
}
