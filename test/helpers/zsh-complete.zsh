# Usage: zsh -f zsh-complete.zsh FPATH_DIR MATCHES_FILE LINE...
# Runs an interactive zsh in a pseudo-terminal (compinit costs seconds there, so once for all
# lines) and types each line followed by a key bound to a widget that completes, writes a marker
# and clears the line. A wrapped compadd appends every match that the completion system adds
# (calls that only compute, with -O/-A/-D, pass through). Each line waits for the previous
# marker: zsh drops a completion while more input is pending.
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "fpath=(${(q)1} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "compadd() { if (( \${@[(I)-(O|A|D)*]} )); then builtin compadd \"\$@\"; return; fi; local -a m; builtin compadd -O m \"\$@\"; print -rl -- \$m >> ${(q)2}; builtin compadd \"\$@\"; }"
zpty -w z "complete-and-mark() { zle complete-word; print -r -- __done__ >> ${(q)2}; zle kill-whole-line; }; zle -N complete-and-mark; bindkey '^X' complete-and-mark"
integer n=0
typeset -a marks
for line in "${@[3,-1]}"; do
  n+=1
  zpty -w -n z "$line"$'\x18'
  for i in {1..100}; do
    marks=(${(M)${(f)"$(<$2)"}:#__done__})
    (( $#marks >= n )) && break
    sleep 0.1
  done
done
zpty -d z
