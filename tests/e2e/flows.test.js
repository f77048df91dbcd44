'use strict';
// Self-service flows: password reset and order status against a real
// (fake) company backend on loopback; cancelling, handing off, surviving a
// kill -9, answer timeouts, https, and containment of scripts that misbehave
// (endless loops, memory bombs, calls to hosts outside the allow-list).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  T, sqlite, sqlQuote, makeContent, removeDir, useCleanups, useSharedDaemon,
} = require('./lib');
const { startBackend, ORDERS } = require('./backend');

const CHAT = { rate_per_sec: 1000, rate_burst: 1000 };
const flowsConfig = (backend, flows = {}) => ({
  chat: CHAT,
  flows: { backends: { api: backend.url }, ...flows },
});

// Every daemon and every customer e-mail address of this file, for the
// last test (no address in clear in any log).
const allDaemons = [];
const allEmails = new Set();

// One daemon and one backend for the tests whose config is the default.
let B = null;
const shared = useSharedDaemon(async ({ defer }) => {
  B = await startBackend();
  defer(() => B.close());
  return { config: flowsConfig(B) };
});
const scope = useCleanups();

async function sharedClient() {
  if (!allDaemons.includes(shared.daemon)) allDaemons.push(shared.daemon);
  const c = await shared.open();
  const w = await c.hello();
  return { c, w, db: shared.daemon.dbPath };
}

async function ownDaemon(opts) {
  const d = await scope.daemon(opts);
  allDaemons.push(d);
  return d;
}

async function ownClient(d) {
  const c = await scope.client(d.port);
  const w = await c.hello();
  return { c, w, db: d.dbPath };
}

async function ownBackend(opts) {
  const b = await startBackend(opts);
  scope.defer(() => b.close());
  return b;
}

// ------------------------------------------------------------ conversation

let n = 0;
/** Send a customer message and wait for its ack; returns the message id. */
async function send(c, text, extra = {}) {
  const id = `fl-${++n}`;
  c.send({ type: 'message', id, text, ...extra });
  await c.ackFor(id);
  return id;
}

const sourceOk = (want, got) => (want instanceof RegExp ? want.test(got) : got === want);

/**
 * The reply to message `id` with the given source (string or RegExp) and,
 * optionally, whose text matches `text`. Flow replies that follow a backend
 * call arrive some time after the ack, so this waits on the frame itself.
 */
function replyTo(c, id, source, { text, ms } = {}) {
  const pred = (f) => f.type === 'reply' && f.in_reply_to === id && sourceOk(source, f.source) &&
    (!text || text.test(f.text));
  pred.description = `reply to ${id} from ${source}${text ? ` matching ${text}` : ''}`;
  return c.next(pred, ms);
}

/** The next handoff reply on this connection. */
async function handoffReply(c, ms) {
  const pred = (f) => f.type === 'reply' && f.source === 'handoff';
  pred.description = 'a reply with source handoff';
  const f = await c.next(pred, ms);
  assert.equal(f.from, 'bot');
  assert.equal(typeof f.handoff, 'object', `handoff is an object: ${JSON.stringify(f)}`);
  assert.ok(f.handoff !== null);
  assert.equal(typeof f.handoff.team, 'string');
  assert.equal(typeof f.text, 'string');
  assert.ok(f.text.trim().length > 0);
  return f;
}

/** An ordinary answer (not a flow): an FAQ entry or an intent's reply. */
async function assertOrdinaryAnswer(c, text) {
  const id = await send(c, text);
  const r = await c.next((f) => f.type === 'reply' && f.in_reply_to === id);
  assert.match(r.source, /^(faq|intent):/, `"${text}" gets an ordinary answer: ${JSON.stringify(r)}`);
  return r;
}

/** Start a flow with its trigger phrase; returns the prompt reply. */
async function startFlow(c, trigger, flow) {
  const id = await send(c, trigger);
  const ask = await replyTo(c, id, `flow:${flow}`);
  assert.equal(ask.from, 'bot');
  assert.equal(typeof ask.seq, 'number');
  return ask;
}

