'use strict';
// `supportd ask`: the editors' view of a decision, in text and JSON, from
// arguments and from standard input, and its refusal of broken content.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const { BIN, T, REPO_ROOT, makeContent, useCleanups } = require('./lib');

const { defer } = useCleanups();

function ask(args, input) {
  const r = spawnSync(BIN, ['ask', ...args], {
    cwd: REPO_ROOT, input, encoding: 'utf8', timeout: T(30000),
  });
  assert.equal(r.error, undefined);
  return r;
}

test('ask prints the decision, the top candidates with scores, and why', () => {
  const r = ask(['I forgot my password']);
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^> I forgot my password$/m);
  // the intent runs a self-service flow
  assert.match(out, /^decision: start flow password_reset \(language en, team accounts\)$/m);
  assert.match(out, /margin: \d\.\d\d/);
  assert.match(out, /thresholds: answer 0\.\d+, clarify 0\.\d+/);
  // five ranked candidates, the first explained by its pattern and words
  const ranks = out.match(/^\d\. \S+\s+\d\.\d{3}/gm);
  assert.equal(ranks.length, 5);
  assert.match(ranks[0], /^1\. intent:reset_password /);
  assert.match(out, /pattern: .*password/);
  assert.match(out, /terms: .*password/);
});

test('ask --json gives the same as one JSON object per question', () => {
  const r = ask(['--json', 'I forgot my password', 'what is the capital of France']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  const [pw, fr] = lines;
  assert.equal(pw.question, 'I forgot my password');
  assert.equal(pw.lang, 'en');
  assert.equal(pw.replies.length, 0);
  assert.deepEqual(pw.action, { start_flow: 'password_reset', lang: 'en', team: 'accounts' });
  assert.equal(pw.candidates.length, 5);
  assert.ok(pw.candidates[0].pattern);
  assert.ok(pw.candidates[0].terms.includes('password'));
  for (let i = 1; i < pw.candidates.length; i++) {
    assert.ok(pw.candidates[i].confidence <= pw.candidates[i - 1].confidence + 1e-9);
  }
  assert.ok(pw.margin > 0.5);
  assert.equal(fr.replies[0].source, 'fallback');
  assert.ok(fr.candidates.length === 0 || fr.candidates[0].confidence < fr.thresholds.clarify);
});

test('ask reads one question per line from stdin, skipping blank lines', () => {
  const r = ask(['--json'], 'where is my parcel\n\n  \nhow much is delivery\r\n');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((o) => o.question), ['where is my parcel', 'how much is delivery']);
  assert.equal(lines[0].action.start_flow, 'order_status');
  assert.equal(lines[1].replies[0].source, 'faq:shipping-costs');
});

test('ask --lang picks the language; one without content falls back to the default', () => {
  const r = ask(['--json', '--lang', 'pt-BR', 'I forgot my password']);
  assert.equal(r.status, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  // only English content ships for now: the default language answers
  assert.equal(o.lang, 'en');
  assert.equal(o.action.start_flow, 'password_reset');
});

test('ask refuses broken content with file:line reasons and exit status 1', () => {
  const content = makeContent(undefined, {
    faq: { 'en/bad.md': '---\nid: Bad Id\ntitle: x\nquestions: [q]\n---\nAnswer.\n' },
    rules: { 'en/r.yaml': 'intents:\n  - name: x\n    label: X\n    reply: hi\n    examples: [hello there]\n' },
  });
  defer(() => fs.rmSync(content, { recursive: true, force: true }));
  const r = ask(['--content', content, 'hello']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /faq\/en\/bad\.md:2: /);
  assert.equal(r.stdout, '');
});

test('ask --help and a bad option', () => {
  const h = ask(['--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /usage: supportd ask/);
  const bad = ask(['--no-such-flag']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /usage: supportd ask/);
});
