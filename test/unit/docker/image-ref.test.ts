import assert from 'node:assert/strict';
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, it} from 'mocha';
import {DockerOperatorError} from '../../../src/lib/docker/errors.js';
import {chooseImage, defaultImage, isOwnImage, parseImageRef} from '../../../src/lib/docker/image-ref.js';
import {packageDigest, productionModules} from '../../../src/lib/docker/package-files.js';

describe('router image names', () => {
  it('is weave-net:<version> unless --image or WEAVE_IMAGE say otherwise (the flag first)', () => {
    assert.equal(defaultImage('1.2.3'), 'weave-net:1.2.3');
    assert.equal(chooseImage(undefined, {}, '1.2.3').repository, 'weave-net');
    assert.equal(chooseImage(undefined, {WEAVE_IMAGE: 'weaveworks/weave:2.8.1'}, '1').repository, 'weaveworks/weave');
    assert.equal(chooseImage('a/b:c', {WEAVE_IMAGE: 'weaveworks/weave:2.8.1'}, '1').repository, 'a/b');
  });

  it("tells a registry host as Docker does: a dot, a port or localhost in the first component", () => {
    assert.equal(parseImageRef('registry.example.com/team/weave-net:1').registry, 'registry.example.com');
    assert.equal(parseImageRef('localhost:5000/weave-net').registry, 'localhost:5000');
    assert.equal(parseImageRef('localhost/weave-net:1').registry, 'localhost');
    assert.equal(parseImageRef('weaveworks/weave:2.8.1').registry, undefined);
    assert.equal(parseImageRef('weave-net').tag, 'latest');
  });

  it('builds only images of ours (named weave-net, any registry)', () => {
    assert.ok(isOwnImage(parseImageRef('registry.example.com:5000/team/weave-net:1')));
    assert.ok(!isOwnImage(parseImageRef('weaveworks/weave:2.8.1')));
  });

  it('refuses digests and malformed names, naming the rule', () => {
    for (const bad of ['Weave:1', 'weave-net@sha256:abc', 'weave net', 'weave-net:bad tag']) {
      assert.throws(() => parseImageRef(bad), DockerOperatorError, bad);
    }
  });
});

describe('what of the package goes into the image', () => {
  const scratch = () => {
    const root = mkdtempSync(join(tmpdir(), 'weave-pkg-'));
    mkdirSync(join(root, 'dist'));
    writeFileSync(join(root, 'package.json'), '{"name":"weave-net","version":"1.0.0"}');
    writeFileSync(join(root, 'dist', 'a.js'), 'one');
    return root;
  };

  it('changes its digest when the compiled code changes, and only then', async () => {
    const root = scratch();
    try {
      const first = await packageDigest(root);
      assert.equal(await packageDigest(root), first);
      writeFileSync(join(root, 'dist', 'a.js'), 'two');
      assert.notEqual(await packageDigest(root), first);
    } finally {
      rmSync(root, {recursive: true, force: true});
    }
  });

  it('takes the production modules from the lock file, leaving dev ones and uninstalled optional ones out', async () => {
    const root = scratch();
    try {
      for (const m of ['prod', 'dev', 'prod/node_modules/nested']) mkdirSync(join(root, 'node_modules', m), {recursive: true});
      const packages = {'': {}, 'node_modules/prod': {}, 'node_modules/dev': {dev: true}, 'node_modules/prod/node_modules/nested': {}, 'node_modules/other-platform': {optional: true}};
      writeFileSync(join(root, 'package-lock.json'), JSON.stringify({lockfileVersion: 3, packages}));
      assert.deepEqual(await productionModules(root), ['node_modules/prod', 'node_modules/prod/node_modules/nested']);
    } finally {
      rmSync(root, {recursive: true, force: true});
    }
  });
});
