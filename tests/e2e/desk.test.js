'use strict';
// The support desk (docs/desk.md): handoffs and their reasons, the durable
// queue with teams, the agent protocol supportd.agent.v1, CSAT and offline
// tickets. Real daemons, real customer and agent websockets, agents made
// with the real CLI (`supportd agent add`), the store read with sqlite3.
//
// Most scenarios depend on who is online and what is waiting, so each has a
// daemon of its own; the trigger tests share one whose agent takes every
// team, and the bad-input tests share another.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  T, sqlite, sqlQuote, healthz, addAgent, connectAgent, useCleanups,
} = require('./lib');
const { startBackend } = require('./backend');

const CHAT = { rate_per_sec: 1000, rate_burst: 1000 };
const TEAMS = ['general', 'accounts', 'orders', 'billing', 'returns'];
const PERSON_REASON = 'the customer asked for a person';
const ANGRY = "This is the third time I'm writing, I'm furious. Cancel my account or I'll call my lawyer!";

const scope = useCleanups();

// One fake company backend for every daemon of this file; the password
// reset of one address fails with a 500 (a flow that hands off).
const FAIL_EMAIL = 'desk.fail@example.com';
let backendP = null;
function backend() {
  backendP ??= startBackend().then((b) => {
    scope.defer(() => b.close());
    b.on('POST', '/password-reset', (req) => (req.json && req.json.email === FAIL_EMAIL
      ? { status: 500, json: { error: 'internal' } } : undefined));
    return b;
  });
  return backendP;
}

const deskConfig = (b, desk = {}) => ({
  chat: CHAT,
  flows: { backends: { api: b.url } },
  desk,
});

/** A daemon of this test's own (cleaned up after the file). */
async function ownDaemon({ desk = {}, dataDir } = {}) {
  const b = await backend();
  return scope.daemon({ config: deskConfig(b, desk), dataDir });
}

// ------------------------------------------------------------ customers

let n = 0;
const nextId = (p = 'dk') => `${p}-${++n}`;

/** A customer connection with a welcome. */
async function customer(d, hello = {}) {
  const c = await scope.client(d.port);
  const w = await c.hello(hello);
  return { c, w, conv: w.conversation };
}

/** Send a customer message; resolves its id once acked. */
async function say(c, text, extra = {}) {
  const id = nextId('m');
  c.send({ type: 'message', id, text, ...extra });
  await c.ackFor(id);
  return id;
}

/** A reply with the given source (string) to message id, or any if id is null. */
function replyFrom(c, source, id = null, ms) {
  const pred = (f) => f.type === 'reply' && f.source === source && (id === null || f.in_reply_to === id);
  pred.description = `a reply with source ${source}${id ? ` to ${id}` : ''}`;
  return c.next(pred, ms);
}

/** The next queue frame (optionally with a position). */
function queueFrame(c, position, ms) {
  const pred = (f) => f.type === 'queue' && (position === undefined || f.position === position);
  pred.description = `a queue frame${position === undefined ? '' : ` at position ${position}`}`;
  return c.next(pred, ms);
}

function assertQueueFrame(q, team) {
  assert.equal(q.type, 'queue');
  assert.equal(q.team, team, JSON.stringify(q));
  assert.ok(Number.isInteger(q.position) && q.position >= 1, JSON.stringify(q));
  assert.ok(Number.isInteger(q.estimated_wait_sec) && q.estimated_wait_sec >= 0, JSON.stringify(q));
  assert.equal(q.seq, undefined, 'queue frames are not stored');
}

/** "talk to a person" and the handoff reply (online: the queue notice). */
async function askForPerson(c, text = 'talk to a person') {
  const id = await say(c, text);
  const h = await replyFrom(c, 'handoff', id);
  assert.equal(h.from, 'bot');
  assert.equal(typeof h.handoff, 'object');
  assert.ok(h.handoff !== null);
  return h;
}

/** A customer who asked for a person and is waiting in the queue. */
async function waitingCustomer(d, hello = {}, text) {
  const cu = await customer(d, hello);
  cu.handoff = await askForPerson(cu.c, text);
  cu.queue = await queueFrame(cu.c);
  return cu;
}

// ---------------------------------------------------------------- agents

/** An agent connection (path /agent, supportd.agent.v1), not logged in. */
async function agentConn(d) {
  const a = await connectAgent(d.port);
  scope.defer(async () => a.terminate());
  return a;
}

let agentNo = 0;
/** A new agent in d's store, made with the CLI; returns {name, token}. */
function newAgent(d, { teams = ['general'], capacity = 1, name } = {}) {
  const nm = name || `agent${++agentNo}`;
  return { name: nm, token: addAgent(d.dataDir, nm, { teams, capacity }) };
}

/** An agent logged in on its own connection: {a, name, token, welcome}. */
async function agentOnline(d, opts = {}) {
  const ag = opts.token ? opts : newAgent(d, opts);
  const a = await agentConn(d);
  const welcome = await a.login(ag.name, ag.token);
  // the welcome is followed by a queue view: consume it so that later
  // next({type: 'queue_view'}) calls see fresh ones
  await a.next({ type: 'queue_view' });
  return { a, name: ag.name, token: ag.token, welcome };
}

function offerFor(a, conv, ms) {
  const pred = (f) => f.type === 'offer' && f.conversation === conv;
  pred.description = `an offer of ${conv}`;
  return a.next(pred, ms);
}

function agentFrame(a, type, conv, ms) {
  const pred = (f) => f.type === type && f.conversation === conv;
  pred.description = `${type} of ${conv}`;
  return a.next(pred, ms);
}

/** The next error frame on an agent connection, checked. */
async function agentError(a, code, ms) {
  const f = await a.next((x) => x.type === 'error', ms);
  assert.equal(f.code, code, `expected error ${code}: ${JSON.stringify(f)}`);
  assert.equal(typeof f.message, 'string');
  assert.ok(f.message.length > 0);
  return f;
}

/** Agent takes conv (offered to it): accept, and the assigned frame. */
async function take(a, conv) {
  await offerFor(a, conv);
  a.send({ type: 'accept', conversation: conv });
  return agentFrame(a, 'assigned', conv);
}

/**
 * Ask for a queue view and wait for one (asked for or pushed) for which
 * pred(view) holds. Views are also pushed on changes, so the first one that
 * arrives may be older than the request: waiting for the state expected is
 * what tells them apart. Frames sent to this agent before that state existed
 * (an offer, say) arrive before the view.
 */
function viewWith(a, pred = () => true, what = 'a queue view') {
  a.send({ type: 'queue' });
  const p = (f) => f.type === 'queue_view' && pred(f);
  p.description = what;
  return a.next(p);
}

const listed = (...convs) => (v) => convs.every((c) => v.waiting.some((w) => w.conversation === c));
const entryOf = (v, conv) => v.waiting.find((w) => w.conversation === conv);

