'use strict';
// Configured limits: rate limiting, abuse close, per-address and global
// connection caps, resume token expiry, conversation size, text/frame sizes.
// Each test starts its own daemon with the small limits it needs.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  healthz, pollUntil, delay, T, useCleanups, withTimeout,
} = require('./lib');

const { daemon, client } = useCleanups();

async function waitConnections(d, n) {
  return pollUntil(async () => {
    const h = await healthz(d.port);
    return h.json && h.json.connections === n ? h : null;
  }, { what: `/healthz connections == ${n}` });
}

test('configured limits are announced in welcome and enforced', async () => {
  const d = await daemon({
    config: { chat: { max_text_bytes: 100, max_frame_bytes: 2048, rate_per_sec: 50, rate_burst: 60 } },
  });
  const c = await client(d.port);
  const w = await c.hello();
  assert.deepEqual(
    { max_text: w.limits.max_text, max_frame: w.limits.max_frame, rate: w.limits.rate, burst: w.limits.burst },
    { max_text: 100, max_frame: 2048, rate: 50, burst: 60 });
  c.send({ type: 'message', id: 't-101', text: 'a'.repeat(101) });
  const e = await c.error('text_too_long');
  assert.equal(e.in_reply_to, 't-101');
  c.send({ type: 'message', id: 't-100', text: 'a'.repeat(100) });
  const ok = await c.ackFor('t-100');
  assert.equal(ok.seq, 1);
  c.send({ type: 'message', id: 'big', text: 'a'.repeat(3000) });
  const close = await c.waitClose();
  assert.equal(close.code, 1009);
});

test('over-rate message -> rate_limited (dropped, not stored); works again after refill', async () => {
  const d = await daemon({ config: { chat: { rate_per_sec: 1, rate_burst: 2 } } });
  const c = await client(d.port);
  await c.hello();
  // Three messages in one go: the bucket holds 2 and refills at 1/s, so the
  // third is rejected.
  c.send({ type: 'message', id: 'r-1', text: 'hello' });
  c.send({ type: 'message', id: 'r-2', text: 'hello' });
  c.send({ type: 'message', id: 'r-3', text: 'hello' });
  const a1 = await c.ackFor('r-1');
  const a2 = await c.ackFor('r-2');
  const e = await c.next((f) => f.in_reply_to === 'r-3' && f.type !== 'reply');
  assert.equal(e.type, 'error', JSON.stringify(e));
  assert.equal(e.code, 'rate_limited');
  assert.equal(c.closeInfo, null, 'connection kept');

  // Resend r-3 until the bucket has refilled (polling at 300 ms, bounded).
  // Its first ack must not be a duplicate: the rejected one was not stored.
  const deadline = Date.now() + T(5000);
  let ack;
  for (;;) {
    await delay(300);
    c.send({ type: 'message', id: 'r-3', text: 'hello' });
    const f = await c.next((x) => (x.type === 'ack' || x.type === 'error') && (x.id === 'r-3' || x.in_reply_to === 'r-3'));
    if (f.type === 'ack') { ack = f; break; }
    assert.equal(f.code, 'rate_limited', JSON.stringify(f));
    assert.ok(Date.now() < deadline, 'rate limit did not refill within 5 s');
  }
  assert.equal(ack.duplicate, undefined, 'a rate-limited message was not stored');
  assert.ok(ack.seq > a2.seq && a2.seq > a1.seq);
});

test('a peer that keeps flooding past abuse_strikes is closed with 1008', async () => {
  const strikes = 5;
  const d = await daemon({ config: { chat: { rate_per_sec: 1, rate_burst: 1, abuse_strikes: strikes } } });
  const c = await client(d.port);
  await c.hello();
  for (let i = 0; i < 40; i++) c.send({ type: 'message', id: `flood-${i}`, text: 'hello' });
  const close = await c.waitClose();
  assert.equal(close.code, 1008, `close code; frames ${JSON.stringify(c.all.slice(-3))}`);
  const limited = c.all.filter((f) => f.type === 'error' && f.code === 'rate_limited').length;
  // Closed at (about) the configured number of rejections in a row, not at
  // the default of 20 and not after the whole flood.
  assert.ok(limited >= strikes - 1 && limited <= strikes + 1,
    `${limited} rate_limited errors before close (abuse_strikes ${strikes})`);

  // The daemon is healthy and the address is not banned.
  const h = await healthz(d.port);
  assert.equal(h.status, 200);
  const c2 = await client(d.port);
  await c2.hello();
  c2.send({ type: 'message', id: 'after', text: 'hello' });
  await c2.ackFor('after');
});

test('connections over max_conn_per_ip get too_many_connections and close 1008', async () => {
  const d = await daemon({ config: { chat: { max_conn_per_ip: 3 } } });
  const cs = [];
  for (let i = 0; i < 3; i++) {
    const c = await client(d.port);
    await c.hello();
    cs.push(c);
  }
  const extra = await client(d.port);
  const e = await extra.error('too_many_connections');
  assert.equal(e.type, 'error');
  const close = await extra.waitClose();
  assert.equal(close.code, 1008);
  // The other three are unaffected.
  for (const [i, c] of cs.entries()) {
    c.send({ type: 'message', id: `ok-${i}`, text: 'hello' });
    await c.ackFor(`ok-${i}`);
  }
  // Closing one frees a slot.
  await cs[0].close();
  await waitConnections(d, 2);
  const again = await client(d.port);
  const w = await again.hello();
  assert.equal(w.type, 'welcome');
  assert.equal(again.closeInfo, null);
});

