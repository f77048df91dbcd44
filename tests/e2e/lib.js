'use strict';
// Shared helpers for the supportd end-to-end tests.
//
// Everything here talks to a real supportd process over loopback only.
// Every wait is bounded and fails loudly with what was seen so far; nothing
// sleeps to "let the server catch up".

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const WebSocket = require('ws');

const REPO_ROOT = path.resolve(__dirname, '..', '..');

// SUPPORTD_BIN may be absolute or relative; relative paths are taken from the
// repo root, not from the current directory.
const BIN = path.resolve(REPO_ROOT, process.env.SUPPORTD_BIN || './supportd');
// Content root passed as --content unless a test brings its own: the repo
// root (which ships lua/pipeline.lua), or SUPPORTD_CONTENT.
const DEFAULT_CONTENT = path.resolve(REPO_ROOT, process.env.SUPPORTD_CONTENT || '.');

// Sanitizer builds are several times slower; scale every timeout.
const SCALE = Number(process.env.SUPPORTD_E2E_TIMEOUT_SCALE) ||
  (/asan|ubsan|tsan/i.test(BIN) ? 3 : 1);
const T = (ms) => Math.round(ms * SCALE);
const DEFAULT_WAIT = T(5000);

const LOOPBACK = '127.0.0.1';
const CHAT_PROTOCOL = 'supportd.chat.v1';
const AGENT_PROTOCOL = 'supportd.agent.v1';

const SANITIZER_RE = /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer|ThreadSanitizer/;

// ---------------------------------------------------------------- temp dirs

const liveDirs = new Set();
const liveProcs = new Set();

function makeTempDir(prefix = 'supportd-e2e-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  liveDirs.add(dir);
  return dir;
}

