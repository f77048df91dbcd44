'use strict';
// A fake company backend for the flow tests: a real node:http (or
// node:https) server on a free loopback port that records every request it
// gets and answers from a small routing table.
//
//   const b = await startBackend();            // or { https: true }
//   b.url                    'http://127.0.0.1:PORT' (https://... for https)
//   b.caFile                 https only: the self-signed certificate (PEM)
//   b.requests               every request, in arrival order:
//                            {method, path, headers, body, json, at}
//   b.on(method, path, fn)   add a route (path: exact string or RegExp);
//                            newer routes win; returns a function removing it
//   b.waitForRequest(pred, ms, from)  the first request (recorded from index
//                            `from` on, default 0, or future) that matches;
//                            pred is a function or {method, path, ...}
//   b.count(pred)            how many recorded requests match
//   b.close()                stop, destroying open (e.g. hanging) sockets
//
// A handler is (req, body) => reply, where req is the recorded request and
// body its text; it may return a promise. The reply:
//   {status, json}           answer with JSON (status default 200)
//   {status, body, headers}  answer with raw text
//   {delayMs}                answer that much later
//   {hang: true}             never answer (the socket stays open until close())
//   undefined / null         not mine: try the next route (then the defaults)
//
// A request is recorded as soon as its body has arrived, before its handler
// runs, so a test can wait for it even when the route hangs. The default
// routes mirror contrib/demo-backend.js.

const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');
const { EventEmitter } = require('node:events');
const { execFileSync } = require('node:child_process');
const { T, LOOPBACK, makeTempDir, removeDir } = require('./lib');

const BODY_LIMIT = 1024 * 1024;

// The demo orders (the same as contrib/demo-backend.js). Tests read the
// expected carrier, URL and date from here rather than repeating them.
const ORDERS = Object.freeze({
  100234: Object.freeze({
    id: '100234', status: 'shipped', carrier: 'DHL',
    tracking_url: 'https://tracking.example.com/100234',
  }),
  100235: Object.freeze({ id: '100235', status: 'processing', carrier: null, tracking_url: null }),
  100236: Object.freeze({
    id: '100236', status: 'delivered', carrier: 'UPS',
    tracking_url: 'https://tracking.example.com/100236', delivered_at: '2026-11-20',
  }),
  100237: Object.freeze({ id: '100237', status: 'cancelled', carrier: null, tracking_url: null }),
});

function defaultRoutes() {
  return [
    {
      method: 'POST', path: '/password-reset',
      handler: (req) => {
        const j = req.json;
        if (!j || typeof j !== 'object' || Array.isArray(j) || typeof j.email !== 'string') {
          return { status: 400, json: { error: 'bad_request' } };
        }
        return { status: 202, json: { status: 'accepted' } };
      },
    },
    {
      method: 'GET', path: /^\/orders\/([^/]+)$/,
      handler: (req) => {
        const id = /^\/orders\/([^/]+)$/.exec(req.path)[1];
        if (Object.prototype.hasOwnProperty.call(ORDERS, id)) return { status: 200, json: ORDERS[id] };
        return { status: 404, json: { error: 'not_found' } };
      },
    },
  ];
}

function toPredicate(pred) {
  if (typeof pred === 'function') return pred;
  if (pred && typeof pred === 'object') {
    return (r) => Object.entries(pred).every(([k, v]) => (v instanceof RegExp ? v.test(r[k]) : r[k] === v));
  }
  return () => true;
}

function describePred(pred) {
  if (typeof pred === 'function') return pred.description || pred.toString().slice(0, 120);
  if (pred && typeof pred === 'object') {
    return JSON.stringify(pred, (k, v) => (v instanceof RegExp ? String(v) : v));
  }
  return 'any request';
}

function pathMatches(routePath, p) {
  return routePath instanceof RegExp ? routePath.test(p) : routePath === p;
}

// A throwaway self-signed certificate for 127.0.0.1 and localhost.
function makeCert() {
  const dir = makeTempDir('supportd-e2e-cert-');
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
    '-keyout', keyFile, '-out', certFile,
    '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: ['ignore', 'ignore', 'pipe'], timeout: T(30000) });
  return { dir, keyFile, certFile };
}

/**
 * Start a fake backend on a free loopback port. opts.https: serve TLS with a
 * fresh self-signed certificate (b.caFile).
 */
