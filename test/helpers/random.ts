/** A small deterministic generator in [0, 1), so a failure can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}
