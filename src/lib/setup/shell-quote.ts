/** One shell word in single quotes, safe for any path: an embedded ' becomes '\''. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** As shellQuote, but leaves plain paths bare so a printed command reads naturally. */
export function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : shellQuote(text);
}
