// stats.js: the desk's figures (GET /api/stats) as numbers, charts and tables.
//
// Bundled with Chart.js by esbuild (the Makefile's `console` target) into
// build/console/stats.js. The session is the one of a signed-in console: it
// opens this page with #session=... in the URL, which is moved to this tab's
// sessionStorage at once (reloads keep working; the fragment never reaches a
// server). Strings from the server go in through textContent only.

import {
  Chart, BarController, BarElement, LineController, LineElement, PointElement,
  CategoryScale, LinearScale, Tooltip, Legend,
} from 'chart.js';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement,
  CategoryScale, LinearScale, Tooltip, Legend);

const SESSION_KEY = 'supportd.stats.session';
const RANGES = ['24h', '7d', '30d'];
const RANGE_TEXT = { '24h': 'the last 24 hours', '7d': 'the last 7 days', '30d': 'the last 30 days' };
const LABEL_MAX = 48;

const ACCENT = '#2f5da8';
const ACCENT_SOFT = 'rgba(47, 93, 168, .18)';
const UPSET = '#b3261e';
const GRID = '#e6e9ee';
const TEXT = '#5d6675';

Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
Chart.defaults.font.size = 12;
Chart.defaults.color = TEXT;
Chart.defaults.animation = false; // calm, and the figures are there at once

const $ = (sel, root = document) => root.querySelector(sel);

// ================================================================ session

function takeSession() {
  const m = /(?:^#|&)session=([^&]*)/.exec(location.hash);
  if (m) {
    let s = '';
    try { s = decodeURIComponent(m[1]); } catch { /* malformed */ }
    try { sessionStorage.setItem(SESSION_KEY, s); } catch { /* storage off */ }
    history.replaceState(null, '', location.pathname + location.search);
    return s;
  }
  try { return sessionStorage.getItem(SESSION_KEY) || ''; } catch { return ''; }
}

const session = takeSession();

// ============================================================== formatting

const num = (x) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const int = (x) => (num(x) === null ? '–' : Math.round(x).toLocaleString('en'));

function fmtMs(ms) {
  if (num(ms) === null) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${+(ms / 1000).toFixed(ms < 10000 ? 1 : 0)} s`;
  if (ms < 3600000) return `${+(ms / 60000).toFixed(ms < 600000 ? 1 : 0)} min`;
  return `${+(ms / 3600000).toFixed(1)} h`;
}

function short(s) {
  const t = String(s);
  return t.length > LABEL_MAX ? `${t.slice(0, LABEL_MAX - 1)}…` : t;
}

/** "faq:returns-policy" -> "returns-policy"; "intent:reset_password" -> "reset_password". */
function bare(source) {
  return String(source).replace(/^(faq|intent):/, '');
}

function setKpi(id, value, sub) {
  const k = document.getElementById(id);
  $('.kpi-value', k).textContent = value;
  $('.kpi-sub', k).textContent = sub;
}

function fillTable(id, rows) {
  const tbody = $(`#${id} tbody`);
  tbody.replaceChildren();
  for (const cells of rows) {
    const tr = document.createElement('tr');
    cells.forEach((c, i) => {
      const td = document.createElement('td');
      if (i > 0) td.className = 'num';
      if (c instanceof Node) td.append(c);
      else td.textContent = String(c);
      tr.append(td);
    });
    tbody.append(tr);
  }
  if (!rows.length) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = $(`#${id} thead tr`).children.length;
    td.className = 'muted';
    td.textContent = 'Nothing in this period.';
    tr.append(td);
    tbody.append(tr);
  }
}

function code(text) {
  const c = document.createElement('code');
  c.textContent = text;
  return c;
}

// ================================================================= charts

const scaleY = (extra = {}) => ({ beginAtZero: true, grid: { color: GRID }, ticks: { precision: 0 }, ...extra });
const scaleX = (extra = {}) => ({ grid: { display: false }, ...extra });

