import assert from 'node:assert/strict';
import {join} from 'node:path';
import {PACKAGE_ROOT} from '../../../../src/lib/package.js';
import {ADDON_PATH} from '../../../../src/lib/addon.js';
import {TapAddonError} from '../../../../src/lib/router/dataplane/sleeve/native.js';

describe('a router without the TAP addon', () => {
  it('says plainly that the encrypted data path needs it, and how to build it', () => {
    const error = new TapAddonError(Object.assign(new Error(`Cannot find module '${ADDON_PATH}'\nRequire stack:\n- x`), {code: 'MODULE_NOT_FOUND'}));
    assert.equal(
      error.message,
      `cannot load the TAP addon ${ADDON_PATH} (Cannot find module '${ADDON_PATH}'): the encrypted data path needs it; ` +
        `build it with \`node ${join(PACKAGE_ROOT, 'native', 'install.cjs')} --required\` (needs build-essential, python3 and Node's headers)`,
    );
  });
});