const EMAIL_ASK = /e-mail address/i;
const EMAIL_BAD = /doesn't look like an e-mail address/i;
const RESET_DONE = /we've just sent it a link to reset the password/i;
const RESET_FAILED = /couldn't start the password reset/i;
const ORDER_ASK = /what is your order number/i;
const ORDER_BAD = /doesn't look like an order number/i;
const NOT_FOUND = (id) => new RegExp(`couldn't find an order with the number ${id}\\b`, 'i');
const NOT_FOUND_AGAIN = /still can't find that order/i;
const LOOKUP_FAILED = /can't look up orders right now/i;
const CANCELLED = /OK, I've stopped/i;
const TIMED_OUT = /haven't heard back from you/i;
const BROKE = /something went wrong on our side/i;

// ------------------------------------------------------------------ store

// Nobody is logged in as an agent in these tests, so a handoff goes to the
// offline ticket flow (docs/desk.md): after one, that is the flow running.
const OFFLINE = ['leave_message'];

function flowRuns(db, conv) {
  return sqlite(db, 'select f.flow from flow_runs f join conversations c on c.id = f.conversation_id ' +
    `where c.public_id = ${sqlQuote(conv)}`).map((r) => r[0]);
}

function handoffs(db, conv) {
  return sqlite(db, "select json_object('team', h.team, 'reason', h.reason, 'source', h.source) " +
    'from handoffs h join conversations c on c.id = h.conversation_id ' +
    `where c.public_id = ${sqlQuote(conv)} order by h.id`).map((r) => JSON.parse(r[0]));
}

function slots(db, conv) {
  const rows = sqlite(db, `select json(slots) from conversations where public_id = ${sqlQuote(conv)}`);
  return rows.length ? JSON.parse(rows[0][0]) : null;
}

// Backend requests of one kind.
const isReset = (email) => (r) => r.method === 'POST' && r.path === '/password-reset' &&
  r.json !== null && typeof r.json === 'object' && r.json.email === email;
const isOrder = (id) => (r) => r.method === 'GET' && r.path === `/orders/${id}`;
const isGet = (r) => r.method === 'GET';

// The customer's address must not appear in clear in the daemon's log.
function assertNoEmailInLogs(d, email) {
  const leaks = d.logs.filter((l) => l.includes(email));
  assert.deepEqual(leaks, [], `the log shows ${email} in clear`);
}

// A line that matches every regex given, for waitLog.
const allOf = (...res) => new RegExp(res.map((r) => `(?=.*${r.source})`).join(''), 'i');

// ================================================================== tests

test('password reset: asks for the address, calls the backend once, says it is done', async () => {
  const { c, w, db } = await sharedClient();
  const email = 'jane.doe@example.com';
  allEmails.add(email);
  const mark = B.requests.length;

  const ask = await startFlow(c, 'I forgot my password', 'password_reset');
  assert.match(ask.text, EMAIL_ASK);
  assert.deepEqual(B.since(mark), [], 'nothing is sent before there is an address');
  assert.deepEqual(flowRuns(db, w.conversation), ['password_reset'], 'the flow is stored while it waits');

  const id = await send(c, email);
  const req = await B.waitForRequest(isReset(email));
  assert.deepEqual(req.json, { email });
  assert.match(String(req.headers['content-type']), /application\/json/i);
  const done = await replyTo(c, id, 'flow:password_reset');
  assert.match(done.text, RESET_DONE);
  assert.ok(done.text.includes(email), `the confirmation names the address: ${done.text}`);
  assert.ok(done.seq > ask.seq);

  const calls = B.since(mark);
  assert.equal(calls.length, 1, `one backend call: ${JSON.stringify(calls.map((r) => [r.method, r.path]))}`);
  assert.equal(slots(db, w.conversation).email, email, 'the address is kept in the slots');
  assert.deepEqual(flowRuns(db, w.conversation), [], 'no flow is left running');
  assert.deepEqual(handoffs(db, w.conversation), []);
  assertNoEmailInLogs(shared.daemon, email);
});

