'use strict';
// `supportd report` on a store seeded through a real daemon with known
// counts: two conversations the bot answered, one handed to an agent who
// replied and closed it, and the customer's rating.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const {
  BIN, T, REPO_ROOT, connect, connectAgent, addAgent, useCleanups, metrics, metricSum,
} = require('./lib');

const scope = useCleanups();

function report(dataDir, ...args) {
  const r = spawnSync(BIN, ['report', '-d', dataDir, ...args],
    { cwd: REPO_ROOT, encoding: 'utf8', timeout: T(30000) });
  assert.equal(r.error, undefined);
  return r;
}

test('report: deflection, handoffs, answers, CSAT, first response and waits from the store', async () => {
  const dataDir = scope.tempDir('supportd-e2e-report-');
  const token = addAgent(dataDir, 'ana', { teams: ['general'], capacity: 2 });
  const d = await scope.daemon({ dataDir, config: { chat: { rate_per_sec: 1000, rate_burst: 1000 } } });

  // two deflected conversations: an FAQ answer each
  const faqSources = [];
  for (const q of ['how long does delivery take', 'how long does delivery take']) {
    const c = await connect(d.port);
    await c.hello();
    const { reply } = await c.message(`r-${faqSources.length}`, q);
    assert.match(reply.source, /^faq:/);
    faqSources.push(reply.source);
    c.close();
  }
  // one handed to ana, who replies and closes; the customer rates 4
  const agent = await connectAgent(d.port);
  await agent.login('ana', token);
  const c = await connect(d.port);
  const w = await c.hello();
  c.send({ type: 'message', id: 'h', text: 'talk to a person' });
  const offer = await agent.next((f) => f.type === 'offer' && f.conversation === w.conversation);
  agent.send({ type: 'accept', conversation: offer.conversation });
  await agent.next((f) => f.type === 'assigned' && f.conversation === w.conversation);
  agent.send({ type: 'message', conversation: w.conversation, id: 'a1', text: 'Hello, I am Ana.' });
  await agent.next((f) => f.type === 'ack' && f.id === 'a1');
  agent.send({ type: 'close', conversation: w.conversation, resolution: 'resolved' });
  await c.next((f) => f.type === 'reply' && f.source === 'closed');
  c.send({ type: 'csat', rating: 4, comment: 'fine' });
  await c.next((f) => f.type === 'reply' && f.source === 'csat');
  c.close();
  agent.close();

  // the same figures, as counters and histograms on /metrics
  const { samples } = await metrics(d.port);
  assert.equal(metricSum(samples, 'supportd_conversations_total'), 3);
  assert.equal(metricSum(samples, 'supportd_answers_total', { source: 'faq' }), 2);
  assert.equal(metricSum(samples, 'supportd_answers_total', { source: 'handoff' }), 1);
  assert.equal(metricSum(samples, 'supportd_handoffs_total'), 1);
  assert.equal(metricSum(samples, 'supportd_csat_total', { rating: '4' }), 1);
  assert.equal(metricSum(samples, 'supportd_csat_total'), 1);
  assert.equal(metricSum(samples, 'supportd_queue_wait_seconds_count'), 1);
  assert.equal(metricSum(samples, 'supportd_first_response_seconds_count'), 1);
  assert.equal(metricSum(samples, 'supportd_queue_wait_seconds_bucket', { le: '+Inf' }), 1);
  await d.stop();

  const r = report(dataDir, '--json', '--since', '24h');
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.since, '24h');
  assert.equal(s.conversations, 3);
  assert.equal(s.deflected, 2);
  assert.ok(Math.abs(s.deflection_rate - 2 / 3) < 1e-9);
  assert.deepEqual(s.handoffs_by_reason, [{ reason: 'the customer asked for a person', count: 1 }]);
  assert.equal(s.csat.count, 1);
  assert.equal(s.csat.average, 4);
  assert.deepEqual(s.csat.distribution, [0, 0, 0, 1, 0]);
  assert.equal(s.first_response.count, 1);
  assert.ok(s.first_response.p50_ms >= 0);
  assert.equal(s.waits.count, 1);
  assert.deepEqual(s.top_faq, [{ source: faqSources[0], count: 2 }]);
  const bySource = Object.fromEntries(s.answers_by_source.map((x) => [x.source, x.count]));
  assert.equal(bySource.faq, 2);
  assert.equal(bySource.handoff, 1);
  assert.equal(bySource.agent, 1);
  assert.equal(s.per_hour.reduce((n, h) => n + h.count, 0), 3);

  // the text form says the same
  const t = report(dataDir, '--since', '24h');
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /^conversations\s+3$/m);
  assert.match(t.stdout, /^deflected\s+2 \(66\.7%\)/m);
  assert.match(t.stdout, /^CSAT\s+4\.00 from 1 ratings; 1:0 2:0 3:0 4:1 5:0$/m);
  assert.match(t.stdout, /1\s+33\.3%\s+the customer asked for a person/);
});

test('report: a bad --since is a usage error', () => {
  const dataDir = scope.tempDir('supportd-e2e-report-');
  for (const bad of ['5y', '0d', 'soon', '-1h']) {
    const r = report(dataDir, '--since', bad);
    assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
    assert.match(r.stderr, /--since takes a duration/);
  }
});

test('report unanswered: fallbacks grouped by shared terms, thumbs down, the nearest FAQ entry', async () => {
  const dataDir = scope.tempDir('supportd-e2e-report-');
  const d = await scope.daemon({ dataDir, config: { chat: { rate_per_sec: 1000, rate_burst: 1000 } } });
  const ask = async (text, id = 'q') => {
    const c = await connect(d.port);
    await c.hello();
    const { reply } = await c.message(id, text);
    return { c, reply };
  };
  // three ways of asking something the shop's content does not cover, one other
  for (const q of ['do you accept bitcoin', 'bitcoin payment possible?', 'is bitcoin ok',
    'what is the capital of France']) {
    const { c, reply } = await ask(q);
    assert.equal(reply.source, 'fallback', q);
    c.close();
  }
  // a thumbs down on an answer the customer did not like
  const { c, reply } = await ask('how long does delivery take');
  assert.match(reply.source, /^faq:/);
  c.send({ type: 'rate', seq: reply.seq, value: 'down' });
  const rated = await c.next((f) => f.type === 'rated');
  assert.deepEqual([rated.seq, rated.value], [reply.seq, 'down']);
  c.send({ type: 'rate', seq: 999, value: 'up' });
  const bad = await c.next((f) => f.type === 'error');
  assert.equal(bad.code, 'bad_field');
  c.close();
  await d.stop();

  const r = report(dataDir, 'unanswered', '--json', '--since', '24h', '--content', REPO_ROOT);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.questions, 5);
  const top = s.groups[0];
  assert.equal(top.count, 3, JSON.stringify(s.groups));
  assert.ok(top.examples.every((e) => /bitcoin/i.test(e)), JSON.stringify(top));
  assert.deepEqual(top.kinds, { fallback: 3 });
  assert.ok(top.terms.includes('bitcoin'));
  assert.match(top.nearest.source, /^(faq|intent):/, 'the nearest entry is named');
  const thumbs = s.groups.find((g) => g.kinds.thumbs_down);
  assert.ok(thumbs, JSON.stringify(s.groups));
  assert.deepEqual(thumbs.examples, ['how long does delivery take']);
  const t = report(dataDir, 'unanswered', '--since', '24h', '--content', REPO_ROOT);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /^1\. 3 times \(fallback 3\)$/m);
  assert.match(t.stdout, /nearest: (faq|intent):/);
});
