import {type CompletionNode, type CompletionTree, spellings, walk} from './command-tree.js';
import {identifier, shQuote} from './quote.js';

/**
 * The bash completion script: lookup tables generated from the tree (keyed by the command path
 * typed so far, e.g. `weave:status`), read by one fixed completion function.
 */
export function bashCompletion(tree: CompletionTree): string {
  const fn = `_${identifier(tree.bin)}`;
  const nodes = [...walk(tree.root)];
  const key = (node: CompletionNode): string => node.path.join(':');
  const words = (list: string[]): string => shQuote(list.join(' '));

  const subcommands = nodes
    .filter((node) => node.children.length > 0)
    .map((node): Case => [shQuote(key(node)), `echo ${words(node.children.map((child) => child.path.at(-1)!))}`]);
  const flags = nodes.map((node): Case => [shQuote(key(node)), `echo ${words(node.flags.flatMap(spellings))}`]);
  const valueFlags = nodes
    .filter((node) => node.flags.some((flag) => flag.takesValue))
    .map((node): Case => [shQuote(key(node)), `echo ${words(node.flags.filter((flag) => flag.takesValue).flatMap(spellings))}`]);
  const flagValues = nodes.flatMap((node) =>
    node.flags
      .filter((flag) => flag.values.length > 0)
      .map((flag): Case => [spellings(flag).map((spelling) => shQuote(`${key(node)} ${spelling}`)).join('|'), `echo ${words(flag.values)}`]),
  );
  const argValues = nodes.flatMap((node) => argCases(node, key(node), words));

  return `# bash completion for ${tree.bin}: generated from its oclif commands by \`npm run completions\`; do not edit.
# Install: copy to /etc/bash_completion.d/${tree.bin}, or source it from ~/.bashrc.

# The subcommands that may follow the command path $1.
${fn}_subcommands() {
${caseBlock('$1', subcommands)}
}

# The flags of the command path $1.
${fn}_flags() {
${caseBlock('$1', flags)}
}

# The flags of the command path $1 that take a value.
${fn}_value_flags() {
${caseBlock('$1', valueFlags)}
}

# The fixed values of the flag in "$1" (command path, a space, the flag).
${fn}_flag_values() {
${caseBlock('$1', flagValues)}
}

# The fixed values of positional argument $2 (counted from 0) of the command path $1.
${fn}_arg_values() {
${caseBlock('"$1 $2"', argValues)}
}

${fn}_takes_value() {
  [[ " $(${fn}_value_flags "$1") " == *" $2 "* ]]
}

${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local path=${shQuote(tree.bin)} word i=1 n=0 flag=
  # Follow the subcommand words typed so far.
  while ((i < COMP_CWORD)); do
    word=\${COMP_WORDS[i]}
    [[ " $(${fn}_subcommands "$path") " == *" $word "* ]] || break
    path=$path:$word
    i=$((i + 1))
  done
  # A flag's value, after "--flag " or "--flag=" (bash splits the '=' into a word of its own).
  if [[ $cur == = ]]; then
    flag=$prev cur=
  elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
    flag=\${COMP_WORDS[COMP_CWORD-2]}
  elif [[ $prev == -* ]]; then
    flag=$prev
  fi
  if [[ -n $flag ]] && ${fn}_takes_value "$path" "$flag"; then
    local values
    values=$(${fn}_flag_values "$path $flag")
    COMPREPLY=()
    if [[ -n $values ]]; then
      mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
    else
      # A free-form value: let bash offer file names.
      compopt -o default 2>/dev/null
    fi
    return 0
  fi
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(${fn}_flags "$path")" -- "$cur")
    return 0
  fi
  # Count the positional arguments before the cursor, skipping flags and their values.
  while ((i < COMP_CWORD)); do
    word=\${COMP_WORDS[i]}
    if [[ \${COMP_WORDS[i+1]-} == = ]]; then
      i=$((i + 2))
    elif [[ $word == -* ]]; then
      ${fn}_takes_value "$path" "$word" && i=$((i + 1))
    else
      n=$((n + 1))
    fi
    i=$((i + 1))
  done
  local candidates
  candidates=$(${fn}_arg_values "$path" "$n")
  if ((n == 0)); then
    candidates="$(${fn}_subcommands "$path") $candidates"
  fi
  mapfile -t COMPREPLY < <(compgen -W "$candidates" -- "$cur")
}

complete -F ${fn} ${shQuote(tree.bin)}
`;
}

/**
 * Cases for the arguments of one node, keyed "path index". A repeating last argument matches any
 * later index, so every earlier index gets a case of its own (possibly empty) that wins first.
 */
function argCases(node: CompletionNode, key: string, words: (list: string[]) => string): Case[] {
  const last = node.args.length - 1;
  const repeats = node.variadic && last >= 0 && node.args[last].values.length > 0;
  return node.args.flatMap((arg, index): Case[] => {
    if (repeats && index === last) return [[`${shQuote(`${key} `)}*`, `echo ${words(arg.values)}`]];
    if (arg.values.length > 0) return [[shQuote(`${key} ${index}`), `echo ${words(arg.values)}`]];
    return repeats ? [[shQuote(`${key} ${index}`), ':']] : [];
  });
}

/** A case of a bash `case` statement: its pattern and its body. */
type Case = readonly [pattern: string, body: string];

function caseBlock(subject: string, cases: readonly Case[]): string {
  const lines = cases.map(([pattern, body]) => `    ${pattern}) ${body} ;;`);
  return [`  case ${subject} in`, ...lines, '  esac'].join('\n');
}
