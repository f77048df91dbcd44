'use strict';
// The command line and start-up: help texts, unknown commands and options,
// config files that are broken in each way, and content the daemon must
// refuse to start with. Each case runs the real binary to its exit, with a
// bounded timeout; none of them gets as far as listening.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { BIN, T, REPO_ROOT, makeContent, useCleanups } = require('./lib');

const { tempDir } = useCleanups();

// Runs supportd with args to its exit; returns {status, stdout, stderr}.
function run(args) {
  const r = spawnSync(BIN, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: T(10000) });
  assert.equal(r.error, undefined, `supportd ${args.join(' ')} did not finish: ${r.error}`);
  return r;
}

// Writes a config file with the given text into a fresh directory.
function configFile(text) {
  const dir = tempDir('supportd-e2e-cli-');
  const file = path.join(dir, 'supportd.json');
  fs.writeFileSync(file, text);
  return { dir, file };
}

test('--help lists the commands; serve --help lists the options', () => {
  const top = run(['--help']);
  assert.equal(top.status, 0);
  assert.match(top.stdout, /usage: supportd/);
  for (const cmd of ['serve', 'version', 'help']) assert.match(top.stdout, new RegExp(`\\n  ${cmd} `));

  const serve = run(['serve', '--help']);
  assert.equal(serve.status, 0);
  for (const opt of ['--config', '--listen', '--port', '--data-dir', '--content', '--static', '--log-level']) {
    assert.ok(serve.stdout.includes(opt), `serve --help mentions ${opt}`);
  }
  assert.equal(run(['help', 'serve']).stdout, serve.stdout);
});

test('version prints the version', () => {
  const r = run(['version']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^supportd \d+\.\d+\.\d+\n$/);
});

test('an unknown command or option is refused with exit 2', () => {
  const cmd = run(['frobnicate']);
  assert.equal(cmd.status, 2);
  assert.match(cmd.stderr, /unknown command "frobnicate"/);

  const opt = run(['serve', '--no-such-option']);
  assert.equal(opt.status, 2);
  assert.match(opt.stderr, /no-such-option/);

  const port = run(['serve', '--port', '70000']);
  assert.equal(port.status, 2);
  assert.match(port.stderr, /--port must be a number from 0 to 65535/);
});

test('a config file that is not valid JSON is refused with file:line:col', () => {
  const { file } = configFile('{\n  "port": 8080,\n  "listen": \n}\n');
  const r = run(['serve', '--config', file]);
  assert.equal(r.status, 2);
  assert.ok(r.stderr.includes(`${file}:4:`), r.stderr);
});

test('an unknown config key is refused and named', () => {
  const { file } = configFile(JSON.stringify({ chat: { max_text_byte: 10 } }));
  const r = run(['serve', '--config', file]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown key "chat\.max_text_byte"/);
});

test('a config value of the wrong type or out of range is refused and named', () => {
  const wrongType = run(['serve', '--config', configFile(JSON.stringify({ chat: { bot_typing: 'yes' } })).file]);
  assert.equal(wrongType.status, 2);
  assert.match(wrongType.stderr, /chat\.bot_typing must be true or false/);

  const range = run(['serve', '--config', configFile(JSON.stringify({ chat: { rate_burst: 0 } })).file]);
  assert.equal(range.status, 2);
  assert.match(range.stderr, /chat\.rate_burst is 0; it must be between 1 and/);

  const store = run(['serve', '--config', configFile(JSON.stringify({ store: { synchronous: 'off' } })).file]);
  assert.equal(store.status, 2);
  assert.match(store.stderr, /store\.synchronous must be "full" or "normal"/);
});

test('a pipeline with a syntax error stops start-up with file and line', () => {
  const content = makeContent('function on_message(c, text)\n  return "x" +\nend\n');
  const data = tempDir('supportd-e2e-cli-data-');
  const r = run(['serve', '--port', '0', '--data-dir', data, '--content', content]);
  fs.rmSync(content, { recursive: true, force: true });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /event=startup_failed/);
  assert.match(r.stderr, /pipeline\.lua:3:/);
  assert.doesNotMatch(r.stderr, /event=listening/);
});

test('a pipeline without on_message, or none at all, stops start-up', () => {
  const content = makeContent('local x = 1\n');
  const data = tempDir('supportd-e2e-cli-data-');
  const r = run(['serve', '--port', '0', '--data-dir', data, '--content', content]);
  fs.rmSync(content, { recursive: true, force: true });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /does not define a function on_message/);

  const missing = run(['serve', '--port', '0', '--data-dir', data, '--content', tempDir('supportd-e2e-cli-empty-')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /pipeline\.lua: cannot open/);
});

test('a data dir that cannot be created stops start-up', () => {
  const { file } = configFile('{}');
  // a regular file stands where the data directory should be
  const r = run(['serve', '--port', '0', '--data-dir', path.join(file, 'var')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /event=startup_failed reason="cannot create/);
});

test('a database from a newer supportd is refused, not altered', () => {
  const data = tempDir('supportd-e2e-cli-data-');
  const db = path.join(data, 'supportd.db');
  spawnSync('sqlite3', [db, 'PRAGMA user_version = 999;'], { timeout: T(5000) });
  const r = run(['serve', '--port', '0', '--data-dir', data]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /schema version 999/);
  const v = spawnSync('sqlite3', [db, 'PRAGMA user_version;'], { encoding: 'utf8', timeout: T(5000) });
  assert.equal(v.stdout.trim(), '999');
});