test('password reset: a bad address is asked again without calling the backend', async () => {
  const { c, w, db } = await sharedClient();
  const email = 'sam.lee@example.org';
  allEmails.add(email);
  const mark = B.requests.length;

  const ask = await startFlow(c, 'I forgot my password', 'password_reset');
  assert.match(ask.text, EMAIL_ASK);
  const bad = await send(c, 'not an email');
  const again = await replyTo(c, bad, 'flow:password_reset');
  assert.match(again.text, EMAIL_BAD);
  assert.deepEqual(B.since(mark), [], 'the backend is not called for a bad address');
  assert.deepEqual(flowRuns(db, w.conversation), ['password_reset'], 'the flow still waits');

  const id = await send(c, email);
  await B.waitForRequest(isReset(email));
  const done = await replyTo(c, id, 'flow:password_reset');
  assert.match(done.text, RESET_DONE);
  assert.ok(done.text.includes(email));
  assert.equal(B.since(mark).length, 1);
  assert.deepEqual(flowRuns(db, w.conversation), []);
});

test('order status: shipped (with the tracking link), processing and delivered', async () => {
  const { c, w, db } = await sharedClient();
  const mark = B.requests.length;

  // as typed by a customer: the pattern allows a '#' and spaces around
  for (const [typed, id] of [['100234', '100234'], [' #100235 ', '100235'], ['100236', '100236']]) {
    const order = ORDERS[id];
    const ask = await startFlow(c, 'where is my order', 'order_status');
    assert.match(ask.text, ORDER_ASK);
    const before = B.requests.length;
    const m = await send(c, typed);
    await B.waitForRequest(isOrder(id), undefined, before);
    const r = await replyTo(c, m, 'flow:order_status');
    assert.equal(B.since(before).length, 1, `one lookup for ${id}`);
    assert.ok(r.text.includes(id), `the reply names order ${id}: ${r.text}`);
    if (order.status === 'shipped') {
      assert.match(r.text, /has shipped/i);
      assert.ok(r.text.includes(order.carrier), `names the carrier ${order.carrier}: ${r.text}`);
      assert.ok(r.text.includes(order.tracking_url), `has the tracking link: ${r.text}`);
    } else if (order.status === 'processing') {
      assert.match(r.text, /being prepared/i);
      assert.doesNotMatch(r.text, /has shipped/i);
    } else {
      assert.match(r.text, /was delivered on/i);
      const [y, mo, d] = order.delivered_at.split('-');
      const month = new Date(Date.UTC(Number(y), Number(mo) - 1, 1))
        .toLocaleString('en', { month: 'long', timeZone: 'UTC' });
      const day = String(Number(d));
      assert.ok(r.text.includes(order.delivered_at) ||
        (r.text.includes(y) && r.text.includes(day) && r.text.includes(month.slice(0, 3))),
      `the delivery date ${order.delivered_at} is given: ${r.text}`);
    }
    assert.deepEqual(flowRuns(db, w.conversation), [], `the flow ended after ${id}`);
  }
  assert.equal(B.since(mark).length, 3);
});

test('order status: a bad number is asked again without a lookup', async () => {
  const { c, w, db } = await sharedClient();
  const mark = B.requests.length;
  await startFlow(c, 'where is my order', 'order_status');
  const bad = await send(c, 'my order 12');
  const again = await replyTo(c, bad, 'flow:order_status');
  assert.match(again.text, ORDER_BAD);
  assert.deepEqual(B.since(mark), []);
  assert.deepEqual(flowRuns(db, w.conversation), ['order_status']);
  const m = await send(c, '100235');
  await B.waitForRequest(isOrder('100235'), undefined, mark);
  const r = await replyTo(c, m, 'flow:order_status');
  assert.match(r.text, /being prepared/i);
  assert.equal(B.since(mark).length, 1);
});

test('order status: an unknown number is asked again once, then a person is offered', async () => {
  const { c, w, db } = await sharedClient();
  const mark = B.requests.length;
  await startFlow(c, 'where is my order', 'order_status');

  const m1 = await send(c, '999001');
  await B.waitForRequest(isOrder('999001'));
  const first = await replyTo(c, m1, 'flow:order_status');
  assert.match(first.text, NOT_FOUND('999001'));
  assert.deepEqual(flowRuns(db, w.conversation), ['order_status'], 'the flow waits for a new number');

  // the next message is the new number, not a new question
  const m2 = await send(c, '999002');
  await B.waitForRequest(isOrder('999002'));
  const second = await replyTo(c, m2, 'flow:order_status');
  assert.match(second.text, NOT_FOUND_AGAIN);
  assert.ok(Array.isArray(second.choices), `choices: ${JSON.stringify(second)}`);
  assert.ok(second.choices.some((ch) => ch.id === 'handoff' && typeof ch.label === 'string' && ch.label.length > 0),
    `a handoff button: ${JSON.stringify(second.choices)}`);

  const calls = B.since(mark);
  assert.deepEqual(calls.map((r) => `${r.method} ${r.path}`), ['GET /orders/999001', 'GET /orders/999002']);
  assert.deepEqual(flowRuns(db, w.conversation), [], 'the flow ended');
  // The flow offered a person; it did not hand over by itself. Frames are
  // ordered on the connection, so a handoff would come before this answer.
  await assertOrdinaryAnswer(c, 'how long does delivery take');
  assert.ok(!c.all.some((f) => f.source === 'handoff'), 'no handoff frame');
  assert.deepEqual(handoffs(db, w.conversation), []);
  assert.equal(B.since(mark).length, 2, 'the question after the flow is not looked up');
});

