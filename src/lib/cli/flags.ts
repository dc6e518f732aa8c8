import * as Flags from '@oclif/core/flags';

/** --image of `weave setup` and `weave launch`: which router image to make ready or run. */
export const imageFlag = Flags.string({description: 'Router image [default: $WEAVE_IMAGE, else weave-net:<version>, built locally]'});

/**
 * --json of the commands with `enableJsonFlag`: oclif prints their result and their errors as
 * JSON; `what` tells what that JSON is.
 */
export function jsonFlag(what: string) {
  return Flags.boolean({description: what});
}