async function startBackend({ https: useTls = false } = {}) {
  const requests = [];
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const routes = []; // added with on(); searched newest first, before the defaults
  const defaults = defaultRoutes();
  const sockets = new Set();
  const timers = new Set();
  let closed = false;

  let cert = null;
  if (useTls) cert = makeCert();

  const answer = (res, reply) => {
    if (closed || res.destroyed || res.writableEnded) return;
    const status = reply.status || 200;
    let body;
    const headers = { ...(reply.headers || {}) };
    if (reply.json !== undefined) {
      body = JSON.stringify(reply.json);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
        headers['Content-Type'] = 'application/json';
      }
    } else {
      body = reply.body === undefined ? '' : Buffer.isBuffer(reply.body) ? reply.body : String(reply.body);
    }
    headers['Content-Length'] = Buffer.byteLength(body);
    res.writeHead(status, headers);
    res.end(body);
  };

  const dispatch = async (rec, res) => {
    const candidates = [
      ...routes.slice().reverse(),
      ...defaults,
    ].filter((r) => r.method === rec.method && pathMatches(r.path, rec.path));
    let reply = null;
    try {
      for (const r of candidates) {
        reply = await r.handler(rec, rec.body);
        if (reply) break;
      }
    } catch (err) {
      reply = { status: 500, json: { error: 'handler_threw', message: String(err && err.message) } };
    }
    if (!reply) reply = { status: 404, json: { error: 'not_found' } };
    if (reply.hang) return; // the socket stays open until close()
    if (reply.delayMs > 0) {
      const t = setTimeout(() => { timers.delete(t); answer(res, reply); }, reply.delayMs);
      timers.add(t);
      return;
    }
    answer(res, reply);
  };

  const onRequest = (req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= BODY_LIMIT) chunks.push(c);
    });
    req.on('error', () => { /* the client went away */ });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json = null;
      try { json = JSON.parse(body); } catch { /* not JSON */ }
      const url = new URL(req.url, 'http://backend.invalid');
      const rec = {
        method: req.method,
        path: url.pathname,
        query: url.search,
        headers: { ...req.headers },
        body,
        json,
        at: Date.now(),
      };
      requests.push(rec);
      events.emit('request', rec);
      if (size > BODY_LIMIT) {
        answer(res, { status: 413, json: { error: 'too_large' } });
        return;
      }
      dispatch(rec, res);
    });
  };

  const server = useTls
    ? https.createServer({ key: fs.readFileSync(cert.keyFile), cert: fs.readFileSync(cert.certFile) }, onRequest)
    : http.createServer(onRequest);
  // Node's own timeouts must not end a hanging request before the test does.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.keepAliveTimeout = 5000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // A client that refuses our certificate: not an error of the test's own.
  server.on('tlsClientError', () => {});
  server.on('clientError', (err, socket) => { socket.destroy(); });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address();

  const backend = {
    port,
    url: `${useTls ? 'https' : 'http'}://${LOOPBACK}:${port}`,
    caFile: cert ? cert.certFile : undefined,
    requests,
    on(method, routePath, handler) {
      const r = { method: method.toUpperCase(), path: routePath, handler };
      routes.push(r);
      return () => {
        const i = routes.indexOf(r);
        if (i >= 0) routes.splice(i, 1);
      };
    },
    count(pred) {
      return requests.filter(toPredicate(pred)).length;
    },
    /** Requests from index `from` on (to count what one step caused). */
    since(from, pred) {
      return requests.slice(from).filter(toPredicate(pred));
    },
    waitForRequest(pred, ms = T(5000), from = 0) {
      const p = toPredicate(pred);
      const seen = requests.slice(from).find(p);
      if (seen) return Promise.resolve(seen);
      if (closed) return Promise.reject(new Error('backend closed'));
      return new Promise((resolve, reject) => {
        const done = () => { clearTimeout(timer); events.off('request', listener); };
        const listener = (rec) => { if (p(rec)) { done(); resolve(rec); } };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${ms} ms waiting for a backend request ${describePred(pred)}; ` +
            `got: ${JSON.stringify(requests.slice(-10).map((r) => `${r.method} ${r.path} ${r.body}`))}`));
        }, ms);
        events.on('request', listener);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const stopped = new Promise((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await stopped;
      if (cert) removeDir(cert.dir);
    },
  };
  return backend;
}

module.exports = { startBackend, ORDERS };
