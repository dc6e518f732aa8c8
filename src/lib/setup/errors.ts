import {OperatorError} from '../errors.js';

/** A setup failure that says what to do; the command prints it without a stack trace and exits 1. */
export class SetupError extends OperatorError {}

const CHOOSE_DIR = 'choose another directory with --cni-bin-dir / --cni-conf-dir';

/** Turns a file-system failure on `path` into a message naming it and the fix. */
export function fsFailure(error: unknown, path: string, action: string): SetupError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'EACCES' || code === 'EPERM' ? `permission denied; run as root, or ${CHOOSE_DIR}`
    : code === 'EROFS' ? `the file system is read-only; ${CHOOSE_DIR}`
    : code === 'ENOSPC' ? 'no space left on the device; free some and run again'
    : `${error instanceof Error ? error.message : String(error)}; ${CHOOSE_DIR}`;
  return new SetupError(`cannot ${action} ${path}: ${why}`, 1, {cause: error});
}