test('password reset: a backend 500 gives the failure text and a handoff to accounts', async () => {
  const { c, w, db } = await sharedClient();
  const email = 'fail.500@example.com';
  allEmails.add(email);
  const off = B.on('POST', '/password-reset',
    (req) => (isReset(email)(req) ? { status: 500, json: { error: 'internal' } } : undefined));
  try {
    await startFlow(c, 'I forgot my password', 'password_reset');
    const id = await send(c, email);
    await B.waitForRequest(isReset(email));
    const failed = await replyTo(c, id, 'flow:password_reset');
    assert.match(failed.text, RESET_FAILED);
    assert.doesNotMatch(failed.text, RESET_DONE);
    const h = await handoffReply(c);
    assert.equal(h.handoff.team, 'accounts');
    assert.match(h.text, /account/i);
    assert.ok(h.seq > failed.seq, 'the apology comes first, then the handoff');

    const rows = handoffs(db, w.conversation);
    assert.equal(rows.length, 1, `one handoff row: ${JSON.stringify(rows)}`);
    assert.equal(rows[0].team, 'accounts');
    assert.match(rows[0].reason, /500/);
    assert.deepEqual(flowRuns(db, w.conversation), OFFLINE);
    assert.equal(B.count(isReset(email)), 1, 'no retry');
    assertNoEmailInLogs(shared.daemon, email);
  } finally {
    off();
  }
});

test('order status: a backend error gives the failure text and a handoff to orders', async () => {
  const { c, w, db } = await sharedClient();
  const off = B.on('GET', '/orders/100299', () => ({ status: 503, json: { error: 'unavailable' } }));
  try {
    await startFlow(c, 'where is my order', 'order_status');
    const id = await send(c, '100299');
    await B.waitForRequest(isOrder('100299'));
    const failed = await replyTo(c, id, 'flow:order_status');
    assert.match(failed.text, LOOKUP_FAILED);
    const h = await handoffReply(c);
    assert.equal(h.handoff.team, 'orders');
    assert.ok(h.seq > failed.seq);
    const rows = handoffs(db, w.conversation);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].team, 'orders');
    assert.match(rows[0].reason, /503/);
    assert.deepEqual(flowRuns(db, w.conversation), OFFLINE);
  } finally {
    off();
  }
});

test('password reset: a backend that does not answer times out into the failure text and a handoff', async () => {
  const b = await ownBackend();
  b.on('POST', '/password-reset', () => ({ hang: true }));
  const timeoutMs = T(300);
  const d = await ownDaemon({ config: flowsConfig(b, { timeout_ms: timeoutMs }) });
  const { c, w, db } = await ownClient(d);
  const email = 'slow.backend@example.com';
  allEmails.add(email);

  await startFlow(c, 'I forgot my password', 'password_reset');
  const id = await send(c, email);
  const req = await b.waitForRequest(isReset(email));
  // well under the built-in 5 s: the configured timeout applies
  const failed = await replyTo(c, id, 'flow:password_reset', { ms: T(3000) });
  const waited = Date.now() - req.at;
  assert.match(failed.text, RESET_FAILED);
  assert.ok(waited >= timeoutMs / 2, `the daemon waited for the backend (${waited} ms of ${timeoutMs})`);
  const h = await handoffReply(c);
  assert.equal(h.handoff.team, 'accounts');

  const rows = handoffs(db, w.conversation);
  assert.equal(rows.length, 1, JSON.stringify(rows));
  assert.match(rows[0].reason, /timeout|timed out/i);
  assert.deepEqual(flowRuns(db, w.conversation), OFFLINE);
  assert.equal(b.count(isReset(email)), 1, 'no retry');
  assertNoEmailInLogs(d, email);
});

