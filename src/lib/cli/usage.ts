import {loadHelpClass} from '@oclif/core/help';
import type {Interfaces} from '@oclif/core';

/** oclif's help for `argv` (a command's words, or none for the root), on stdout or, for a bad command line, stderr. */
export async function showHelp(config: Interfaces.Config, argv: readonly string[], sendToStderr = false): Promise<void> {
  const Help = await loadHelpClass(config);
  const helpOptions = config.pjson.oclif.helpOptions ?? config.pjson.helpOptions;
  await new Help(config, {...helpOptions, sendToStderr}).showHelp([...argv]);
}

/** Prints the root help to stderr, as the original `weave` printed its usage for a bad command line. */
export async function printUsageToStderr(config: Interfaces.Config): Promise<void> {
  await showHelp(config, [], true);
}
