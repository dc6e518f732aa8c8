import * as Flags from '@oclif/core/flags';
import {RouterCommand} from '../lib/cli/router-command.js';
import {jsonFlag} from '../lib/cli/flags.js';

export default class Report extends RouterCommand {
  static override summary = 'Print everything the router knows, as JSON, or through a Go template';

  static override description = `The JSON is the original's (4-space indentation, no newline at the end): Ready, Version, VersionCheck, Router (peers, connections, targets, ...) and IPAM (omitted when IPAM is off). With --format, a Go text/template runs over it: fields (.Router.Name), len, range, if/else, with, printf, json, eq and friends. A template that does not parse exits 1 with Go's message.`;

  static override examples = [
    '<%= config.bin %> report',
    "<%= config.bin %> report -f '{{.Router.Name}}({{.Router.NickName}})'",
    "<%= config.bin %> report -f '{{len .Router.Peers}}'",
    `<%= config.bin %> report -f '{{range .Router.Targets}}{{.}}{{"\\n"}}{{end}}'`,
    "<%= config.bin %> report -f '{{json .IPAM}}'",
  ];

  static override enableJsonFlag = true;

  static override flags = {
    format: Flags.string({char: 'f', description: 'Go template to run over the report instead of printing its JSON', exclusive: ['json']}),
    json: jsonFlag('Print the report as JSON (the default)'),
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Report);
    const client = this.client(flags['http-addr']);
    this.write(flags.format === undefined ? await client.report() : await client.reportFormat(flags.format));
  }
}