const charts = {
  handoffs: new Chart($('#chart-handoffs'), {
    type: 'bar',
    data: { labels: [], datasets: [{ label: 'Handoffs', data: [], backgroundColor: ACCENT, borderRadius: 4, maxBarThickness: 26 }] },
    options: {
      indexAxis: 'y',
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { title: (items) => (items[0] ? charts.handoffs.$full[items[0].dataIndex] : '') } },
      },
      scales: { x: scaleY(), y: scaleX() },
    },
  }),
  csat: new Chart($('#chart-csat'), {
    type: 'line',
    data: {
      labels: [],
      datasets: [{
        label: 'Average rating', data: [], borderColor: ACCENT, backgroundColor: ACCENT,
        pointRadius: 3, tension: 0.25, spanGaps: true,
      }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            label: (item) => `average ${item.formattedValue} of 5 (${charts.csat.$counts[item.dataIndex]} ratings)`,
          },
        },
      },
      scales: { y: { min: 1, max: 5, grid: { color: GRID }, ticks: { stepSize: 1 } }, x: scaleX({ offset: true }) },
    },
  }),
  waits: new Chart($('#chart-waits'), {
    type: 'bar',
    data: { labels: [], datasets: [{ label: 'Chats', data: [], backgroundColor: ACCENT_SOFT, borderColor: ACCENT, borderWidth: 1, borderRadius: 4 }] },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: { y: scaleY(), x: scaleX() },
    },
  }),
};
charts.handoffs.$full = [];
charts.csat.$counts = [];

function setChart(name, labels, data, summary) {
  const c = charts[name];
  c.data.labels = labels;
  c.data.datasets[0].data = data;
  c.update('none');
  const canvas = c.canvas;
  canvas.setAttribute('aria-label', summary);
  canvas.closest('.panel').querySelector('.empty-chart').hidden = data.length > 0;
}

// ================================================================ render

function render(s, range) {
  const conv = num(s.conversations);
  const rate = num(s.deflection_rate);
  setKpi('kpi-deflection', rate === null ? '–' : `${Math.round(rate * 100)}%`,
    conv ? `${int(s.deflected)} of ${int(conv)} conversations without a person` : 'no conversations yet');

  const reasons = Array.isArray(s.handoffs_by_reason) ? s.handoffs_by_reason.filter((r) => r && num(r.count) !== null) : [];
  const handoffs = reasons.reduce((a, r) => a + r.count, 0);
  setKpi('kpi-conversations', int(conv), `${int(handoffs)} handoff${handoffs === 1 ? '' : 's'} to a person (transfers included)`);

  const csat = s.csat && typeof s.csat === 'object' ? s.csat : {};
  setKpi('kpi-csat', num(csat.average) === null ? '–' : `${csat.average.toFixed(1)} / 5`,
    `${int(csat.count || 0)} rating${csat.count === 1 ? '' : 's'}`);

  const waits = s.waits && typeof s.waits === 'object' ? s.waits : {};
  setKpi('kpi-wait', waits.count ? fmtMs(waits.p50_ms) : '–',
    waits.count ? `90% within ${fmtMs(waits.p90_ms)} · ${int(waits.count)} chats` : 'nobody waited');

  // handoffs by reason
  charts.handoffs.$full = reasons.map((r) => String(r.reason));
  setChart('handoffs', reasons.map((r) => short(r.reason)), reasons.map((r) => r.count),
    reasons.length ? `Handoffs by reason: ${reasons.map((r) => `${r.reason}: ${r.count}`).join('; ')}`
      : 'No handoffs');
  fillTable('table-handoffs', reasons.map((r) => [String(r.reason), int(r.count)]));

  // CSAT by day
  const days = Array.isArray(csat.by_day) ? csat.by_day.filter((d) => d && typeof d.day === 'string') : [];
  charts.csat.$counts = days.map((d) => num(d.count) ?? 0);
  setChart('csat', days.map((d) => d.day), days.map((d) => num(d.average)),
    days.length ? `Average rating by day: ${days.map((d) => `${d.day}: ${num(d.average) === null ? 'none' : d.average.toFixed(1)}`).join('; ')}`
      : 'No ratings');
  fillTable('table-csat', days.map((d) => [d.day, num(d.average) === null ? '–' : d.average.toFixed(2), int(d.count)]));

  // the wait distribution: buckets "up to le_ms"; the last may be open
  const buckets = Array.isArray(waits.buckets) ? waits.buckets.filter((b) => b && num(b.count) !== null) : [];
  let prev = null;
  const labels = buckets.map((b) => {
    const le = num(b.le_ms);
    const label = le === null ? `over ${fmtMs(prev)}` : `≤ ${fmtMs(le)}`;
    if (le !== null) prev = le;
    return label;
  });
  const any = buckets.some((b) => b.count > 0);
  setChart('waits', any ? labels : [], any ? buckets.map((b) => b.count) : [],
    any ? `Chats by time waited: ${labels.map((l, i) => `${l}: ${buckets[i].count}`).join('; ')}` : 'Nobody waited');
  fillTable('table-waits', any ? labels.map((l, i) => [l, int(buckets[i].count)]) : []);

  const tops = (list) => (Array.isArray(list) ? list : []).filter((t) => t && typeof t.source === 'string')
    .map((t) => [code(bare(t.source)), int(t.count)]);
  fillTable('table-intents', tops(s.top_intents));
  fillTable('table-faq', tops(s.top_faq));

  const from = num(s.from);
  const to = num(s.to);
  const span = from !== null && to !== null
    ? ` (${new Date(from).toLocaleString()} to ${new Date(to).toLocaleString()})` : '';
  status(`Figures for ${RANGE_TEXT[range]}${span}.`);
}