test('order status: a reply that is not UTF-8 text counts as a failed lookup', async () => {
  const { c, w, db } = await sharedClient();
  const off = B.on('GET', '/orders/424242', () => ({
    status: 200, headers: { 'Content-Type': 'application/json' },
    body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
  }));
  try {
    await startFlow(c, 'where is my order', 'order_status');
    const id = await send(c, '424242');
    const failed = await replyTo(c, id, 'flow:order_status', { text: LOOKUP_FAILED });
    const h = await handoffReply(c);
    assert.ok(h.seq > failed.seq);
    assert.equal(h.handoff.team, 'orders');
    const hs = handoffs(db, w.conversation);
    assert.match(hs[hs.length - 1].reason, /not UTF-8/);
  } finally {
    off();
  }
});

test('cancel words and the cancel button end a waiting flow; the bot then answers as usual', async () => {
  const { c, w, db } = await sharedClient();
  const mark = B.requests.length;
  const cases = [
    ['I forgot my password', 'password_reset', { text: 'cancel' }],
    ['where is my order', 'order_status', { text: 'stop' }],
    ['I forgot my password', 'password_reset', { text: 'never mind' }],
    ['where is my order', 'order_status', { text: 'forget it' }],
    // the button: its label alone would not cancel anything
    ['I forgot my password', 'password_reset', { text: 'No, leave it', choice: 'cancel' }],
  ];
  for (const [trigger, flow, msg] of cases) {
    await startFlow(c, trigger, flow);
    const { text, ...extra } = msg;
    const id = await send(c, text, extra);
    const r = await replyTo(c, id, `flow:${flow}`);
    assert.match(r.text, CANCELLED, `${JSON.stringify(msg)} cancels ${flow}`);
    assert.deepEqual(flowRuns(db, w.conversation), [], `${flow} ended on ${JSON.stringify(msg)}`);
  }
  assert.deepEqual(B.since(mark), [], 'the backend is not called');
  // not taken for an e-mail address or an order number any more
  await assertOrdinaryAnswer(c, 'how long does delivery take');
  assert.deepEqual(B.since(mark), []);
  assert.deepEqual(handoffs(db, w.conversation), []);
});

test('"talk to a person" during a flow hands off and ends the flow', async () => {
  const { c, w, db } = await sharedClient();
  const mark = B.requests.length;
  await startFlow(c, 'I forgot my password', 'password_reset');
  await send(c, 'talk to a person');
  const h = await handoffReply(c);
  assert.match(h.handoff.team, /^(accounts|general)$/);
  assert.deepEqual(B.since(mark), []);
  assert.deepEqual(flowRuns(db, w.conversation), OFFLINE);
  const rows = handoffs(db, w.conversation);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].team, h.handoff.team);
});

