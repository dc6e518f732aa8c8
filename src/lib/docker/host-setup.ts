import type {Step} from '../display/task-list.js';
import {connectDocker, type DockerConnection} from './client.js';
import {DockerOperatorError} from './errors.js';
import {ensureImage, imageSummary} from './image.js';
import {formatImageRef, type ImageRef} from './image-ref.js';
import {installCni, type SetupOptions, type SetupReport} from '../setup/install.js';

export interface HostSetupOptions extends SetupOptions {
  /** The router image to make ready (chooseImage: --image, WEAVE_IMAGE, or this version's). */
  image: ImageRef;
}

/**
 * `weave setup`: the CNI install, then the router image (pulled, or built here). Without a
 * Docker engine the CNI install still counts: the image step then leaves a warning with the fix
 * instead of failing, since runtimes other than Docker use the plugin without the router image.
 */
export class HostSetup {
  /** What the CNI install did, once its step has run. */
  report?: SetupReport;
  /** Why the image was not made ready (no Docker engine answered), with the fix. */
  imageWarning?: string;

  constructor(private readonly options: HostSetupOptions) {}

  steps(): Step[] {
    return [
      {title: 'Install the weave CNI plugin', run: retitle => this.installCni(retitle)},
      {title: `Router image ${formatImageRef(this.options.image)}`, run: retitle => this.ensureImage(retitle)},
    ];
  }

  private async installCni(retitle: (title: string) => void): Promise<void> {
    const report = await installCni(this.options);
    this.report = report;
    retitle(
      report.missing.length > 0 ? `weave CNI plugin not installed: ${report.missing.join(' and ')} missing`
      : report.changes.length > 0 ? `Installed the weave CNI plugin in ${report.binDir}`
      : `weave CNI plugin already installed in ${report.binDir}`,
    );
  }

  private async ensureImage(retitle: (title: string) => void): Promise<void> {
    const image = formatImageRef(this.options.image);
    let connection: DockerConnection;
    try {
      connection = await connectDocker(this.options.env);
    } catch (error) {
      if (!(error instanceof DockerOperatorError)) throw error;
      this.imageWarning = `the router image ${image} is not ready: ${error.message} Then run \`weave setup\` again (\`weave launch\` also makes the image).`;
      retitle(`Router image ${image}: skipped, no Docker engine answered`);
      return;
    }
    const result = await ensureImage(connection.docker, this.options.image, {onStep: text => retitle(`Router image: ${text}`)});
    retitle(`Router image ${imageSummary(result)}`);
  }
}
