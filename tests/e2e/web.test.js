'use strict';
// The web side of the daemon: security headers on every response, the
// Origin allow-list on websocket upgrades, /widget.js, the agents' stats
// endpoint and canned responses (docs/desk.md, docs/configuration.md).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const WebSocket = require('ws');
const {
  T, REPO_ROOT, LOOPBACK, CHAT_PROTOCOL, makeContent, removeDir, useCleanups, httpGet,
  connectAgent, addAgent,
} = require('./lib');

const scope = useCleanups();

/** Opens a websocket with an Origin header; resolves 'open' or the HTTP status refused. */
function tryOrigin(port, origin) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://${LOOPBACK}:${port}/chat`, CHAT_PROTOCOL,
      { headers: origin ? { Origin: origin } : {}, handshakeTimeout: T(5000) });
    ws.on('open', () => { ws.terminate(); resolve('open'); });
    ws.on('unexpected-response', (req, res) => { resolve(res.statusCode); req.destroy(); });
    ws.on('error', () => resolve('error'));
  });
}

let daemonP = null;
function webDaemon() {
  daemonP ??= (async () => {
    const dataDir = scope.tempDir('supportd-e2e-web-');
    const content = makeContent(undefined, {
      extraRules: {
        'canned/replies.yaml': [
          'responses:',
          '  - shortcut: refund',
          '    title: Refund timeline',
          '    text: Refunds reach your account within 5 working days.',
          '  - shortcut: reembolso',
          '    title: Prazo do reembolso',
          '    lang: pt',
          '    text: O reembolso chega em 5 dias úteis.',
        ].join('\n') + '\n',
      },
    });
    scope.defer(async () => removeDir(content));
    const token = addAgent(dataDir, 'ana', { teams: ['general'], capacity: 2 });
    const d = await scope.daemon({
      dataDir, content,
      config: { allowed_origins: ['https://shop.example.com'], chat: { rate_per_sec: 1000, rate_burst: 1000 } },
    });
    return { d, token };
  })();
  return daemonP;
}

test('every response carries the security headers and a content security policy', async () => {
  const { d } = await webDaemon();
  for (const p of ['/', '/healthz', '/widget.js', '/no-such-page']) {
    const r = await httpGet(d.port, p);
    assert.match(r.headers['content-security-policy'] || '', /default-src 'self'/, p);
    assert.match(r.headers['content-security-policy'], /frame-ancestors 'none'/, p);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', p);
    assert.equal(r.headers['x-frame-options'], 'DENY', p);
  }
});

test('/widget.js is served as JavaScript from the widget directory', async () => {
  const { d } = await webDaemon();
  const r = await httpGet(d.port, '/widget.js');
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /javascript/);
  // the file, with the catalogs' widget texts in place of its placeholder
  const file = fs.readFileSync(path.join(REPO_ROOT, 'build', 'widget', 'widget.js'), 'utf8');
  const at = file.indexOf('"__SUPPORTD_STRINGS__"');
  assert.ok(at > 0, 'the built widget has the placeholder');
  assert.equal(r.body.slice(0, at), file.slice(0, at));
  const rest = file.slice(at + '"__SUPPORTD_STRINGS__"'.length);
  assert.ok(r.body.endsWith(rest));
  const catalogs = JSON.parse(r.body.slice(at, r.body.length - rest.length));
  assert.deepEqual(Object.keys(catalogs), ['en', 'pl', 'pt']);
  assert.equal(catalogs.pl.send, 'Wyślij');
});

test('/widget.js is revalidated by its ETag: 304 while current, a new tag when the file changes', async () => {
  // a widget directory of its own, to change the file under the daemon
  const widgetDir = scope.tempDir('supportd-e2e-widget-');
  const built = fs.readFileSync(path.join(REPO_ROOT, 'build', 'widget', 'widget.js'), 'utf8');
  fs.writeFileSync(path.join(widgetDir, 'widget.js'), built);
  const d = await scope.daemon({ config: { widget_dir: widgetDir } });

  const r1 = await httpGet(d.port, '/widget.js');
  assert.equal(r1.status, 200);
  assert.equal(r1.headers['cache-control'], 'no-cache');
  assert.match(r1.headers.etag, /^"[0-9a-f]{32}"$/);
  const r2 = await httpGet(d.port, '/widget.js');
  assert.equal(r2.headers.etag, r1.headers.etag, 'the same content has the same tag');
  assert.equal(r2.body, r1.body);

  const nm = await httpGet(d.port, '/widget.js', { headers: { 'If-None-Match': r1.headers.etag } });
  assert.equal(nm.status, 304);
  assert.equal(nm.body, '');
  assert.equal(nm.headers.etag, r1.headers.etag);
  assert.match(String(nm.headers['content-security-policy']), /default-src/);
  const stale = await httpGet(d.port, '/widget.js', { headers: { 'If-None-Match': '"0000"' } });
  assert.equal(stale.status, 200);

  // a new build of the widget: a new tag and the new body at once
  fs.writeFileSync(path.join(widgetDir, 'widget.js'), built.replace('supportd chat widget', 'supportd chat widget, v2'));
  const r3 = await httpGet(d.port, '/widget.js', { headers: { 'If-None-Match': r1.headers.etag } });
  assert.equal(r3.status, 200);
  assert.notEqual(r3.headers.etag, r1.headers.etag);
  assert.match(r3.body, /supportd chat widget, v2/);
  assert.ok(!r3.body.includes('__SUPPORTD_STRINGS__'), 'the strings are written in');
});