test('kill -9 while a flow waits: after a restart it goes on where it was, nothing repeated', async () => {
  const b = await ownBackend();
  const dataDir = scope.tempDir('supportd-e2e-flows-data-');
  const config = flowsConfig(b);

  const d1 = await ownDaemon({ dataDir, config });
  const { c: c1, w } = await ownClient(d1);
  const ask = await startFlow(c1, 'where is my order', 'order_status');
  assert.match(ask.text, ORDER_ASK);
  const m1 = await send(c1, '555555');
  await b.waitForRequest(isOrder('555555'));
  const nf = await replyTo(c1, m1, 'flow:order_status');
  assert.match(nf.text, NOT_FOUND('555555'));
  assert.deepEqual(flowRuns(d1.dbPath, w.conversation), ['order_status']);
  const lastSeq = Math.max(...c1.all.filter((f) => typeof f.seq === 'number').map((f) => f.seq));
  assert.equal(lastSeq, nf.seq);

  const e = await d1.kill9();
  assert.equal(e.signal, 'SIGKILL');
  await c1.waitClose();

  const d2 = await ownDaemon({ dataDir, config });
  const c3 = await scope.client(d2.port);
  const w3 = await c3.hello({ resume: w.resume, last_seq: lastSeq });
  assert.equal(w3.resumed, true);
  assert.equal(w3.conversation, w.conversation);
  assert.equal(w3.last_seq, lastSeq, 'the restart stored nothing new (no repeated prompt)');

  const m2 = await send(c3, '100234');
  const ack = c3.all.find((f) => f.type === 'ack' && f.id === m2);
  assert.equal(ack.seq, lastSeq + 1);
  // frames are ordered on the connection: anything sent on resume (a
  // replayed or repeated prompt) would come before this ack
  assert.deepEqual(c3.all.slice(0, c3.all.indexOf(ack)).map((f) => f.type), ['welcome'],
    `nothing but the welcome before the answer: ${JSON.stringify(c3.all)}`);
  await b.waitForRequest(isOrder('100234'));
  const shipped = await replyTo(c3, m2, 'flow:order_status');
  assert.match(shipped.text, /has shipped/i);
  assert.ok(shipped.text.includes(ORDERS[100234].tracking_url));
  assert.equal(shipped.seq, lastSeq + 2);

  assert.equal(b.count(isOrder('100234')), 1);
  assert.equal(b.count(isOrder('555555')), 1, 'the lookup before the crash is not repeated');
  assert.equal(b.count(isGet), 2);
  assert.deepEqual(flowRuns(d2.dbPath, w.conversation), []);
});

test('kill -9 while a backend call is in flight: the call is never sent again', async () => {
  const b = await ownBackend();
  const email = 'hang.on@example.com';
  allEmails.add(email);
  b.on('POST', '/password-reset', () => ({ hang: true }));
  const dataDir = scope.tempDir('supportd-e2e-flows-data-');
  const config = flowsConfig(b, { timeout_ms: T(60000) });

  const d1 = await ownDaemon({ dataDir, config });
  const { c: c1, w } = await ownClient(d1);
  await startFlow(c1, 'I forgot my password', 'password_reset');
  await send(c1, email);
  await b.waitForRequest(isReset(email)); // the call is out, its reply never comes
  // the customer writes meanwhile: kept, and told to wait
  const m2 = await send(c1, 'hello?');
  const busy = await replyTo(c1, m2, 'flow:password_reset');
  assert.match(busy.text, /still working on your previous request/i);
  const lastSeq = busy.seq;
  await d1.kill9();
  await c1.waitClose();

  // the new process settles the cut-off call on its own, at start-up: the
  // flow sees it as failed and hands off, without calling again
  const d2 = await ownDaemon({ dataDir, config });
  await d2.waitLog(/event=handoff\b.*team=accounts/);
  const c3 = await scope.client(d2.port);
  const w3 = await c3.hello({ resume: w.resume, last_seq: lastSeq });
  assert.equal(w3.resumed, true);
  // said by the new process on its own: it answers no message of its own
  const failed = await c3.next((f) => f.type === 'reply' && f.source === 'flow:password_reset' &&
    RESET_FAILED.test(f.text));
  assert.ok(failed.seq > lastSeq);
  const h = await handoffReply(c3);
  assert.equal(h.handoff.team, 'accounts');
  const hs = handoffs(d2.dbPath, w.conversation);
  assert.equal(hs.length, 1);
  assert.match(hs[0].reason, /interrupted/);
  assert.equal(b.count(isReset(email)), 1, 'the reset request is sent at most once');
  assert.deepEqual(flowRuns(d2.dbPath, w.conversation), OFFLINE);
  assert.deepEqual(slots(d2.dbPath, w.conversation), { email });
  assertNoEmailInLogs(d1, email);
  assertNoEmailInLogs(d2, email);
});

