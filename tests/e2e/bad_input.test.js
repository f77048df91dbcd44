'use strict';
// Malformed or out-of-contract client frames: each gets its error code and,
// unless the contract says otherwise, the connection stays usable (proved by
// a following valid message getting its ack).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  tryConnect, healthz, sqlite, sqlQuote, T, useSharedDaemon,
} = require('./lib');

// Rate limits are lifted here so that they never interfere; they have their
// own tests in limits.test.js.
const shared = useSharedDaemon({ config: { chat: { rate_per_sec: 10000, rate_burst: 10000 } } });
const { open } = shared;
async function greeted() {
  const c = await open();
  await c.hello();
  return c;
}

let okCounter = 0;
// The connection is still open and usable: a valid message gets its ack.
async function assertStillWorks(c) {
  const id = `ok-${++okCounter}`;
  c.send({ type: 'message', id, text: 'hello' });
  const ack = await c.ackFor(id);
  assert.ok(Number.isInteger(ack.seq) && ack.seq >= 1);
  assert.equal(c.closeInfo, null, 'connection still open');
  return ack;
}

function assertError(f, code) {
  assert.equal(f.type, 'error', JSON.stringify(f));
  assert.equal(f.code, code, JSON.stringify(f));
  assert.equal(typeof f.message, 'string', 'error carries a human message');
  assert.ok(f.message.length > 0);
  assert.equal(f.seq, undefined, 'error is transient: no seq');
}

test('non-JSON text -> bad_json, connection kept', async () => {
  const c = await greeted();
  c.send('{not json');
  assertError(await c.error(), 'bad_json');
  c.send('');
  assertError(await c.error(), 'bad_json');
  await assertStillWorks(c);
});

test('JSON that is not an object -> not_object, connection kept', async () => {
  const c = await greeted();
  for (const raw of ['[1,2]', '42', '"hello"', 'null', 'true']) {
    c.send(raw);
    assertError(await c.error(), 'not_object');
  }
  await assertStillWorks(c);
});

test('unknown, missing or non-string type -> unknown_type, connection kept', async () => {
  const c = await greeted();
  for (const frame of [{ type: 'nope' }, {}, { id: 'x', text: 'hello' }, { type: 5 }, { type: null }, { type: 'MESSAGE', id: 'a', text: 'b' }]) {
    c.send(frame);
    assertError(await c.error(), 'unknown_type');
  }
  await assertStillWorks(c);
});

test('message with missing or ill-typed fields -> bad_field, connection kept', async () => {
  const c = await greeted();
  c.send({ type: 'message', text: 'hello' });
  assertError(await c.error(), 'bad_field');

  c.send({ type: 'message', id: 'num-text', text: 42 });
  let f = await c.error();
  assertError(f, 'bad_field');
  assert.equal(f.in_reply_to, 'num-text', 'error names the frame it concerns');

  c.send({ type: 'message', id: 'no-text' });
  f = await c.error();
  assertError(f, 'bad_field');
  assert.equal(f.in_reply_to, 'no-text');

  for (const badId of [7, '', 'x'.repeat(65), 'tab\there', 'ünïcode', null]) {
    c.send({ type: 'message', id: badId, text: 'hello' });
    f = await c.error();
    assertError(f, 'bad_field');
  }
  // 64 bytes of printable ASCII is the maximum and is fine.
  const id64 = `${'a'.repeat(60)}~!@#`;
  c.send({ type: 'message', id: id64, text: 'hello' });
  await c.ackFor(id64);
  await assertStillWorks(c);
});

test('message before hello -> hello_required; hello still works after', async () => {
  const c = await open();
  c.send({ type: 'message', id: 'early', text: 'hello' });
  const f = await c.error();
  assertError(f, 'hello_required');
  c.send({ type: 'typing', state: true });
  assertError(await c.error(), 'hello_required');
  const w = await c.hello();
  assert.equal(w.resumed, false);
  const ack = await assertStillWorks(c);
  assert.equal(ack.seq, 1, 'the rejected early message was not stored');
});

