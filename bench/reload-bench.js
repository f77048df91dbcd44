#!/usr/bin/env node
'use strict';
// reload-bench.js: hot reload of a large knowledge base under load.
//
// Copies the shipped content into a temp dir and adds FAQ synthetic
// entries (default 10,000: a title, five questions and a ~60-word answer
// each, as Markdown files under faq/en/), starts supportd (SUPPORTD_BIN,
// default ./supportd) on a free port, and opens CLIENTS customers that
// each send a message every INTERVAL ms (an open loop: a slow answer does
// not slow the sending) and time each one from send to its reply.
//
// First it saves one FAQ file three times with nobody talking: the build
// time alone. Then, after a quiet BASELINE period, it edits it RELOADS times (the
// inotify path an editor's save takes), waiting each time for the daemon's
// content_reloaded line, whose build_ms is the reload time. Every message
// sent between a save and one second after the swap counts as "during a
// reload".
//
// Prints: the reload build times; latency p50 / p99 / max and the count
// over 50 ms, for the baseline and during reloads; messages without a
// reply or with an error frame; peak RSS of the daemon.
//
// usage: node bench/reload-bench.js [--faq 10000] [--clients 20]
//        [--interval 50] [--reloads 5] [--baseline 5000]

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');

const { opt, pct, now, ROOT, BIN } = require('./lib');

const FAQ = opt('faq', 10000);
const CLIENTS = opt('clients', 20);
const INTERVAL = opt('interval', 50);
const RELOADS = opt('reloads', 5);
const BASELINE = opt('baseline', 5000);
const SLOW_MS = 50;

const fmt = (v) => `p50 ${pct(v, 50).toFixed(1)} ms, p99 ${pct(v, 99).toFixed(1)} ms, ` +
  `max ${Math.max(...v).toFixed(1)} ms, over ${SLOW_MS} ms: ${v.filter((x) => x > SLOW_MS).length} ` +
  `(n=${v.length})`;

// Deterministic pseudo-words (xorshift), so every run has the same content.
let seed = 0x9e3779b9;
function rnd() {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed;
}
const VOCAB = Array.from({ length: 6000 }, () => {
  const cons = 'bcdfghjklmnprstvwz';
  const vow = 'aeiou';
  let w = '';
  for (let s = 2 + (rnd() % 3); s > 0; s--) w += cons[rnd() % 18] + vow[rnd() % 5];
  return w;
});
const phrase = (topic, n) => Array.from({ length: n },
  () => (rnd() % 3 ? topic[rnd() % topic.length] : VOCAB[rnd() % 200])).join(' ');

function writeContent(dir) {
  for (const sub of ['lua', 'rules', 'faq']) {
    fs.cpSync(path.join(ROOT, sub), path.join(dir, sub), { recursive: true });
  }
  const questions = [];
  for (let i = 0; i < FAQ; i++) {
    const topic = Array.from({ length: 6 }, () => VOCAB[200 + (rnd() % 5800)]);
    const qs = Array.from({ length: 5 }, () => phrase(topic, 4 + (rnd() % 4)));
    questions.push(qs[0]);
    fs.writeFileSync(path.join(dir, 'faq', 'en', `gen-${String(i).padStart(5, '0')}.md`),
      `---\nid: gen-${i}\ntitle: ${phrase(topic, 3)}\nteam: general\nquestions:\n` +
      `${qs.map((q) => `  - ${q}`).join('\n')}\n---\n${phrase(topic, 60)}.\n`);
  }
  return questions;
}

