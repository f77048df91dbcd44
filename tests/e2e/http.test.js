'use strict';
// Plain HTTP endpoints: /healthz, /metrics, static files, and the /agent
// websocket's greeting.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {
  startDaemon, httpGet, healthz, metrics, metricSum, hasMetric,
  pollUntil, AGENT_PROTOCOL, REPO_ROOT, addAgent, useSharedDaemon,
} = require('./lib');

const MARKER = `supportd-e2e-marker-${process.pid}-${Date.now()}`;
const shared = useSharedDaemon(({ tempDir }) => {
  const staticDir = tempDir('supportd-e2e-www-');
  fs.writeFileSync(path.join(staticDir, 'index.html'), `<!doctype html><title>t</title><p>${MARKER}</p>\n`);
  fs.writeFileSync(path.join(staticDir, 'hello.txt'), `plain ${MARKER}\n`);
  fs.mkdirSync(path.join(staticDir, 'sub'));
  fs.writeFileSync(path.join(staticDir, 'sub', 'app.js'), `console.log(${JSON.stringify(MARKER)});\n`);
  return { static: staticDir };
});
const { open } = shared;

test('/healthz reports ok with the documented fields', async () => {
  const h = await healthz(shared.port);
  assert.equal(h.status, 200);
  assert.match(h.headers['content-type'] || '', /application\/json/);
  assert.ok(h.json, `body is JSON: ${h.body}`);
  assert.equal(h.json.status, 'ok');
  assert.equal(typeof h.json.version, 'string');
  assert.match(h.json.version, /^\d+\.\d+\.\d+/);
  assert.ok(Number.isInteger(h.json.uptime_s) && h.json.uptime_s >= 0);
  assert.ok(Number.isInteger(h.json.connections));
  assert.ok(Number.isInteger(h.json.conversations_open));
  assert.equal(typeof h.json.store, 'object');
  assert.equal(h.json.store.ok, true);
  assert.ok(Number.isInteger(h.json.store.pending) && h.json.store.pending >= 0);
});

test('/healthz counts open websocket connections', async () => {
  const base = (await healthz(shared.port)).json.connections;
  const a = await open();
  const b = await open();
  await a.hello();
  await b.hello();
  let h = await healthz(shared.port);
  assert.equal(h.json.connections, base + 2);
  assert.ok(h.json.conversations_open >= 2);
  await a.close();
  await b.close();
  h = await pollUntil(async () => {
    const x = await healthz(shared.port);
    return x.json.connections === base ? x : null;
  }, { what: `connections back to ${base}` });
  assert.equal(h.json.connections, base);
});

test('/metrics exposes the documented series and counters move', async () => {
  const m0 = await metrics(shared.port);
  assert.equal(m0.status, 200);
  assert.match(m0.headers['content-type'] || '', /text\/plain/);
  for (const name of ['supportd_connections', 'supportd_messages_in_total', 'supportd_frames_out_total',
    'supportd_store_commit_seconds_bucket', 'supportd_store_commit_seconds_sum', 'supportd_store_commit_seconds_count']) {
    assert.ok(hasMetric(m0.samples, name) || m0.body.includes(`# TYPE ${name.replace(/_(bucket|sum|count)$/, '')}`),
      `metric ${name} present`);
  }
  assert.match(m0.body, /# TYPE supportd_messages_in_total counter/);
  assert.match(m0.body, /# TYPE supportd_store_commit_seconds histogram/);
  assert.match(m0.body, /# TYPE supportd_errors_total counter/);

  const c = await open();
  await c.hello();
  const N = 3;
  for (let i = 0; i < N; i++) await c.message(`mx-${i}`, 'hello');
  c.send('{not json');
  await c.error('bad_json');

  const m1 = await metrics(shared.port);
  const s0 = m0.samples;
  const s1 = m1.samples;
  assert.equal(metricSum(s1, 'supportd_messages_in_total') - metricSum(s0, 'supportd_messages_in_total'), N,
    'messages_in_total grew by exactly the messages sent');
  assert.ok(metricSum(s1, 'supportd_frames_out_total', { type: 'reply' }) -
    metricSum(s0, 'supportd_frames_out_total', { type: 'reply' }) >= N, 'reply frames counted');
  assert.ok(metricSum(s1, 'supportd_frames_out_total', { type: 'ack' }) -
    metricSum(s0, 'supportd_frames_out_total', { type: 'ack' }) >= N, 'ack frames counted');
  assert.equal(metricSum(s1, 'supportd_errors_total', { code: 'bad_json' }) -
    metricSum(s0, 'supportd_errors_total', { code: 'bad_json' }), 1, 'bad_json error counted once');
  assert.equal(metricSum(s1, 'supportd_connections', { protocol: 'chat' }), 1 +
    metricSum(s0, 'supportd_connections', { protocol: 'chat' }), 'chat connection gauge');

  // Histogram: commits happened, +Inf bucket equals _count, buckets are cumulative.
  const count1 = metricSum(s1, 'supportd_store_commit_seconds_count');
  assert.ok(count1 > metricSum(s0, 'supportd_store_commit_seconds_count'), 'commit histogram grew');
  const buckets = s1.filter((s) => s.name === 'supportd_store_commit_seconds_bucket')
    .map((s) => [s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), s.value])
    .sort((x, y) => x[0] - y[0]);
  assert.ok(buckets.length >= 2);
  assert.equal(buckets[buckets.length - 1][0], Infinity);
  assert.equal(buckets[buckets.length - 1][1], count1);
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i][1] >= buckets[i - 1][1], 'cumulative buckets');
  assert.ok(metricSum(s1, 'supportd_store_commit_seconds_sum') >= 0);
});