function removeDir(dir) {
  liveDirs.delete(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

// Last resort if a test file dies without running its after() hooks.
process.on('exit', () => {
  for (const p of liveProcs) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
  for (const d of liveDirs) {
    try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ }
  }
});

// ------------------------------------------------------------------ helpers

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Poll an async condition until it returns a truthy value, bounded.
// Used only to observe server state (e.g. /healthz counters), never to guess
// when work is done.
async function pollUntil(fn, { timeoutMs = DEFAULT_WAIT, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms polling for ${what}`);
    }
    await delay(intervalMs);
  }
}

function parseLogfmt(line) {
  const out = {};
  const re = /([A-Za-z0-9_.-]+)=("(?:[^"\\]|\\.)*"|\S*)/g;
  let m;
  while ((m = re.exec(line)) !== null) {
    let v = m[2];
    if (v.startsWith('"')) {
      try { v = JSON.parse(v); } catch { v = v.slice(1, -1); }
    }
    out[m[1]] = v;
  }
  return out;
}

// ------------------------------------------------------------------- daemon

/**
 * Start a supportd on a free loopback port and wait for its
 * `event=listening ... port=N` log line.
 *
 * opts.config   object written as the --config JSON file (omitted if absent)
 * opts.content  content root (--content); default: the repo root
 *               (or $SUPPORTD_CONTENT).
 *               Pass null to omit the flag and test the daemon's default.
 * opts.static   static dir (--static); omitted if absent
 * opts.dataDir  data dir; a fresh temp dir if absent. A dataDir passed in is
 *               never removed by this daemon's cleanup (the caller owns it).
 * opts.cwd      working directory of the process; default the repo root
 */
async function startDaemon(opts = {}) {
  if (!fs.existsSync(BIN)) {
    throw new Error(`supportd binary not found at ${BIN} (set SUPPORTD_BIN)`);
  }
  const base = makeTempDir('supportd-e2e-run-');
  const ownsData = !opts.dataDir;
  const dataDir = opts.dataDir || path.join(base, 'data');
  fs.mkdirSync(dataDir, { recursive: true });

  const args = ['serve', '--listen', LOOPBACK, '--port', '0', '--data-dir', dataDir];
  const content = opts.content === undefined ? DEFAULT_CONTENT : opts.content;
  if (content !== null) args.push('--content', content);
  if (opts.static) args.push('--static', opts.static);
  if (opts.config) {
    const cfg = path.join(base, 'config.json');
    fs.writeFileSync(cfg, JSON.stringify(opts.config, null, 2));
    args.push('--config', cfg);
  }

  const proc = spawn(BIN, args, {
    cwd: opts.cwd || REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...(opts.env || {}) },
  });
  liveProcs.add(proc);

  const logs = [];          // stderr lines
  const stdout = [];        // stdout lines (not part of the contract)
  const lineListeners = new Set();
  const splitter = (sink, isErr) => {
    let buf = '';
    return (chunk) => {
      buf += chunk.toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        sink.push(line);
        if (isErr) for (const l of lineListeners) l(line);
      }
    };
  };
  proc.stderr.on('data', splitter(logs, true));
  proc.stdout.on('data', splitter(stdout, false));

  let exitInfo = null;
  let expectExit = false; // set when a test signals the process on purpose
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      liveProcs.delete(proc);
      if (!expectExit) {
        process.stderr.write(`# supportd pid ${proc.pid} exited unexpectedly: ${JSON.stringify(exitInfo)}\n` +
          `${logs.slice(-20).map((l) => `#   ${l}`).join('\n')}\n`);
      }
      resolve(exitInfo);
    });
  });
  const spawnError = new Promise((_, reject) => proc.on('error', reject));
  spawnError.catch(() => {}); // observed through waitLog's race only

  const waitLog = (re, timeoutMs = DEFAULT_WAIT, fromIndex = 0) => {
    for (let i = fromIndex; i < logs.length; i++) if (re.test(logs[i])) return Promise.resolve(logs[i]);
    let listener;
    const p = new Promise((resolve, reject) => {
      listener = (line) => { if (re.test(line)) resolve(line); };
      lineListeners.add(listener);
      exited.then((e) => reject(new Error(`supportd exited (${JSON.stringify(e)}) before logging ${re}`)));
    });
    return withTimeout(Promise.race([p, spawnError]), timeoutMs, `log line ${re}`)
      .finally(() => lineListeners.delete(listener));
  };

  const tail = () => `--- supportd stderr (last 40 lines) ---\n${logs.slice(-40).join('\n')}\n--- stdout ---\n${stdout.slice(-10).join('\n')}`;

  let line;
  try {
    line = await waitLog(/event=listening\b/, T(15000));
  } catch (err) {
    expectExit = true;
    try { proc.kill('SIGKILL'); } catch { /* ignore */ }
    await withTimeout(exited, T(5000), 'exit after failed start').catch(() => {});
    removeDir(base);
    err.message += `\n${tail()}`;
    throw err;
  }
  const fields = parseLogfmt(line);
  const port = Number(fields.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    expectExit = true;
    try { proc.kill('SIGKILL'); } catch { /* ignore */ }
    throw new Error(`listening line has no usable port: ${line}`);
  }

  const waitExit = (timeoutMs = T(10000)) =>
    withTimeout(exited, timeoutMs, `supportd pid ${proc.pid} to exit`);

  const sanitizerReports = () => logs.filter((l) => SANITIZER_RE.test(l));

  const daemon = {
    port,
    proc,
    pid: proc.pid,
    dataDir,
    dbPath: path.join(dataDir, 'supportd.db'),
    logs,
    stdout,
    listeningLine: line,
    waitLog,
    waitExit,
    tail,
    get exitInfo() { return exitInfo; },
    get running() { return exitInfo === null; },
    sanitizerReports,
    /** Send a signal on purpose (an exit after it is not a crash). */
    signal(sig) {
      expectExit = true;
      proc.kill(sig);
    },
    /** SIGTERM and wait (bounded) for the exit; returns {code, signal}. */
    async stop(timeoutMs = T(10000)) {
      if (exitInfo) return exitInfo;
      expectExit = true;
      proc.kill('SIGTERM');
      try {
        return await waitExit(timeoutMs);
      } catch (err) {
        proc.kill('SIGKILL');
        await withTimeout(exited, T(5000), 'exit after SIGKILL').catch(() => {});
        err.message += ` (SIGTERM ignored; killed)\n${tail()}`;
        throw err;
      }
    },
    /** SIGKILL and wait for the exit. */
    async kill9() {
      if (exitInfo) return exitInfo;
      expectExit = true;
      proc.kill('SIGKILL');
      return waitExit(T(5000));
    },
    /**
     * Stop (SIGTERM unless already dead), remove its temp dir, and throw if
     * the shutdown was unclean or a sanitizer reported anything.
     */
    async cleanup() {
      const problems = [];
      const wasRunning = exitInfo === null;
      if (!wasRunning && !expectExit) {
        problems.push(`supportd exited on its own during the tests: ${JSON.stringify(exitInfo)}`);
      }
      try {
        const e = await daemon.stop();
        if (wasRunning && (e.code !== 0 || e.signal !== null)) {
          problems.push(`supportd did not exit cleanly on SIGTERM: ${JSON.stringify(e)}`);
        }
      } catch (err) {
        problems.push(err.message);
      }
      const reports = sanitizerReports();
      if (reports.length) problems.push(`sanitizer reports:\n${reports.join('\n')}`);
      removeDir(base);
      if (ownsData) removeDir(dataDir);
      if (problems.length) throw new Error(`${problems.join('\n')}\n${tail()}`);
    },
  };
  return daemon;
}

