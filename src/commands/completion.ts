import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import * as Args from '@oclif/core/args';
import {COMPLETIONS_DIR, SHELLS} from '../lib/cli/completion-files.js';
import {WeaveCommand} from '../lib/cli/weave-command.js';

export default class Completion extends WeaveCommand {
  static override summary = 'Print the shell completion script for bash, zsh or fish';

  static override description = `Completes commands, flags, status pages, log levels and the other fixed values. Install it once (as root for every user), then open a new shell:
  bash:  weave completion bash > /etc/bash_completion.d/weave   (or: source <(weave completion bash) in ~/.bashrc)
  zsh:   weave completion zsh > /usr/local/share/zsh/site-functions/_weave   (a directory on $fpath; then compinit)
  fish:  weave completion fish > ~/.config/fish/completions/weave.fish`;

  static override examples = [
    '<%= config.bin %> completion bash > /etc/bash_completion.d/<%= config.bin %>',
    '<%= config.bin %> completion zsh > /usr/local/share/zsh/site-functions/_<%= config.bin %>',
    '<%= config.bin %> completion fish > ~/.config/fish/completions/<%= config.bin %>.fish',
  ];

  static override args = {
    shell: Args.string({description: 'The shell to complete in', required: true, options: Object.keys(SHELLS)}),
  };

  async run(): Promise<void> {
    const {args} = await this.parse(Completion);
    const file = SHELLS[args.shell as keyof typeof SHELLS](this.config.bin);
    this.write(await readFile(join(COMPLETIONS_DIR, file), 'utf8'));
  }
}
