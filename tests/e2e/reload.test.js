'use strict';
// Hot reload of faq/, rules/ and lua/: a valid change is picked up (inotify
// and SIGHUP) while customers keep talking; an invalid change is refused,
// the old content keeps answering, and the problem shows on /healthz and
// /metrics; a flow in progress finishes on the version it started on.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {
  T, makeContent, removeDir, useCleanups, healthz, metrics, metricSum, sqlite,
} = require('./lib');

const scope = useCleanups();
const CHAT = { rate_per_sec: 1000, rate_burst: 1000 };

// A flow that says which version of itself is running, at both steps.
const surveyFlow = (v) => `return function()
  local answer = ask("survey ${v}: how did we do?")
  say("survey ${v} thanks you for: " .. tostring(answer))
end
`;

const SURVEY_RULE = `intents:
  - name: survey_test
    label: Survey
    team: qa
    patterns:
      - '^take the survey$'
    examples:
      - take the survey
    flow: survey
`;

const LLAMA_FAQ = `---
id: llama-policy
title: Bringing a llama to the shop
team: general
questions:
  - can I bring my llama to the shop
  - are llamas allowed in your stores
---
Llamas are welcome in every shop, on a lead.
`;

// A FAQ file whose front matter is not YAML (an unclosed flow sequence).
const BROKEN_FAQ = `---
id: broken-entry
title: Broken
questions: [how do I break things
---
This entry never loads.
`;

let n = 0;
async function ask(c, text) {
  const id = `rl-${++n}`;
  c.send({ type: 'message', id, text });
  await c.ackFor(id);
  return c.replyFor(id);
}