// ------------------------------------------------------------------- client

function describeMatcher(pred) {
  if (typeof pred === 'function') return pred.description || pred.toString().slice(0, 120);
  return JSON.stringify(pred);
}

function toPredicate(pred) {
  if (typeof pred === 'function') return pred;
  if (pred && typeof pred === 'object') {
    return (f) => f !== null && typeof f === 'object' &&
      Object.entries(pred).every(([k, v]) => f[k] === v);
  }
  return () => true;
}

class Client {
  constructor(ws) {
    this.ws = ws;
    this.all = [];      // every frame received, in order (parsed JSON, or {__raw})
    this.queue = [];    // frames not yet consumed by next()
    this.waiters = [];
    this.errors = [];
    this.closeInfo = null;
    this._onClose = [];
    ws.on('message', (data, isBinary) => {
      let frame;
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : String(data);
      if (isBinary) {
        frame = { __binary: true, __raw: text };
      } else {
        try { frame = JSON.parse(text); } catch { frame = { __raw: text }; }
      }
      this.all.push(frame);
      this.queue.push(frame);
      this._dispatch();
    });
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString('utf8') };
      for (const w of this.waiters.splice(0)) {
        w.reject(new Error(`connection closed (code ${code}) while waiting for ${w.what}; frames: ${this._recent()}`));
      }
      for (const cb of this._onClose.splice(0)) cb(this.closeInfo);
    });
    ws.on('error', (err) => { this.errors.push(err); });
  }

  _recent(n = 12) {
    return JSON.stringify(this.all.slice(-n));
  }

  _dispatch() {
    for (let wi = 0; wi < this.waiters.length; wi++) {
      const w = this.waiters[wi];
      const qi = this.queue.findIndex(w.pred);
      if (qi >= 0) {
        const [frame] = this.queue.splice(qi, 1);
        this.waiters.splice(wi, 1);
        wi--;
        w.resolve(frame);
      }
    }
  }

  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  send(obj) {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  /** Send raw data; opts as ws.send ({binary: bool}). Resolves when written. */
  sendRaw(data, opts = {}) {
    return new Promise((resolve, reject) => {
      this.ws.send(data, opts, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Resolve with (and consume) the first buffered-or-future frame matching
   * pred (a function or an object of fields that must be ===). Frames that do
   * not match stay buffered for later next() calls.
   */
  next(pred = () => true, timeoutMs = DEFAULT_WAIT) {
    const p = toPredicate(pred);
    const what = describeMatcher(pred);
    const qi = this.queue.findIndex(p);
    if (qi >= 0) return Promise.resolve(this.queue.splice(qi, 1)[0]);
    if (this.closeInfo) {
      return Promise.reject(new Error(`connection already closed (code ${this.closeInfo.code}) waiting for ${what}; frames: ${this._recent()}`));
    }
    return new Promise((resolve, reject) => {
      const w = { pred: p, what, resolve, reject };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for frame ${what}; frames so far: ${this._recent()}`));
      }, timeoutMs);
      w.resolve = (f) => { clearTimeout(timer); resolve(f); };
      w.reject = (e) => { clearTimeout(timer); reject(e); };
      this.waiters.push(w);
    });
  }

  /** Wait for the close event (bounded); resolves {code, reason}. */
  waitClose(timeoutMs = DEFAULT_WAIT) {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    return withTimeout(new Promise((resolve) => this._onClose.push(resolve)), timeoutMs,
      `websocket close; frames: ${this._recent()}`);
  }

  /** Close from our side and wait for the close handshake to finish. */
  async close(timeoutMs = DEFAULT_WAIT) {
    if (this.closeInfo) return this.closeInfo;
    try { this.ws.close(1000); } catch { /* ignore */ }
    try {
      return await this.waitClose(timeoutMs);
    } catch {
      this.ws.terminate();
      return this.waitClose(T(2000));
    }
  }

  terminate() {
    try { this.ws.terminate(); } catch { /* ignore */ }
  }

  // ---------------- protocol conveniences

  /**
   * Agent side (supportd.agent.v1): send login and return the welcome
   * frame; an error frame instead is thrown.
   */
  async login(agent, token, timeoutMs = DEFAULT_WAIT) {
    this.send({ type: 'login', agent, token });
    const f = await this.next((x) => x.type === 'welcome' || x.type === 'error', timeoutMs);
    if (f.type !== 'welcome') throw new Error(`login as ${agent} answered with ${JSON.stringify(f)}`);
    return f;
  }

  /** Send hello (extra fields merged) and return the welcome frame. */
  async hello(extra = {}, timeoutMs = DEFAULT_WAIT) {
    this.send({ type: 'hello', ...extra });
    const f = await this.next((x) => x.type === 'welcome' ||
      (x.type === 'error' && !['resume_unknown', 'resume_expired'].includes(x.code)), timeoutMs);
    if (f.type !== 'welcome') throw new Error(`hello answered with ${JSON.stringify(f)}`);
    return f;
  }

  /** Wait for the ack of message id, failing fast on an error frame for it. */
  async ackFor(id, timeoutMs = DEFAULT_WAIT) {
    const f = await this.next((x) => (x.type === 'ack' && x.id === id) ||
      (x.type === 'error' && x.in_reply_to === id), timeoutMs);
    if (f.type !== 'ack') throw new Error(`message ${id} answered with ${JSON.stringify(f)}`);
    return f;
  }

  replyFor(id, timeoutMs = DEFAULT_WAIT) {
    return this.next((x) => x.type === 'reply' && x.in_reply_to === id, timeoutMs);
  }

  /** Send a message and wait for its ack and its (first) reply. */
  async message(id, text, timeoutMs = DEFAULT_WAIT) {
    this.send({ type: 'message', id, text });
    const ack = await this.ackFor(id, timeoutMs);
    const reply = await this.replyFor(id, timeoutMs);
    return { ack, reply };
  }

  /** Wait for the next error frame (optionally with a given code). */
  async error(code, timeoutMs = DEFAULT_WAIT) {
    const f = await this.next((x) => x.type === 'error', timeoutMs);
    if (code !== undefined && f.code !== code) {
      throw new Error(`expected error ${code}, got ${JSON.stringify(f)}`);
    }
    return f;
  }

  /** Content frames (those with a seq) received so far, in order. */
  contentFrames() {
    return this.all.filter((f) => typeof f.seq === 'number' && f.type !== 'ack');
  }
}

/**
 * Open a websocket and wait for 'open'. Rejects (bounded) if the upgrade is
 * refused. opts.protocol: subprotocol (default chat; null for none).
 */
function connect(port, opts = {}) {
  const { protocol = CHAT_PROTOCOL, path: p = '/chat', timeoutMs = DEFAULT_WAIT } = opts;
  const url = `ws://${LOOPBACK}:${port}${p}`;
  const ws = protocol === null ? new WebSocket(url, { handshakeTimeout: timeoutMs })
    : new WebSocket(url, protocol, { handshakeTimeout: timeoutMs });
  const client = new Client(ws);
  return withTimeout(new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (req, res) => {
      res.resume();
      req.destroy();
      reject(new Error(`upgrade refused: HTTP ${res.statusCode}`));
    });
    ws.once('error', reject);
  }), timeoutMs, `websocket open ${url}`).catch((err) => { client.terminate(); throw err; });
}

/** Open an agent connection: path /agent, subprotocol supportd.agent.v1. */
function connectAgent(port, opts = {}) {
  return connect(port, { path: '/agent', protocol: AGENT_PROTOCOL, ...opts });
}

/**
 * Create (or re-create, with a new token) a desk agent with the real CLI:
 * `supportd agent add NAME --team T ... --capacity N -d DATADIR`. Returns the
 * login token it prints on stdout. teams: a name or a list of names.
 */
function addAgent(dataDir, name, { teams = ['general'], capacity = 1 } = {}) {
  const args = ['agent', 'add', name];
  for (const t of [].concat(teams)) args.push('--team', t);
  args.push('--capacity', String(capacity), '-d', dataDir);
  const out = execFileSync(BIN, args, {
    cwd: REPO_ROOT, encoding: 'utf8', timeout: T(20000), stdio: ['ignore', 'pipe', 'pipe'],
  });
  const token = out.trim();
  if (!/^\S+$/.test(token)) throw new Error(`supportd agent add printed no token: ${JSON.stringify(out)}`);
  return token;
}

/**
 * Attempt an upgrade that is expected to be refused. Resolves
 * {opened, status, error, protocol}. Never resolves 'opened' silently.
 */
function tryConnect(port, opts = {}) {
  const { protocol = CHAT_PROTOCOL, path: p = '/chat', timeoutMs = DEFAULT_WAIT } = opts;
  const url = `ws://${LOOPBACK}:${port}${p}`;
  const ws = protocol === null ? new WebSocket(url, { handshakeTimeout: timeoutMs })
    : new WebSocket(url, protocol, { handshakeTimeout: timeoutMs });
  return withTimeout(new Promise((resolve) => {
    const result = { opened: false, status: null, error: null, body: '' };
    ws.on('open', () => {
      result.opened = true;
      result.protocol = ws.protocol;
      ws.terminate();
      resolve(result);
    });
    ws.on('unexpected-response', (req, res) => {
      result.status = res.statusCode;
      res.setEncoding('utf8');
      res.on('data', (d) => { result.body += d; });
      const done = () => { req.destroy(); resolve(result); };
      res.on('end', done);
      res.on('error', done);
      res.on('close', done);
    });
    ws.on('error', (err) => {
      result.error = err.message;
      resolve(result);
    });
  }), timeoutMs, `refused upgrade on ${url}`).finally(() => {
    try { ws.terminate(); } catch { /* ignore */ }
  });
}

// --------------------------------------------------------------------- http

function httpGet(port, urlPath, { timeoutMs = DEFAULT_WAIT, headers = {} } = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    const req = http.request({
      host: LOOPBACK, port, path: urlPath, method: 'GET', agent: false,
      headers: { Connection: 'close', ...headers },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode,
        headers: res.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  }), timeoutMs, `GET ${urlPath}`);
}

async function healthz(port) {
  const r = await httpGet(port, '/healthz');
  let json = null;
  try { json = JSON.parse(r.body); } catch { /* leave null */ }
  return { ...r, json };
}

// ------------------------------------------------------------------ metrics

/** Parse Prometheus text format into [{name, labels, value}]. */
function parseMetrics(text) {
  const out = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$/.exec(line);
    if (!m) throw new Error(`unparseable metrics line: ${JSON.stringify(raw)}`);
    const labels = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/g;
      let lm;
      while ((lm = re.exec(m[3])) !== null) labels[lm[1]] = lm[2];
    }
    const v = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4]);
    out.push({ name: m[1], labels, value: v });
  }
  return out;
}

