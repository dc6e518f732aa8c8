/** Persisted IPAM data that cannot be read or written: the router must not go on over it blindly. */
export class IpamStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Damage found at start: the message names the file, the byte offset and the way out. */
export class IpamStoreDamageError extends IpamStoreError {}

/**
 * A change refused, or not saved yet, because the disk holding the data is full: try again later
 * (HTTP 503, CNI code 11). The router saves what it holds once space returns, by itself.
 */
export class IpamStoreFullError extends IpamStoreError {}

/** Whether a failed write means no space (or quota) rather than a broken disk. */
export function isNoSpace(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Byte counts in messages: `812 KB`, `4.0 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1 << 20) return `${Math.ceil(bytes / 1024)} KB`;
  return `${(bytes / (1 << 20)).toFixed(1)} MB`;
}
