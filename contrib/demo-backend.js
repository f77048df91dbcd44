#!/usr/bin/env node
'use strict';
// demo-backend.js: a stand-in for a company's own backend, for `make run`.
//
// supportd's self-service flows call it over HTTP (flows.backends.api):
//
//   POST /password-reset  {"email": "..."}  -> 202 {"status": "accepted"}
//        The reply is the same whether or not the account exists, so the
//        chat cannot be used to find out who has an account.
//   GET  /orders/{id}                      -> 200 {"id", "status", "carrier",
//        "tracking_url", ...} for the demo orders below, 404 otherwise.
//
// Anything else is 404 {"error": "not_found"}. Request bodies are limited to
// 64 KiB. Uses node:http only.
//
//   node contrib/demo-backend.js [--port 8081] [--host 127.0.0.1]

const http = require('node:http');

const BODY_LIMIT = 64 * 1024;

// Accounts the demo "knows". The reply never depends on this list; only
// this process's own log line does (as a real backend would record it).
const ACCOUNTS = new Set([
  'jane.doe@example.com',
  'john.smith@example.com',
  'ana.silva@example.com',
]);

const ORDERS = {
  100234: {
    id: '100234', status: 'shipped', carrier: 'DHL',
    tracking_url: 'https://tracking.example.com/100234',
  },
  100235: { id: '100235', status: 'processing', carrier: null, tracking_url: null },
  100236: {
    id: '100236', status: 'delivered', carrier: 'UPS',
    tracking_url: 'https://tracking.example.com/100236', delivered_at: '2026-11-20',
  },
  100237: { id: '100237', status: 'cancelled', carrier: null, tracking_url: null },
};

function usage(msg) {
  if (msg) process.stderr.write(`demo-backend: ${msg}\n`);
  process.stderr.write('usage: node contrib/demo-backend.js [--port 8081] [--host 127.0.0.1]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { port: 8081, host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    let key;
    let val;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      key = a.slice(2, eq);
      val = a.slice(eq + 1);
    } else if (a === '--port' || a === '--host') {
      key = a.slice(2);
      val = argv[++i];
      if (val === undefined) usage(`${a} needs a value`);
    } else if (a === '-h' || a === '--help') {
      usage();
    } else {
      usage(`unknown argument ${a}`);
    }
    if (key === 'port') {
      if (!/^[0-9]+$/.test(val) || Number(val) > 65535) usage(`bad port ${val}`);
      opts.port = Number(val);
    } else if (key === 'host') {
      if (!val) usage('empty host');
      opts.host = val;
    } else {
      usage(`unknown option --${key}`);
    }
  }
  return opts;
}

function send(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

// j***@example.com: enough to tell requests apart in the log, not the address.
function mask(email) {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

function route(req, body) {
  const url = new URL(req.url, 'http://backend.invalid');
  const p = url.pathname;
  if (p === '/password-reset' && req.method === 'POST') {
    let json;
    try { json = JSON.parse(body); } catch { json = null; }
    if (!json || typeof json !== 'object' || Array.isArray(json) || typeof json.email !== 'string') {
      return { status: 400, json: { error: 'bad_request' } };
    }
    const email = json.email.trim().toLowerCase();
    return {
      status: 202,
      json: { status: 'accepted' },
      note: `email=${mask(email)} account=${ACCOUNTS.has(email) ? 'known' : 'unknown'}`,
    };
  }
  const m = /^\/orders\/([^/]+)$/.exec(p);
  if (m && req.method === 'GET') {
    const order = Object.prototype.hasOwnProperty.call(ORDERS, m[1]) ? ORDERS[m[1]] : null;
    if (order) return { status: 200, json: order };
    return { status: 404, json: { error: 'not_found' } };
  }
  return { status: 404, json: { error: 'not_found' } };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));

  const server = http.createServer((req, res) => {
    const started = Date.now();
    const chunks = [];
    let size = 0;
    let tooLarge = false;
    const log = (status, note) => {
      process.stdout.write(`${new Date().toISOString()} ${req.method} ${req.url} ${status} ` +
        `${Date.now() - started}ms${note ? ` ${note}` : ''}\n`);
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > BODY_LIMIT) {
      tooLarge = true;
    }
    req.on('data', (c) => {
      if (tooLarge) return;
      size += c.length;
      if (size > BODY_LIMIT) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (tooLarge) {
        res.setHeader('Connection', 'close');
        send(res, 413, { error: 'too_large' });
        log(413);
        return;
      }
      let r;
      try {
        r = route(req, Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        r = { status: 500, json: { error: 'internal' }, note: `error=${JSON.stringify(String(err))}` };
      }
      send(res, r.status, r.json);
      log(r.status, r.note);
    });
    req.on('error', () => { /* client went away; nothing to answer */ });
  });
  server.headersTimeout = 10000;
  server.requestTimeout = 30000;

  server.on('error', (err) => {
    process.stderr.write(`demo-backend: ${err.message}\n`);
    process.exit(1);
  });

  server.listen(opts.port, opts.host, () => {
    const a = server.address();
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    process.stdout.write(`demo-backend listening on http://${host}:${a.port}\n`);
  });

  let stopping = false;
  const stop = (sig) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`demo-backend: ${sig}, stopping\n`);
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    // Requests in flight are answered at once (there is no slow work); give
    // stragglers a moment, then cut them off.
    setTimeout(() => server.closeAllConnections(), 1000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main();
