import { ConfigError, loadConfig } from '../../src/cli/config.js';

/** The lines `loadConfig` refuses `env` (and an optional config file) with; empty when it is accepted. */
export function problemsOf(env: Record<string, string>, file?: string): string[] {
  try {
    loadConfig(env, file);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}
