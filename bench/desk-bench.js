#!/usr/bin/env node
'use strict';
// desk-bench.js: how fast handed-off chats reach agents.
//
// Starts supportd (SUPPORTD_BIN, default ./supportd) on a free port with a
// fresh data dir, adds AGENTS agents (team general, capacity 1) with the
// real CLI, logs them in over supportd.agent.v1, then has CUSTOMERS
// customers ask for a person at once. Each agent accepts every offer and
// closes the chat as soon as its context arrives, so the queue drains
// from CUSTOMERS waiting down to zero while the figures are taken:
//
//   handoff -> offer   from the customer's "talk to a person" to the
//                      agent's offer frame, for every chat (most of them
//                      waited in the queue for an agent to free up);
//   close -> offer     from an agent sending `close` to its next offer: the
//                      close is committed, then the next waiting chat is
//                      offered (the desk's own latency, with a deep queue);
//   first wave         handoff -> offer for the chats that found an agent free
//                      (measured while 1,000 customers write at once, so it
//                      includes the client's own backlog);
//   deep queue         then the agents stop closing: they fill up, and
//                      CUSTOMERS more customers wait. A probe agent of
//                      another team (accounts) is free, and PROBES customers
//                      one after another hand off to that team (a password
//                      reset with no backend configured fails into a
//                      handoff to accounts): handoff -> offer with the queue
//                      CUSTOMERS deep and AGENTS agents online.
//
// usage: node bench/desk-bench.js [--customers 1000] [--agents 50]
// Prints the figures; docs/benchmarks.md records them.

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');

const { opt, pct, now, ROOT, BIN } = require('./lib');

const CUSTOMERS = opt('customers', 1000);
const AGENTS = opt('agents', 50);