/** The agent's frames received so far, of a type, about conv. */
const framesOf = (a, type, conv) => a.all.filter((f) => f.type === type && f.conversation === conv);

/** Close a chat and wait until the customer got the closing reply. */
async function closeChat(a, cu, resolution = 'resolved') {
  a.send({ type: 'close', conversation: cu.conv, resolution });
  return replyFrom(cu.c, 'closed');
}

// ----------------------------------------------------------------- store

function handoffRows(db, conv) {
  return sqlite(db, "select json_object('team', h.team, 'reason', h.reason, 'source', h.source) " +
    'from handoffs h join conversations c on c.id = h.conversation_id ' +
    `where c.public_id = ${sqlQuote(conv)} order by h.id`).map((r) => JSON.parse(r[0]));
}

function queueRows(db) {
  return sqlite(db, "select json_object('conv', c.public_id, 'team', q.team, 'upset', q.upset, " +
    "'reason', q.reason, 'agent', a.name, 'enqueued_at', q.enqueued_at) from queue q " +
    'join conversations c on c.id = q.conversation_id left join agents a on a.id = q.agent_id ' +
    'order by q.conversation_id').map((r) => JSON.parse(r[0]));
}

function queueRow(db, conv) {
  return queueRows(db).find((r) => r.conv === conv);
}

function convRow(db, conv) {
  const rows = sqlite(db, "select json_object('status', status, 'resolution', resolution, " +
    "'csat', csat, 'csat_comment', csat_comment, 'closed_at', closed_at, 'slots', json(slots)) " +
    `from conversations where public_id = ${sqlQuote(conv)}`);
  return rows.length ? JSON.parse(rows[0][0]) : null;
}

// ====================================================== 1. the triggers

// One daemon whose agent works for every team with room for many chats:
// every handoff goes to the queue (and is offered to it, never accepted).
let triggersP = null;
function triggers() {
  triggersP ??= (async () => {
    const d = await ownDaemon();
    const ag = await agentOnline(d, { teams: TEAMS, capacity: 50, name: 'everyone' });
    return { d, ag };
  })();
  return triggersP;
}

test('handoff trigger: the customer asks for a person (words or the button)', async () => {
  const { d, ag } = await triggers();
  for (const text of ['talk to a person', 'i want to talk to a human']) {
    const cu = await customer(d, { lang: 'en' });
    const h = await askForPerson(cu.c, text);
    assert.equal(h.handoff.team, 'general', `${text}: ${JSON.stringify(h)}`);
    assert.doesNotMatch(h.text, /available|away/i, 'not the offline text: an agent is online');
    assertQueueFrame(await queueFrame(cu.c), 'general');
    assert.deepEqual(handoffRows(d.dbPath, cu.conv),
      [{ team: 'general', reason: PERSON_REASON, source: 'pipeline' }], text);
    const row = queueRow(d.dbPath, cu.conv);
    assert.ok(row, `a queue row for ${cu.conv}`);
    assert.equal(row.team, 'general');
    assert.equal(row.upset, 0);
    assert.equal(row.agent, null);
    const offer = await offerFor(ag.a, cu.conv);
    assert.equal(offer.team, 'general');
    assert.equal(offer.reason, PERSON_REASON);
    assert.equal(offer.upset, false);
  }

  // the "Talk to a person" button of a fallback
  const cu = await customer(d);
  const id = await say(cu.c, 'what is the capital of France');
  const fb = await replyFrom(cu.c, 'fallback', id);
  assert.ok(fb.choices.some((ch) => ch.id === 'handoff'), JSON.stringify(fb.choices));
  const id2 = await say(cu.c, 'Talk to a person', { choice: 'handoff' });
  const h = await replyFrom(cu.c, 'handoff', id2);
  assertQueueFrame(await queueFrame(cu.c), h.handoff.team);
  const rows = handoffRows(d.dbPath, cu.conv);
  assert.equal(rows.length, 1, JSON.stringify(rows));
  assert.equal(rows[0].reason, PERSON_REASON);
  assert.equal(rows[0].source, 'pipeline');
  assert.equal(rows[0].team, h.handoff.team);
});

test('handoff trigger: the bot was unsure twice in a row', async () => {
  const { d, ag } = await triggers();
  const cu = await customer(d);
  const id1 = await say(cu.c, 'what is the capital of France');
  await replyFrom(cu.c, 'fallback', id1);
  assert.deepEqual(handoffRows(d.dbPath, cu.conv), [], 'one fallback is not enough');
  const id2 = await say(cu.c, 'can you sing');
  await replyFrom(cu.c, 'fallback', id2);
  const h = await replyFrom(cu.c, 'handoff', id2);
  assert.ok(TEAMS.includes(h.handoff.team), JSON.stringify(h));
  assertQueueFrame(await queueFrame(cu.c), h.handoff.team);
  const rows = handoffRows(d.dbPath, cu.conv);
  assert.equal(rows.length, 1, JSON.stringify(rows));
  assert.match(rows[0].reason, /twice/);
  assert.equal(rows[0].source, 'pipeline');
  assert.equal(rows[0].team, h.handoff.team);
  const offer = await offerFor(ag.a, cu.conv);
  assert.match(offer.reason, /twice/);
});

