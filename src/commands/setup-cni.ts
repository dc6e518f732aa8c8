import {CniSetupCommand} from '../lib/cli/cni-setup-command.js';
import {installCni} from '../lib/setup/install.js';

export default class SetupCni extends CniSetupCommand {
  // The original's hidden command for the CNI part of setup alone: no Docker, no image.
  static override hidden = true;
  static override description = 'Install the weave CNI plugin and network config only, as `weave setup` does, without the router image';

  static override examples = ['<%= config.bin %> setup-cni', '<%= config.bin %> setup-cni --cni-bin-dir /usr/libexec/cni --cni-conf-dir /etc/cni/net.d'];

  async run(): Promise<void> {
    const {flags} = await this.parse(SetupCni);
    this.printReport(await installCni(this.cniOptions(flags)));
  }
}