const fmt = (v) => `p50 ${pct(v, 50).toFixed(1)} ms, p90 ${pct(v, 90).toFixed(1)} ms, ` +
  `p99 ${pct(v, 99).toFixed(1)} ms, max ${Math.max(...v).toFixed(1)} ms (n=${v.length})`;

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'supportd-desk-bench-'));
  const cfg = path.join(dir, 'config.json');
  fs.writeFileSync(cfg, JSON.stringify({
    max_sockets_per_ip: 100000,
    chat: { rate_per_sec: 1000, rate_burst: 1000, max_conn_per_ip: 100000 },
    desk: { accept_timeout_ms: 60000 },
  }));
  const PROBES = 20;
  const probeToken = execFileSync(BIN, ['agent', 'add', 'probe', '--team', 'accounts',
    '--capacity', '1', '-d', path.join(dir, 'data')], { stdio: ['ignore', 'pipe', 'ignore'] })
    .toString().trim();
  const tokens = [];
  for (let i = 0; i < AGENTS; i++) {
    const out = execFileSync(BIN, ['agent', 'add', `agent${i}`, '--team', 'general',
      '--capacity', '1', '-d', path.join(dir, 'data')], { stdio: ['ignore', 'pipe', 'ignore'] });
    tokens.push(out.toString().trim());
  }
  const proc = spawn(BIN, ['serve', '--port', '0', '--data-dir', path.join(dir, 'data'),
    '--config', cfg], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    proc.stderr.on('data', (d) => {
      buf += d;
      const m = /event=listening .*port=(\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    proc.on('exit', (c) => reject(new Error(`supportd exited ${c}`)));
  });

  const sentAt = new Map();   // conversation -> time the customer asked for a person
  const offered = new Map();  // conversation -> handoff -> offer ms
  const freeToOffer = [];
  let closedAll;
  const allClosed = new Promise((r) => { closedAll = r; });
  let closed = 0;

  let holding = false;     // phase 2: agents keep their chats
  const agents = await Promise.all(tokens.map((token, i) => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/agent`, 'supportd.agent.v1');
    let freeAt = null;
    ws.on('open', () => ws.send(JSON.stringify({ type: 'login', agent: `agent${i}`, token })));
    ws.on('error', reject);
    ws.on('message', (d) => {
      const f = JSON.parse(d);
      if (f.type === 'welcome') resolve(ws);
      else if (f.type === 'offer') {
        const t = now();
        if (sentAt.has(f.conversation) && !offered.has(f.conversation)) {
          offered.set(f.conversation, t - sentAt.get(f.conversation));
        }
        if (freeAt !== null && !holding) freeToOffer.push(t - freeAt);
        freeAt = null;
        ws.send(JSON.stringify({ type: 'accept', conversation: f.conversation }));
      } else if (f.type === 'assigned') {
        if (holding) return;
        freeAt = now();
        ws.send(JSON.stringify({ type: 'close', conversation: f.conversation, resolution: 'resolved' }));
      } else if (f.type === 'closed') {
        if (++closed === CUSTOMERS) closedAll();
      } else if (f.type === 'error') {
        process.stderr.write(`agent error: ${JSON.stringify(f)}\n`);
      }
    });
  })));

  // customers: connect and hello first, then all ask at once
  const connectCustomer = () => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`, 'supportd.chat.v1');
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', lang: 'en' })));
    ws.on('error', reject);
    ws.on('message', (d) => {
      const f = JSON.parse(d);
      if (f.type === 'welcome') resolve({ ws, conv: f.conversation });
    });
  });
  const customers = await Promise.all(Array.from({ length: CUSTOMERS }, connectCustomer));
  const t0 = now();
  for (const c of customers) {
    sentAt.set(c.conv, now());
    c.ws.send(JSON.stringify({ type: 'message', id: 'h1', text: 'talk to a person' }));
  }
  await allClosed;
  const drain = now() - t0;

  // phase 2: a deep queue, and a probe team with a free agent
  holding = true;
  const waiting = await Promise.all(Array.from({ length: CUSTOMERS + AGENTS }, connectCustomer));
  let queued = 0;
  const allQueued = new Promise((resolve) => {
    for (const c of waiting) {
      c.ws.on('message', (d) => {
        const f = JSON.parse(d);
        if (f.type === 'reply' && f.source === 'handoff' && ++queued === waiting.length) resolve();
      });
      c.ws.send(JSON.stringify({ type: 'message', id: 'h2', text: 'talk to a person' }));
    }
  });
  await allQueued;
  let onOffer = null;
  const probe = await new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/agent`, 'supportd.agent.v1');
    ws.on('open', () => ws.send(JSON.stringify({ type: 'login', agent: 'probe', token: probeToken })));
    ws.on('error', reject);
    ws.on('message', (d) => {
      const f = JSON.parse(d);
      if (f.type === 'welcome') resolve(ws);
      else if (f.type === 'offer' && onOffer) onOffer(f);
      else if (f.type === 'offer') ws.send(JSON.stringify({ type: 'accept', conversation: f.conversation }));
      else if (f.type === 'assigned') ws.send(JSON.stringify({ type: 'close', conversation: f.conversation, resolution: 'resolved' }));
    });
  });
  const deep = [];
  for (let i = 0; i < PROBES; i++) {
    const c = await connectCustomer();
    const got = new Promise((resolve) => { onOffer = resolve; });
    const t = now();
    c.ws.send(JSON.stringify({ type: 'message', id: 'p1', text: 'I forgot my password' }));
    const f = await got;
    deep.push(now() - t);
    onOffer = null;
    probe.send(JSON.stringify({ type: 'accept', conversation: f.conversation }));
    c.ws.terminate();
  }

  const all = [...offered.values()];
  const firstWave = [...offered.entries()].sort((a, b) => a[1] - b[1]).slice(0, AGENTS).map((e) => e[1]);
  console.log(`desk-bench: ${CUSTOMERS} customers, ${AGENTS} agents (capacity 1), ${os.cpus().length} CPUs`);
  console.log(`  handoff -> offer (all):   ${fmt(all)}`);
  console.log(`  handoff -> offer (first ${AGENTS}, agents free): ${fmt(firstWave)}`);
  console.log(`  agent close -> next offer (queue draining from ${CUSTOMERS}): ${fmt(freeToOffer)}`);
  console.log(`  handoff -> offer with ${CUSTOMERS} waiting and ${AGENTS} agents online (another team's free agent, ${PROBES} one at a time): ${fmt(deep)}`);
  console.log(`  queue drained in ${(drain / 1000).toFixed(2)} s (${(CUSTOMERS / (drain / 1000)).toFixed(0)} chats/s handed off, offered, accepted, closed)`);

  for (const c of customers) c.ws.terminate();
  for (const c of waiting) c.ws.terminate();
  probe.terminate();
  for (const a of agents) a.terminate();
  proc.kill('SIGTERM');
  await new Promise((r) => proc.on('exit', r));
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