test('handoff trigger: a flow that fails (password reset, backend 500) goes to accounts', async () => {
  const { d, ag } = await triggers();
  const cu = await customer(d);
  const id = await say(cu.c, 'I forgot my password');
  await replyFrom(cu.c, 'flow:password_reset', id);
  const id2 = await say(cu.c, FAIL_EMAIL);
  const failed = await replyFrom(cu.c, 'flow:password_reset', id2);
  assert.match(failed.text, /couldn't start the password reset/i);
  const h = await replyFrom(cu.c, 'handoff', id2);
  assert.equal(h.handoff.team, 'accounts');
  assert.doesNotMatch(h.text, /available|away/i, 'not the offline text');
  assertQueueFrame(await queueFrame(cu.c), 'accounts');
  const rows = handoffRows(d.dbPath, cu.conv);
  assert.equal(rows.length, 1, JSON.stringify(rows));
  assert.equal(rows[0].team, 'accounts');
  assert.equal(rows[0].source, 'flow');
  assert.match(rows[0].reason, /500/);
  assert.equal(queueRow(d.dbPath, cu.conv).team, 'accounts');
  const offer = await offerFor(ag.a, cu.conv);
  assert.equal(offer.team, 'accounts');
  assert.match(offer.reason, /500/);
});

test('handoff trigger: an upset customer who threatens to cancel and call a lawyer', async () => {
  const { d, ag } = await triggers();
  const cu = await customer(d, { lang: 'en' });
  const id = await say(cu.c, ANGRY);
  const h = await replyFrom(cu.c, 'handoff', id);
  assert.ok(TEAMS.includes(h.handoff.team), JSON.stringify(h));
  assertQueueFrame(await queueFrame(cu.c), h.handoff.team);
  const rows = handoffRows(d.dbPath, cu.conv);
  assert.equal(rows.length, 1, JSON.stringify(rows));
  assert.equal(rows[0].source, 'pipeline');
  assert.equal(rows[0].team, h.handoff.team);
  assert.match(rows[0].reason, /upset|threat|legal|angry/i, JSON.stringify(rows[0]));
  const row = queueRow(d.dbPath, cu.conv);
  assert.equal(row.upset, 1, JSON.stringify(row));
  const offer = await offerFor(ag.a, cu.conv);
  assert.equal(offer.upset, true);
});

// ====================================================== 2. queue order

/** An agent of capacity 1 that already holds a chat: {d, ag, held}. */
async function busyAgent(opts = {}) {
  const d = await ownDaemon(opts);
  const ag = await agentOnline(d, { teams: opts.teams || ['general'], capacity: 1 });
  const held = await waitingCustomer(d);
  await take(ag.a, held.conv);
  await replyFrom(held.c, 'agent_joined');
  return { d, ag, held };
}

test('queue order: first come, first offered', async () => {
  const { d, ag, held } = await busyAgent();
  const first = await waitingCustomer(d, { name: 'First' });
  assert.equal(first.queue.position, 1);
  const second = await waitingCustomer(d, { name: 'Second' });
  assert.equal(second.queue.position, 2);
  const view = await viewWith(ag.a, listed(first.conv, second.conv), 'a view with both');
  assert.deepEqual(view.waiting.map((w) => w.conversation), [first.conv, second.conv]);
  assert.deepEqual(framesOf(ag.a, 'offer', first.conv), [], 'no offer while at capacity');

  await closeChat(ag.a, held);
  const offer = await ag.a.next({ type: 'offer' });
  assert.equal(offer.conversation, first.conv, `the one waiting longest first: ${JSON.stringify(offer)}`);
  assert.deepEqual(framesOf(ag.a, 'offer', second.conv), []);
});

test('queue order: an upset customer is offered before an earlier calm one', async () => {
  const { d, ag, held } = await busyAgent({ teams: TEAMS });
  const calm = await waitingCustomer(d, { name: 'Calm' });
  const upset = await customer(d, { name: 'Upset', lang: 'en' });
  const id = await say(upset.c, ANGRY);
  const h = await replyFrom(upset.c, 'handoff', id);
  await queueFrame(upset.c);
  const row = queueRow(d.dbPath, upset.conv);
  assert.ok(row, 'the angry customer is in the queue');
  assert.equal(row.upset, 1, JSON.stringify(row));
  assert.equal(queueRow(d.dbPath, calm.conv).upset, 0);
  assert.equal(row.team, h.handoff.team);

  const view = await viewWith(ag.a, listed(calm.conv, upset.conv), 'a view with both');
  assert.equal(view.waiting[0].conversation, upset.conv, JSON.stringify(view));
  assert.equal(view.waiting[0].upset, true);

  await closeChat(ag.a, held);
  const offer = await ag.a.next({ type: 'offer' });
  assert.equal(offer.conversation, upset.conv, JSON.stringify(offer));
  assert.equal(offer.upset, true);
  ag.a.send({ type: 'accept', conversation: upset.conv });
  const as = await agentFrame(ag.a, 'assigned', upset.conv);
  const { mood } = as.context;
  assert.equal(typeof mood, 'object', JSON.stringify(as.context));
  assert.ok(mood !== null, 'context.mood is an object');
  assert.equal(typeof mood.level, 'number', JSON.stringify(mood));
  assert.ok(mood.level > 0, JSON.stringify(mood));
  assert.ok(Number.isInteger(mood.upset_messages) && mood.upset_messages >= 1, JSON.stringify(mood));
  assert.ok(Number.isInteger(mood.messages) && mood.messages >= 1, JSON.stringify(mood));
});

// ================================================= 3. positions update

test('queue position: the second customer moves to 1 when the first is taken', async () => {
  const { d, ag, held } = await busyAgent();
  const first = await waitingCustomer(d);
  assertQueueFrame(first.queue, 'general');
  assert.equal(first.queue.position, 1);
  const second = await waitingCustomer(d);
  assertQueueFrame(second.queue, 'general');
  assert.equal(second.queue.position, 2);

  await closeChat(ag.a, held);
  await offerFor(ag.a, first.conv);
  const before = second.c.all.filter((f) => f.type === 'queue');
  assert.ok(before.every((f) => f.position === 2), `still second while the first waits: ${JSON.stringify(before)}`);
  ag.a.send({ type: 'accept', conversation: first.conv });
  await agentFrame(ag.a, 'assigned', first.conv);
  const q = await queueFrame(second.c);
  assertQueueFrame(q, 'general');
  assert.equal(q.position, 1, JSON.stringify(q));
  // and the one taken hears that a person joined
  const joined = await replyFrom(first.c, 'agent_joined');
  assert.equal(joined.from, 'system');
  assert.ok(joined.text.includes(ag.name), joined.text);
});

// ================================================= 4. accept timeout

test('accept timeout: the offer is revoked and goes to another agent of the team', async () => {
  const timeout = T(800);
  const d = await ownDaemon({ desk: { accept_timeout_ms: timeout } });
  const A = await agentOnline(d, { teams: ['general'], capacity: 1 });
  const cu = await waitingCustomer(d);
  const offer = await offerFor(A.a, cu.conv);
  const offeredAt = Date.now();
  assert.equal(offer.expires_in_ms, timeout);
  // B comes online while A sits on the offer
  const B = await agentOnline(d, { teams: ['general'], capacity: 1 });
  const revoked = await agentFrame(A.a, 'revoked', cu.conv, T(5000) + timeout);
  const waited = Date.now() - offeredAt;
  assert.equal(revoked.reason, 'timeout');
  assert.ok(waited >= timeout - 250, `not revoked before the timeout: ${waited} ms of ${timeout}`);
  const offerB = await offerFor(B.a, cu.conv);
  assert.equal(offerB.team, 'general');
  // A is not offered it again while B can take it
  await viewWith(A.a, (v) => entryOf(v, cu.conv) && entryOf(v, cu.conv).offered_to === B.name,
    `a view with ${cu.conv} offered to ${B.name}`);
  const afterRevoke = A.a.all.slice(A.a.all.indexOf(revoked));
  assert.deepEqual(afterRevoke.filter((f) => f.type === 'offer'), [], 'no second offer to A');
  // A can no longer take it by its offer, but B can
  B.a.send({ type: 'accept', conversation: cu.conv });
  await agentFrame(B.a, 'assigned', cu.conv);
  assert.equal(queueRow(d.dbPath, cu.conv).agent, B.name);
});

test('accept timeout with nobody else online: the same agent is offered it again', async () => {
  const timeout = T(800);
  const d = await ownDaemon({ desk: { accept_timeout_ms: timeout } });
  const A = await agentOnline(d, { teams: ['general'], capacity: 1 });
  const cu = await waitingCustomer(d);
  await offerFor(A.a, cu.conv);
  const revoked = await agentFrame(A.a, 'revoked', cu.conv, T(5000) + timeout);
  assert.equal(revoked.reason, 'timeout');
  const again = await offerFor(A.a, cu.conv, T(5000) + timeout);
  assert.equal(again.conversation, cu.conv);
});

// ==================================================== 5. capacity

test('capacity: an agent at capacity gets no second offer, and accept says at_capacity', async () => {
  const { d, ag, held } = await busyAgent();
  const other = await waitingCustomer(d);
  // the offer would have been made before the customer heard its place,
  // and before this view: frames on one connection are ordered
  const view = await viewWith(ag.a, listed(other.conv), `a view with ${other.conv}`);
  const entry = entryOf(view, other.conv);
  assert.equal(entry.offered_to ?? null, null, JSON.stringify(entry));
  assert.deepEqual(framesOf(ag.a, 'offer', other.conv), [], 'no offer beyond capacity');

  ag.a.send({ type: 'accept', conversation: other.conv });
  await agentError(ag.a, 'at_capacity');
  assert.equal(queueRow(d.dbPath, other.conv).agent, null);
  assert.ok(!other.c.all.some((f) => f.source === 'agent_joined'));

  // with room again, it is offered
  await closeChat(ag.a, held);
  await take(ag.a, other.conv);
  assert.equal(queueRow(d.dbPath, other.conv).agent, ag.name);
});

// ============================================ 6. context and the chat

test('accept gives the whole context; messages, typing and notes both ways', async () => {
  const d = await ownDaemon();
  const ag = await agentOnline(d, { teams: ['accounts'], capacity: 2 });
  const cu = await customer(d, { name: 'Zoe Tester', lang: 'en' });

  const m1 = await say(cu.c, 'how long does delivery take');
  const faq = await cu.c.replyFor(m1);
  assert.match(faq.source, /^faq:/);
  const m2 = await say(cu.c, 'I forgot my password');
  await replyFrom(cu.c, 'flow:password_reset', m2);
  const m3 = await say(cu.c, FAIL_EMAIL);
  await replyFrom(cu.c, 'handoff', m3);
  await queueFrame(cu.c);
  // written while waiting: stored, not answered by the bot
  const m4 = await say(cu.c, 'hello? is anyone there?');
  await offerFor(ag.a, cu.conv);
  ag.a.send({ type: 'accept', conversation: cu.conv });
  const as = await agentFrame(ag.a, 'assigned', cu.conv);
  const ctx = as.context;

  assert.equal(ctx.customer.name, 'Zoe Tester');
  assert.equal(ctx.customer.lang, 'en');
  assert.equal(ctx.handoff.team, 'accounts');
  assert.equal(ctx.handoff.source, 'flow');
  assert.match(ctx.handoff.reason, /500/);
  assert.equal(ctx.slots && ctx.slots.email, FAIL_EMAIL, `slots: ${JSON.stringify(ctx.slots)}`);
  assert.ok(Array.isArray(ctx.notes) && ctx.notes.length === 0, JSON.stringify(ctx.notes));
  const tr = ctx.transcript;
  assert.ok(Array.isArray(tr), JSON.stringify(ctx));
  const said = tr.filter((f) => f.type === 'message' && f.from === 'customer').map((f) => f.id);
  assert.deepEqual(said, [m1, m2, m3, m4], `customer messages: ${JSON.stringify(tr)}`);
  assert.equal(tr.find((f) => f.id === m4).text, 'hello? is anyone there?');
  const faqAgain = tr.find((f) => f.type === 'reply' && f.in_reply_to === m1);
  assert.ok(faqAgain, 'the bot reply is in the transcript');
  assert.equal(faqAgain.source, faq.source);
  assert.equal(typeof faqAgain.confidence, 'number');
  assert.equal(faqAgain.from, 'bot');
  assert.ok(tr.some((f) => f.type === 'reply' && f.source === 'flow:password_reset'), 'flow replies too');
  assert.ok(tr.some((f) => f.type === 'reply' && f.source === 'handoff'), 'the handoff notice too');
  assert.ok(!tr.some((f) => f.type === 'reply' && f.in_reply_to === m4), 'the bot did not answer while waiting');
  const seqs = tr.map((f) => f.seq);
  assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'in order');

  await replyFrom(cu.c, 'agent_joined');
  // customer -> agent
  const m5 = await say(cu.c, 'my order never arrived');
  const fwd = await agentFrame(ag.a, 'message', cu.conv);
  assert.equal(fwd.text, 'my order never arrived');
  assert.ok(Number.isInteger(fwd.seq));
  assert.ok(Number.isInteger(fwd.ts));
  assert.ok(!cu.c.all.some((f) => f.type === 'reply' && f.in_reply_to === m5), 'the bot keeps quiet');
  // agent -> customer
  ag.a.send({ type: 'message', conversation: cu.conv, id: 'ag-1', text: 'Hi Zoe, let me check.' });
  const ack = await ag.a.next((f) => (f.type === 'ack' && f.id === 'ag-1') || f.type === 'error');
  assert.equal(ack.type, 'ack', JSON.stringify(ack));
  assert.ok(Number.isInteger(ack.seq) && ack.seq > fwd.seq, JSON.stringify(ack));
  const r = await replyFrom(cu.c, 'agent');
  assert.equal(r.from, 'agent');
  assert.deepEqual(r.agent, { name: ag.name });
  assert.equal(r.text, 'Hi Zoe, let me check.');
  assert.equal(r.seq, ack.seq);
  // typing, both ways
  ag.a.send({ type: 'typing', conversation: cu.conv, state: true });
  const ct = await cu.c.next({ type: 'typing', from: 'agent' });
  assert.equal(ct.state, true);
  cu.c.send({ type: 'typing', state: true });
  const at = await agentFrame(ag.a, 'typing', cu.conv);
  assert.equal(at.state, true);

  // a note: never to the customer, in the next context
  const NOTE = 'internal: customer is VIP, refund approved';
  ag.a.send({ type: 'note', conversation: cu.conv, text: NOTE });
  ag.a.send({ type: 'message', conversation: cu.conv, id: 'ag-2', text: 'Done.' });
  await ag.a.next((f) => (f.type === 'ack' && f.id === 'ag-2'));
  await cu.c.next((f) => f.type === 'reply' && f.text === 'Done.');
  ag.a.send({ type: 'accept', conversation: cu.conv });
  const again = await agentFrame(ag.a, 'assigned', cu.conv);
  assert.equal(again.context.notes.length, 1, JSON.stringify(again.context.notes));
  assert.equal(again.context.notes[0].text, NOTE);
  assert.equal(again.context.notes[0].agent, ag.name);
  assert.ok(!JSON.stringify(again.context.transcript).includes(NOTE), 'a note is not a transcript frame');
  assert.ok(again.context.transcript.some((f) => f.from === 'agent' && f.text === 'Done.'),
    'agent messages are in the transcript');
  assert.ok(!cu.c.all.some((f) => JSON.stringify(f).includes(NOTE)), 'the customer never saw the note');
  // nor on a resume (the whole replay)
  await cu.c.close();
  const again2 = await scope.client(d.port);
  const w2 = await again2.hello({ resume: cu.w.resume, last_seq: 0 });
  assert.equal(w2.conversation, cu.conv);
  await again2.next((f) => f.seq === w2.last_seq && f.type !== 'ack');
  assert.ok(again2.all.some((f) => f.text === 'Done.'), 'the replay is complete');
  assert.ok(!again2.all.some((f) => JSON.stringify(f).includes(NOTE)), 'no note in the replay');
});

