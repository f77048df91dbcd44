'use strict';
// Reconnect with resume + last_seq: the server replays exactly the content
// frames the client is missing, in order, and nothing more.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { useSharedDaemon } = require('./lib');

const { open } = useSharedDaemon();

// Wait until the replay reaches welcome.last_seq and return the content
// frames received on this connection so far.
async function replayUpTo(c, lastSeq) {
  if (lastSeq > 0) await c.next((f) => f.seq === lastSeq && f.type !== 'ack');
  return c.contentFrames();
}

test('resume with last_seq replays exactly the missing frames in order', async () => {
  // First connection: 3 messages -> seqs 1..6.
  const c1 = await open();
  const w1 = await c1.hello({ lang: 'en', name: 'Ana' });
  const texts = ['hello', 'how long does delivery take', 'thanks a lot'];
  const sent = [];
  for (let i = 0; i < texts.length; i++) {
    const id = `r-${i + 1}`;
    const { ack, reply } = await c1.message(id, texts[i]);
    assert.equal(ack.seq, 2 * i + 1);
    assert.equal(reply.seq, 2 * i + 2);
    sent.push({ id, text: texts[i], ack, reply });
  }
  await c1.close();

  // Second connection: resume with last_seq 2 -> exactly 3, 4, 5, 6.
  const c2 = await open();
  const w2 = await c2.hello({ resume: w1.resume, last_seq: 2 });
  assert.equal(w2.resumed, true);
  assert.equal(w2.conversation, w1.conversation);
  assert.equal(w2.resume, w1.resume, 'a resumed conversation keeps its token');
  assert.equal(w2.last_seq, 6);
  assert.equal(c2.all[0], w2, 'welcome is the first frame');

  const replay = await replayUpTo(c2, 6);
  assert.deepEqual(replay.map((f) => f.seq), [3, 4, 5, 6], `replayed seqs: ${JSON.stringify(replay)}`);
  // seq 3: customer message r-2; 4: reply to r-2; 5: message r-3; 6: reply to r-3
  for (const [k, idx] of [[0, 1], [2, 2]]) {
    const m = replay[k];
    assert.equal(m.type, 'message');
    assert.equal(m.from, 'customer');
    assert.equal(m.id, sent[idx].id);
    assert.equal(m.text, sent[idx].text);
    assert.ok(Number.isInteger(m.ts));
    const r = replay[k + 1];
    assert.equal(r.type, 'reply');
    assert.equal(r.in_reply_to, sent[idx].id);
    assert.equal(r.text, sent[idx].reply.text, 'replayed reply text equals the live one');
    assert.equal(r.source, sent[idx].reply.source);
    assert.equal(r.from, 'bot');
  }

  // Nothing more: a new message continues at 7, and the only content frame
  // after the replay is its reply (8). Frames are ordered on the connection,
  // so a stray duplicate of the replay would show up before this ack.
  const { ack, reply } = await c2.message('r-4', 'hello');
  assert.equal(ack.seq, 7);
  assert.equal(reply.seq, 8);
  assert.deepEqual(c2.contentFrames().map((f) => f.seq), [3, 4, 5, 6, 8]);
  assert.deepEqual(c2.all.map((f) => f.type),
    ['welcome', 'message', 'reply', 'message', 'reply', 'ack', 'reply']);
  await c2.close();

  // Third connection: last_seq = current highest -> nothing replayed.
  const c3 = await open();
  const w3 = await c3.hello({ resume: w1.resume, last_seq: 8 });
  assert.equal(w3.resumed, true);
  assert.equal(w3.last_seq, 8);
  const r5 = await c3.message('r-5', 'hi');
  assert.equal(r5.ack.seq, 9);
  assert.equal(r5.reply.seq, 10);
  assert.deepEqual(c3.all.map((f) => f.type), ['welcome', 'ack', 'reply'],
    `no replay expected: ${JSON.stringify(c3.all)}`);
  await c3.close();

  // Fourth: resume without last_seq -> nothing replayed either.
  const c4 = await open();
  const w4 = await c4.hello({ resume: w1.resume });
  assert.equal(w4.resumed, true);
  assert.equal(w4.last_seq, 10);
  const r6 = await c4.message('r-6', 'hi');
  assert.equal(r6.ack.seq, 11);
  assert.deepEqual(c4.all.map((f) => f.type), ['welcome', 'ack', 'reply'],
    `no replay expected without last_seq: ${JSON.stringify(c4.all)}`);
  await c4.close();
});

