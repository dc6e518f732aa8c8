// Words made only of these need no quoting in bash, zsh or fish ('=' and '%' are left out:
// zsh expands a leading '=', fish once expanded a leading '%').
const BARE = /^[A-Za-z0-9_.,:/+@-]+$/;

/** A word for bash or zsh: bare when it is plain, else single-quoted. */
export function shQuote(word: string): string {
  return BARE.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A word for fish, whose single quotes take only the escapes \' and \\. */
export function fishQuote(word: string): string {
  return BARE.test(word) ? word : `'${word.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** A name usable in a shell function name: the binary's name with anything unusual made '_'. */
export function identifier(word: string): string {
  return word.replaceAll(/[^A-Za-z0-9_]/g, '_');
}