// ================================================= 7. transfers

test('transfer to a team: revoked from the first agent, offered to the other team', async () => {
  const d = await ownDaemon();
  const ann = await agentOnline(d, { teams: ['general'], capacity: 2 });
  const cu = await waitingCustomer(d);
  await take(ann.a, cu.conv);
  const cat = await agentOnline(d, { teams: ['accounts'], capacity: 2 });
  ann.a.send({ type: 'transfer', conversation: cu.conv, team: 'accounts' });
  const rev = await agentFrame(ann.a, 'revoked', cu.conv);
  assert.equal(rev.reason, 'transferred');
  const offer = await offerFor(cat.a, cu.conv);
  assert.equal(offer.team, 'accounts');
  assertQueueFrame(await queueFrame(cu.c), 'accounts');
  const row = queueRow(d.dbPath, cu.conv);
  assert.equal(row.team, 'accounts');
  assert.equal(row.agent, null);
  // the chat is no longer ann's
  ann.a.send({ type: 'message', conversation: cu.conv, id: 'ann-1', text: 'still mine?' });
  const e = await ann.a.next((f) => f.type === 'error');
  // not ann's (not_assigned), and now another team's (forbidden): either says it
  assert.ok(['not_assigned', 'forbidden'].includes(e.code), JSON.stringify(e));
  assert.equal(e.in_reply_to, 'ann-1');
  assert.ok(!cu.c.all.some((f) => f.text === 'still mine?'));
  // cat takes it
  cat.a.send({ type: 'accept', conversation: cu.conv });
  await agentFrame(cat.a, 'assigned', cu.conv);
  assert.equal(queueRow(d.dbPath, cu.conv).agent, cat.name);
});

