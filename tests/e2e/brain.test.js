'use strict';
// The bot's brain over the websocket, with the shipped content: answers it
// knows, the honest fallback, "did you mean" buttons, hostile text, pattern
// match limits and broken content at start-up.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const {
  BIN, T, REPO_ROOT, makeContent, useCleanups, useSharedDaemon,
} = require('./lib');

const shared = useSharedDaemon(() => ({
  // the flows need a backend to start; none is called here
  config: { chat: { rate_per_sec: 1000, rate_burst: 1000 },
    flows: { backends: { api: 'http://127.0.0.1:9' } } },
}));
const open = async () => {
  const c = await shared.open();
  await c.hello();
  return c;
};
const { tempDir, daemon: startDaemon, defer } = useCleanups();

const thresholds = (() => {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'rules', 'thresholds.yaml'), 'utf8');
  const get = (k) => Number(new RegExp(`^${k}:\\s*([0-9.]+)`, 'm').exec(text)[1]);
  return { answer: get('answer'), clarify: get('clarify') };
})();

let n = 0;
async function ask(c, text, extra = {}) {
  const id = `b-${++n}`;
  c.send({ type: 'message', id, text, ...extra });
  await c.ackFor(id);
  return c.replyFor(id);
}

function assertSourced(reply) {
  assert.equal(typeof reply.source, 'string');
  assert.equal(typeof reply.confidence, 'number');
  assert.ok(reply.confidence >= 0 && reply.confidence <= 1, `confidence ${reply.confidence}`);
}

test('"I forgot my password" starts the password reset flow', async () => {
  const c = await open();
  const reply = await ask(c, 'I forgot my password');
  assert.equal(reply.source, 'flow:password_reset');
  assert.match(reply.text, /password/i);
  assert.match(reply.text, /e-mail address/i);
});

test('an unrelated question gets the fallback and the offer of a person', async () => {
  for (const q of ['what is the capital of France', 'can you sing',
    'who won the football world cup in 1998']) {
    // each in a conversation of its own: a second fallback in a row hands off
    const c = await open();
    const reply = await ask(c, q);
    assertSourced(reply);
    assert.equal(reply.source, 'fallback', `${q} -> ${reply.source} ${reply.confidence}`);
    assert.ok(reply.confidence < thresholds.clarify);
    assert.deepEqual(reply.choices.map((x) => x.id), ['handoff']);
  }
});

test('questions the sample content answers, phrased differently and with typos', async () => {
  const c = await open();
  const cases = [
    ['how long does shipping take', /^faq:shipping-times$/],
    ['I want to send back the shoes I bought', /^(faq:how-to-return|faq:returns-policy|intent:return_item)$/],
    ['my card was declined at checkout', /^intent:payment_problem$/],
    ['what are your openin hours', /^intent:opening_hours$/],
    ['how long does shiping take', /^faq:shipping-times$/],
  ];
  for (const [q, want] of cases) {
    const reply = await ask(c, q);
    assertSourced(reply);
    // an answer, or a "did you mean" whose first button is that answer
    const got = reply.source === 'clarify' ? reply.choices[0].id : reply.source;
    assert.match(got, want, `${q} -> ${reply.source} ${got} (${reply.confidence})`);
  }
});

test('asking for a person with nobody online: told so, and offered to leave a message', async () => {
  const c = await open();
  const id = `b-${++n}`;
  c.send({ type: 'message', id, text: 'i want to talk to a human' });
  await c.ackFor(id);
  const notice = await c.next((f) => f.type === 'reply' && f.in_reply_to === id && f.source === 'handoff');
  assert.deepEqual(notice.handoff, { team: 'general' });
  assert.match(notice.text, /nobody from our general team is available/i);
  const ask2 = await c.next((f) => f.type === 'reply' && f.in_reply_to === id &&
    f.source === 'flow:leave_message');
  assert.match(ask2.text, /leave us a message/i);
});

test('a button press answers with its candidate at confidence 1', async () => {
  const c = await open();
  const reply = await ask(c, 'Gift cards', { choice: 'faq:gift-cards' });
  assert.equal(reply.source, 'faq:gift-cards');
  assert.equal(reply.confidence, 1);
  // an intent that answers with an FAQ entry is one candidate with it
  const merged = await ask(c, 'Opening hours', { choice: 'faq:opening-hours' });
  assert.equal(merged.source, 'intent:opening_hours');
  assert.equal(merged.confidence, 1);
  // an unknown button id is ignored: the text is understood as usual
  const other = await ask(c, 'what is the capital of France', { choice: 'faq:no-such-entry' });
  assert.equal(other.source, 'fallback');
  // a button id must be printable ASCII
  c.send({ type: 'message', id: `b-${++n}`, text: 'x', choice: 'a b' });
  const err = await c.error('bad_field');
  assert.match(err.message, /choice/);
});

