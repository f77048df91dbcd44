'use strict';
// kill -9 and restart on the same data dir: nothing acknowledged is lost.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const {
  sqlite, sqlQuote, T, useCleanups,
} = require('./lib');

const { daemon, client, tempDir } = useCleanups();

// Resume with last_seq 0 and collect the whole transcript.
async function transcript(port, token) {
  const c = await client(port);
  const w = await c.hello({ resume: token, last_seq: 0 });
  assert.equal(w.resumed, true, 'conversation survives the restart');
  if (w.last_seq > 0) {
    await c.next((f) => f.seq === w.last_seq && f.type !== 'ack', T(15000));
  }
  const frames = c.contentFrames();
  await c.close();
  return { welcome: w, frames };
}

test('kill -9 after acks, restart: every acked message and its reply is replayed', async () => {
  const dataDir = tempDir('supportd-e2e-data-');

  const d1 = await daemon({ dataDir });
  const c = await client(d1.port);
  const w = await c.hello();
  const live = [];
  for (const [id, text] of [['k-1', 'hello'], ['k-2', 'my order is late'], ['k-3', 'cześć']]) {
    live.push({ id, text, ...(await c.message(id, text)) });
  }
  const e = await d1.kill9();
  assert.equal(e.signal, 'SIGKILL');
  await c.waitClose();

  // The file is there and SQLite can read it (WAL recovery) before restart.
  assert.ok(fs.existsSync(d1.dbPath), `${d1.dbPath} exists`);
  const ids = sqlite(d1.dbPath, 'select client_id from events where client_id is not null').map((r) => r[0]);
  for (const m of live) assert.ok(ids.includes(m.id), `events has client_id ${m.id}: ${ids}`);

  const d2 = await daemon({ dataDir });
  const { welcome, frames } = await transcript(d2.port, w.resume);
  assert.equal(welcome.conversation, w.conversation);
  assert.equal(welcome.last_seq, 6);
  assert.deepEqual(frames.map((f) => f.seq), [1, 2, 3, 4, 5, 6]);
  for (let i = 0; i < live.length; i++) {
    const m = frames[2 * i];
    const r = frames[2 * i + 1];
    assert.equal(m.type, 'message');
    assert.equal(m.from, 'customer');
    assert.equal(m.id, live[i].id);
    assert.equal(m.text, live[i].text);
    assert.equal(m.seq, live[i].ack.seq);
    assert.equal(r.type, 'reply');
    assert.equal(r.in_reply_to, live[i].id);
    assert.equal(r.seq, live[i].reply.seq);
    assert.equal(r.text, live[i].reply.text);
  }

  // The restarted daemon continues the sequence.
  const c2 = await client(d2.port);
  await c2.hello({ resume: w.resume });
  const { ack } = await c2.message('k-4', 'hello again');
  assert.equal(ack.seq, 7);
  await c2.close();
});