test('transfer to a named agent: offered to that agent only', async () => {
  const d = await ownDaemon();
  const owner = await agentOnline(d, { teams: ['general'], capacity: 2 });
  const cu = await waitingCustomer(d);
  await take(owner.a, cu.conv);
  // both free; eve, online longer, would be first in line
  const eve = await agentOnline(d, { teams: ['general'], capacity: 2 });
  const fay = await agentOnline(d, { teams: ['general'], capacity: 2 });

  owner.a.send({ type: 'transfer', conversation: cu.conv, agent: fay.name });
  const rev = await agentFrame(owner.a, 'revoked', cu.conv);
  assert.equal(rev.reason, 'transferred');
  await offerFor(fay.a, cu.conv);
  const view = await viewWith(eve.a, listed(cu.conv), `a view of eve's with ${cu.conv}`);
  assert.deepEqual(framesOf(eve.a, 'offer', cu.conv), [], 'eve, otherwise first in line, gets no offer');
  assert.equal(entryOf(view, cu.conv).offered_to, fay.name);
  assert.deepEqual(owner.a.all.slice(owner.a.all.indexOf(rev)).filter((f) => f.type === 'offer'), [],
    'nor to the agent who transferred it');
  // and eve cannot take it
  eve.a.send({ type: 'accept', conversation: cu.conv });
  const e = await eve.a.next((f) => f.type === 'error');
  assert.ok(['forbidden', 'not_found'].includes(e.code), JSON.stringify(e));
  fay.a.send({ type: 'accept', conversation: cu.conv });
  await agentFrame(fay.a, 'assigned', cu.conv);
  assert.equal(queueRow(d.dbPath, cu.conv).agent, fay.name);
});

test('transfer to a named agent of another team: offered to that agent', async () => {
  const d = await ownDaemon();
  const owner = await agentOnline(d, { teams: ['general'], capacity: 2 });
  const cu = await waitingCustomer(d);
  await take(owner.a, cu.conv);
  const acc = await agentOnline(d, { teams: ['accounts'], capacity: 2 });
  owner.a.send({ type: 'transfer', conversation: cu.conv, agent: acc.name });
  await agentFrame(owner.a, 'revoked', cu.conv);
  // docs/desk.md: "transfer ... agent: ... offered to that agent"
  await offerFor(acc.a, cu.conv, T(3000));
  acc.a.send({ type: 'accept', conversation: cu.conv });
  await agentFrame(acc.a, 'assigned', cu.conv);
});

// ================================================= 8. close and CSAT

test('close, then CSAT; the bot answers again afterwards', async () => {
  const d = await ownDaemon();
  const ag = await agentOnline(d, { teams: ['general'], capacity: 1 });
  const cu = await customer(d);
  cu.c.send({ type: 'csat', rating: 5 });
  const early = await cu.c.error('not_closed');
  assert.equal(typeof early.message, 'string');
  await askForPerson(cu.c);
  await take(ag.a, cu.conv);
  await replyFrom(cu.c, 'agent_joined');
  cu.c.send({ type: 'csat', rating: 5 });
  await cu.c.error('not_closed');

  const closing = await closeChat(ag.a, cu, 'resolved');
  assert.equal(closing.from, 'system');
  assert.deepEqual(closing.choices.map((ch) => ch.id), ['csat:1', 'csat:2', 'csat:3', 'csat:4', 'csat:5']);
  assert.ok(Number.isInteger(closing.seq));
  let row = convRow(d.dbPath, cu.conv);
  assert.equal(row.status, 'closed');
  assert.equal(row.resolution, 'resolved');
  assert.ok(Number.isInteger(row.closed_at));
  assert.equal(queueRow(d.dbPath, cu.conv), undefined, 'out of the queue');

  // bad ratings first
  cu.c.send({ type: 'csat', rating: 6 });
  await cu.c.error('bad_field');
  cu.c.send({ type: 'csat', rating: 4, comment: 'x'.repeat(1001) });
  await cu.c.error('bad_field');
  cu.c.send({ type: 'csat', rating: 4, comment: 'quick' });
  const thanks = await replyFrom(cu.c, 'csat');
  assert.equal(typeof thanks.text, 'string');
  row = convRow(d.dbPath, cu.conv);
  assert.equal(row.csat, 4);
  assert.equal(row.csat_comment, 'quick');
  assert.equal(row.resolution, 'resolved');
  assert.equal(row.status, 'closed');

  // the customer's next message is the bot's again
  const id = await say(cu.c, 'how long does delivery take');
  const r = await cu.c.replyFor(id);
  assert.equal(r.from, 'bot');
  assert.match(r.source, /^faq:/);
  assert.deepEqual(framesOf(ag.a, 'message', cu.conv).filter((f) => f.id === id), [], 'not forwarded');
  assert.equal(convRow(d.dbPath, cu.conv).status, 'bot');
});