/** Sum of the series of `name` whose labels include `labels`. 0 if none. */
function metricSum(samples, name, labels = {}) {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

function hasMetric(samples, name) {
  return samples.some((s) => s.name === name);
}

async function metrics(port) {
  const r = await httpGet(port, '/metrics');
  return { ...r, samples: r.status === 200 ? parseMetrics(r.body) : [] };
}

// ------------------------------------------------------------------- sqlite

/** Run a query with the sqlite3 CLI; returns rows as arrays of strings. */
function sqlite(dbPath, sql) {
  const out = execFileSync('sqlite3', ['-batch', '-noheader', '-separator', '\t', dbPath, sql], {
    encoding: 'utf8',
    timeout: T(10000),
  });
  return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}

function sqlQuote(s) {
  return `'${String(s).replace(/'/g, "''")}'`;
}

// ------------------------------------------------------------------ content

// A content root for a test: a copy of the repository's lua/ directory
// (pipeline.lua, flows/, locale/) and, unless told otherwise, of its faq/ and
// rules/ (the daemon refuses to start without content).
//   source           if given (not null/undefined), written over lua/pipeline.lua
//   opts.lua         { 'flows/x.lua': 'text', ... } extra files under lua/
//   opts.faq         { 'en/x.md': 'text', ... } written instead of the faq/ copy
//   opts.rules       { 'en/x.yaml': 'text', ... } written instead of the rules/ copy
//   opts.extraRules  { 'en/x.yaml': 'text', ... } written under rules/ after
//                    the copy (or opts.rules), to add intents to the shipped ones
function makeContent(source, opts = {}) {
  const dir = makeTempDir('supportd-e2e-content-');
  const write = (sub, files) => {
    for (const [name, text] of Object.entries(files)) {
      const file = path.join(dir, sub, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
    }
  };
  fs.cpSync(path.join(REPO_ROOT, 'lua'), path.join(dir, 'lua'), { recursive: true });
  if (source !== undefined && source !== null) {
    fs.writeFileSync(path.join(dir, 'lua', 'pipeline.lua'), source);
  }
  if (opts.lua) write('lua', opts.lua);
  for (const sub of ['faq', 'rules']) {
    if (opts[sub]) {
      write(sub, opts[sub]);
    } else {
      fs.cpSync(path.join(REPO_ROOT, sub), path.join(dir, sub), { recursive: true });
    }
  }
  if (opts.extraRules) write('rules', opts.extraRules);
  // The languages are files too (rules/<code>/language.yaml): content made
  // with its own rules still gets the shipped definitions of en, pt and pl,
  // unless the test wrote its own or asks for none.
  if (!opts.noLanguages) copyLanguages(dir);
  return dir;
}

/** Copies the repository's rules/<code>/language.yaml into dir/rules/<code>/
 * where dir has none. */
function copyLanguages(dir) {
  const root = path.join(REPO_ROOT, 'rules');
  for (const code of fs.readdirSync(root)) {
    const from = path.join(root, code, 'language.yaml');
    const to = path.join(dir, 'rules', code, 'language.yaml');
    if (fs.existsSync(from) && !fs.existsSync(to)) {
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(from, to);
    }
  }
}

// ---------------------------------------------------------- test fixtures

/**
 * Register (at module level) an after() hook that runs the registered
 * cleanups in reverse order, runs all of them even if some fail, and then
 * rethrows the first error. Returns:
 *   defer(fn)            register a cleanup (may be async)
 *   daemon(opts)         startDaemon(opts), cleaned up (d.cleanup()) in after()
 *   client(port, opts)   connect(port, opts), terminated in after()
 *   tempDir(prefix)      makeTempDir(prefix), removed in after()
 */
function useCleanups() {
  const { after } = require('node:test');
  const cleanups = [];
  after(async () => {
    const errors = [];
    for (const fn of cleanups.splice(0).reverse()) {
      try { await fn(); } catch (e) { errors.push(e); }
    }
    if (errors.length) throw errors[0];
  });
  const defer = (fn) => { cleanups.push(fn); };
  return {
    defer,
    async daemon(opts) {
      const d = await startDaemon(opts);
      defer(() => d.cleanup());
      return d;
    },
    async client(port, opts) {
      const c = await connect(port, opts);
      defer(async () => c.terminate());
      return c;
    },
    tempDir(prefix) {
      const dir = makeTempDir(prefix);
      defer(async () => removeDir(dir));
      return dir;
    },
  };
}

/**
 * One daemon shared by every test of a file: started in before(), and in
 * after() its clients are terminated, then it is cleaned up, then whatever
 * the setup deferred is cleaned up.
 *
 * opts: startDaemon options, or a (possibly async) function of
 * {defer, tempDir} returning them, called inside before() (for setup that
 * must happen first, e.g. a content or static dir; defer its removal).
 *
 * Returns {port, daemon, open(opts), client(port, opts), defer}: open()
 * connects to the shared daemon, client() to any port; both are tracked.
 */
function useSharedDaemon(opts = {}) {
  const { before } = require('node:test');
  const scope = useCleanups();
  let daemon = null;
  before(async () => {
    const o = typeof opts === 'function' ? await opts({ defer: scope.defer, tempDir: scope.tempDir }) : opts;
    daemon = await scope.daemon(o);
  });
  const started = () => {
    if (!daemon) throw new Error('the shared supportd is not running (did before() fail?)');
    return daemon;
  };
  return {
    get daemon() { return started(); },
    get port() { return started().port; },
    open: (o) => scope.client(started().port, o),
    client: scope.client,
    defer: scope.defer,
  };
}

// base64url token check: at least `bits` bits of entropy worth of characters.
function isBase64Url(s, minBits = 128) {
  return typeof s === 'string' && /^[A-Za-z0-9_-]+$/.test(s) && s.length * 6 >= minBits;
}

module.exports = {
  REPO_ROOT, BIN, T, DEFAULT_WAIT, LOOPBACK, CHAT_PROTOCOL, AGENT_PROTOCOL,
  makeTempDir, removeDir, withTimeout, delay, pollUntil, parseLogfmt,
  startDaemon, connect, connectAgent, addAgent, tryConnect, Client,
  httpGet, healthz, parseMetrics, metricSum, hasMetric, metrics,
  sqlite, sqlQuote, makeContent, copyLanguages, isBase64Url,
  useCleanups, useSharedDaemon,
};
