'use strict';
// The happy path of the customer protocol: hello -> welcome, message -> ack
// then reply, greetings answered by the shipped pipeline.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { isBase64Url, useSharedDaemon } = require('./lib');

// The flows need a backend to start (none is called here): a port nobody
// listens on.
const { open } = useSharedDaemon(() => ({
  config: { flows: { backends: { api: 'http://127.0.0.1:9' } } },
}));

test('hello is answered by a welcome with a conversation id and a strong resume token', async () => {
  const c = await open();
  const w = await c.hello();
  assert.equal(w.type, 'welcome');
  assert.equal(typeof w.conversation, 'string');
  assert.ok(w.conversation.length > 0, 'conversation id is non-empty');
  assert.ok(isBase64Url(w.resume, 128), `resume token is base64url with >= 128 bits: ${w.resume}`);
  assert.ok(Buffer.from(w.resume, 'base64url').length >= 16, 'token decodes to >= 16 bytes');
  assert.equal(w.resumed, false);
  assert.equal(w.last_seq, 0);
  assert.equal(typeof w.limits, 'object');
  assert.equal(w.limits.max_text, 4096);
  assert.equal(w.limits.max_frame, 65536);
  assert.equal(w.limits.rate, 5);
  assert.equal(w.limits.burst, 10);
  assert.equal(w.seq, undefined, 'welcome is transient: no seq');

  // A second conversation gets a different id and a different token.
  const c2 = await open();
  const w2 = await c2.hello();
  assert.notEqual(w2.conversation, w.conversation);
  assert.notEqual(w2.resume, w.resume);
  await c.close();
  await c2.close();
});

test('message is acked (with seq) and then answered by a reply with a greater seq', async () => {
  const c = await open();
  await c.hello();
  c.send({ type: 'message', id: 'm-1', text: 'hello' });
  const ack = await c.ackFor('m-1');
  const reply = await c.replyFor('m-1');
  assert.equal(ack.id, 'm-1');
  assert.equal(ack.seq, 1);
  assert.equal(ack.duplicate, undefined, 'first ack has no duplicate flag');
  assert.equal(reply.seq, 2);
  assert.ok(reply.seq > ack.seq);
  assert.equal(reply.in_reply_to, 'm-1');
  assert.equal(reply.from, 'bot');
  assert.equal(reply.source, 'greeting');
  assert.equal(typeof reply.text, 'string');
  assert.ok(reply.text.trim().length > 0);
  assert.ok(Number.isInteger(reply.ts), 'reply.ts is integer ms');
  assert.ok(Math.abs(reply.ts - Date.now()) < 60_000, `reply.ts ${reply.ts} is close to now`);
  assert.ok(Array.isArray(reply.choices), 'choices is an array');
  assert.ok(reply.confidence === null || (reply.confidence >= 0 && reply.confidence <= 1));

  // The ack arrived on the wire before the reply.
  const iAck = c.all.indexOf(ack);
  const iReply = c.all.indexOf(reply);
  assert.ok(iAck >= 0 && iReply >= 0 && iAck < iReply, `ack (#${iAck}) before reply (#${iReply})`);

  // Next message continues the sequence.
  const r2 = await c.message('m-2', 'I forgot my password');
  assert.equal(r2.ack.seq, 3);
  assert.equal(r2.reply.seq, 4);
  assert.equal(r2.reply.source, 'flow:password_reset');
  assert.ok(c.all.indexOf(r2.ack) < c.all.indexOf(r2.reply));

  // Nothing but welcome, acks and replies were sent (no errors, no typing
  // with bot_typing off by default).
  const types = c.all.map((f) => f.type);
  assert.deepEqual(types, ['welcome', 'ack', 'reply', 'ack', 'reply']);
  await c.close();
});

test('greetings in several languages get source greeting; unrelated text gets fallback', async () => {
  const c = await open();
  await c.hello();
  const cases = [
    ['hello', 'greeting'],
    ['hi', 'greeting'],
    ['olá', 'greeting'],
    ['cześć', 'greeting'],
    ['what is the capital of France', 'fallback'],
    // last: it starts a flow, which takes the next message as its answer
    ['Where is my parcel? It was due on Monday.', 'flow:order_status'],
  ];
  let i = 0;
  for (const [text, source] of cases) {
    i++;
    const { ack, reply } = await c.message(`g-${i}`, text);
    assert.equal(ack.seq, 2 * i - 1);
    assert.equal(reply.source, source, `source for ${JSON.stringify(text)}`);
    assert.ok(reply.text.length > 0);
  }
  await c.close();
});

test('a message may be pipelined right after hello without waiting for welcome', async () => {
  const c = await open();
  c.send({ type: 'hello' });
  c.send({ type: 'message', id: 'p-1', text: 'hi' });
  const ack = await c.ackFor('p-1');
  const reply = await c.replyFor('p-1');
  assert.equal(c.all[0].type, 'welcome', `first frame is welcome: ${JSON.stringify(c.all[0])}`);
  assert.equal(ack.seq, 1);
  assert.equal(reply.seq, 2);
  assert.ok(!c.all.some((f) => f.type === 'error'), `no error frames: ${JSON.stringify(c.all)}`);
  await c.close();
});

test('message ids are scoped to a conversation: another conversation may reuse one', async () => {
  const a = await open();
  const b = await open();
  await a.hello();
  await b.hello();
  const ra = await a.message('same-id', 'hello');
  const rb = await b.message('same-id', 'hello');
  assert.equal(ra.ack.seq, 1);
  assert.equal(rb.ack.seq, 1);
  assert.equal(ra.ack.duplicate, undefined);
  assert.equal(rb.ack.duplicate, undefined);
  await a.close();
  await b.close();
});

test('client ack and typing frames produce no error', async () => {
  const c = await open();
  await c.hello();
  const { reply } = await c.message('t-1', 'hello');
  c.send({ type: 'typing', state: true });
  c.send({ type: 'typing', state: false });
  c.send({ type: 'ack', seq: reply.seq });
  c.send({ type: 'message', id: 't-2', text: 'hi again' });
  // Barrier: frames are handled in order, so any error for the frames above
  // arrives before the ack of t-2.
  const ack2 = await c.ackFor('t-2');
  assert.equal(ack2.seq, 3);
  const before = c.all.slice(0, c.all.indexOf(ack2));
  assert.ok(!before.some((f) => f.type === 'error'), `no error frame: ${JSON.stringify(before)}`);
  await c.close();
});

test('extra unknown fields in client frames are ignored', async () => {
  const c = await open();
  await c.hello({ widget_version: '9.9', extra: { nested: true } });
  c.send({ type: 'message', id: 'u-1', text: 'hello', future_field: [1, 2, 3] });
  const ack = await c.ackFor('u-1');
  assert.equal(ack.seq, 1);
  await c.close();
});
