'use strict';
// `supportd check`: the editors' lint. Exact errors on a directory of
// deliberately broken files (tests/content/broken/), warnings on a small
// made-up content root, --json and --strict, and the shipped content clean.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { BIN, T, REPO_ROOT, makeContent, useCleanups } = require('./lib');

const { defer } = useCleanups();

const SANITIZER_RE = /AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer/;

function check(args) {
  const r = spawnSync(BIN, ['check', ...args], {
    cwd: REPO_ROOT, encoding: 'utf8', timeout: T(60000),
  });
  assert.equal(r.error, undefined);
  assert.doesNotMatch(r.stderr, SANITIZER_RE);
  return r;
}

const lines = (s) => s.split('\n').filter((l) => l !== '');

const BROKEN = 'tests/content/broken';

// One line per mistake, in file order: each file of tests/content/broken/
// says in its first lines what is wrong with it.
const BROKEN_ERRORS = [
  'faq/en/bad-link.md:9:22: error: link to \'javascript:alert(1)\' is not allowed: links must start with https://, http:// or mailto:',
  'faq/en/missing-questions.md:3:1: error: missing \'questions\' in the front matter: list the ways customers ask this',
  'faq/en/unknown-key.md:3:1: error: missing \'title\' in the front matter',
  'faq/en/unknown-key.md:4:1: error: unknown key \'titel\' in the front matter (did you mean \'title\'?)',
  'faq/en/yaml-syntax.md:6:1: error: YAML syntax error: did not find expected \',\' or \']\' (while parsing a flow sequence on line 5)',
  'lua/flows/syntax_error.lua:4:1: error: \'then\' expected near \'say\'',
  // the column of the offset PCRE2 gives, in a single-quoted pattern ...
  'rules/en/bad-pattern.yaml:6:32: error: pattern \'\\btrack (my|the parcel\' in intent \'track_parcel\': missing closing parenthesis at offset 22',
  // ... and the column of the value in a double-quoted one (escapes)
  'rules/en/bad-pattern.yaml:7:9: error: pattern \'\\bparcel[0-9\' in intent \'track_parcel\': missing terminating ] for character class at offset 12',
  // the daemon makes these two checks only on otherwise clean content
  'rules/en/missing-faq.yaml:8:10: error: intent \'delivery_costs\': there is no FAQ entry with id \'delivery-costs\' in language \'en\'',
  'rules/en/missing-flow.yaml:8:11: error: intent \'cancel_order\' runs flow \'cancel_order\', but there is no lua/flows/cancel_order.lua',
  'rules/en/mood.yaml:2:1: error: unknown key \'negativ\' in a mood file (did you mean \'negative\'?)',
  'rules/en/unknown-key.yaml:3:1: error: intent \'opening_hours\' needs \'examples\' (phrases customers type) or \'patterns\'',
  'rules/en/unknown-key.yaml:5:5: error: unknown key \'exmaples\' in an intent (did you mean \'examples\'?)',
  'rules/en/yaml-syntax.yaml:4:11: error: YAML syntax error: mapping values are not allowed in this context',
].map((l) => `${BROKEN}/${l}`);

test('check lists every mistake in the broken files as file:line:col: error: reason', () => {
  const r = check([BROKEN]);
  assert.equal(r.status, 1, r.stderr);
  assert.deepEqual(lines(r.stdout), BROKEN_ERRORS);
  assert.equal(r.stderr, `supportd check: ${BROKEN}: 14 errors, 0 warnings\n`);
});

test('check --json gives the same problems as one object per directory', () => {
  const r = check(['--json', `${BROKEN}/`]); // a trailing '/' changes nothing
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr, '');
  const out = lines(r.stdout).map((l) => JSON.parse(l));
  assert.equal(out.length, 1);
  const [o] = out;
  assert.deepEqual(Object.keys(o), ['dir', 'errors', 'warnings', 'ok']);
  assert.equal(o.dir, BROKEN);
  assert.equal(o.ok, false);
  assert.deepEqual(o.warnings, []);
  for (const e of o.errors) {
    assert.deepEqual(Object.keys(e), ['file', 'line', 'col', 'message']);
    assert.ok(Number.isInteger(e.line) && e.line >= 1);
    assert.ok(Number.isInteger(e.col) && e.col >= 1);
  }
  assert.deepEqual(o.errors.map((e) => `${e.file}:${e.line}:${e.col}: error: ${e.message}`),
    BROKEN_ERRORS);
});

