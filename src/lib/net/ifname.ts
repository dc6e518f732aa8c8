/** What is wrong with a network interface name by the kernel's rule (1 to 15 bytes, not "." or "..", no "/", ":" or white space), or undefined. */
export function interfaceNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (Buffer.byteLength(name) > 15) return 'it is longer than 15 characters';
  if (name === '.' || name === '..') return 'it is "." or ".."';
  if (/[/:\s]/.test(name)) return 'it holds "/", ":" or white space';
  return undefined;
}
