import assert from 'node:assert/strict';
import {CniError} from '../../../src/lib/cni/errors.js';
import {UndoStack, withUndo} from '../../../src/lib/cni/undo.js';

/** A step that records its name when it runs, and fails when told to. */
function recorder() {
  const ran: string[] = [];
  const step = (name: string, fail?: string) => async () => {
    ran.push(name);
    if (fail) throw new Error(fail);
  };
  return {ran, step};
}

describe('cni/undo', () => {
  describe('withUndo', () => {
    it('runs no step when the body succeeds, and returns its value', async () => {
      const {ran, step} = recorder();
      const value = await withUndo(async undo => {
        undo.push('delete veth', step('veth'));
        undo.push('release address', step('address'));
        return 'result';
      });
      assert.equal(value, 'result');
      assert.deepEqual(ran, []);
    });

    it('on failure runs every step, newest first, then rethrows the same error', async () => {
      const {ran, step} = recorder();
      const failure = new Error('configuring eth0 failed');
      await assert.rejects(
        withUndo(async undo => {
          undo.push('delete bridge', step('bridge'));
          undo.push('delete veth', step('veth'));
          undo.push('release address', step('address'));
          throw failure;
        }),
        error => error === failure,
      );
      assert.deepEqual(ran, ['address', 'veth', 'bridge']);
      assert.equal(failure.message, 'configuring eth0 failed', 'nothing appended when every step succeeded');
    });

    it('runs only the steps registered before the failure', async () => {
      const {ran, step} = recorder();
      await assert.rejects(
        withUndo(async undo => {
          undo.push('delete veth', step('veth'));
          throw new Error('IPAM failed');
        }),
        /IPAM failed/,
      );
      assert.deepEqual(ran, ['veth']);
    });

    it('keeps unwinding when a step fails, and appends what it left behind to the message', async () => {
      const {ran, step} = recorder();
      await assert.rejects(
        withUndo(async undo => {
          undo.push('delete veth', step('veth', 'Cannot find device "vethwepl1"'));
          undo.push('release address', step('address', 'router not reachable'));
          undo.push('flush routes', step('routes'));
          throw new Error('adding the route failed');
        }),
        {
          message:
            'adding the route failed (rollback left behind: release address: router not reachable; delete veth: Cannot find device "vethwepl1")',
        },
      );
      assert.deepEqual(ran, ['routes', 'address', 'veth']);
    });

    it('keeps the error\'s type and code, so a CniError still reports its code', async () => {
      const failure = new CniError(11, 'the weave router must be running');
      await assert.rejects(
        withUndo(async undo => {
          undo.push('delete veth', async () => {
            throw new Error('gone');
          });
          throw failure;
        }),
        (error: unknown) => error === failure && failure.code === 11 && /rollback left behind: delete veth: gone/.test(failure.message),
      );
    });

    it('waits for each step before the next (no overlap)', async () => {
      const events: string[] = [];
      const slow = (name: string) => async () => {
        events.push(`${name} start`);
        await new Promise(resolve => setTimeout(resolve, 5));
        events.push(`${name} end`);
      };
      await assert.rejects(
        withUndo(async undo => {
          undo.push('a', slow('a'));
          undo.push('b', slow('b'));
          throw new Error('x');
        }),
      );
      assert.deepEqual(events, ['b start', 'b end', 'a start', 'a end']);
    });

    it('reports a step that rejects with a non-Error by its text', async () => {
      await assert.rejects(
        withUndo(async undo => {
          undo.push('delete veth', () => Promise.reject('device busy'));
          throw new Error('x');
        }),
        {message: 'x (rollback left behind: delete veth: device busy)'},
      );
    });
  });

  describe('UndoStack.unwind', () => {
    it('returns nothing when there are no steps', async () => {
      assert.deepEqual(await new UndoStack().unwind(), []);
    });

    it('returns the failures, newest first, as "what: message"', async () => {
      const undo = new UndoStack();
      const {ran, step} = recorder();
      undo.push('one', step('1', 'first broke'));
      undo.push('two', step('2'));
      undo.push('three', step('3', 'third broke'));
      assert.deepEqual(await undo.unwind(), ['three: third broke', 'one: first broke']);
      assert.deepEqual(ran, ['3', '2', '1']);
    });
  });
});
