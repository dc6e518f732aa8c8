import {Config} from '@oclif/core/config';
import {execute} from '@oclif/core/execute';
import {printUsageToStderr} from './lib/cli/usage.js';

/**
 * The CLI, as bin/weave.js runs it: oclif reads oclif.manifest.json and loads only the module of
 * the command that runs. Bundled with the commands and hooks into dist/cli (npm run bundle), with
 * the code they share in common chunks, so a command loads a few files instead of ~250 modules.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  if (argv.length === 0) {
    // `weave` alone prints the usage to stderr and fails, as the original did (oclif would exit 0).
    await printUsageToStderr(await Config.load(import.meta.url));
    process.exitCode = 1;
    return;
  }
  await execute({dir: import.meta.url});
}
