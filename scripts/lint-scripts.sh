#!/usr/bin/env bash
# Lints the repository's code in other languages: every shell script with shellcheck (the sh
# ones as POSIX sh, so a bashism in the CNI launcher fails here), the zsh and fish scripts with
# their shells' own syntax check, and the Perl client with `perl -wc`. Files are found by
# extension and by #! line among the tracked files, so a new script is linted without listing it.
set -euo pipefail

cd "$(dirname "$0")/.."

die() { printf 'lint-scripts: %s\n' "$*" >&2; exit 1; }
for tool in shellcheck zsh fish perl; do
  command -v "$tool" >/dev/null || die "$tool not found: run scripts/install-deps.sh (as root)"
done

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files --cached --others --exclude-standard)
else
  mapfile -t files < <(find . -path ./node_modules -prune -o -path ./.git -prune -o -type f -print | sed 's|^\./||')
fi

shell=() zsh=() fish=() perl=()
for f in "${files[@]}"; do
  [[ -f $f ]] || continue
  case $f in
    node_modules/* | dist/* | test/fixtures/*) continue ;;
    *.zsh | completions/_*) zsh+=("$f"); continue ;;
    *.fish) fish+=("$f"); continue ;;
    *.pl) perl+=("$f"); continue ;;
    *.sh | *.bash) shell+=("$f"); continue ;;
  esac
  first=$(head -n 1 -- "$f" 2>/dev/null || true)
  case $first in
    '#!'*/bash* | '#!'*/sh | '#!'*' sh' | '#!'*'env bash'*) shell+=("$f") ;;
    '#!'*perl*) perl+=("$f") ;;
  esac
done

status=0
echo "shellcheck ${shell[*]}"
shellcheck --external-sources -- "${shell[@]}" || status=1
for f in "${zsh[@]}"; do
  echo "zsh -n $f"
  zsh -n -- "$f" || status=1
done
for f in "${fish[@]}"; do
  echo "fish --no-execute $f"
  fish --no-execute -- "$f" || status=1
done
for f in "${perl[@]}"; do
  echo "perl -wc $f"
  # A compile-time warning fails too: the only output allowed is perl's "syntax OK".
  out=$(perl -wc -- "$f" 2>&1) || status=1
  [[ $out == "$f syntax OK" ]] || { printf '%s\n' "$out"; status=1; }
done
exit "$status"