// A content root with flows that misbehave, and a server outside the
// allow-list that they try to reach. Built once, for the next tests.
let containment = null;
function containmentDaemon() {
  containment ??= (async () => {
    const evil = await ownBackend();
    const intent = (name, flow) => [
      `  - name: ${name}`,
      `    label: ${name[0].toUpperCase()}${name.slice(1).replace(/_test$/, '')}`,
      '    team: qa',
      '    patterns:',
      `      - '^${flow} now$'`,
      '    examples:',
      `      - ${flow} now`,
      `    flow: ${flow}`,
    ].join('\n');
    const content = makeContent(undefined, {
      lua: {
        'flows/spin.lua': 'return function() say("spinning") while true do end end',
        'flows/bomb.lua': 'return function() local s = "x" while true do s = s .. s end end',
        'flows/exfil.lua': `return function() local r = http.get("http://127.0.0.1:${evil.port}/steal") say("got " .. tostring(r)) end`,
      },
      extraRules: {
        'en/zz_test.yaml': `intents:\n${['spin', 'bomb', 'exfil'].map((f) => intent(`${f}_test`, f)).join('\n')}\n`,
      },
    });
    scope.defer(async () => removeDir(content));
    const d = await ownDaemon({
      content,
      config: flowsConfig(B, { instruction_limit: 1000000, memory_limit_kb: 8192 }),
    });
    return { d, evil };
  })();
  return containment;
}

/** The broken-flow outcome: the apology, then a handoff to the intent's team. */
async function assertBroke(c, id) {
  const pred = (f) => f.type === 'reply' && f.in_reply_to === id && BROKE.test(f.text);
  pred.description = `the apology for ${id}`;
  const sorry = await c.next(pred);
  assert.equal(sorry.from, 'bot');
  assert.doesNotMatch(sorry.text, /traceback|\.lua:\d+|budget|memory/i, 'no script internals in the reply');
  const h = await handoffReply(c);
  assert.equal(h.handoff.team, 'qa');
  assert.ok(h.seq > sorry.seq);
}

test('a flow that loops forever or eats memory is stopped; others are served meanwhile', async () => {
  const { d } = await containmentDaemon();
  const a = await ownClient(d);
  const b = await ownClient(d);

  // A spins while B asks an ordinary question at the same time.
  a.c.send({ type: 'message', id: 'spin-1', text: 'spin now' });
  const bq = `fl-${++n}`;
  b.c.send({ type: 'message', id: bq, text: 'how long does delivery take' });
  await a.c.ackFor('spin-1');
  await b.c.ackFor(bq);
  const [, bAnswer] = await Promise.all([
    assertBroke(a.c, 'spin-1'),
    b.c.next((f) => f.type === 'reply' && f.in_reply_to === bq),
  ]);
  assert.match(bAnswer.source, /^(faq|intent):/, JSON.stringify(bAnswer));
  const spinLog = await d.waitLog(allOf(/event=flow_error\b/, /budget/));
  assert.match(spinLog, /spin/);
  assert.match(spinLog, /traceback/i);

  // nobody is online: the offline ticket flow asks for a message; leave it
  const out = await send(a.c, 'cancel');
  await a.c.next((f) => f.type === 'reply' && f.in_reply_to === out && CANCELLED.test(f.text));
  const bombId = await send(a.c, 'bomb now');
  await assertBroke(a.c, bombId);
  const bombLog = await d.waitLog(allOf(/event=flow_error\b/, /memory/));
  assert.match(bombLog, /bomb/);
  // (no traceback required here: building one needs the memory that ran out)

  const rows = handoffs(d.dbPath, a.w.conversation);
  assert.equal(rows.length, 2, JSON.stringify(rows));
  assert.ok(rows.every((r) => r.team === 'qa'), JSON.stringify(rows));
  assert.match(rows[0].reason, /budget/i);
  assert.match(rows[1].reason, /memory/i);
  assert.deepEqual(flowRuns(d.dbPath, a.w.conversation), OFFLINE);
  assert.deepEqual(handoffs(d.dbPath, b.w.conversation), []);

  // still answering, both conversations
  const out2 = await send(a.c, 'never mind');
  await a.c.next((f) => f.type === 'reply' && f.in_reply_to === out2 && CANCELLED.test(f.text));
  await assertOrdinaryAnswer(a.c, 'how long does delivery take');
  await assertOrdinaryAnswer(b.c, 'how long does delivery take');
  assert.equal(d.running, true);
});

test('a flow cannot call a URL outside the backends in the config', async () => {
  const { d, evil } = await containmentDaemon();
  const { c, w, db } = await ownClient(d);
  const id = await send(c, 'exfil now');
  await assertBroke(c, id);
  const line = await d.waitLog(allOf(/event=flow_error\b/, /not allowed/));
  assert.match(line, /exfil/);
  assert.equal(evil.requests.length, 0, `the outside server got nothing: ${JSON.stringify(evil.requests)}`);
  const rows = handoffs(db, w.conversation);
  assert.equal(rows.length, 1);
  assert.match(rows[0].reason, /not allowed/i);
  assert.ok(!c.all.some((f) => typeof f.text === 'string' && /^got /.test(f.text)), 'the flow did not go on');
});

