'use strict';
// `supportd test`: the shipped conversation tests pass, and a failing one
// says where, what was expected, what the bot did and its candidates.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { BIN, T, REPO_ROOT, makeContent, removeDir, useCleanups } = require('./lib');

const { defer } = useCleanups();

function run(args) {
  const r = spawnSync(BIN, ['test', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: T(60000) });
  assert.equal(r.error, undefined);
  return r;
}

test('the shipped conversation tests pass, every one named', () => {
  const r = run([]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ok {3}\.\/tests\/conversations\/en\.yaml: password reset, a bad address first, then done$/m);
  assert.match(r.stdout, /^ok {3}\.\/tests\/conversations\/pl\.yaml: /m);
  assert.match(r.stdout, /^ok {3}\.\/tests\/conversations\/pt\.yaml: /m);
  const m = /^(\d+) tests, 0 failed, 0 problems/m.exec(r.stdout);
  assert.ok(m && Number(m[1]) >= 30, r.stdout);
});

test('a failing conversation test shows the expectation, what the bot did and its candidates', () => {
  const content = makeContent();
  defer(() => removeDir(content));
  const file = path.join(content, 'broken.yaml');
  require('node:fs').writeFileSync(file, [
    'tests:',
    '  - name: delivery times',
    '    turns:',
    '      - customer: how long does delivery take',
    '        expect: {source: "faq:shipping-costs"}',
    '  - name: a handoff that does not happen',
    '    turns:',
    '      - customer: how long does delivery take',
    '        expect: {handoff: {team: accounts}}',
    '  - name: this one passes',
    '    turns:',
    '      - customer: hello',
    '        expect: {source: greeting}',
    '',
  ].join('\n'));
  const r = run(['--content', content, file]);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stdout, new RegExp(`^FAIL ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4: delivery times$`, 'm'));
  assert.match(r.stdout, /turn 1, the customer says "how long does delivery take": expected a reply from faq:shipping-costs/);
  assert.match(r.stdout, /the bot did:\n\s+faq:shipping-times\s+/);
  assert.match(r.stdout, /best candidates for it:\n\s+1\. faq:shipping-times\s+\d\.\d\d/);
  assert.match(r.stdout, /expected a handoff$/m);
  assert.match(r.stdout, /^ok {3}.*: this one passes$/m);
  assert.match(r.stdout, /^3 tests, 2 failed, 0 problems/m);
});

test('a malformed test file is a problem with file:line', () => {
  const content = makeContent();
  defer(() => removeDir(content));
  const file = path.join(content, 'bad.yaml');
  require('node:fs').writeFileSync(file, 'tests:\n  - name: x\n    turns:\n      - says: hello\n');
  const r = run(['--content', content, file]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bad\.yaml:4: /);
});
