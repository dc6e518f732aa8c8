import * as Flags from '@oclif/core/flags';
import type {Interfaces} from '@oclif/core';
import {CONFLIST_VERSIONS} from '../setup/conflist.js';
import {mkdirCommand} from '../setup/dirs.js';
import type {SetupOptions, SetupReport} from '../setup/install.js';
import {noColorFlag, stderrColors} from '../display/terminal.js';
import {WeaveCommand} from './weave-command.js';

/**
 * What `setup` and `setup-cni` share: the CNI directory flags, the report of the install (one
 * line per change on stdout, warnings on stderr).
 */
export abstract class CniSetupCommand extends WeaveCommand {
  static override baseFlags = {
    'no-color': noColorFlag,
  };

  static override flags = {
    'cni-bin-dir': Flags.string({description: 'CNI plugin directory [default: $WEAVE_CNI_PLUGIN_DIR, else /opt/cni/bin]'}),
    'cni-conf-dir': Flags.string({description: 'CNI network config directory [default: $WEAVE_CNI_CONF_DIR, else /etc/cni/net.d]'}),
    'cni-version': Flags.string({
      description: 'cniVersion for a new 10-weave.conflist [default: 0.4.0, listing 0.4.0, 1.0.0 and 1.1.0 in "cniVersions"]',
    }),
  };

  static override completionValues = {'cni-version': CONFLIST_VERSIONS};

  protected readonly colors = stderrColors();

  protected cniOptions(flags: Interfaces.InferredFlags<typeof CniSetupCommand.flags>): SetupOptions {
    return {binDir: flags['cni-bin-dir'], confDir: flags['cni-conf-dir'], cniVersion: flags['cni-version']};
  }

  /** Not this.warn(): it rewraps lines and would break the fix commands apart. */
  protected warning(text: string): void {
    process.stderr.write(`${this.colors.yellow(`warning: ${text}`)}\n`);
  }

  protected printReport(report: SetupReport): void {
    if (report.missing.length > 0) {
      const which = report.missing.length === 1 ? `${report.missing[0]} does not exist` : `${report.missing.join(' and ')} do not exist`;
      const them = report.missing.length === 1 ? 'it' : 'them';
      this.log(`weave CNI plugin not installed: ${which}. Create ${them}, then run \`${this.config.bin} setup\` again:`);
      this.log(`  ${mkdirCommand(report.missing)}`);
      return;
    }
    for (const change of report.changes) this.log(change);
    if (report.changes.length === 0) this.log(`weave CNI plugin already installed in ${report.binDir}; nothing changed`);
    for (const warning of report.warnings) this.warning(warning);
  }
}
