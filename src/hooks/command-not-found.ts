import * as Errors from '@oclif/core/errors';
import type {Hook} from '@oclif/core';
import {removedCommandMessage} from '../lib/cli/removed-commands.js';
import {closestWord} from '../lib/cli/suggest.js';
import {splitUnmatchedId} from '../lib/cli/unknown-command.js';
import {printUsageToStderr} from '../lib/cli/usage.js';

/**
 * `weave <unknown>`: the original's messages on stderr and exit 1, instead of oclif's "command
 * not found": a removed command's two lines; a typo of a command, one line naming what was
 * meant; anything else, the original's line and the usage.
 */
const hook: Hook.CommandNotFound = async function ({config, id, argv}) {
  const split = splitUnmatchedId(config, id);
  // A real command with stray words: let it run, so that its parser names the unexpected argument.
  if ('command' in split) {
    try {
      return await config.runCommand(split.command, [...split.args, ...(argv ?? [])]);
    } catch (error) {
      // Re-raised bare: oclif's handler would append help for the original words, which name no command.
      if (error instanceof Errors.CLIError && 'parse' in error) this.error(error.message, {exit: error.oclif.exit ?? 1});
      throw error;
    }
  }

  const [word, ...rest] = split.unknown;
  const removed = rest.length === 0 ? removedCommandMessage(config.bin, word!) : undefined;
  if (removed) {
    process.stderr.write(`${removed}\n`);
    return this.exit(1);
  }
  const visible = config.commands.filter(command => !command.hidden).map(command => command.id.split(':')[0]!);
  const meant = closestWord(word!, new Set(visible));
  if (meant) {
    const line = [config.bin, meant, ...id.split(':').slice(1), ...(argv ?? [])].join(' ');
    process.stderr.write(`Unknown ${config.bin} command '${word}': did you mean \`${line}\`?\n`);
    return this.exit(1);
  }
  process.stderr.write(`Unknown ${config.bin} command '${split.unknown.join(' ')}'\n\n`);
  await printUsageToStderr(config);
  this.exit(1);
};

export default hook;
