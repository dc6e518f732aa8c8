import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Config} from '@oclif/core';
import {type CompletionFlag, type CompletionTree, loadCommandTree} from '../../scripts/completion/command-tree.js';
import {COMPLETIONS_DIR} from '../../src/lib/cli/completion-files.js';
import {completionScripts, type CompletionScript, writeCompletions} from '../../scripts/completion/scripts.js';
import {PACKAGE_ROOT} from '../../src/lib/package.js';
import {bashComplete, fishComplete, zshComplete} from '../helpers/complete.js';
import {runWeave} from '../helpers/setup-cli.js';
import {requireTool} from '../helpers/root.js';

/** A command line as the cursor leaves it, and what completion must (and must not) offer there. */
interface Case {
  line: string;
  offers: string[];
  not?: string[];
}

/** Each shell's answers for the cases, in order. */
type Completer = (cases: Case[]) => Promise<string[][]>;

/** bash splits "--flag=value" at '=' into words of their own (COMP_WORDBREAKS). */
function bashWords(line: string): string[] {
  return line.split(' ').flatMap((word) => word.replace(/^(-[^=]*)=/, '$1\n=\n').split('\n'));
}

function completers(dir: string, bin: string): Record<'bash' | 'zsh' | 'fish', Completer> {
  const fn = `_${bin.replaceAll(/[^A-Za-z0-9_]/g, '_')}`;
  return {
    bash: async (cases) => cases.map(({line}) => bashComplete(join(dir, `${bin}.bash`), fn, bashWords(line))),
    zsh: (cases) => zshComplete(dir, cases.map(({line}) => line)),
    fish: async (cases) => cases.map(({line}) => fishComplete(join(dir, `${bin}.fish`), line)),
  };
}

/** Runs the cases in every shell; fish answers "--flag=value" whole, so only the value is compared. */
async function assertCompletions(dir: string, bin: string, cases: Case[]): Promise<void> {
  for (const [shell, complete] of Object.entries(completers(dir, bin))) {
    const answers = await complete(cases);
    for (const [index, {line, offers, not = []}] of cases.entries()) {
      const got = answers[index].map((word) => word.replace(/^-[^=]*=/, ''));
      for (const word of offers) assert.ok(got.includes(word), `${shell}: '${line}' should offer ${word}; it offered [${got.join(' ')}]`);
      for (const word of not) assert.ok(!got.includes(word), `${shell}: '${line}' should not offer ${word}; it offered [${got.join(' ')}]`);
    }
  }
}

function syntaxCheck(script: CompletionScript, path: string): void {
  const check: Record<CompletionScript['shell'], [string, string[]]> = {
    bash: ['bash', ['-n', path]],
    zsh: ['zsh', ['-n', path]],
    fish: ['fish', ['--no-execute', path]],
  };
  const [shell, args] = check[script.shell];
  requireTool(shell, shell);
  execFileSync(shell, args, {stdio: 'pipe'});
}

