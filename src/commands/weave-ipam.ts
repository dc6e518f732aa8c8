import {Command} from '@oclif/core';
import {servePluginProcess} from '../lib/cni/process.js';

export default class WeaveIpam extends Command {
  static override hidden = true;
  static override description = 'Run the weave-ipam CNI IPAM plugin (another CNI plugin calls it as its "ipam.type")';
  static override examples = ['CNI_COMMAND=VERSION <%= config.bin %> weave-ipam'];

  async run(): Promise<void> {
    await this.parse(WeaveIpam);
    await servePluginProcess('weave-ipam');
  }
}