test('a redirect from an allowed backend is not followed', async () => {
  const { c, w, db } = await sharedClient();
  const evil = await ownBackend();
  const off = B.on('GET', '/orders/100298',
    () => ({ status: 302, headers: { Location: `${evil.url}/orders/100234` }, body: '' }));
  try {
    await startFlow(c, 'where is my order', 'order_status');
    const id = await send(c, '100298');
    await B.waitForRequest(isOrder('100298'));
    const failed = await replyTo(c, id, 'flow:order_status');
    assert.match(failed.text, LOOKUP_FAILED);
    const h = await handoffReply(c);
    assert.equal(h.handoff.team, 'orders');
    assert.equal(evil.requests.length, 0, 'the redirect target got nothing');
    assert.equal(handoffs(db, w.conversation).length, 1);
  } finally {
    off();
  }
});

test('a flow that gets no answer ends politely after answer_timeout_ms', async () => {
  const b = await ownBackend();
  const answerTimeout = T(1000);
  const d = await ownDaemon({ config: flowsConfig(b, { answer_timeout_ms: answerTimeout }) });
  const { c, w, db } = await ownClient(d);

  await startFlow(c, 'where is my order', 'order_status');
  const asked = Date.now();
  assert.deepEqual(flowRuns(db, w.conversation), ['order_status']);
  const pred = (f) => f.type === 'reply' && TIMED_OUT.test(f.text);
  pred.description = 'the answer-timeout reply';
  const r = await c.next(pred, T(10000));
  const waited = Date.now() - asked;
  assert.equal(r.source, 'flow:order_status');
  assert.equal(r.from, 'bot');
  assert.ok(waited >= answerTimeout - 250, `not before the timeout: ${waited} ms of ${answerTimeout}`);
  assert.deepEqual(flowRuns(db, w.conversation), []);

  // a number now is just a message, not an answer to the flow
  const id = await send(c, '100234');
  const after = await c.next((f) => f.type === 'reply' && f.in_reply_to === id);
  assert.doesNotMatch(after.source, /^flow:/, JSON.stringify(after));
  assert.deepEqual(b.requests, [], 'no lookup');
});

let tlsBackend = null;
const httpsBackend = () => { tlsBackend ??= ownBackend({ https: true }); return tlsBackend; };

test('https backend with ca_file: the lookup works', async () => {
  const b = await httpsBackend();
  assert.match(b.url, /^https:\/\//);
  const d = await ownDaemon({ config: flowsConfig(b, { ca_file: b.caFile }) });
  const { c } = await ownClient(d);
  await startFlow(c, 'where is my order', 'order_status');
  const before = b.requests.length;
  const id = await send(c, '100234');
  await b.waitForRequest(isOrder('100234'), undefined, before);
  const r = await replyTo(c, id, 'flow:order_status');
  assert.match(r.text, /has shipped/i);
  assert.ok(r.text.includes(ORDERS[100234].tracking_url));
  assert.equal(b.since(before).length, 1);
});

test('https backend with an untrusted certificate: refused, lookup failed and a handoff', async () => {
  const b = await httpsBackend();
  const d = await ownDaemon({ config: flowsConfig(b) });
  const { c, w, db } = await ownClient(d);
  await startFlow(c, 'where is my order', 'order_status');
  const before = b.requests.length;
  const id = await send(c, '100234');
  const failed = await replyTo(c, id, 'flow:order_status');
  assert.match(failed.text, LOOKUP_FAILED);
  const h = await handoffReply(c);
  assert.equal(h.handoff.team, 'orders');
  assert.deepEqual(b.since(before), [], 'no request got past the TLS handshake');
  const rows = handoffs(db, w.conversation);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].team, 'orders');
});

test('no daemon logged a customer e-mail address in clear', () => {
  assert.ok(allDaemons.length > 0 && allEmails.size > 0, 'the tests above ran');
  for (const d of allDaemons) {
    for (const email of allEmails) assertNoEmailInLogs(d, email);
  }
});
