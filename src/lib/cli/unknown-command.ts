import type {Interfaces} from '@oclif/core';

/** How an unmatched command id splits: a command it starts with, or the words that name nothing. */
export type UnmatchedCommand = {command: string; args: string[]} | {unknown: string[]};

/**
 * oclif joins every leading word into the id (`weave run x` arrives as `run:x`, `weave version x`
 * as `version:x`), so split it again: a known command followed by stray arguments, or the words
 * up to the first one that names no command or topic (`run`, or `status peerz` under a topic).
 */
export function splitUnmatchedId(config: Interfaces.Config, id: string): UnmatchedCommand {
  const words = id.split(':');
  for (let depth = words.length - 1; depth > 0; depth--) {
    const prefix = words.slice(0, depth).join(':');
    if (config.findCommand(prefix)) return {command: prefix, args: words.slice(depth)};
  }
  let depth = 1;
  while (depth < words.length && config.findTopic(words.slice(0, depth).join(':'))) depth++;
  return {unknown: words.slice(0, depth)};
}