/** Writes a file the way an editor's save does: a new file renamed over. */
function save(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

async function setup(extra = {}) {
  const content = makeContent(undefined, {
    lua: { 'flows/survey.lua': surveyFlow('v1') },
    extraRules: { 'en/zz_survey.yaml': SURVEY_RULE },
  });
  scope.defer(async () => removeDir(content));
  const d = await scope.daemon({ content, config: { chat: CHAT, ...extra } });
  return { d, content };
}

/** A new customer of d, said hello in English. */
async function customer(d) {
  const c = await scope.client(d.port);
  await c.hello({ lang: 'en' });
  return c;
}

/** Waits for the next reload outcome logged after index `from`. */
function nextOutcome(d, from) {
  return d.waitLog(/event=content_(reloaded|reload_failed) .*why=/, T(30000), from);
}

test('a new FAQ file is answered after the reload, without a restart', async () => {
  const { d, content } = await setup();
  const c = await customer(d);

  const before = await ask(c, 'can I bring my llama to the shop');
  assert.notEqual(before.source, 'faq:llama-policy');

  const from = d.logs.length;
  save(path.join(content, 'faq', 'en', 'llama-policy.md'), LLAMA_FAQ);
  const line = await nextOutcome(d, from);
  assert.match(line, /event=content_reloaded .*why=inotify/);
  assert.match(line, /build_ms=\d+/);

  const after = await ask(c, 'can I bring my llama to the shop');
  assert.equal(after.source, 'faq:llama-policy');
  assert.match(after.text, /Llamas are welcome/);

  const h = await healthz(d.port);
  assert.equal(h.json.content.ok, true);
  assert.equal(h.json.content.reloads, 1);
  assert.equal(h.json.content.reload_failures, 0);
  const m = await metrics(d.port);
  assert.equal(metricSum(m.samples, 'supportd_content_reloads_total', { result: 'ok' }), 1);
  assert.equal(metricSum(m.samples, 'supportd_content_ok'), 1);
});

test('invalid content is refused: the old content keeps serving and the error is exposed', async () => {
  const { d, content } = await setup();
  const c = await customer(d);
  const good = await ask(c, 'how do I cancel my order');
  assert.equal(good.source, 'intent:cancel_order');

  let from = d.logs.length;
  save(path.join(content, 'faq', 'en', 'broken-entry.md'), BROKEN_FAQ);
  const line = await nextOutcome(d, from);
  assert.match(line, /event=content_reload_failed .*problems=1/);
  const problem = d.logs.slice(from).find((l) => /event=content_reload_failed problem=/.test(l));
  assert.ok(problem, 'the problem itself is logged');
  assert.match(problem, /broken-entry\.md:\d+/);

  // still the old brain, and still answering
  const still = await ask(c, 'how do I cancel my order');
  assert.equal(still.source, 'intent:cancel_order');
  assert.equal(still.text, good.text);

  let h = await healthz(d.port);
  assert.equal(h.status, 200, 'the daemon itself is healthy');
  assert.equal(h.json.content.ok, false);
  assert.equal(h.json.content.reload_failures, 1);
  assert.match(h.json.content.last_error, /broken-entry\.md:\d+/);
  let m = await metrics(d.port);
  assert.equal(metricSum(m.samples, 'supportd_content_reloads_total', { result: 'failed' }), 1);
  assert.equal(metricSum(m.samples, 'supportd_content_ok'), 0);

  // a fresh connection gets the old content too
  const c2 = await customer(d);
  assert.equal((await ask(c2, 'how do I cancel my order')).source, 'intent:cancel_order');

  // the editor fixes it: the next reload is clean again
  from = d.logs.length;
  fs.unlinkSync(path.join(content, 'faq', 'en', 'broken-entry.md'));
  assert.match(await nextOutcome(d, from), /event=content_reloaded/);
  h = await healthz(d.port);
  assert.equal(h.json.content.ok, true);
  assert.equal(h.json.content.last_error, null);
  m = await metrics(d.port);
  assert.equal(metricSum(m.samples, 'supportd_content_ok'), 1);
});

test('SIGHUP reloads too, and a broken Lua pipeline is refused', async () => {
  const { d, content } = await setup();
  const c = await customer(d);

  let from = d.logs.length;
  process.kill(d.pid, 'SIGHUP');
  assert.match(await nextOutcome(d, from), /event=content_reloaded .*why=SIGHUP/);

  from = d.logs.length;
  const pipeline = path.join(content, 'lua', 'pipeline.lua');
  const original = fs.readFileSync(pipeline, 'utf8');
  save(pipeline, `${original}\nthis is not lua (\n`);
  assert.match(await nextOutcome(d, from), /event=content_reload_failed/);
  const h = await healthz(d.port);
  assert.match(h.json.content.last_error, /pipeline\.lua:\d+/);
  assert.equal((await ask(c, 'how do I cancel my order')).source, 'intent:cancel_order');
  assert.ok(d.running);
});

test('a flow in progress keeps the version it started on; new runs get the new one', async () => {
  const { d, content } = await setup();
  const a = await customer(d);
  const prompt = await ask(a, 'take the survey');
  assert.equal(prompt.source, 'flow:survey');
  assert.match(prompt.text, /survey v1: how did we do/);

  const from = d.logs.length;
  save(path.join(content, 'lua', 'flows', 'survey.lua'), surveyFlow('v2'));
  assert.match(await nextOutcome(d, from), /event=content_reloaded/);

  // the run that started on v1 ends on v1
  const done = await ask(a, 'great service');
  assert.equal(done.source, 'flow:survey');
  assert.match(done.text, /^survey v1 thanks you for: great service$/);

  // a new run starts on v2, in the same conversation and in a new one
  const again = await ask(a, 'take the survey');
  assert.match(again.text, /survey v2: how did we do/);
  const b = await customer(d);
  assert.match((await ask(b, 'take the survey')).text, /survey v2: how did we do/);
  assert.match((await ask(b, 'fine')).text, /^survey v2 thanks you for: fine$/);
});

test('messages sent during reloads are all acknowledged and answered', async () => {
  const { d, content } = await setup();
  const clients = [];
  for (let i = 0; i < 4; i++) {
    clients.push(await customer(d));
  }
  // each client talks without pause until three reloads (two good, one
  // refused) are over
  let stop = false;
  let sent = 0;
  const talk = async (c) => {
    const errors = [];
    while (!stop) {
      const r = await ask(c, 'how do I cancel my order');
      sent++;
      if (r.source !== 'intent:cancel_order') errors.push(r);
    }
    return errors;
  };
  const talkers = clients.map(talk);
  const faq = path.join(content, 'faq', 'en');
  try {
    for (const [file, text, outcome] of [
      ['llama-policy.md', LLAMA_FAQ, /content_reloaded/],
      ['broken-entry.md', BROKEN_FAQ, /content_reload_failed/],
      ['broken-entry.md', null, /content_reloaded/],
    ]) {
      const from = d.logs.length;
      if (text) save(path.join(faq, file), text);
      else fs.unlinkSync(path.join(faq, file));
      assert.match(await nextOutcome(d, from), outcome);
    }
  } finally {
    stop = true;
  }
  const wrong = (await Promise.all(talkers)).flat();
  assert.deepEqual(wrong, [], 'every message got its usual answer');
  assert.ok(sent > 0);
  for (const c of clients) {
    assert.deepEqual(c.all.filter((f) => f.type === 'error'), [], 'no error frame');
  }
  // every message acknowledged was stored, with its reply
  const rows = sqlite(d.dbPath, "SELECT count(DISTINCT client_id) FROM events WHERE client_id LIKE 'rl-%'");
  assert.ok(Number(rows[0][0]) >= sent, `${rows[0][0]} stored of ${sent} sent`);
});
