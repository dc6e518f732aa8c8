import {Command} from '@oclif/core';
import {servePluginProcess} from '../lib/cni/process.js';

export default class WeaveNet extends Command {
  static override hidden = true;
  static override description = 'Run the weave-net CNI plugin (the container runtime calls it with CNI_* variables and the config on stdin)';
  static override examples = ['CNI_COMMAND=VERSION <%= config.bin %> weave-net'];

  async run(): Promise<void> {
    await this.parse(WeaveNet);
    await servePluginProcess('weave-net');
  }
}
