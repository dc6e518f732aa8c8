import type {Hook} from '@oclif/core';
import {printUsageToStderr} from '../lib/cli/usage.js';

/** `weave` alone prints the usage to stderr and fails, as the original did (oclif would exit 0). */
const hook: Hook.Init = async function ({config, id, argv}) {
  if (id !== undefined || argv.length > 0) return;
  await printUsageToStderr(config);
  this.exit(1);
};

export default hook;
