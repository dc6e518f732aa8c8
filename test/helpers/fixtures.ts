import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {PACKAGE_ROOT} from '../../src/lib/package.js';

/** The path of a file weave 2.8.1 itself produced, kept in test/fixtures/weave-2.8.1 (its README says how). */
export function originalFixturePath(name: string): string {
  return join(PACKAGE_ROOT, 'test', 'fixtures', 'weave-2.8.1', name);
}

/** Such a file's text. */
export function originalFixture(name: string): string {
  return readFileSync(originalFixturePath(name), 'utf8');
}