test('connections over max_connections get server_busy and close 1013', async () => {
  const d = await daemon({ config: { chat: { max_connections: 2 } } });
  const a = await client(d.port);
  const b = await client(d.port);
  await a.hello();
  await b.hello();
  const extra = await client(d.port);
  await extra.error('server_busy');
  const close = await extra.waitClose();
  assert.equal(close.code, 1013);
  await a.close();
  await waitConnections(d, 1);
  const c = await client(d.port);
  const w = await c.hello();
  assert.equal(w.type, 'welcome');
});

test('a resume token idle longer than resume_idle_ttl -> resume_expired, fresh conversation', async () => {
  const d = await daemon({ config: { chat: { resume_idle_ttl_sec: 1 } } });
  const c = await client(d.port);
  const w = await c.hello();
  await c.message('e-1', 'hello');
  await c.close();
  // Clock precondition, not a race on server work: the token must have been
  // idle for more than 1 s (allowing for whole-second timestamps).
  await delay(2500);
  const c2 = await client(d.port);
  c2.send({ type: 'hello', resume: w.resume, last_seq: 0 });
  const f = await c2.next((x) => x.type === 'error' || x.type === 'welcome');
  assert.equal(f.type, 'error', JSON.stringify(f));
  assert.equal(f.code, 'resume_expired');
  const w2 = await c2.next({ type: 'welcome' });
  assert.equal(w2.resumed, false);
  assert.notEqual(w2.conversation, w.conversation);
  assert.notEqual(w2.resume, w.resume);
  assert.equal(w2.last_seq, 0);
  // Nothing from the old conversation is replayed.
  c2.send({ type: 'message', id: 'e-2', text: 'hello' });
  const ack = await c2.ackFor('e-2');
  assert.equal(ack.seq, 1);
  assert.deepEqual(c2.all.slice(0, c2.all.indexOf(ack) + 1).map((x) => x.type), ['error', 'welcome', 'ack']);
});

test('a conversation at max_events -> conversation_full, message not stored, connection kept', async () => {
  const d = await daemon({ config: { chat: { max_events: 4 } } });
  const c = await client(d.port);
  const w = await c.hello();
  await c.message('f-1', 'hello');
  await c.message('f-2', 'hello');
  c.send({ type: 'message', id: 'f-3', text: 'hello' });
  const e = await c.next((x) => x.in_reply_to === 'f-3');
  assert.equal(e.type, 'error', JSON.stringify(e));
  assert.equal(e.code, 'conversation_full');
  c.send({ type: 'nope' });
  await c.error('unknown_type');
  assert.equal(c.closeInfo, null);
  await c.close();
  const c2 = await client(d.port);
  const w2 = await c2.hello({ resume: w.resume, last_seq: 0 });
  assert.equal(w2.last_seq, 4, 'f-3 was not stored');
});

test('frames of any kind are rate limited too: a typing flood is closed with 1008', async () => {
  // rate 1/s, burst 1: other frames get 10x that, 10/s with a burst of 10
  const strikes = 5;
  const d = await daemon({ config: { chat: { rate_per_sec: 1, rate_burst: 1, abuse_strikes: strikes } } });
  const c = await client(d.port);
  await c.hello();
  for (let i = 0; i < 40; i++) c.send({ type: 'typing', state: i % 2 === 0 });
  const close = await c.waitClose();
  assert.equal(close.code, 1008);
  const limited = c.all.filter((f) => f.type === 'error' && f.code === 'rate_limited');
  // the hello took one token; nine typing frames pass, then strikes begin
  assert.equal(limited.length, strikes, JSON.stringify(c.all.slice(-3)));
  for (const e of limited) assert.equal(e.in_reply_to, undefined);

  const h = await healthz(d.port);
  assert.equal(h.status, 200);
});

test('connections of any kind over max_sockets_per_ip are refused when accepted; closing one frees a slot', async () => {
  const net = require('node:net');
  const d = await daemon({ config: { max_sockets_per_ip: 3 } });
  const sockets = [];
  const open = () => new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: d.port }, () => resolve(s));
    s.on('error', reject);
    sockets.push(s);
  });
  const closed = (s) => withTimeout(new Promise((resolve) => {
    if (s.destroyed || s.readableEnded) resolve();
    else s.once('close', resolve);
  }), T(5000), 'the server to close the connection');
  // an HTTP request on a raw socket: the status line of the answer
  const get = (s) => new Promise((resolve, reject) => {
    let data = '';
    s.on('data', (b) => { data += b.toString('latin1'); });
    s.once('close', () => resolve(data.split('\r\n')[0]));
    s.once('error', reject);
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  });
  const getting = (s) => withTimeout(get(s), T(5000), 'an HTTP answer');
  try {
    // three idle connections that never send a byte hold the address's slots
    const [s1] = [await open(), await open(), await open()];
    // a fourth is accepted by the kernel and closed at once by supportd
    const s4 = await open();
    await closed(s4);
    // the three still work
    assert.equal(await getting(s1), 'HTTP/1.1 200 OK');
    // s1 is gone (Connection: close): one slot is free again
    const s5 = await open();
    assert.equal(await getting(s5), 'HTTP/1.1 200 OK');
    await d.waitLog(/event=connections_refused ip=127\.0\.0\.1 open=3 reason=max_sockets_per_ip/);
  } finally {
    for (const s of sockets) s.destroy();
  }
});
