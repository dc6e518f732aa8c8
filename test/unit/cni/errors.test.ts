import assert from 'node:assert/strict';
import {asCniError, CniError, ErrorCode} from '../../../src/lib/cni/errors.js';

describe('cni/errors', () => {
  describe('ErrorCode', () => {
    it('has the spec\'s well-known codes', () => {
      assert.equal(ErrorCode.IncompatibleVersion, 1);
      assert.equal(ErrorCode.UnsupportedField, 2);
      assert.equal(ErrorCode.UnknownContainer, 3);
      assert.equal(ErrorCode.InvalidEnv, 4);
      assert.equal(ErrorCode.IoFailure, 5);
      assert.equal(ErrorCode.DecodeFailure, 6);
      assert.equal(ErrorCode.InvalidConfig, 7);
      assert.equal(ErrorCode.TryAgainLater, 11);
      assert.equal(ErrorCode.NotAvailable, 50);
      assert.equal(ErrorCode.LimitedConnectivity, 51);
    });

    it('keeps the plugin\'s own codes at 100 and above, each distinct', () => {
      const ours = [ErrorCode.Internal, ErrorCode.InterfaceExists, ErrorCode.IpamFailed, ErrorCode.CheckFailed];
      for (const code of ours) assert.ok(code >= 100, `${code}`);
      assert.equal(new Set(Object.values(ErrorCode)).size, Object.values(ErrorCode).length);
    });
  });

  describe('CniError', () => {
    it('is an Error carrying code, message and details', () => {
      const error = new CniError(7, 'invalid "mtu" 5', 'set "mtu" to a whole number from 68 to 65535');
      assert.ok(error instanceof Error);
      assert.equal(error.name, 'CniError');
      assert.equal(error.code, 7);
      assert.equal(error.message, 'invalid "mtu" 5');
      assert.equal(error.details, 'set "mtu" to a whole number from 68 to 65535');
    });

    it('has empty details unless given', () => {
      assert.equal(new CniError(100, 'boom').details, '');
    });

    it('toJSON is the spec\'s error object: cniVersion, code, msg, details', () => {
      const error = new CniError(11, 'the weave router must be running', 'start it with `weave launch`');
      assert.deepEqual(error.toJSON('1.1.0'), {cniVersion: '1.1.0', code: 11, msg: 'the weave router must be running', details: 'start it with `weave launch`'});
      assert.deepEqual(Object.keys(error.toJSON('0.4.0')), ['cniVersion', 'code', 'msg', 'details']);
    });

    it('toJSON omits details when there are none', () => {
      assert.deepEqual(new CniError(100, 'boom').toJSON('0.3.0'), {cniVersion: '0.3.0', code: 100, msg: 'boom'});
      assert.equal('details' in new CniError(100, 'boom', '').toJSON('1.0.0'), false);
    });

    it('toJSON reports in the version it is asked for', () => {
      for (const v of ['0.1.0', '0.4.0', '1.1.0']) assert.equal(new CniError(4, 'x').toJSON(v).cniVersion, v);
    });

    it('toJSON carries the message as changed after construction (rollback notes)', () => {
      const error = new CniError(100, 'ip link add failed');
      error.message += ' (rollback left behind: x)';
      assert.equal(error.toJSON('1.0.0').msg, 'ip link add failed (rollback left behind: x)');
    });

    it('prints as one JSON line without a stack trace', () => {
      const line = JSON.stringify(new CniError(4, 'CNI_NETNS is not set', 'the runtime must set it').toJSON('1.1.0'));
      assert.equal(line.includes('\n'), false);
      assert.equal(line.includes('    at '), false);
    });
  });

  describe('asCniError', () => {
    it('leaves a CniError as it is', () => {
      const error = new CniError(ErrorCode.InvalidConfig, 'bad', 'fix it');
      assert.equal(asCniError(error), error);
    });

    it('wraps an Error into code 100 keeping its message', () => {
      const wrapped = asCniError(new Error('ip link add vethwepl123 failed (exit 2): RTNETLINK answers: File exists'));
      assert.ok(wrapped instanceof CniError);
      assert.equal(wrapped.code, 100);
      assert.equal(wrapped.message, 'ip link add vethwepl123 failed (exit 2): RTNETLINK answers: File exists');
      assert.equal(wrapped.details, '');
    });

    it('wraps Error subclasses the same way', () => {
      const wrapped = asCniError(new TypeError('x is not a function'));
      assert.equal(wrapped.code, 100);
      assert.equal(wrapped.message, 'x is not a function');
    });

    it('wraps anything else thrown, as its text', () => {
      assert.deepEqual(asCniError('plain string').toJSON('1.0.0'), {cniVersion: '1.0.0', code: 100, msg: 'plain string'});
      assert.equal(asCniError(42).message, '42');
      assert.equal(asCniError(undefined).message, 'undefined');
    });
  });
});
