import {Command, Flags} from '@oclif/core';
import {mkdirCommand} from '../lib/setup/dirs.js';
import {SetupError} from '../lib/setup/errors.js';
import {installCni, type SetupReport} from '../lib/setup/install.js';

export default class Setup extends Command {
  // The original's hidden name for the CNI-only part of setup, which is all our setup does.
  static override hiddenAliases = ['setup-cni'];
  static override description =
    'Install the weave CNI plugin (weave-net, weave-ipam) and the weave network config, where container runtimes find them';

  static override examples = [
    '<%= config.bin %> setup',
    '<%= config.bin %> setup --cni-bin-dir /usr/libexec/cni --cni-conf-dir /etc/cni/net.d',
    '<%= config.bin %> setup --cni-version 1.0.0',
    'WEAVE_CNI_PLUGIN_DIR=/usr/libexec/cni HAIRPIN_MODE=false <%= config.bin %> setup',
  ];

  static override flags = {
    'cni-bin-dir': Flags.string({description: 'CNI plugin directory [default: $WEAVE_CNI_PLUGIN_DIR, else /opt/cni/bin]'}),
    'cni-conf-dir': Flags.string({description: 'CNI network config directory [default: $WEAVE_CNI_CONF_DIR, else /etc/cni/net.d]'}),
    'cni-version': Flags.string({
      description: 'cniVersion for a new 10-weave.conflist [default: 0.4.0, listing 0.4.0, 1.0.0 and 1.1.0 in "cniVersions"]',
    }),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Setup);
    let report: SetupReport;
    try {
      report = await installCni({binDir: flags['cni-bin-dir'], confDir: flags['cni-conf-dir'], cniVersion: flags['cni-version']});
    } catch (error) {
      if (error instanceof SetupError) this.error(error.message, {exit: error.exitCode});
      throw error;
    }
    this.print(report);
  }

  private print(report: SetupReport): void {
    if (report.missing.length > 0) {
      const which = report.missing.length === 1 ? `${report.missing[0]} does not exist` : `${report.missing.join(' and ')} do not exist`;
      const them = report.missing.length === 1 ? 'it' : 'them';
      this.log(`weave CNI plugin not installed: ${which}. Create ${them}, then run \`${this.config.bin} setup\` again:`);
      this.log(`  ${mkdirCommand(report.missing)}`);
      return;
    }
    for (const change of report.changes) this.log(change);
    if (report.changes.length === 0) this.log(`weave CNI plugin already installed in ${report.binDir}; nothing changed`);
    // Not this.warn(): it rewraps lines and would break the fix commands apart.
    for (const warning of report.warnings) this.logToStderr(`warning: ${warning}`);
  }
}
