/** CNI error codes (SPEC.md "Error codes"); 100 and above are ours. */
export const ErrorCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnv: 4,
  IoFailure: 5,
  DecodeFailure: 6,
  InvalidConfig: 7,
  TryAgainLater: 11,
  NotAvailable: 50,
  LimitedConnectivity: 51,
  /** Generic plugin failure: a kernel or tool call failed. */
  Internal: 100,
  /** CNI_IFNAME already exists in the container's namespace. */
  InterfaceExists: 101,
  /** The delegated IPAM plugin failed. */
  IpamFailed: 102,
  /** CHECK found the container's network differing from prevResult. */
  CheckFailed: 103,
} as const;

/** A failure the plugin reports as the spec's error JSON: what went wrong and what to do. */
export class CniError extends Error {
  constructor(
    readonly code: number,
    msg: string,
    readonly details = '',
  ) {
    super(msg);
    this.name = 'CniError';
  }

  toJSON(cniVersion: string): Record<string, unknown> {
    const out: Record<string, unknown> = {cniVersion, code: this.code, msg: this.message};
    if (this.details) out.details = this.details;
    return out;
  }
}

/**
 * Wraps anything thrown into a CniError so the plugin never prints a stack trace:
 * a failed kernel or tool call becomes code 100 with what failed in its message.
 */
export function asCniError(error: unknown): CniError {
  if (error instanceof CniError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CniError(ErrorCode.Internal, message);
}