describe('shell completion', () => {
  describe('the committed scripts', () => {
    let tree: CompletionTree;
    let config: Config;
    before(async () => {
      config = await Config.load(PACKAGE_ROOT);
      tree = await loadCommandTree();
    });

    it('are what the command tree generates now (else run `npm run completions`)', () => {
      for (const {file, text} of completionScripts(tree)) {
        let committed = '';
        try {
          committed = readFileSync(join(COMPLETIONS_DIR, file), 'utf8');
        } catch {}
        assert.ok(committed === text, `completions/${file} is stale or missing: run \`npm run completions\` and commit the result`);
      }
    });

    it('are valid bash, zsh and fish', () => {
      for (const script of completionScripts(tree)) syntaxCheck(script, join(COMPLETIONS_DIR, script.file));
    });

    it('offer every visible command of oclif and nothing hidden', () => {
      const visible = config.commands.filter((c) => !c.hidden).map((c) => c.id.split(':')[0]);
      const hidden = config.commands.filter((c) => c.hidden).map((c) => c.id.split(':')[0]);
      assert.ok(hidden.includes('setup-cni') && hidden.includes('router'));
      const offered = tree.root.children.map((child) => child.path[1]);
      assert.deepEqual(offered, [...new Set(visible)].sort());
      for (const id of hidden) assert.ok(!offered.includes(id), `hidden command ${id} is offered`);
    });

    it('complete `weave ver` to version in bash', () => {
      assert.deepEqual(bashComplete(join(COMPLETIONS_DIR, 'weave.bash'), '_weave', ['weave', 'ver']), ['version']);
    });

    it('complete every command and its flags, but no hidden command, in bash, zsh and fish', async () => {
      const cases: Case[] = [{line: 'weave ver', offers: ['version']}, {line: 'weave setup', offers: ['setup'], not: ['setup-cni']}, {line: 'weave ro', offers: [], not: ['router']}];
      for (const command of config.commands.filter((c) => !c.hidden)) {
        const words = command.id.split(':');
        const last = words.at(-1)!;
        cases.push({line: `weave ${[...words.slice(0, -1), last.slice(0, 2)].join(' ')}`, offers: [last]});
        const flags = Object.values(command.flags).filter((flag) => !flag.hidden).map((flag) => `--${flag.name}`);
        cases.push({line: `weave ${words.join(' ')} --`, offers: [...flags, '--help']});
      }
      await assertCompletions(COMPLETIONS_DIR, 'weave', cases);
    });

    it('complete status pages, log levels, CNI versions and shells in bash, zsh and fish', async () => {
      await assertCompletions(COMPLETIONS_DIR, 'weave', [
        {line: 'weave status ', offers: ['targets', 'connections', 'peers', 'ipam'], not: ['status']},
        {line: 'weave status p', offers: ['peers'], not: ['ipam']},
        {line: 'weave status --json ', offers: ['targets', 'ipam']},
        {line: 'weave launch --log-level ', offers: ['debug', 'info', 'warning', 'error']},
        {line: 'weave launch --log-level=w', offers: ['warning'], not: ['error']},
        {line: 'weave setup --cni-version ', offers: ['0.3.0', '0.4.0', '1.0.0', '1.1.0'], not: ['0.2.0']},
        {line: 'weave completion ', offers: ['bash', 'zsh', 'fish']},
      ]);
    });

    it('`weave completion <shell>` prints the committed script of that shell, which its help says how to install', () => {
      for (const {shell, file} of completionScripts(tree)) {
        const run = runWeave(['completion', shell]);
        assert.equal(run.exitCode, 0, run.stderr);
        assert.equal(run.stdout, readFileSync(join(COMPLETIONS_DIR, file), 'utf8'));
      }
      const help = runWeave(['completion', '--help']);
      for (const line of ['weave completion bash > /etc/bash_completion.d/weave', 'weave completion zsh > ', 'weave completion fish > ~/.config/fish/completions/weave.fish']) {
        assert.ok(help.stdout.includes(line), `the help should show ${line}:\n${help.stdout}`);
      }
      const bad = runWeave(['completion', 'tcsh']);
      assert.equal(bad.exitCode, 1);
      assert.match(bad.stderr, /Expected tcsh to be one of: bash, zsh, fish/);
    });
  });

  describe('generated from a tree with topics, flag values and repeating arguments', () => {
    const flag = (long: string, extra: Partial<CompletionFlag> = {}): CompletionFlag => ({
      long: [long],
      short: [],
      description: `the ${long} flag`,
      takesValue: false,
      values: [],
      repeatable: false,
      ...extra,
    });
    const help = flag('help');
    // Pure data standing in for oclif, with the shapes the real commands do not have yet.
    const fixture: CompletionTree = {
      bin: 'fx-cli',
      root: {
        path: ['fx-cli'],
        description: 'A fixture',
        flags: [help, flag('version')],
        args: [],
        variadic: false,
        children: [
          {
            path: ['fx-cli', 'deploy'],
            description: "Deploy it (it's quoted, [bracketed]: and $dollared)",
            flags: [
              flag('conf', {takesValue: true, description: "a file, isn't it"}),
              flag('force', {long: ['force', 'no-force']}),
              help,
              flag('level', {short: ['l'], takesValue: true, values: ['debug', 'info']}),
            ],
            args: [
              {name: 'target', description: 'where to', values: ['prod', 'staging']},
              {name: 'extra', description: 'more', values: ['a', 'b']},
            ],
            variadic: true,
            children: [],
          },
          {
            path: ['fx-cli', 'status'],
            description: 'Topic without a command',
            flags: [help],
            args: [],
            variadic: false,
            children: [
              {path: ['fx-cli', 'status', 'dns'], description: 'DNS', flags: [help], args: [], variadic: false, children: []},
              {path: ['fx-cli', 'status', 'peers'], description: 'Peers', flags: [flag('watch'), help], args: [], variadic: false, children: []},
            ],
          },
        ],
      },
    };
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'weave-completions-'));
      await writeCompletions(fixture, dir);
    });
    after(() => rmSync(dir, {recursive: true, force: true}));

    it('names the files as each shell expects', () => {
      assert.deepEqual(completionScripts(fixture).map((s) => s.file), ['fx-cli.bash', '_fx-cli', 'fx-cli.fish']);
    });

    it('is valid bash, zsh and fish', () => {
      for (const script of completionScripts(fixture)) syntaxCheck(script, join(dir, script.file));
    });

    it('completes subcommands, flags, flag values and arguments in bash, zsh and fish', async () => {
      await assertCompletions(dir, 'fx-cli', [
        {line: 'fx-cli dep', offers: ['deploy']},
        {line: 'fx-cli ', offers: ['deploy', 'status']},
        {line: 'fx-cli --', offers: ['--help', '--version']},
        {line: 'fx-cli deploy --', offers: ['--conf', '--force', '--no-force', '--help', '--level']},
        {line: 'fx-cli deploy --level ', offers: ['debug', 'info'], not: ['prod']},
        {line: 'fx-cli deploy -l ', offers: ['debug', 'info']},
        {line: 'fx-cli deploy --level=d', offers: ['debug'], not: ['info']},
        {line: 'fx-cli deploy ', offers: ['prod', 'staging'], not: ['debug', 'a']},
        {line: 'fx-cli deploy --level info s', offers: ['staging'], not: ['prod']},
        {line: 'fx-cli deploy --level=info --force p', offers: ['prod']},
        {line: 'fx-cli deploy prod ', offers: ['a', 'b'], not: ['prod']},
        {line: 'fx-cli deploy prod a ', offers: ['a', 'b']},
        {line: 'fx-cli status ', offers: ['dns', 'peers'], not: ['deploy']},
        {line: 'fx-cli status peers --', offers: ['--watch', '--help']},
        {line: 'fx-cli status dns --', offers: ['--help'], not: ['--watch']},
      ]);
    });
  });
});
