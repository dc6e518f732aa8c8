import {execFileSync} from 'node:child_process';

/**
 * Suites that need root fail loudly without it: a skipped kernel suite must never pass as green.
 * Call at the top of a describe() body.
 */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('this suite needs root (network namespaces, links, iptables): run the tests as root');
}

/** Fails when a tool the suite drives is missing, naming the apt package to install. */
export function requireTool(tool: string, aptPackage: string): void {
  try {
    execFileSync('sh', ['-c', `command -v "$1" || test -x "$1"`, 'sh', tool], {stdio: 'ignore'});
  } catch {
    throw new Error(`${tool} is missing: apt-get install -y ${aptPackage} (scripts/install-deps.sh does this)`);
  }
}