function rssKiB(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(s)[1]);
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'supportd-reload-bench-'));
  const content = path.join(dir, 'content');
  const questions = writeContent(content);
  const cfg = path.join(dir, 'config.json');
  fs.writeFileSync(cfg, JSON.stringify({
    max_sockets_per_ip: 100000,
    chat: { rate_per_sec: 1000, rate_burst: 1000, max_conn_per_ip: 100000 },
  }));
  const t0 = now();
  const proc = spawn(BIN, ['serve', '--port', '0', '--data-dir', path.join(dir, 'data'),
    '--content', content, '--config', cfg], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines = [];
  const waiters = [];
  let buf = '';
  proc.stderr.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of waiters.splice(0)) if (!w(line)) waiters.push(w);
    }
  });
  const waitLine = (re) => new Promise((resolve, reject) => {
    waiters.push((l) => (re.test(l) ? (resolve(l), true) : false));
    proc.once('exit', (c) => reject(new Error(`supportd exited ${c}: ${lines.slice(-5).join('\n')}`)));
  });
  const port = Number(/port=(\d+)/.exec(await waitLine(/event=listening /))[1]);
  console.log(`supportd started with ${FAQ} extra FAQ entries in ${((now() - t0) / 1000).toFixed(2)} s`);

  // reloads with nobody talking: the build time alone
  const file = path.join(content, 'faq', 'en', 'gen-00000.md');
  const idle = [];
  for (let i = 0; i < 3; i++) {
    const done = waitLine(/event=content_(reloaded|reload_failed) /);
    fs.appendFileSync(file, `\nIdle edit number ${i + 1}.\n`);
    const line = await done;
    if (!/content_reloaded/.test(line)) throw new Error(`reload failed: ${line}`);
    idle.push(Number(/build_ms=(\d+)/.exec(line)[1]));
  }

  // the load
  const lat = [];          // {sent, ms}
  let errors = 0;
  let nextId = 0;
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`, 'supportd.chat.v1');
    const inflight = new Map();
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', lang: 'en' })));
    ws.on('error', reject);
    ws.on('message', (d) => {
      const f = JSON.parse(d);
      if (f.type === 'welcome') resolve({ ws, inflight });
      else if (f.type === 'reply' && inflight.has(f.in_reply_to)) {
        const sent = inflight.get(f.in_reply_to);
        inflight.delete(f.in_reply_to);
        lat.push({ sent, ms: now() - sent });
      } else if (f.type === 'error') errors++;
    });
  })));
  const timers = clients.map((c, k) => {
    const tick = () => {
      const id = `m${++nextId}`;
      const text = nextId % 2 ? 'how do I cancel my order' : questions[rnd() % questions.length];
      c.inflight.set(id, now());
      c.ws.send(JSON.stringify({ type: 'message', id, text }));
    };
    return setTimeout(() => { tick(); c.timer = setInterval(tick, INTERVAL); }, (k * INTERVAL) / CLIENTS);
  });
  await new Promise((r) => setTimeout(r, BASELINE));
  const baselineEnd = now();

  const windows = [];
  const builds = [];
  for (let i = 0; i < RELOADS; i++) {
    const start = now();
    const done = waitLine(/event=content_(reloaded|reload_failed) /);
    fs.appendFileSync(file, `\nEdit number ${i + 1}.\n`);
    const line = await done;
    if (!/content_reloaded/.test(line)) throw new Error(`reload failed: ${line}`);
    if (process.env.BENCH_VERBOSE) console.log(line);
    builds.push(Number(/build_ms=(\d+)/.exec(line)[1]));
    const swapped = now();
    windows.push([start, swapped + 1000]);
    await new Promise((r) => setTimeout(r, 1500));
  }
  const rss = rssKiB(proc.pid);
  for (const t of timers) clearTimeout(t);
  for (const c of clients) clearInterval(c.timer);
  await new Promise((r) => setTimeout(r, 1000)); // the last replies
  const unanswered = clients.reduce((n, c) => n + c.inflight.size, 0);

  const inReload = (t) => windows.some(([a, b]) => t >= a && t <= b);
  const base = lat.filter((x) => x.sent < baselineEnd).map((x) => x.ms);
  const during = lat.filter((x) => inReload(x.sent)).map((x) => x.ms);
  console.log(`load: ${CLIENTS} customers, one message each every ${INTERVAL} ms ` +
    `(${Math.round((CLIENTS * 1000) / INTERVAL)} messages/s)`);
  console.log(`reload build with nobody talking (target < 1 s at 10,000 entries): ` +
    `${idle.map((b) => `${b} ms`).join(', ')}; median ${pct(idle, 50)} ms`);
  console.log(`reload build under the load: ${builds.map((b) => `${b} ms`).join(', ')}; ` +
    `median ${pct(builds, 50)} ms`);
  console.log(`baseline:       ${fmt(base)}`);
  console.log(`during reloads: ${fmt(during)}`);
  console.log(`messages without a reply: ${unanswered}; error frames: ${errors}`);
  console.log(`daemon peak RSS: ${(rss / 1024).toFixed(0)} MiB`);
  for (const c of clients) c.ws.terminate();
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
