import assert from 'node:assert/strict';
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {derivePeerName, macFromIds, NoSystemIdError} from '../../../src/lib/router/peer-name.js';

/*
 * Expected names, obtained by following weave 2.8.1 by hand (net/uuid.go getSystemUUID and
 * GetSystemPeerName, net/mac.go MACfromUUID; no Go toolchain here to run it):
 *   1. ids = machine-id file bytes ++ product_uuid file bytes (either may be absent);
 *   2. sha256("9oBJ0Jmip-" ++ ids), computed with coreutils, e.g.
 *        printf '9oBJ0Jmip-d6b8a1f0c3e24b5f9a7c1e2d3f4a5b61\n' | sha256sum   -> 0f1c8e6c5f2c...
 *   3. first six bytes, first byte (b & 0xfe) | 0x02: 0x0f -> 0x0e.
 */
const MACHINE_ID = 'd6b8a1f0c3e24b5f9a7c1e2d3f4a5b61';
const PRODUCT_UUID = '4c4c4544-0042-3510-8052-b4c04f4b4b32\n';
const EXPECTED = {
  // sha256 0f1c8e6c5f2c...: 0x0f loses the multicast bit.
  machineIdWithNewline: '0e:1c:8e:6c:5f:2c',
  // printf '9oBJ0Jmip-d6b8...5b61' | sha256sum -> 4d9b11f46993...: 0x4d -> 0x4e.
  machineIdWithoutNewline: '4e:9b:11:f4:69:93',
  // printf '9oBJ0Jmip-d6b8...5b61\n4c4c4544-0042-3510-8052-b4c04f4b4b32\n' | sha256sum -> 7eefcccc5e30...: 0x7e stays.
  machineIdThenProductUuid: '7e:ef:cc:cc:5e:30',
  // printf '9oBJ0Jmip-4c4c4544-0042-3510-8052-b4c04f4b4b32\n' | sha256sum -> 684fc4b4ecd0...: 0x68 -> 0x6a.
  productUuidOnly: '6a:4f:c4:b4:ec:d0',
  // printf '9oBJ0Jmip-d6b8a1f0c3e24b5f9a7c1e2d3f4a5b64\n' | sha256sum -> 8b5f06f56c43...: 0x8b -> 0x8a.
  otherMachineId: '8a:5f:06:f5:6c:43',
};

describe('the default peer name, as weave 2.8.1 derives it (src/lib/router/peer-name.ts)', () => {
  let root: string;
  let hostRoot: string;
  let sys: string;

  const put = (path: string, content: string) => {
    mkdirSync(dirname(path), {recursive: true});
    writeFileSync(path, content);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'weave-peer-name-'));
    hostRoot = join(root, 'host');
    sys = join(root, 'sys');
    mkdirSync(hostRoot);
    mkdirSync(sys);
  });
  afterEach(() => rmSync(root, {recursive: true, force: true}));

  it('hashes the machine-id file as it is, trailing newline included', async () => {
    put(join(hostRoot, 'etc/machine-id'), `${MACHINE_ID}\n`);
    assert.equal(await derivePeerName({hostRoot, sys}), EXPECTED.machineIdWithNewline);
  });

  it('gives another name to a machine-id file without the newline', async () => {
    put(join(hostRoot, 'etc/machine-id'), MACHINE_ID);
    assert.equal(await derivePeerName({hostRoot, sys}), EXPECTED.machineIdWithoutNewline);
  });

  it('appends the BIOS product uuid after the machine id', async () => {
    put(join(hostRoot, 'etc/machine-id'), `${MACHINE_ID}\n`);
    put(join(sys, 'class/dmi/id/product_uuid'), PRODUCT_UUID);
    assert.equal(await derivePeerName({hostRoot, sys}), EXPECTED.machineIdThenProductUuid);
  });

  it("reads dbus's machine id when systemd's is missing, and only then", async () => {
    put(join(hostRoot, 'var/lib/dbus/machine-id'), `${MACHINE_ID}\n`);
    assert.equal(await derivePeerName({hostRoot, sys}), EXPECTED.machineIdWithNewline);
    put(join(hostRoot, 'etc/machine-id'), 'd6b8a1f0c3e24b5f9a7c1e2d3f4a5b64\n');
    assert.equal(await derivePeerName({hostRoot, sys}), EXPECTED.otherMachineId);
  });

  it("reads the Xen hypervisor's uuid when there is no product uuid", async () => {
    put(join(sys, 'hypervisor/uuid'), PRODUCT_UUID);
    assert.equal(await derivePeerName({hostRoot, sys}), EXPECTED.productUuidOnly);
    put(join(hostRoot, 'etc/machine-id'), `${MACHINE_ID}\n`);
    assert.equal(await derivePeerName({hostRoot, sys}), EXPECTED.machineIdThenProductUuid);
  });

  it('counts an empty file as no id, and stops with the fix when there is none', async () => {
    put(join(hostRoot, 'etc/machine-id'), '');
    await assert.rejects(derivePeerName({hostRoot, sys}), (error: Error) => {
      assert.ok(error instanceof NoSystemIdError);
      assert.match(error.message, /^All system IDs are blank: .*give the router a name with --name/);
      return true;
    });
  });

  it('makes any hash a unicast, locally administered MAC', () => {
    for (const ids of ['', 'a', 'b', 'c', 'weave']) {
      const first = parseInt(macFromIds(Buffer.from(ids)).slice(0, 2), 16);
      assert.equal(first & 0x03, 0x02, `first octet ${first.toString(16)} for ${JSON.stringify(ids)}`);
    }
  });
});