test('websocket upgrades: no Origin, our own, or an allowed one; others get 403', async () => {
  const { d } = await webDaemon();
  assert.equal(await tryOrigin(d.port, null), 'open', 'non-browser clients send no Origin');
  assert.equal(await tryOrigin(d.port, `http://${LOOPBACK}:${d.port}`), 'open', 'same origin');
  assert.equal(await tryOrigin(d.port, 'https://shop.example.com'), 'open', 'allow-listed');
  assert.equal(await tryOrigin(d.port, 'https://evil.example.com'), 403);
  assert.equal(await tryOrigin(d.port, `http://${LOOPBACK}:${d.port + 1}`), 403, 'another port is another origin');
  assert.equal(await tryOrigin(d.port, 'null'), 403);
  await d.waitLog(/event=upgrade_refused .*reason=origin/);
});

test('/api/stats needs the session of a signed-in agent', async () => {
  const { d, token } = await webDaemon();
  assert.equal((await httpGet(d.port, '/api/stats')).status, 401);
  assert.equal((await httpGet(d.port, '/api/stats', { headers: { Authorization: 'Bearer nope' } })).status, 401);
  const a = await connectAgent(d.port);
  const w = await a.login('ana', token);
  assert.equal(typeof w.session, 'string');
  assert.ok(w.session.length >= 30);
  const auth = { Authorization: `Bearer ${w.session}` };
  const r = await httpGet(d.port, '/api/stats?range=7d', { headers: auth });
  assert.equal(r.status, 200, r.body);
  const s = JSON.parse(r.body);
  for (const k of ['conversations', 'deflected', 'deflection_rate', 'handoffs_by_reason', 'csat',
    'waits', 'top_intents', 'top_faq', 'from', 'to']) {
    assert.ok(k in s, `stats has ${k}: ${r.body}`);
  }
  assert.ok(s.to - s.from === 7 * 86400000);
  assert.equal((await httpGet(d.port, '/api/stats?range=1y', { headers: auth })).status, 400);
  // the session ends with the connection
  a.close();
  await a.waitClose();
  await d.waitLog(/event=agent_gone .*agent=ana/);
  assert.equal((await httpGet(d.port, '/api/stats', { headers: auth })).status, 401);
});

test('the stats count conversations, deflection, handoffs and top answers', async () => {
  const { d, token } = await webDaemon();
  const { connect } = require('./lib');
  // one deflected conversation (an FAQ answer), one handed off
  const c1 = await connect(d.port);
  await c1.hello();
  const m1 = await c1.message('s1', 'how long does delivery take');
  assert.match(m1.reply.source, /^faq:/);
  const c2 = await connect(d.port);
  await c2.hello();
  c2.send({ type: 'message', id: 's2', text: 'talk to a person' });
  await c2.next((f) => f.type === 'reply' && f.source === 'handoff');
  const a = await connectAgent(d.port);
  const w = await a.login('ana', token);
  const s = JSON.parse((await httpGet(d.port, '/api/stats?range=24h',
    { headers: { Authorization: `Bearer ${w.session}` } })).body);
  assert.ok(s.conversations >= 2, JSON.stringify(s));
  assert.ok(s.deflected >= 1 && s.deflected < s.conversations, JSON.stringify(s));
  assert.ok(s.handoffs_by_reason.some((h) => /asked for a person/.test(h.reason) && h.count >= 1),
    JSON.stringify(s.handoffs_by_reason));
  assert.ok(s.top_faq.some((f) => f.source === m1.reply.source), JSON.stringify(s.top_faq));
  a.close();
});

test('canned responses from rules/canned reach agents in their welcome', async () => {
  const { d, token } = await webDaemon();
  const a = await connectAgent(d.port);
  const w = await a.login('ana', token);
  assert.deepEqual(w.canned.map((x) => x.shortcut).sort(), ['reembolso', 'refund']);
  const pt = w.canned.find((x) => x.shortcut === 'reembolso');
  assert.equal(pt.lang, 'pt');
  assert.match(pt.text, /5 dias úteis/);
  a.close();
});

test('a broken canned responses file stops start-up with file:line', async () => {
  const content = makeContent(undefined, {
    extraRules: { 'canned/bad.yaml': 'responses:\n  - shortcut: Bad Key\n    title: x\n    text: y\n' },
  });
  scope.defer(async () => removeDir(content));
  const { spawnSync } = require('node:child_process');
  const { BIN } = require('./lib');
  const r = spawnSync(BIN, ['ask', '--content', content, 'hi'], { encoding: 'utf8', timeout: T(30000) });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /canned\/bad\.yaml:2: shortcut 'Bad Key' must be/);
});