// ================================================= 9. offline tickets

test('nobody of the team online: the offline text, leave_message, a ticket for later', async () => {
  const d = await ownDaemon();
  const gen = newAgent(d, { teams: ['general'] });
  const ord = newAgent(d, { teams: ['orders'] });
  const EMAIL = 'offline.zoe@example.com';
  const MESSAGE = 'Please call me back about my refund';
  const cu = await customer(d, { name: 'Zoe' });
  const id = await say(cu.c, 'i want to talk to a human');
  const h = await replyFrom(cu.c, 'handoff', id);
  assert.equal(h.handoff.team, 'general');
  assert.match(h.text, /Nobody from our general team is available/);
  const ask = await replyFrom(cu.c, 'flow:leave_message', id);
  assert.match(ask.text, /leave us a message/i);
  assert.deepEqual(handoffRows(d.dbPath, cu.conv),
    [{ team: 'general', reason: PERSON_REASON, source: 'pipeline' }]);
  assert.equal(queueRow(d.dbPath, cu.conv), undefined, 'not queued');

  const id2 = await say(cu.c, MESSAGE);
  const askEmail = await replyFrom(cu.c, 'flow:leave_message', id2);
  assert.match(askEmail.text, /e-mail/i);
  const id3 = await say(cu.c, EMAIL);
  const done = await replyFrom(cu.c, 'flow:leave_message', id3);
  assert.ok(done.text.includes(EMAIL), done.text);
  assert.ok(!cu.c.all.some((f) => f.type === 'queue'), 'no queue frame');

  const rows = sqlite(d.dbPath, "select json_object('id', t.id, 'team', t.team, 'email', t.email, " +
    "'message', t.message, 'closed_at', t.closed_at, 'created_at', t.created_at) from tickets t " +
    `join conversations c on c.id = t.conversation_id where c.public_id = ${sqlQuote(cu.conv)}`)
    .map((r) => JSON.parse(r[0]));
  assert.equal(rows.length, 1, JSON.stringify(rows));
  assert.equal(rows[0].team, 'general');
  assert.equal(rows[0].email, EMAIL);
  assert.equal(rows[0].message, MESSAGE);
  assert.equal(rows[0].closed_at, null);

  // an agent of the team logging in later sees it; one of another team not
  const g = await agentOnline(d, gen);
  const t = g.welcome.tickets.find((x) => x.conversation === cu.conv);
  assert.ok(t, `the ticket in the welcome: ${JSON.stringify(g.welcome)}`);
  assert.deepEqual(t, {
    id: rows[0].id, conversation: cu.conv, team: 'general', email: EMAIL, message: MESSAGE,
    created_at: rows[0].created_at,
  });
  const o = await agentOnline(d, ord);
  assert.deepEqual(o.welcome.tickets, [], 'not for another team');
  assert.deepEqual(o.welcome.teams, ['orders']);

  // done: not by another team's agent, then by one of the team; every
  // agent of the team is told, and it is not listed again
  const g2 = await agentOnline(d, { teams: ['general', 'orders'] });
  assert.ok(g2.welcome.tickets.some((x) => x.id === t.id));
  o.a.send({ type: 'close_ticket', ticket: t.id, id: 'ct-1' });
  const denied = await agentError(o.a, 'not_found');
  assert.equal(denied.in_reply_to, 'ct-1');
  g.a.send({ type: 'close_ticket', ticket: 'x', id: 'ct-2' });
  assert.equal((await agentError(g.a, 'bad_field')).in_reply_to, 'ct-2');
  g.a.send({ type: 'close_ticket', ticket: t.id });
  const closedG = await g.a.next((f) => f.type === 'ticket_closed');
  assert.deepEqual(closedG, { type: 'ticket_closed', id: t.id, team: 'general', by: gen.name });
  assert.deepEqual(await g2.a.next((f) => f.type === 'ticket_closed'), closedG);
  assert.ok(!o.a.all.some((f) => f.type === 'ticket_closed'), 'not told: another team');
  const closed = sqlite(d.dbPath, 'select t.closed_at is not null, a.name from tickets t ' +
    `join agents a on a.id = t.closed_by where t.id = ${t.id}`);
  assert.deepEqual(closed, [['1', gen.name]]);
  g.a.send({ type: 'close_ticket', ticket: t.id, id: 'ct-3' });
  assert.equal((await agentError(g.a, 'not_found')).in_reply_to, 'ct-3', 'done already');
  const later = await agentOnline(d, { teams: ['general'] });
  assert.ok(!later.welcome.tickets.some((x) => x.id === t.id), 'no longer listed');
});

test('a ticket left while an agent of the team is signed in but away is pushed to them', async () => {
  const d = await ownDaemon();
  const away = await agentOnline(d, { teams: ['general'] });
  const other = await agentOnline(d, { teams: ['orders'] });
  away.a.send({ type: 'presence', state: 'away' });
  await viewWith(away.a); // frames of one connection are handled in order: it is away now
  const EMAIL = 'pushed.zoe@example.com';
  const cu = await customer(d, { name: 'Zoe' });
  const id = await say(cu.c, 'i want to talk to a human');
  await replyFrom(cu.c, 'flow:leave_message', id);
  const id2 = await say(cu.c, 'Please call me back');
  await replyFrom(cu.c, 'flow:leave_message', id2);
  const id3 = await say(cu.c, EMAIL);
  await replyFrom(cu.c, 'flow:leave_message', id3);
  const t = await away.a.next((f) => f.type === 'ticket');
  const row = sqlite(d.dbPath, `select id, created_at from tickets where email = ${sqlQuote(EMAIL)}`);
  assert.deepEqual(t, {
    type: 'ticket', id: Number(row[0][0]), conversation: cu.conv, team: 'general', email: EMAIL,
    message: 'Please call me back', created_at: Number(row[0][1]),
  });
  await viewWith(other.a);
  assert.ok(!other.a.all.some((f) => f.type === 'ticket'), 'not to another team');
});

