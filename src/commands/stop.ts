import {DockerCommand} from '../lib/cli/docker-command.js';
import {connectDocker} from '../lib/docker/client.js';
import {routerPort} from '../lib/docker/reset.js';
import {inspectContainer} from '../lib/docker/router-container.js';
import {containerName} from '../lib/docker/spec.js';
import {forgetUdpFlows, NOT_RUNNING_MESSAGE, stopRouter} from '../lib/docker/stop.js';

export default class Stop extends DockerCommand {
  static override summary = 'Stop the weave router container';

  static override description = `Gives the router 10 s to shut down; its container, state and bridge stay, so \`weave launch\` starts it again with the same addresses. Exits 0 when no router runs.`;

  static override examples = ['<%= config.bin %> stop', 'WEAVE_CONTAINER_NAME=weave2 <%= config.bin %> stop'];

  async run(): Promise<void> {
    await this.parse(Stop);
    const {docker} = await connectDocker();
    const name = containerName(process.env);
    const port = routerPort(await inspectContainer(docker, name), process.env);
    if ((await stopRouter(docker, name)) === 'absent') process.stderr.write(`${NOT_RUNNING_MESSAGE}\n`);
    await forgetUdpFlows(port);
  }
}