test('static files are served from --static', async () => {
  let r = await httpGet(shared.port, '/');
  assert.equal(r.status, 200);
  assert.ok(r.body.includes(MARKER), 'GET / serves index.html');
  assert.match(r.headers['content-type'] || '', /text\/html/);
  r = await httpGet(shared.port, '/index.html');
  assert.equal(r.status, 200);
  assert.ok(r.body.includes(MARKER));
  r = await httpGet(shared.port, '/hello.txt');
  assert.equal(r.status, 200);
  assert.equal(r.body, `plain ${MARKER}\n`);
  assert.match(r.headers['content-type'] || '', /text\/plain/);
  r = await httpGet(shared.port, '/sub/app.js');
  assert.equal(r.status, 200);
  assert.ok(r.body.includes(MARKER));
  r = await httpGet(shared.port, '/no-such-file.txt');
  assert.equal(r.status, 404);
});

test('static files cannot escape the static dir', async () => {
  const probes = [
    '/../../../../../../etc/passwd',
    '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/..%2f..%2f..%2f..%2fetc%2fpasswd',
    '/sub/../../../../../../etc/passwd',
    '/sub/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
  ];
  for (const p of probes) {
    const r = await httpGet(shared.port, p);
    assert.ok(!/root:.*:0:0:/.test(r.body), `${p} must not serve /etc/passwd (status ${r.status})`);
    assert.ok(r.status >= 300 || r.body.includes(MARKER), `${p}: status ${r.status}`);
  }
  const h = await healthz(shared.port);
  assert.equal(h.status, 200);
});

test('/agent with supportd.agent.v1: a frame before login gets login_required, and the login still works', async () => {
  const token = addAgent(shared.daemon.dataDir, 'http-early', { teams: ['general'], capacity: 1 });
  const c = await open({ path: '/agent', protocol: AGENT_PROTOCOL });
  assert.equal(c.ws.protocol, AGENT_PROTOCOL);
  c.send({ type: 'queue' });
  const e = await c.error('login_required');
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0);
  assert.equal(c.closeInfo, null, 'the connection stays open');
  const w = await c.login('http-early', token);
  assert.equal(w.agent, 'http-early');
  assert.deepEqual(w.teams, ['general']);
  c.send({ type: 'queue' });
  const v = await c.next((f) => f.type === 'queue_view' || f.type === 'error');
  assert.equal(v.type, 'queue_view', JSON.stringify(v));
  const h = await healthz(shared.port);
  assert.equal(h.json.status, 'ok');
});

test('default --static serves the repo contrib/www placeholder', async () => {
  const index = path.join(REPO_ROOT, 'contrib', 'www', 'index.html');
  assert.ok(fs.existsSync(index), `${index} exists`);
  const d2 = await startDaemon();
  try {
    const r = await httpGet(d2.port, '/');
    assert.equal(r.status, 200);
    assert.equal(r.body, fs.readFileSync(index, 'utf8'));
  } finally {
    await d2.cleanup();
  }
});