test('resume with last_seq 0 replays the whole transcript', async () => {
  const c1 = await open();
  const w1 = await c1.hello();
  await c1.message('a', 'hello');
  await c1.message('b', 'something else');
  await c1.close();

  const c2 = await open();
  const w2 = await c2.hello({ resume: w1.resume, last_seq: 0 });
  assert.equal(w2.resumed, true);
  assert.equal(w2.last_seq, 4);
  const replay = await replayUpTo(c2, 4);
  assert.deepEqual(replay.map((f) => [f.seq, f.type, f.id || f.in_reply_to]),
    [[1, 'message', 'a'], [2, 'reply', 'a'], [3, 'message', 'b'], [4, 'reply', 'b']]);
  assert.ok(replay.filter((f) => f.type === 'message').every((f) => f.from === 'customer'));
  await c2.close();
});

test('a message id sent before a reconnect is still a duplicate after it', async () => {
  const c1 = await open();
  const w1 = await c1.hello();
  const first = await c1.message('dup-across', 'hello');
  await c1.close();

  const c2 = await open();
  await c2.hello({ resume: w1.resume, last_seq: 2 });
  c2.send({ type: 'message', id: 'dup-across', text: 'hello' });
  const ack = await c2.ackFor('dup-across');
  assert.equal(ack.duplicate, true);
  assert.equal(ack.seq, first.ack.seq);
  await c2.close();
});

test('resume updates lang, name and email without losing the conversation', async () => {
  const c1 = await open();
  const w1 = await c1.hello({ lang: 'pt', name: 'Ana Silva', email: 'ana@example.com' });
  await c1.message('x', 'olá');
  await c1.close();
  const c2 = await open();
  const w2 = await c2.hello({ resume: w1.resume, lang: 'pl', name: 'Anna' });
  assert.equal(w2.resumed, true);
  assert.equal(w2.conversation, w1.conversation);
  assert.equal(w2.last_seq, 2);
  await c2.close();
});

test('a client that resumes with last_seq above the highest seq gets no replay', async () => {
  const c1 = await open();
  const w1 = await c1.hello();
  await c1.message('hi-1', 'hi');
  await c1.close();
  const c2 = await open();
  const w2 = await c2.hello({ resume: w1.resume, last_seq: 999 });
  assert.equal(w2.resumed, true);
  assert.equal(w2.last_seq, 2);
  const { ack } = await c2.message('hi-2', 'hi');
  assert.equal(ack.seq, 3);
  assert.deepEqual(c2.all.map((f) => f.type), ['welcome', 'ack', 'reply']);
  await c2.close();
});

test('a transcript larger than the outbox is replayed in pages, whole and in order', async () => {
  // the outbox holds 64 KiB at most; the transcript is over three times that
  const { useCleanups } = require('./lib');
  const scope = useCleanups();
  const d = await scope.daemon({
    config: { chat: { outbox_max_bytes: 65536, rate_per_sec: 1000, rate_burst: 1000 } },
  });
  const c1 = await scope.client(d.port);
  const w1 = await c1.hello({ lang: 'en' });
  const N = 60;
  for (let i = 0; i < N; i++) {
    const text = `message ${i} ` + 'lorem ipsum dolor sit amet '.repeat(140);
    await c1.message(`big-${i}`, text.slice(0, 3900));
  }
  const last = Math.max(...c1.contentFrames().map((f) => f.seq));
  await c1.close();

  // a message sent with the hello is handled while the replay is still
  // on its first page: its frames come after the replay, in seq order
  const c2 = await scope.client(d.port);
  c2.send({ type: 'hello', resume: w1.resume, last_seq: 0 });
  c2.send({ type: 'message', id: 'during', text: 'thanks' });
  const w2 = await c2.next((f) => f.type === 'welcome');
  assert.equal(w2.last_seq, last);
  const ack = await c2.ackFor('during');
  assert.equal(ack.seq, last + 1);
  const reply = await c2.replyFor('during');
  // frames arrive in seq order: everything up to the reply is here
  const frames = c2.contentFrames().filter((f) => f.seq <= reply.seq);
  assert.deepEqual(frames.map((f) => f.seq), Array.from({ length: reply.seq }, (_, k) => k + 1));
  const ids = frames.filter((f) => f.type === 'message').map((f) => f.id);
  assert.deepEqual(ids, [...Array.from({ length: N }, (_, i) => `big-${i}`), 'during']);
  assert.ok(JSON.stringify(frames).length > 3 * 65536, 'the transcript is bigger than the outbox');
  await c2.close();
});
