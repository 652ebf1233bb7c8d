import { configSchema, type TwindexConfig } from './config.schema.js';

/** Thrown for a bad environment; `message` is the one line an operator needs. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Blank values count as unset so that `FOO=` in a .env file falls back to the default. */
function withoutBlanks(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v.trim() !== '') out[k] = v;
  return out;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): TwindexConfig {
  const parsed = configSchema.safeParse(withoutBlanks(env));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ConfigError(`Invalid configuration: ${issue.path.join('.')} ${issue.message}`);
}

/** Reads `.env` when present (never overriding the real environment), validates, or exits with one clear line. */
export function loadConfigOrExit(): TwindexConfig {
  try {
    process.loadEnvFile?.('.env');
  } catch {
    // No .env file: the environment alone is the configuration.
  }
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
}
