# bash completion for weave: generated from its oclif commands by `npm run completions`; do not edit.
# Install: copy to /etc/bash_completion.d/weave, or source it from ~/.bashrc.

# The subcommands that may follow the command path $1.
_weave_subcommands() {
  case $1 in
    weave) echo 'attach completion connect detach dns-add dns-lookup dns-remove expose forget help hide launch prime ps report reset rmpeer setup status stop version' ;;
  esac
}

# The flags of the command path $1.
_weave_flags() {
  case $1 in
    weave) echo '--help --version' ;;
    weave:attach) echo '--add-host --help --http-addr --no-color --no-multicast-route --rewrite-hosts --without-dns' ;;
    weave:completion) echo --help ;;
    weave:connect) echo '--help --http-addr --replace' ;;
    weave:detach) echo '--help --http-addr --no-color' ;;
    weave:dns-add) echo '--fqdn -h --help --http-addr' ;;
    weave:dns-lookup) echo '--help --http-addr' ;;
    weave:dns-remove) echo '--fqdn -h --help --http-addr' ;;
    weave:expose) echo '--help --http-addr --without-masquerade' ;;
    weave:forget) echo '--help --http-addr' ;;
    weave:help) echo --help ;;
    weave:hide) echo '--help --http-addr' ;;
    weave:launch) echo '--help --http-addr --image --ipalloc-range --iprange --log-level --no-color --no-restart --password --port' ;;
    weave:prime) echo '--help --http-addr' ;;
    weave:ps) echo '--help --http-addr --json --weave-bridge' ;;
    weave:report) echo '--format -f --help --http-addr --json' ;;
    weave:reset) echo '--force --help --http-addr --no-color --yes -y' ;;
    weave:rmpeer) echo '--help --http-addr' ;;
    weave:setup) echo '--cni-bin-dir --cni-conf-dir --cni-version --help --image --no-color' ;;
    weave:status) echo '--help --http-addr --interval --json --watch -w' ;;
    weave:stop) echo '--help --http-addr --no-color' ;;
    weave:version) echo '--help --http-addr --json' ;;
  esac
}

# The flags of the command path $1 that take a value.
_weave_value_flags() {
  case $1 in
    weave:attach) echo '--add-host --http-addr' ;;
    weave:connect) echo --http-addr ;;
    weave:detach) echo --http-addr ;;
    weave:dns-add) echo '--fqdn -h --http-addr' ;;
    weave:dns-lookup) echo --http-addr ;;
    weave:dns-remove) echo '--fqdn -h --http-addr' ;;
    weave:expose) echo --http-addr ;;
    weave:forget) echo --http-addr ;;
    weave:hide) echo --http-addr ;;
    weave:launch) echo '--http-addr --image --ipalloc-range --iprange --log-level --password --port' ;;
    weave:prime) echo --http-addr ;;
    weave:ps) echo '--http-addr --weave-bridge' ;;
    weave:report) echo '--format -f --http-addr' ;;
    weave:reset) echo --http-addr ;;
    weave:rmpeer) echo --http-addr ;;
    weave:setup) echo '--cni-bin-dir --cni-conf-dir --cni-version --image' ;;
    weave:status) echo '--http-addr --interval' ;;
    weave:stop) echo --http-addr ;;
    weave:version) echo --http-addr ;;
  esac
}

# The fixed values of the flag in "$1" (command path, a space, the flag).
_weave_flag_values() {
  case $1 in
    'weave:launch --log-level') echo 'debug info warning error' ;;
    'weave:setup --cni-version') echo '0.3.0 0.3.1 0.4.0 1.0.0 1.1.0' ;;
  esac
}

# The fixed values of positional argument $2 (counted from 0) of the command path $1.
_weave_arg_values() {
  case "$1 $2" in
    'weave:completion 0') echo 'bash zsh fish' ;;
    'weave:status '*) echo 'targets connections peers dns ipam' ;;
  esac
}

_weave_takes_value() {
  [[ " $(_weave_value_flags "$1") " == *" $2 "* ]]
}

_weave() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local path=weave word i=1 n=0 flag=
  # Follow the subcommand words typed so far.
  while ((i < COMP_CWORD)); do
    word=${COMP_WORDS[i]}
    [[ " $(_weave_subcommands "$path") " == *" $word "* ]] || break
    path=$path:$word
    i=$((i + 1))
  done
  # A flag's value, after "--flag " or "--flag=" (bash splits the '=' into a word of its own).
  if [[ $cur == = ]]; then
    flag=$prev cur=
  elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
    flag=${COMP_WORDS[COMP_CWORD-2]}
  elif [[ $prev == -* ]]; then
    flag=$prev
  fi
  if [[ -n $flag ]] && _weave_takes_value "$path" "$flag"; then
    local values
    values=$(_weave_flag_values "$path $flag")
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
    mapfile -t COMPREPLY < <(compgen -W "$(_weave_flags "$path")" -- "$cur")
    return 0
  fi
  # Count the positional arguments before the cursor, skipping flags and their values.
  while ((i < COMP_CWORD)); do
    word=${COMP_WORDS[i]}
    if [[ ${COMP_WORDS[i+1]-} == = ]]; then
      i=$((i + 2))
    elif [[ $word == -* ]]; then
      _weave_takes_value "$path" "$word" && i=$((i + 1))
    else
      n=$((n + 1))
    fi
    i=$((i + 1))
  done
  local candidates
  candidates=$(_weave_arg_values "$path" "$n")
  if ((n == 0)); then
    candidates="$(_weave_subcommands "$path") $candidates"
  fi
  mapfile -t COMPREPLY < <(compgen -W "$candidates" -- "$cur")
}

complete -F _weave weave
