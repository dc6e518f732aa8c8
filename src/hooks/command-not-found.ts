import {Errors, type Hook} from '@oclif/core';
import {removedCommandMessage} from '../lib/cli/removed-commands.js';
import {splitUnmatchedId} from '../lib/cli/unknown-command.js';
import {printUsageToStderr} from '../lib/cli/usage.js';

/** `weave <unknown>`: the original's messages on stderr and exit 1, instead of oclif's "command not found". */
const hook: Hook.CommandNotFound = async function ({config, id, argv}) {
  const split = splitUnmatchedId(config, id);
  // A real command with stray words: let it run, so that its parser names the unexpected argument.
  if ('command' in split) {
    try {
      return await config.runCommand(split.command, [...split.args, ...(argv ?? [])]);
    } catch (error) {
      // Re-raised bare: oclif's handler would append help for the original words, which name no command.
      if (error instanceof Errors.CLIError && 'parse' in error) this.error(error.message, {exit: error.oclif.exit ?? 2});
      throw error;
    }
  }

  const removed = split.unknown.length === 1 ? removedCommandMessage(config.bin, split.unknown[0]) : undefined;
  if (removed) {
    process.stderr.write(`${removed}\n`);
  } else {
    process.stderr.write(`Unknown ${config.bin} command '${split.unknown.join(' ')}'\n\n`);
    await printUsageToStderr(config);
  }
  this.exit(1);
};

export default hook;
