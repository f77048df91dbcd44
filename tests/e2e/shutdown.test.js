'use strict';
// SIGTERM: clients are closed with 1001, the process exits 0, and whatever
// was acknowledged before the shutdown is durable.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { connect, T, useCleanups } = require('./lib');

const { daemon, client, tempDir } = useCleanups();

test('SIGTERM closes every client with 1001 and exits 0', async () => {
  const d = await daemon();
  const a = await client(d.port);
  const b = await client(d.port);
  const idle = await client(d.port); // connected, never said hello
  await a.hello();
  await b.hello();
  await a.message('s-1', 'hello');

  d.signal('SIGTERM');
  const [ca, cb, ci] = await Promise.all([a.waitClose(T(10000)), b.waitClose(T(10000)), idle.waitClose(T(10000))]);
  assert.equal(ca.code, 1001, 'greeted client a closed with 1001');
  assert.equal(cb.code, 1001, 'greeted client b closed with 1001');
  assert.equal(ci.code, 1001, 'un-greeted client closed with 1001');
  const e = await d.waitExit(T(10000));
  assert.deepEqual(e, { code: 0, signal: null }, `exit status\n${d.tail()}`);
  assert.deepEqual(d.sanitizerReports(), []);

  // Nothing is listening any more.
  await assert.rejects(connect(d.port, { timeoutMs: T(3000) }));
});

test('messages in flight at SIGTERM: every acked one is durable after restart', async () => {
  const dataDir = tempDir('supportd-e2e-data-');
  const config = { chat: { rate_per_sec: 10000, rate_burst: 10000 } };

  const d1 = await daemon({ dataDir, config });
  const c = await client(d1.port);
  const w = await c.hello();
  await c.message('before', 'hello');

  // A burst, then SIGTERM right away: some messages may still be in flight.
  const N = 30;
  for (let i = 0; i < N; i++) c.send({ type: 'message', id: `in-${i}`, text: `in flight ${i}` });
  d1.signal('SIGTERM');
  const close = await c.waitClose(T(10000));
  assert.equal(close.code, 1001, `client closed with 1001; last frames ${JSON.stringify(c.all.slice(-3))}`);
  const e = await d1.waitExit(T(10000));
  assert.deepEqual(e, { code: 0, signal: null }, `exit status\n${d1.tail()}`);

  const acked = new Map(c.all.filter((f) => f.type === 'ack').map((f) => [f.id, f.seq]));
  assert.ok(acked.has('before'));
  const errors = c.all.filter((f) => f.type === 'error');
  assert.deepEqual(errors, [], 'no error frames during shutdown');

  const d2 = await daemon({ dataDir, config });
  const c2 = await client(d2.port);
  const w2 = await c2.hello({ resume: w.resume, last_seq: 0 });
  assert.equal(w2.resumed, true);
  assert.equal(w2.conversation, w.conversation);
  await c2.next((f) => f.seq === w2.last_seq && f.type !== 'ack', T(10000));
  const frames = c2.contentFrames();
  assert.deepEqual(frames.map((f) => f.seq), Array.from({ length: w2.last_seq }, (_, i) => i + 1));
  const bySeq = new Map(frames.map((f) => [f.seq, f]));
  for (const [id, seq] of acked) {
    const f = bySeq.get(seq);
    assert.ok(f, `acked ${id} (seq ${seq}) survived`);
    assert.equal(f.type, 'message');
    assert.equal(f.id, id);
  }
  const ids = frames.filter((f) => f.type === 'message').map((f) => f.id);
  assert.equal(new Set(ids).size, ids.length, 'no message stored twice');
  // Messages sent but never acked may or may not be there, never twice; the
  // client can safely resend them: a stored one comes back as a duplicate.
  for (let i = 0; i < N; i++) {
    const id = `in-${i}`;
    if (acked.has(id)) continue;
    c2.send({ type: 'message', id, text: `in flight ${i}` });
    const a = await c2.ackFor(id);
    assert.equal(a.duplicate === true, ids.includes(id), `${id}: duplicate flag matches whether it was stored`);
  }
});