test('a close call asks "did you mean" with a button for each, and a press answers', async () => {
  // Two intents taught the same phrases: the model cannot tell them apart,
  // so the pipeline must ask rather than pick one.
  const intent = (name, label, reply) => [
    `  - name: ${name}`,
    `    label: ${label}`,
    `    reply: ${reply}`,
    '    examples:',
    '      - I want to change my plan',
    '      - change my plan please',
    '      - switch my plan',
    '      - can I change plans',
  ].join('\n');
  const content = makeContent(undefined, {
    rules: { 'en/plans.yaml': `intents:\n${intent('upgrade', 'Upgrade my plan', 'Upgrading is easy.')}\n${intent('downgrade', 'Downgrade my plan', 'Downgrading is easy.')}\n` },
    faq: { 'en/hours.md': '---\nid: opening-hours\ntitle: Opening hours\nquestions:\n  - when are you open\n---\nWe are open 9 to 5.\n' },
  });
  defer(() => fs.rmSync(content, { recursive: true, force: true }));
  const d = await startDaemon({ content, config: { chat: { rate_per_sec: 1000, rate_burst: 1000 } } });
  const { connect } = require('./lib');
  const c = await connect(d.port);
  defer(async () => c.terminate());
  await c.hello();
  const reply = await ask(c, 'I want to change my plan');
  assert.equal(reply.source, 'clarify');
  assert.ok(reply.confidence < 0.55, `not confident enough to answer: ${reply.confidence}`);
  // "did you mean A or B?" when both are close, "did you mean A?" when one
  // leads (the labels are examples too, so the two are not quite equal);
  // either way the candidates' buttons come first and a way out last
  const ids = reply.choices.map((x) => x.id);
  assert.match(ids[0], /^intent:(upgrade|downgrade)$/);
  for (const id of ids.slice(0, -1)) assert.match(id, /^intent:(upgrade|downgrade)$/);
  assert.match(ids[ids.length - 1], /^(handoff|other)$/);
  const first = reply.choices[0];
  assert.equal(first.label, first.id === 'intent:upgrade' ? 'Upgrade my plan' : 'Downgrade my plan');
  // pressing a button answers with that intent
  const answer = await ask(c, first.label, { choice: first.id });
  assert.equal(answer.source, first.id);
  assert.match(answer.text, /^(Up|Down)grading is easy\.$/);
  assert.equal(answer.confidence, 1);
  // and pressing the other one answers with the other
  const other = first.id === 'intent:upgrade' ? 'intent:downgrade' : 'intent:upgrade';
  const second = await ask(c, 'the other one', { choice: other });
  assert.equal(second.source, other);
});

test('hostile text gets a sensible reply and never crashes the daemon', async () => {
  const inputs = [
    '😀😀😀',
    '!!!???',
    'a'.repeat(4096),
    'ż'.repeat(2048),
    'order Заказ 注文 طلب password',
  ];
  for (const text of inputs) {
    const reply = await ask(await open(), text); // fallbacks in a row would hand off
    assertSourced(reply);
    assert.ok(reply.text.length > 0);
  }
  assert.deepEqual(shared.daemon.sanitizerReports(), []);
});

test('a catastrophic pattern stops at its match limit, is logged, and the message is answered', async () => {
  const content = makeContent(undefined, {
    rules: {
      'en/evil.yaml': [
        'intents:',
        '  - name: evil',
        '    label: Evil',
        '    reply: "evil"',
        '    patterns:',
        "      - '^(a|aa)+$'",
        '    examples:',
        '      - something evil',
      ].join('\n') + '\n',
    },
    faq: {
      'en/hours.md': '---\nid: opening-hours\ntitle: Opening hours\nquestions:\n  - when are you open\n---\nWe are open 9 to 5.\n',
    },
  });
  defer(() => fs.rmSync(content, { recursive: true, force: true }));
  const d = await startDaemon({ content, config: { brain: { pattern_match_limit: 10000 } } });
  const { connect } = require('./lib');
  const c = await connect(d.port);
  await c.hello();
  const reply = await ask(c, `${'a'.repeat(3000)}b`);
  assertSourced(reply);
  const warn = await d.waitLog(/event=pattern_limit\b/);
  assert.match(warn, /intent=evil/);
  assert.match(warn, /evil\.yaml/);
  // and the daemon keeps answering
  const next = await ask(c, 'when are you open');
  assert.equal(next.source, 'faq:opening-hours');
  c.close();
});

test('broken content stops start-up with file:line reasons', () => {
  const content = makeContent(undefined, {
    rules: { 'en/bad.yaml': 'intents:\n  - name: bad\n    label: Bad\n    reply: x\n    patterns:\n      - "(unclosed"\n' },
    faq: { 'en/a.md': '---\nid: a\ntitle: A\nquestions: [q]\n---\nAnswer.\n' },
  });
  defer(() => fs.rmSync(content, { recursive: true, force: true }));
  const data = tempDir('supportd-e2e-brain-data-');
  const r = spawnSync(BIN, ['serve', '--port', '0', '--data-dir', data, '--content', content],
    { encoding: 'utf8', timeout: T(20000) });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /event=content_error .*bad\.yaml:6: /);
  assert.match(r.stderr, /event=startup_failed/);
  assert.doesNotMatch(r.stderr, /event=listening/);
});
