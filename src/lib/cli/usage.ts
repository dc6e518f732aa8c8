import {type Interfaces, loadHelpClass} from '@oclif/core';

/** Prints the root help to stderr, as the original `weave` printed its usage for a bad command line. */
export async function printUsageToStderr(config: Interfaces.Config): Promise<void> {
  const Help = await loadHelpClass(config);
  const helpOptions = config.pjson.oclif.helpOptions ?? config.pjson.helpOptions;
  await new Help(config, {...helpOptions, sendToStderr: true}).showHelp([]);
}