test('outside the team\'s hours: the customer is told so and offered to leave a message', async () => {
  const d = await ownDaemon({
    desk: { teams: { general: { timezone: 'UTC', hours: { 'mon-sun': 'closed' } } } },
  });
  await agentOnline(d, { teams: ['general'], capacity: 2 });
  const cu = await customer(d);
  const id = await say(cu.c, 'talk to a person');
  const h = await replyFrom(cu.c, 'handoff', id);
  assert.equal(h.handoff.team, 'general');
  assert.match(h.text, /away at the moment/, `the closed-hours text: ${h.text}`);
  await replyFrom(cu.c, 'flow:leave_message', id);
  assert.equal(queueRow(d.dbPath, cu.conv), undefined, 'not queued');
});

// ======================================== 10. kill -9 and a restart

test('kill -9 with chats waiting and assigned: the queue survives, agents get their chats back', async () => {
  const dataDir = scope.tempDir('supportd-e2e-desk-data-');
  const d1 = await ownDaemon({ dataDir });
  const ag = newAgent(d1, { teams: ['general'], capacity: 2 });
  const A1 = await agentOnline(d1, ag);
  const assigned = await waitingCustomer(d1, { name: 'Assigned' });
  await take(A1.a, assigned.conv);
  await replyFrom(assigned.c, 'agent_joined');
  const m1 = await say(assigned.c, 'before the crash');
  await agentFrame(A1.a, 'message', assigned.conv);
  const waiting = await waitingCustomer(d1, { name: 'Waiting' });
  await offerFor(A1.a, waiting.conv); // offered, not accepted
  const before = queueRows(d1.dbPath);
  assert.equal(before.length, 2, JSON.stringify(before));

  await d1.kill9();
  await assigned.c.waitClose();
  await waiting.c.waitClose();
  const d2 = await ownDaemon({ dataDir });
  assert.deepEqual(queueRows(d2.dbPath), before, 'the queue table survived as it was');

  // the waiting customer resumes before any agent is back: still queued
  const wc = await scope.client(d2.port);
  const ww = await wc.hello({ resume: waiting.w.resume, last_seq: 0 });
  assert.equal(ww.conversation, waiting.conv);
  assertQueueFrame(await queueFrame(wc), 'general');

  // the agent logs in again: its chat, with the context, and the waiting one offered
  const A2 = await agentOnline(d2, ag);
  assert.deepEqual(A2.welcome.chats, [assigned.conv]);
  const as = await agentFrame(A2.a, 'assigned', assigned.conv);
  assert.equal(as.context.customer.name, 'Assigned');
  assert.ok(as.context.transcript.some((f) => f.id === m1), 'the transcript came back');
  await offerFor(A2.a, waiting.conv);

  // the assigned customer resumes: no queue frame, messages reach the agent
  const ac = await scope.client(d2.port);
  const aw = await ac.hello({ resume: assigned.w.resume, last_seq: 0 });
  assert.equal(aw.conversation, assigned.conv);
  const m2 = await say(ac, 'after the crash');
  const fwd = await agentFrame(A2.a, 'message', assigned.conv);
  assert.equal(fwd.text, 'after the crash');
  assert.ok(!ac.all.some((f) => f.type === 'queue'), 'an assigned chat has no place in the queue');
  assert.ok(!ac.all.some((f) => f.type === 'reply' && f.in_reply_to === m2), 'the bot keeps quiet');
  A2.a.send({ type: 'accept', conversation: waiting.conv });
  await agentFrame(A2.a, 'assigned', waiting.conv);
  await replyFrom(wc, 'agent_joined');
});

// ================================================= 11. bad agent input

let badP = null;
function badDaemon() {
  badP ??= ownDaemon();
  return badP;
}