function status(text, bad = false) {
  const p = $('#stats-status');
  p.textContent = text;
  p.classList.toggle('bad', bad);
}

function signedOut(message) {
  document.body.dataset.state = 'unauthorized';
  const p = $('#stats-status');
  p.replaceChildren(message, ' ');
  const a = document.createElement('a');
  a.href = '/console';
  a.textContent = 'Open the console and sign in';
  p.append(a, ', then follow its Stats link.');
  p.classList.add('bad');
}

// ================================================================= load

let loadNo = 0;

async function load(range) {
  const mine = ++loadNo;
  for (const b of document.querySelectorAll('.range button')) {
    b.setAttribute('aria-pressed', String(b.dataset.range === range));
  }
  const url = new URL(location.href);
  url.searchParams.set('range', range);
  history.replaceState(null, '', url.pathname + url.search);
  if (!session) {
    signedOut('No console session.');
    return;
  }
  document.body.dataset.state = 'loading';
  status('Loading…');
  let res;
  let body;
  try {
    res = await fetch(`/api/stats?range=${encodeURIComponent(range)}`, {
      headers: { Authorization: `Bearer ${session}` },
      cache: 'no-store',
    });
    body = res.ok ? await res.json() : null;
  } catch (e) {
    if (mine !== loadNo) return;
    document.body.dataset.state = 'error';
    status(`Could not load the figures: ${e.message}`, true);
    return;
  }
  if (mine !== loadNo) return; // a newer range was asked for meanwhile
  if (res.status === 401) {
    try { sessionStorage.removeItem(SESSION_KEY); } catch { /* storage off */ }
    signedOut('Your console session has ended.');
    return;
  }
  if (!res.ok || !body || typeof body !== 'object') {
    document.body.dataset.state = 'error';
    status(`Could not load the figures (HTTP ${res.status}).`, true);
    return;
  }
  render(body, range);
  document.body.dataset.state = 'ready';
}

for (const b of document.querySelectorAll('.range button')) {
  b.addEventListener('click', () => load(b.dataset.range));
}

const asked = new URLSearchParams(location.search).get('range');
load(RANGES.includes(asked) ? asked : '24h');
