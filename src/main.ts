import {execute} from '@oclif/core/execute';

/**
 * The CLI, as bin/weave.js runs it: oclif reads oclif.manifest.json and loads only the module of
 * the command that runs. Bundled with the commands and hooks into dist/cli (npm run bundle), with
 * the code they share in common chunks, so a command loads a few files instead of ~250 modules.
 */
export async function main(): Promise<void> {
  await execute({dir: import.meta.url});
}
