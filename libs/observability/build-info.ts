import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';

export interface BuildInfo {
  version: string;
  commit: string;
  node: string;
}

let cached: BuildInfo | undefined;

/**
 * What is running: the package version, the commit (GIT_COMMIT, set by the image build, else `git rev-parse` when run
 * from a checkout, else "unknown") and the Node version. Read once per process.
 */
export function buildInfo(): BuildInfo {
  if (cached) return cached;
  let version = 'unknown';
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    version = pkg.version ?? version;
  } catch {
    try {
      // Running from sources (tests): one directory less between here and package.json.
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version?: string;
      };
      version = pkg.version ?? version;
    } catch {
      // No package.json beside the build: the version stays unknown.
    }
  }
  cached = { version, commit: process.env.GIT_COMMIT || gitCommit(), node: process.version };
  return cached;
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 2_000,
    })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

/** `twindex_build_info{version,commit,node} 1`, the usual Prometheus way to publish what is deployed. */
export function registerBuildInfo(registry: Registry): void {
  const info = buildInfo();
  new Gauge({
    name: 'twindex_build_info',
    help: 'Version, commit and Node.js version of this process (always 1)',
    labelNames: ['version', 'commit', 'node'] as const,
    registers: [registry],
  }).set(info, 1);
}