/** Runs `supportd agent ARGS... -d dataDir`: {status, stdout, stderr}. */
function agentCli(d, ...args) {
  const { execFileSync } = require('node:child_process');
  const { BIN, REPO_ROOT } = require('./lib');
  try {
    const stdout = execFileSync(BIN, ['agent', ...args, '-d', d.dataDir],
      { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, stdout };
  } catch (e) {
    return { status: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

test('agent remove: the token never signs in again, list forgets it, add brings it back', async () => {
  const d = await badDaemon();
  const ag = newAgent(d, { teams: ['general'] });
  const cli = (...args) => agentCli(d, ...args);
  const first = await agentConn(d);
  await first.login(ag.name, ag.token); // signed in before the removal
  assert.match(cli('list').stdout, new RegExp(`^${ag.name}\tteams=general`, 'm'));

  assert.equal(cli('remove', ag.name).status, 0);
  const a = await agentConn(d);
  a.send({ type: 'login', agent: ag.name, token: ag.token });
  await agentError(a, 'login_failed');
  await a.waitClose();
  assert.doesNotMatch(cli('list').stdout, new RegExp(`^${ag.name}\t`, 'm'));
  const again = cli('remove', ag.name);
  assert.equal(again.status, 1);
  assert.match(again.stderr, new RegExp(`there is no agent ${ag.name}`));
  assert.equal(cli('remove', 'Not A Name').status, 2);

  // its name is back with a new token; the old one still fails
  const back = addAgent(d.dataDir, ag.name, { teams: ['general'] });
  const b = await agentConn(d);
  b.send({ type: 'login', agent: ag.name, token: ag.token });
  await agentError(b, 'login_failed');
  const c = await agentConn(d);
  await c.login(ag.name, back);
});

test('agent remove ends a live console: session_ended, close 4002, its chat back in the queue', async () => {
  const d = await ownDaemon({ desk: { session_check_ms: 200 } });
  const gone = await agentOnline(d, { teams: ['general'] });
  const cu = await waitingCustomer(d);
  await take(gone.a, cu.conv);
  await replyFrom(cu.c, 'agent_joined');

  assert.equal(agentCli(d, 'remove', gone.name).status, 0);
  const e = await agentError(gone.a, 'session_ended');
  assert.match(e.message, /removed/);
  assert.equal((await gone.a.waitClose()).code, 4002);
  // the customer is told and waits again; the move has its handoff row
  assertQueueFrame(await queueFrame(cu.c), 'general');
  const row = queueRow(d.dbPath, cu.conv);
  assert.equal(row.agent, null);
  const reasons = handoffRows(d.dbPath, cu.conv).map((h) => h.reason);
  assert.equal(reasons[reasons.length - 1], `agent removed: ${gone.name}`);
  // another agent gets it
  const next = await agentOnline(d, { teams: ['general'] });
  await take(next.a, cu.conv);
  assert.equal(queueRow(d.dbPath, cu.conv).agent, next.name);
});

test('agent add anew ends the console that logged in with the old token', async () => {
  const d = await ownDaemon({ desk: { session_check_ms: 200 } });
  const old = await agentOnline(d, { teams: ['general'] });
  const fresh = addAgent(d.dataDir, old.name, { teams: ['general'] });
  const e = await agentError(old.a, 'session_ended');
  assert.match(e.message, /new token/);
  assert.equal((await old.a.waitClose()).code, 4002);
  const a = await agentConn(d);
  await a.login(old.name, fresh);
});

test('agent: frames before login get login_required; then the login works', async () => {
  const d = await badDaemon();
  const ag = newAgent(d, { teams: ['general'] });
  const a = await agentConn(d);
  for (const f of [{ type: 'queue' }, { type: 'accept', conversation: 'c_000000000000000000000000' },
    { type: 'presence', state: 'online' }, { type: 'message', conversation: 'x', id: 'q1', text: 'hi' }]) {
    a.send(f);
    await agentError(a, 'login_required');
  }
  assert.equal(a.closeInfo, null, 'still open');
  const w = await a.login(ag.name, ag.token);
  assert.equal(w.agent, ag.name);
  assert.deepEqual(w.teams, ['general']);
  assert.equal(w.capacity, 1);
  assert.deepEqual(w.chats, []);
  assert.ok(Array.isArray(w.tickets));
});

test('agent: a wrong token or an unknown agent gets login_failed and the connection closes', async () => {
  const d = await badDaemon();
  const ag = newAgent(d, { teams: ['general'] });
  const a = await agentConn(d);
  a.send({ type: 'login', agent: ag.name, token: `${ag.token.slice(0, -2)}xx` });
  await agentError(a, 'login_failed');
  await a.waitClose();
  const b = await agentConn(d);
  b.send({ type: 'login', agent: 'nobody-here', token: ag.token });
  await agentError(b, 'login_failed');
  await b.waitClose();
  // the right token still works
  const c = await agentConn(d);
  await c.login(ag.name, ag.token);
});

test('agent: forbidden, not_found, not_assigned (twice closed, not yours)', async () => {
  const d = await ownDaemon();
  const gen = await agentOnline(d, { teams: ['general'], capacity: 1 });
  const cu = await waitingCustomer(d);
  await offerFor(gen.a, cu.conv);
  const gen2 = await agentOnline(d, { teams: ['general'], capacity: 1 });
  const ord = await agentOnline(d, { teams: ['orders'], capacity: 1 });

  ord.a.send({ type: 'accept', conversation: cu.conv });
  await agentError(ord.a, 'forbidden');
  ord.a.send({ type: 'accept', conversation: 'c_ffffffffffffffffffffffff' });
  await agentError(ord.a, 'not_found');

  gen.a.send({ type: 'accept', conversation: cu.conv });
  await agentFrame(gen.a, 'assigned', cu.conv);
  // same team, not the owner
  gen2.a.send({ type: 'message', conversation: cu.conv, id: 'g2-1', text: 'hello from me' });
  const e = await agentError(gen2.a, 'not_assigned');
  assert.equal(e.in_reply_to, 'g2-1');
  gen2.a.send({ type: 'close', conversation: cu.conv, resolution: 'spam' });
  await agentError(gen2.a, 'not_assigned');
  assert.ok(!cu.c.all.some((f) => f.text === 'hello from me'), 'nothing reached the customer');

  await closeChat(gen.a, cu, 'duplicate');
  gen.a.send({ type: 'close', conversation: cu.conv, resolution: 'resolved' });
  await agentError(gen.a, 'not_assigned');
  gen.a.send({ type: 'message', conversation: cu.conv, id: 'g-9', text: 'after close' });
  await agentError(gen.a, 'not_assigned');
  assert.equal(convRow(d.dbPath, cu.conv).resolution, 'duplicate', 'the second close changed nothing');
});

test('agent: malformed frames get bad_json and bad_field; the daemon keeps running', async () => {
  const d = await badDaemon();
  const ag = await agentOnline(d, { teams: ['general'], capacity: 1 });
  const { a } = ag;
  for (const raw of ['{not json', '', '{"type":"queue",}']) {
    a.send(raw);
    await agentError(a, 'bad_json');
  }
  for (const f of [
    { type: 'accept' },
    { type: 'accept', conversation: 42 },
    { type: 'message', conversation: 'c_ffffffffffffffffffffffff', id: 'x' },
    { type: 'message', conversation: 'c_ffffffffffffffffffffffff', text: 'no id' },
    { type: 'typing', conversation: 'c_ffffffffffffffffffffffff', state: 'yes' },
    { type: 'presence', state: 'busy' },
    { type: 'close', conversation: 'c_ffffffffffffffffffffffff', resolution: 'fixed' },
    { type: 'transfer', conversation: 'c_ffffffffffffffffffffffff' },
    { type: 'transfer', conversation: 'c_ffffffffffffffffffffffff', team: 'accounts', agent: 'bob' },
  ]) {
    a.send(f);
    const e = await a.next((x) => x.type === 'error');
    assert.equal(e.code, 'bad_field', `${JSON.stringify(f)} -> ${JSON.stringify(e)}`);
  }
  assert.equal(a.closeInfo, null, 'the connection stays open');
  await viewWith(a);
  assert.equal(d.running, true);
  const h = await healthz(d.port);
  assert.equal(h.json.status, 'ok');
});

test('agent: unknown frame types get unknown_type, with or without a conversation', async () => {
  const d = await badDaemon();
  const { a } = await agentOnline(d, { teams: ['general'], capacity: 1 });
  for (const f of [{ notype: 1 }, { type: 7 }, [1, 2],
    { type: 'dance', conversation: 'c_ffffffffffffffffffffffff' }, { type: 'dance' }]) {
    a.send(f);
    const e = await a.next((x) => x.type === 'error');
    assert.equal(e.code, 'unknown_type', `${JSON.stringify(f)} -> ${JSON.stringify(e)}`);
  }
  assert.equal(a.closeInfo, null, 'the connection stays open');
  await viewWith(a);
  assert.equal(d.running, true);
});

test('agent: repeated failed logins from one address are rate limited', async () => {
  const d = await ownDaemon();
  const ag = newAgent(d, { teams: ['general'] });
  const bad = `${ag.token.slice(0, -2)}zz`;
  for (let i = 0; i < 5; i++) {
    const a = await agentConn(d);
    a.send({ type: 'login', agent: ag.name, token: bad });
    await agentError(a, 'login_failed');
    await a.waitClose();
  }
  for (const token of [bad, ag.token]) {
    const a = await agentConn(d);
    a.send({ type: 'login', agent: ag.name, token });
    await agentError(a, 'rate_limited');
    await a.waitClose();
  }
  assert.equal(d.running, true);
  const h = await healthz(d.port);
  assert.equal(h.json.status, 'ok');
  // customers are not affected
  const cu = await customer(d);
  const id = await say(cu.c, 'how long does delivery take');
  await cu.c.replyFor(id);
});