test('second hello -> already_greeted, connection kept', async () => {
  const c = await greeted();
  c.send({ type: 'hello' });
  assertError(await c.error(), 'already_greeted');
  assert.equal(c.all.filter((f) => f.type === 'welcome').length, 1, 'no second welcome');
  await assertStillWorks(c);
});

test('hello with ill-typed fields -> bad_field; a valid hello then succeeds', async () => {
  const c = await open();
  const bad = [
    { last_seq: 'x' },
    { last_seq: -1 },
    { last_seq: 1.5 },
    { resume: 5 },
    { lang: 123 },
    { lang: 'x'.repeat(17) },
    { name: 'n'.repeat(129) },
    { email: 7 },
    { email: `${'e'.repeat(250)}@x.io` },
  ];
  for (const extra of bad) {
    c.send({ type: 'hello', ...extra });
    const f = await c.next((x) => x.type === 'error' || x.type === 'welcome');
    assertError(f, 'bad_field');
  }
  // At the limits (lang 16 bytes would also be fine; a real tag is used so
  // that tag validation cannot interfere) the hello succeeds.
  const w = await c.hello({ lang: 'pt-BR', name: 'n'.repeat(128), email: `${'e'.repeat(249)}@x.io` });
  assert.equal(w.resumed, false);
  await assertStillWorks(c);
});

test('duplicate id -> second ack has duplicate:true and the same seq; stored once', async () => {
  const c = await open();
  const w = await c.hello();
  const { ack: a1 } = await c.message('dup-1', 'hello');
  c.send({ type: 'message', id: 'dup-1', text: 'hello' });
  const a2 = await c.ackFor('dup-1');
  assert.equal(a2.duplicate, true);
  assert.equal(a2.seq, a1.seq);
  // Even with a different text the id wins: still a duplicate.
  c.send({ type: 'message', id: 'dup-1', text: 'something different' });
  const a3 = await c.ackFor('dup-1');
  assert.equal(a3.duplicate, true);
  assert.equal(a3.seq, a1.seq);
  await assertStillWorks(c);

  // Stored once: the sqlite rows for this id, by kind, are one each...
  const rows = sqlite(shared.daemon.dbPath,
    `select kind, count(*) from events where client_id = ${sqlQuote('dup-1')} group by kind`);
  assert.ok(rows.length >= 1, 'the message is in the events table');
  // (other conversations in this file never use the id dup-1)
  for (const [kind, n] of rows) assert.equal(Number(n), 1, `kind ${kind} stored once`);

  // ...and a full replay shows the message once.
  const c2 = await open();
  const w2 = await c2.hello({ resume: w.resume, last_seq: 0 });
  await c2.next((f) => f.seq === w2.last_seq && f.type !== 'ack');
  const msgs = c2.contentFrames().filter((f) => f.type === 'message' && f.id === 'dup-1');
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0].text, 'hello');
});

test('text over max_text -> text_too_long with in_reply_to; limit is in bytes', async () => {
  const c = await greeted();
  c.send({ type: 'message', id: 'long-1', text: 'a'.repeat(4097) });
  let f = await c.error();
  assertError(f, 'text_too_long');
  assert.equal(f.in_reply_to, 'long-1');

  // 2048 two-byte characters = 4096 bytes: exactly at the limit, accepted.
  c.send({ type: 'message', id: 'long-2', text: 'é'.repeat(2048) });
  await c.ackFor('long-2');
  await c.replyFor('long-2');
  // 2049 two-byte characters = 4098 bytes, only 2049 characters: too long.
  c.send({ type: 'message', id: 'long-3', text: 'é'.repeat(2049) });
  f = await c.error();
  assertError(f, 'text_too_long');
  assert.equal(f.in_reply_to, 'long-3');
  // A frame well under max_frame but with a text far over max_text.
  c.send({ type: 'message', id: 'long-4', text: 'b'.repeat(60000) });
  f = await c.error();
  assertError(f, 'text_too_long');
  assert.equal(f.in_reply_to, 'long-4');
  const ack = await assertStillWorks(c);
  // long-2 took seq 1 and its reply seq 2; nothing too long was stored.
  assert.equal(ack.seq, 3);
});

