import {type CompletionFlag, type CompletionNode, type CompletionTree, spellings, walk} from './command-tree.js';
import {fishQuote, identifier} from './quote.js';

/**
 * The fish completion script: `complete` lines guarded by conditions on the command path typed
 * so far (e.g. `weave:status`) and on how many positional arguments follow it.
 */
export function fishCompletion(tree: CompletionTree): string {
  const fn = `__${identifier(tree.bin)}`;
  const bin = fishQuote(tree.bin);
  const nodes = [...walk(tree.root)];
  const key = (node: CompletionNode): string => node.path.join(':');
  const condition = (...words: Array<string | number>): string => fishQuote(words.map((w) => fishQuote(String(w))).join(' '));

  const subcommands = nodes
    .filter((node) => node.children.length > 0)
    .map((node) => switchCase(key(node), node.children.map((child) => child.path.at(-1)!)));
  const valueFlags = nodes
    .filter((node) => node.flags.some((flag) => flag.takesValue))
    .map((node) => switchCase(key(node), node.flags.filter((flag) => flag.takesValue).flatMap(spellings)));

  const completions = nodes.map((node) => {
    const lines = [`# ${node.path.join(' ')}`];
    for (const child of node.children) {
      lines.push(`complete -c ${bin} -n ${condition(`${fn}_arg`, key(node), 0)} -a ${fishQuote(child.path.at(-1)!)} -d ${fishQuote(child.description)}`);
    }
    for (const flag of node.flags) lines.push(`complete -c ${bin} -n ${condition(`${fn}_at`, key(node))} ${flagOptions(flag)}`);
    for (const [index, arg] of node.args.entries()) {
      if (arg.values.length === 0) continue;
      const repeats = node.variadic && index === node.args.length - 1;
      const test = condition(repeats ? `${fn}_arg_from` : `${fn}_arg`, key(node), index);
      lines.push(`complete -c ${bin} -n ${test} -a ${fishQuote(arg.values.join(' '))} -d ${fishQuote(arg.description || arg.name)}`);
    }
    return lines.join('\n');
  });

  return `# fish completion for ${tree.bin}: generated from its oclif commands by \`npm run completions\`; do not edit.
# Install: copy to ~/.config/fish/completions/${tree.bin}.fish

function ${fn}_subcommands --description 'The subcommands that may follow the command path $argv[1]'
    switch $argv[1]
${subcommands.join('\n')}
    end
end

function ${fn}_value_flags --description 'The flags of the command path $argv[1] that take a value'
    switch $argv[1]
${valueFlags.join('\n')}
    end
end

function ${fn}_state --description 'Print the command path typed so far, then how many positional arguments follow it'
    set -l tokens (commandline -opc)
    set -l path ${fishQuote(tree.bin)}
    set -l i 2
    while test $i -le (count $tokens); and contains -- $tokens[$i] (${fn}_subcommands $path)
        set path $path:$tokens[$i]
        set i (math $i + 1)
    end
    set -l value_flags (${fn}_value_flags $path)
    set -l n 0
    while test $i -le (count $tokens)
        if string match -q -- '-*' $tokens[$i]
            # "--flag value" skips the value too; "--flag=value" is one token.
            contains -- $tokens[$i] $value_flags; and set i (math $i + 1)
        else
            set n (math $n + 1)
        end
        set i (math $i + 1)
    end
    printf '%s\\n' $path $n
end

function ${fn}_at --description 'Is the command path typed so far $argv[1]?'
    set -l state (${fn}_state)
    test "$state[1]" = "$argv[1]"
end

function ${fn}_arg --description 'Is the cursor on positional argument $argv[2] (from 0) of the command path $argv[1]?'
    set -l state (${fn}_state)
    test "$state[1]" = "$argv[1]"; and test "$state[2]" -eq "$argv[2]"
end

function ${fn}_arg_from --description 'Is the cursor on positional argument $argv[2] (from 0) or a later one of the command path $argv[1]?'
    set -l state (${fn}_state)
    test "$state[1]" = "$argv[1]"; and test "$state[2]" -ge "$argv[2]"
end

# Nothing but what is listed below: free-form flag values ask for file names themselves.
complete -c ${bin} -f

${completions.join('\n\n')}
`;
}

function switchCase(pattern: string, words: string[]): string {
  return `        case ${fishQuote(pattern)}\n            printf '%s\\n' ${words.map(fishQuote).join(' ')}`;
}

function flagOptions(flag: CompletionFlag): string {
  const names = [...flag.long.map((l) => `-l ${fishQuote(l)}`), ...flag.short.map((s) => `-s ${fishQuote(s)}`)];
  const value = !flag.takesValue ? [] : flag.values.length > 0 ? ['-x', '-a', fishQuote(flag.values.join(' '))] : ['-r', '-F'];
  return [...names, ...value, '-d', fishQuote(flag.description)].join(' ');
}
