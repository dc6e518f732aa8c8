import * as Flags from '@oclif/core/flags';
import {DockerCommand} from '../lib/cli/docker-command.js';
import {connectDocker} from '../lib/docker/client.js';
import {DockerOperatorError} from '../lib/docker/errors.js';
import {resetLosses, resetRouter, resetTarget, type ResetTarget, STOPPED_REFUSAL} from '../lib/docker/reset.js';
import {isRunning} from '../lib/docker/router-container.js';
import {containerName} from '../lib/docker/spec.js';

export default class Reset extends DockerCommand {
  static override summary = 'Remove the weave router, its state, the weave bridge and its iptables rules from this host';

  static override description = `A running router first hands its address ranges to another peer. A router that exists but is not running cannot, so reset refuses unless --force. On a terminal, reset says what will be lost and asks first; --force, --yes or no terminal skip the question.`;

  static override examples = ['<%= config.bin %> reset', '<%= config.bin %> reset --yes', '<%= config.bin %> reset --force'];

  static override flags = {
    force: Flags.boolean({description: 'Reset even when the router exists but is stopped (its address ranges are not handed over); do not ask'}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask for confirmation'}),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Reset);
    const {docker} = await connectDocker();
    const target = await resetTarget(docker, containerName(process.env));
    // Refuse before asking: a question whose yes cannot be honoured wastes the operator's time.
    if (target.container && !isRunning(target.container) && !flags.force) throw new DockerOperatorError(STOPPED_REFUSAL, 1);
    if (!flags.force && !flags.yes && process.stdin.isTTY && process.stdout.isTTY && !(await this.confirmed(target))) {
      process.stderr.write('Reset cancelled: nothing was removed.\n');
      return this.exit(1);
    }
    await resetRouter(docker, target, {force: flags.force, httpAddr: flags['http-addr']});
  }

  private async confirmed(target: ResetTarget): Promise<boolean> {
    const {confirm} = await import('@inquirer/prompts');
    this.log('weave reset removes from this host:');
    for (const line of resetLosses(target)) this.log(`  - ${line}`);
    try {
      return await confirm({message: 'Reset weave on this host?', default: false});
    } catch {
      return false; // Ctrl-C or a closed terminal: as a no
    }
  }
}
