import assert from 'node:assert/strict';
import {
  compareVersions,
  isSupported,
  LATEST_VERSION,
  negotiate,
  requireSupported,
  resultFamily,
  SUPPORTED_VERSIONS,
} from '../../../src/lib/cni/version.js';

describe('cni/version', () => {
  describe('compareVersions', () => {
    const cases: [string, string, '<' | '=' | '>'][] = [
      ['0.1.0', '0.2.0', '<'],
      ['0.3.0', '0.3.1', '<'],
      ['0.4.0', '1.0.0', '<'],
      ['1.0.0', '1.1.0', '<'],
      ['1.1.0', '1.1.0', '='],
      ['1.0', '1.0.0', '='],
      ['1.1.0', '0.4.0', '>'],
      // numeric, not lexical: 10 > 9
      ['0.10.0', '0.9.0', '>'],
      ['2.0.0', '1.99.99', '>'],
    ];
    for (const [a, b, want] of cases) {
      it(`${a} ${want} ${b}`, () => {
        const d = compareVersions(a, b);
        assert.equal(Math.sign(d), want === '<' ? -1 : want === '=' ? 0 : 1);
        assert.equal(Math.sign(compareVersions(b, a)), -Math.sign(d) || 0);
      });
    }

    it('sorts the supported versions into the order they are listed in', () => {
      assert.deepEqual([...SUPPORTED_VERSIONS].reverse().sort(compareVersions), [...SUPPORTED_VERSIONS]);
    });
  });

  describe('isSupported', () => {
    for (const v of ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']) {
      it(`supports ${v}`, () => assert.equal(isSupported(v), true));
    }
    for (const v of ['', '0.0.1', '0.5.0', '1.2.0', '2.0.0', '1.0', '1.0.0-rc1', 'latest', ' 1.0.0']) {
      it(`does not support ${JSON.stringify(v)}`, () => assert.equal(isSupported(v), false));
    }

    it('names 1.1.0 as the latest, and the latest is supported', () => {
      assert.equal(LATEST_VERSION, '1.1.0');
      assert.equal(SUPPORTED_VERSIONS.at(-1), LATEST_VERSION);
    });
  });

  describe('requireSupported', () => {
    it('reads a missing cniVersion as 0.1.0, as libcni does', () => {
      assert.equal(requireSupported(undefined), '0.1.0');
    });

    it('returns a supported version unchanged', () => {
      for (const v of SUPPORTED_VERSIONS) assert.equal(requireSupported(v), v);
    });

    for (const v of ['0.5.0', '2.0.0', '', 'banana']) {
      it(`refuses ${JSON.stringify(v)} with code 1 naming it and the supported list`, () => {
        assert.throws(() => requireSupported(v), (error: Error & {code?: number; details?: string}) => {
          assert.equal(error.name, 'CniError');
          assert.equal(error.code, 1);
          assert.match(error.message, new RegExp(`"${v}"`));
          for (const s of SUPPORTED_VERSIONS) assert.ok(error.message.includes(s), `message lists ${s}: ${error.message}`);
          assert.match(error.details ?? '', /cniVersion/);
          return true;
        });
      });
    }
  });

  describe('resultFamily', () => {
    const families: [string, ReturnType<typeof resultFamily>][] = [
      ['0.1.0', 'legacy'],
      ['0.2.0', 'legacy'],
      ['0.3.0', 'current-0.x'],
      ['0.3.1', 'current-0.x'],
      ['0.4.0', 'current-0.x'],
      ['1.0.0', 'v1'],
      ['1.1.0', 'v1'],
    ];
    for (const [version, family] of families) {
      it(`${version} -> ${family}`, () => assert.equal(resultFamily(version), family));
    }
  });

  describe('negotiate', () => {
    const all = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0'];
    const cases: {config: string; theirs: string[]; want: string | undefined; why: string}[] = [
      {config: '1.1.0', theirs: all, want: '1.0.0', why: 'a 1.1.0 config with a host-local that stops at 1.0.0'},
      {config: '1.1.0', theirs: [...all, '1.1.0'], want: '1.1.0', why: 'the config version itself when they speak it'},
      {config: '0.4.0', theirs: [...all, '1.1.0'], want: '0.4.0', why: 'never above the config version'},
      {config: '0.3.1', theirs: ['0.1.0', '0.2.0', '0.4.0'], want: '0.2.0', why: 'the highest at or below the config version'},
      {config: '1.0.0', theirs: ['1.0.0', '0.3.0', '0.4.0', '0.1.0'], want: '1.0.0', why: 'an unsorted list'},
      {config: '1.1.0', theirs: ['2.0.0', '1.0.5', '0.4.0'], want: '0.4.0', why: 'versions we do not speak are ignored'},
      {config: '0.4.0', theirs: ['1.0.0', '1.1.0'], want: undefined, why: 'no common version at or below the config'},
      {config: '1.0.0', theirs: [], want: undefined, why: 'an empty list'},
      {config: '1.0.0', theirs: ['9.9.9'], want: undefined, why: 'only versions we do not speak'},
    ];
    for (const {config, theirs, want, why} of cases) {
      it(`${config} with [${theirs.join(', ')}] -> ${want ?? 'none'} (${why})`, () => {
        assert.equal(negotiate(config, theirs), want);
      });
    }

    it('leaves the given list as it was', () => {
      const theirs = ['1.0.0', '0.1.0', '0.4.0'];
      negotiate('1.1.0', theirs);
      assert.deepEqual(theirs, ['1.0.0', '0.1.0', '0.4.0']);
    });
  });
});