// A made-up content root with one of each warning. lua/ is the shipped one.
function warningContent() {
  const delivery = 'We deliver to every address in the country, usually within two to four ' +
    'working days of your order. ';
  const dir = makeContent(undefined, {
    faq: {
      'en/gift-cards.md': [
        '---', 'id: gift-cards', 'title: Gift cards', 'team: billing', 'questions:',
        '  - do you sell gift cards', '  - how do I use a gift card?',
        '  - what is the balance on my gift card', '  - can I buy a gift card online', '---',
        'Gift cards are sold in our shops and online. Check the balance on the',
        '[balance page](http://shop.example/balance).', ''].join('\n'),
      'en/vouchers.md': [
        '---', 'id: vouchers', 'title: Discount vouchers', 'team: billing', 'questions:',
        '  - my voucher code does not work', '  - how can I use gift cards',
        '  - where do I enter a discount code', '  - the discount was not applied', '---',
        'Enter the code in the basket, before you pay.', ''].join('\n'),
      'en/opening-hours.md': [
        '---', 'id: opening-hours', 'title: Opening hours', 'team: biling', 'questions:',
        '  - when are you open', '---', 'Monday to Friday, 9:00 to 17:00.', ''].join('\n'),
      'en/delivery.md': [
        '---', 'id: delivery', 'title: Delivery times', 'team: orders', 'questions:',
        '  - how long does delivery take', '  - when will my parcel arrive', '  - delivery times',
        '  - how fast do you ship', '---', delivery.repeat(14).trim(), ''].join('\n'),
    },
    rules: {
      'en/parcels.yaml': [
        'intents:',
        '  - name: track_parcel', '    label: Track my parcel', '    team: orders',
        '    examples:', '      - track my parcel', '      - where is my parcel',
        '      - tracking number please',
        '    reply: Your tracking link is in the confirmation e-mail.',
        '  - name: parcel_status', '    label: Parcel status', '    team: orders',
        '    examples:', '      - status of my delivery', '      - Track my parcel!',
        '      - has it shipped', '    reply: Parcels ship within a day.', ''].join('\n'),
    },
  });
  defer(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('check warns about content that loads but will confuse the bot', () => {
  const dir = warningContent();
  const r = check([dir]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.stderr, `supportd check: ${dir}: 0 errors, 7 warnings\n`);
  const got = lines(r.stdout);
  const f = (p) => path.join(dir, p);
  const exact = [
    `${f('faq/en/delivery.md')}:11:1: warning: entry 'delivery': the answer is 1385 characters long, more than the 1200 a chat bubble holds comfortably: shorten it, or link to a page for the details`,
    `${f('faq/en/gift-cards.md')}:12:16: warning: entry 'gift-cards': link 'http://shop.example/balance' is not encrypted: use https:// if the site has it`,
    `${f('faq/en/opening-hours.md')}:4:1: warning: team 'biling' (used 1 time) looks like a typo of 'billing' (used 2 times)`,
    `${f('faq/en/opening-hours.md')}:5:1: warning: entry 'opening-hours' has a single question: add the other ways customers ask it (5 to 10 are best)`,
    // the retriever's confidences are asserted loosely, below
    null,
    `${f('faq/en/vouchers.md')}:7:5: warning: entry 'vouchers' question 2 'how can I use gift cards' is a near-duplicate of entry 'gift-cards' question 2 'how do I use a gift card?' (${f('faq/en/gift-cards.md')}:7)`,
    `${f('rules/en/parcels.yaml')}:15:9: warning: intent 'parcel_status' example 2 'Track my parcel!' is the same as intent 'track_parcel' example 1 'track my parcel' (${f('rules/en/parcels.yaml')}:6)`,
  ];
  assert.equal(got.length, exact.length, got.join('\n'));
  exact.forEach((want, i) => {
    if (want !== null) assert.equal(got[i], want);
  });
  // the entry's own question finds the other entry first
  assert.match(got[4], new RegExp(
    `^${f('faq/en/vouchers.md').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:7:5: warning: ` +
    'entry \'vouchers\' question 2 \'how can I use gift cards\' matches entry \'gift-cards\' ' +
    'better in the FAQ search \\(\\d\\.\\d\\d vs \\d\\.\\d\\d\\)$'));
});

test('check --strict fails on warnings; --json shows them', () => {
  const dir = warningContent();
  const strict = check(['--strict', dir]);
  assert.equal(strict.status, 1);
  const j = check(['--json', dir]);
  assert.equal(j.status, 0);
  const o = JSON.parse(j.stdout);
  assert.equal(o.ok, true);
  assert.deepEqual(o.errors, []);
  assert.equal(o.warnings.length, 7);
  for (const w of o.warnings) {
    assert.deepEqual(Object.keys(w), ['file', 'line', 'col', 'message']);
    assert.ok(w.file.startsWith(dir));
  }
  const js = check(['--json', '--strict', dir]);
  assert.equal(js.status, 1);
  assert.equal(JSON.parse(js.stdout).ok, false);
});

test('the shipped content has no errors', () => {
  for (const args of [[], ['.']]) {
    const r = check(args);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /: error: /);
    assert.match(r.stderr, /^supportd check: \.: 0 errors, \d+ warnings\n$/);
  }
});

test('check takes several directories, one after the other', () => {
  const r = check(['--json', '.', BROKEN]);
  assert.equal(r.status, 1);
  const out = lines(r.stdout).map((l) => JSON.parse(l));
  assert.deepEqual(out.map((o) => [o.dir, o.ok, o.errors.length]),
    [['.', true, 0], [BROKEN, false, 14]]);
});

test('check: a missing directory, --help, a bad option', () => {
  const missing = check(['no/such/dir']);
  assert.equal(missing.status, 1);
  assert.equal(missing.stdout,
    'no/such/dir:1:1: error: cannot read the content directory: No such file or directory\n');
  const h = check(['--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /^usage: supportd check/);
  const help = spawnSync(BIN, ['help', 'check'], { encoding: 'utf8' });
  assert.equal(help.stdout, h.stdout);
  const bad = check(['--no-such-flag']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /usage: supportd check/);
});