test('empty or white-space-only text -> empty_text, connection kept', async () => {
  const c = await greeted();
  for (const [id, text] of [['e-1', ''], ['e-2', '   '], ['e-3', ' \t\r\n ']]) {
    c.send({ type: 'message', id, text });
    const f = await c.error();
    assertError(f, 'empty_text');
    assert.equal(f.in_reply_to, id);
  }
  await assertStillWorks(c);
});

test('invalid UTF-8 in a text frame -> invalid_utf8, connection kept', async () => {
  const c = await greeted();
  const head = Buffer.from('{"type":"message","id":"bad-utf8","text":"caf');
  const tail = Buffer.from('"}');
  await c.sendRaw(Buffer.concat([head, Buffer.from([0xc3, 0x28]), tail]), { binary: false });
  assertError(await c.error(), 'invalid_utf8');
  // Overlong encoding and a lone continuation byte.
  await c.sendRaw(Buffer.concat([head, Buffer.from([0xc0, 0xaf]), tail]), { binary: false });
  assertError(await c.error(), 'invalid_utf8');
  await c.sendRaw(Buffer.from([0x80]), { binary: false });
  assertError(await c.error(), 'invalid_utf8');
  const ack = await assertStillWorks(c);
  assert.equal(ack.seq, 1, 'nothing from the invalid frames was stored');
});

test('binary frame -> binary_unsupported, connection kept', async () => {
  const c = await greeted();
  await c.sendRaw(Buffer.from(JSON.stringify({ type: 'message', id: 'bin', text: 'hello' })), { binary: true });
  assertError(await c.error(), 'binary_unsupported');
  const ack = await assertStillWorks(c);
  assert.equal(ack.seq, 1, 'the binary message was not stored');
});

test('frame over 64 KiB -> closed with 1009', async () => {
  const c = await greeted();
  c.send({ type: 'message', id: 'huge', text: 'x'.repeat(70000) });
  const close = await c.waitClose(T(5000));
  assert.equal(close.code, 1009, `close code ${close.code}; frames ${JSON.stringify(c.all.slice(-3))}`);
  const errs = c.all.filter((f) => f.type === 'error');
  for (const e of errs) assert.equal(e.code, 'frame_too_large');
  // The daemon is fine and serves others.
  const h = await healthz(shared.port);
  assert.equal(h.status, 200);
  const c2 = await greeted();
  await assertStillWorks(c2);
});

test('wrong or missing subprotocol on /chat: upgrade refused with HTTP 400', async () => {
  for (const protocol of [null, 'supportd.chat.v2', 'supportd.agent.v1', 'chat']) {
    const r = await tryConnect(shared.port, { protocol });
    assert.equal(r.opened, false, `protocol ${protocol}: no websocket opened (${JSON.stringify(r)})`);
    assert.equal(r.status, 400, `protocol ${protocol}: HTTP 400 (${JSON.stringify(r)})`);
  }
  const h = await healthz(shared.port);
  assert.equal(h.status, 200);
  assert.equal(h.json.status, 'ok');
  const c = await greeted();
  await assertStillWorks(c);
});

test('unknown resume token -> resume_unknown, then a fresh welcome', async () => {
  const c = await open();
  const token = Buffer.alloc(32, 7).toString('base64url');
  c.send({ type: 'hello', resume: token, last_seq: 3 });
  const f = await c.next((x) => x.type === 'error' || x.type === 'welcome');
  assertError(f, 'resume_unknown');
  const w = await c.next({ type: 'welcome' });
  assert.equal(w.resumed, false);
  assert.equal(w.last_seq, 0);
  assert.notEqual(w.resume, token, 'a fresh token is issued');
  const ack = await assertStillWorks(c);
  assert.equal(ack.seq, 1);
  // The replay asked for does not happen for a fresh conversation.
  assert.deepEqual(c.all.slice(0, c.all.indexOf(ack) + 1).map((x) => x.type), ['error', 'welcome', 'ack']);
});