test('kill -9 at a random moment during a flood: every acked message survives', async (t) => {
  const dataDir = tempDir('supportd-e2e-data-');
  // Limits high enough that the flood is never rate limited.
  const config = { chat: { rate_per_sec: 100000, rate_burst: 100000, max_events: 100000 } };

  const d1 = await daemon({ dataDir, config });
  const N = 400;
  const killAfter = 20 + Math.floor(Math.random() * 150);
  t.diagnostic(`killing after ${killAfter} acks`);

  // Two conversations flooding at once, so commits interleave.
  const convs = [];
  for (let k = 0; k < 2; k++) {
    const c = await client(d1.port);
    const w = await c.hello();
    convs.push({ c, w, acked: new Map() });
  }
  let totalAcks = 0;
  let killed = false;
  const killedP = new Promise((resolve) => {
    for (const conv of convs) {
      conv.c.ws.on('message', (data) => {
        let f;
        try { f = JSON.parse(data.toString()); } catch { return; }
        if (f.type === 'ack') {
          conv.acked.set(f.id, f.seq);
          totalAcks++;
          if (!killed && totalAcks >= killAfter) {
            killed = true;
            d1.signal('SIGKILL');
            resolve();
          }
        }
      });
    }
  });
  for (let i = 0; i < N; i++) {
    for (const [k, conv] of convs.entries()) {
      conv.c.send({ type: 'message', id: `f${k}-${i}`, text: `flood message ${i} from ${k}` });
    }
  }
  await Promise.race([
    killedP,
    d1.waitExit(T(30000)).then(() => { throw new Error(`daemon exited before ${killAfter} acks\n${d1.tail()}`); }),
  ]);
  const e = await d1.waitExit();
  assert.equal(e.signal, 'SIGKILL');
  // Acks already in our socket buffer are still delivered before close;
  // they were acknowledged, so they count too.
  for (const conv of convs) await conv.c.waitClose();
  const acked = convs.reduce((n, conv) => n + conv.acked.size, 0);
  assert.ok(acked >= killAfter, `${acked} acks recorded`);
  for (const conv of convs) {
    assert.ok(!conv.c.all.some((f) => f.type === 'error'), `no error frames: ${JSON.stringify(conv.c.all.filter((f) => f.type === 'error').slice(0, 3))}`);
  }

  // The database after the crash: every acked id is in events, once.
  const dup = sqlite(d1.dbPath,
    'select conversation_id, client_id, kind, count(*) from events where client_id is not null ' +
    'group by conversation_id, client_id, kind having count(*) > 1');
  assert.deepEqual(dup, [], 'no message stored twice');
  const stored = new Set(sqlite(d1.dbPath, 'select client_id from events where client_id is not null').map((r) => r[0]));
  for (const conv of convs) {
    for (const id of conv.acked.keys()) assert.ok(stored.has(id), `acked ${id} is in the events table`);
  }
  const seqCheck = sqlite(d1.dbPath,
    'select conversation_id, count(*), count(distinct seq), min(seq), max(seq) from events group by conversation_id');
  for (const [cid, n, nd, mn, mx] of seqCheck) {
    assert.equal(n, nd, `conversation ${cid}: seqs unique`);
    assert.equal(Number(mn), 1, `conversation ${cid}: seqs start at 1`);
    assert.equal(Number(mx), Number(n), `conversation ${cid}: seqs have no gaps`);
  }

  // After restart, the replay of each conversation holds every acked message
  // at the seq it was acked with.
  const d2 = await daemon({ dataDir, config });
  for (const conv of convs) {
    const { welcome, frames } = await transcript(d2.port, conv.w.resume);
    assert.equal(welcome.conversation, conv.w.conversation);
    assert.deepEqual(frames.map((f) => f.seq), Array.from({ length: frames.length }, (_, i) => i + 1),
      'replayed seqs are 1..last_seq with no gap');
    assert.equal(frames.length, welcome.last_seq);
    const bySeq = new Map(frames.map((f) => [f.seq, f]));
    for (const [id, seq] of conv.acked) {
      const f = bySeq.get(seq);
      assert.ok(f, `acked ${id} (seq ${seq}) is replayed`);
      assert.equal(f.type, 'message');
      assert.equal(f.id, id);
      assert.equal(f.from, 'customer');
    }
    const ids = frames.filter((f) => f.type === 'message').map((f) => f.id);
    assert.equal(new Set(ids).size, ids.length, 'no message replayed twice');
  }
});

test('SQLite file is in WAL mode with the documented tables', async () => {
  const d = await daemon();
  const c = await client(d.port);
  await c.hello();
  await c.message('w-1', 'hello');
  await c.close();
  const mode = sqlite(d.dbPath, 'pragma journal_mode')[0][0];
  assert.equal(mode, 'wal');
  const tables = sqlite(d.dbPath, "select name from sqlite_master where type='table'").map((r) => r[0]);
  assert.ok(tables.includes('conversations'), `tables: ${tables}`);
  assert.ok(tables.includes('events'), `tables: ${tables}`);
  const cols = sqlite(d.dbPath, 'pragma table_info(events)').map((r) => r[1]);
  // The columns these tests query (the rest of the schema is the store's own).
  for (const col of ['conversation_id', 'seq', 'kind', 'client_id']) {
    assert.ok(cols.includes(col), `events has column ${col}: ${cols}`);
  }
  const n = sqlite(d.dbPath, `select count(*) from events where client_id = ${sqlQuote('w-1')}`)[0][0];
  assert.ok(Number(n) >= 1);
});
