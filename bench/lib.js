'use strict';
// lib.js: what the node benchmarks share: their command-line options,
// percentiles and a millisecond clock.

const path = require('node:path');

/** The number after --name on the command line, or def. */
function opt(name, def) {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}

/** The p-th percentile of v (nearest rank); NaN for none. */
function pct(v, p) {
  if (!v.length) return NaN;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Monotonic milliseconds. */
const now = () => Number(process.hrtime.bigint()) / 1e6;

const ROOT = path.resolve(__dirname, '..');
/** The daemon to measure: SUPPORTD_BIN, default the release build. */
const BIN = path.resolve(ROOT, process.env.SUPPORTD_BIN || './supportd');

module.exports = { opt, pct, now, ROOT, BIN };
