// console.js: the agents' console, served at /console.
//
// One websocket to /agent (subprotocol supportd.agent.v1, docs/desk.md):
// sign in, the live queue and offers, accepted chats in tabs with their
// context, replies, canned responses, notes, transfers and closes, and the
// offline tickets. No framework and no build step (`make console` copies
// it, with ../shared/markdown.js beside it): the page (index.html) holds the
// static structure and templates, this module fills them.
//
// Every string that comes from a customer, an agent or the content goes into
// the page through textContent or an attribute, never through innerHTML, so
// nothing they write can become markup. The page's CSP allows no inline
// script either.

import { renderMarkdown } from './markdown.js';

const PROTOCOL = 'supportd.agent.v1';
const LOGIN_KEY = 'supportd.console.login';     // {agent, token}, for reloads
const PREFS_KEY = 'supportd.console.prefs';     // {presence, sound}
const APP_TITLE = 'supportd desk';
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10000;
const TYPING_IDLE_MS = 3000;      // our typing "false" after this much quiet
const CUSTOMER_TYPING_MS = 8000;  // their indicator fades if no "false" comes
const TOAST_MS = 6000;
const CANNED_SHOWN = 8;
const AWAY_POLL_MS = 3000;        // queue views are not pushed to away agents

const RESOLUTIONS = {
  resolved: 'Resolved', unresolved: 'Unresolved', duplicate: 'Duplicate',
  spam: 'Spam', no_response: 'No response',
};

// ================================================================ helpers

const $ = (sel, root = document) => root.querySelector(sel);

/**
 * Makes an element. props: class, text (textContent), attributes (aria-*,
 * data-*, role, and anything in attrs), or DOM properties. Children are
 * nodes or strings (strings become text nodes).
 */
function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k === 'attrs') for (const [a, av] of Object.entries(v)) e.setAttribute(a, av);
    else if (k.startsWith('aria-') || k.startsWith('data-') || k === 'role') e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

const str = (v) => (typeof v === 'string' ? v : '');
const pct = (x) => `${Math.round(x * 100)}%`;

/** 42000 -> "0:42", 3723000 -> "1:02:03". */
function fmtDuration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

function fmtClock(ts) {
  if (!Number.isFinite(ts)) return '';
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function fmtDateTime(ts) {
  if (!Number.isFinite(ts)) return '';
  return new Date(ts).toLocaleString([], {
    day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
  });
}

function timeEl(ts, text) {
  return el('time', { dateTime: Number.isFinite(ts) ? new Date(ts).toISOString() : '', text });
}

let languageNames = null;
try { languageNames = new Intl.DisplayNames(['en'], { type: 'language' }); } catch { /* old browser */ }

/** "pt-BR" -> "pt-BR (Brazilian Portuguese)". */
function fmtLang(tag) {
  if (!tag) return '';
  let name = '';
  try { name = languageNames ? languageNames.of(tag) : ''; } catch { /* not a tag */ }
  return name && name !== tag ? `${tag} (${name})` : tag;
}

/** "order_number" -> "Order number". */
function fmtKey(k) {
  const s = String(k).replace(/[_-]+/g, ' ').trim();
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

/** A mailto: URL; the address is percent-encoded around its "@". */
function mailtoUrl(email, subject, body) {
  const at = email.lastIndexOf('@');
  const addr = at > 0
    ? `${encodeURIComponent(email.slice(0, at))}@${encodeURIComponent(email.slice(at + 1))}`
    : encodeURIComponent(email);
  return `mailto:${addr}?subject=${encodeURIComponent(subject)}&body=${encodeURIComponent(body)}`;
}

function loadJson(key) {
  try { return JSON.parse(sessionStorage.getItem(key) || 'null'); } catch { return null; }
}

function saveJson(key, v) {
  try { sessionStorage.setItem(key, JSON.stringify(v)); } catch { /* storage off */ }
}

// ================================================================= state

const prefs = { presence: 'online', sound: true, ...(loadJson(PREFS_KEY) || {}) };

const state = {
  ws: null,
  creds: null,           // {agent, token}
  welcomed: false,       // a welcome came on this page (the desk is shown)
  loggedIn: false,       // the current socket is logged in
  stopped: false,        // no reconnecting (signed out, refused, replaced)
  retryMs: RETRY_MIN_MS,
  retryTimer: 0,
  agent: '',
  teams: [],
  capacity: 0,
  session: '',
  canned: [],
  tickets: [],
  queue: [],             // queue_view.waiting, each with `since` (ms epoch)
  queueTotal: 0,
  seenWaiting: new Set(),
  offers: new Map(),     // conversation -> offer with `deadline`
  accepting: new Set(),  // conversations we sent accept for
  chats: new Map(),      // conversation -> chat (see newChat)
  order: [],             // conversation ids, tab order
  active: null,
  msgNo: 0,
};

// ================================================================= sound

// A short two-tone beep made with WebAudio (no file to fetch). Browsers
// start an AudioContext suspended until the user does something on the
// page, so it is made (or resumed) on the first click or key.
let audio = null;
let lastBeep = 0;

function audioReady() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  if (!audio) {
    try { audio = new Ctx(); } catch { return; }
  }
  if (audio.state === 'suspended') audio.resume().catch(() => {});
}

function beep() {
  const now = Date.now();
  if (!prefs.sound || now - lastBeep < 800) return;
  lastBeep = now;
  audioReady();
  if (!audio) return;
  const t = audio.currentTime;
  const gain = audio.createGain();
  gain.gain.setValueAtTime(0.0001, t);
  gain.gain.exponentialRampToValueAtTime(0.12, t + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.42);
  gain.connect(audio.destination);
  [[660, 0], [880, 0.16]].forEach(([hz, at]) => {
    const osc = audio.createOscillator();
    osc.type = 'sine';
    osc.frequency.setValueAtTime(hz, t + at);
    osc.connect(gain);
    osc.start(t + at);
    osc.stop(t + at + 0.26);
  });
}

// ============================================================ connection

function send(frame) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

function connect() {
  clearTimeout(state.retryTimer);
  const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/agent`;
  let ws;
  try {
    ws = new WebSocket(url, PROTOCOL);
  } catch {
    scheduleRetry();
    return;
  }
  state.ws = ws;
  state.loggedIn = false;
  setConnState(state.welcomed ? 'Reconnecting…' : '');
  ws.addEventListener('open', () => {
    ws.send(JSON.stringify({ type: 'login', agent: state.creds.agent, token: state.creds.token }));
  });
  ws.addEventListener('message', (ev) => {
    if (ws !== state.ws || typeof ev.data !== 'string') return;
    let f;
    try { f = JSON.parse(ev.data); } catch { return; }
    if (f && typeof f === 'object' && typeof f.type === 'string') onFrame(f);
  });
  ws.addEventListener('close', () => {
    if (ws !== state.ws) return;
    state.ws = null;
    state.loggedIn = false;
    if (state.stopped) return;
    if (!state.welcomed) {
      setLoginBusy(false);
      showLoginError('Cannot reach supportd. Trying again…');
    } else {
      setConnState('Connection lost. Reconnecting…', true);
      markPendingLost();
    }
    scheduleRetry();
  });
}

function scheduleRetry() {
  if (state.stopped || !state.creds) return;
  clearTimeout(state.retryTimer);
  state.retryTimer = setTimeout(connect, state.retryMs);
  state.retryMs = Math.min(state.retryMs * 2, RETRY_MAX_MS);
}

/** Stops for good: no more reconnecting on this page. */
function stop() {
  state.stopped = true;
  clearTimeout(state.retryTimer);
  if (state.ws) {
    const ws = state.ws;
    state.ws = null;
    try { ws.close(1000); } catch { /* closed */ }
  }
}

function onFrame(f) {
  switch (f.type) {
    case 'welcome': onWelcome(f); break;
    case 'queue_view': onQueueView(f); break;
    case 'offer': onOffer(f); break;
    case 'revoked': onRevoked(f); break;
    case 'assigned': onAssigned(f); break;
    case 'message': onCustomerMessage(f); break;
    case 'typing': onCustomerTyping(f); break;
    case 'ack': onAck(f); break;
    case 'noted': onNoted(f); break;
    case 'closed': onClosed(f); break;
    case 'ticket': onTicket(f); break;
    case 'ticket_closed': onTicketClosed(f); break;
    case 'error': onError(f); break;
    default: break; // newer servers may say more
  }
}

// ================================================================= login

const loginView = $('#login-view');
const loginForm = $('#login-form');
const deskView = $('#desk');

function showLogin(message = '') {
  deskView.hidden = true;
  loginView.hidden = false;
  document.title = APP_TITLE;
  showLoginError(message);
  setLoginBusy(false);
  const agentInput = $('#login-agent');
  if (!agentInput.value && state.creds) agentInput.value = state.creds.agent;
  (agentInput.value ? $('#login-token') : agentInput).focus();
}

function showLoginError(message) {
  $('#login-error').textContent = message;
}

function setLoginBusy(busy) {
  const b = $('#login-submit');
  b.disabled = busy;
  b.textContent = busy ? 'Signing in…' : 'Sign in';
}

loginForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  audioReady(); // a user gesture: the beep may play from now on
  const agent = $('#login-agent').value.trim();
  const token = $('#login-token').value.trim();
  if (!agent || !token) {
    showLoginError(!agent ? 'Enter your agent name.' : 'Enter your token.');
    (!agent ? $('#login-agent') : $('#login-token')).focus();
    return;
  }
  state.creds = { agent, token };
  state.stopped = false;
  state.retryMs = RETRY_MIN_MS;
  showLoginError('');
  setLoginBusy(true);
  connect();
});

function onLoginRefused(f) {
  const again = state.welcomed;
  stop();
  try { sessionStorage.removeItem(LOGIN_KEY); } catch { /* storage off */ }
  $('#login-token').value = '';
  const msg = f.code === 'rate_limited'
    ? 'Too many failed sign-ins from here. Wait a minute and try again.'
    : 'That agent name and token do not match.';
  if (again) {
    location.reload(); // a clean page for the next sign-in
    return;
  }
  showLogin(msg);
}

function onWelcome(f) {
  const first = !state.welcomed;
  state.loggedIn = true;
  state.welcomed = true;
  state.retryMs = RETRY_MIN_MS;
  state.agent = str(f.agent);
  state.teams = Array.isArray(f.teams) ? f.teams.filter((t) => typeof t === 'string') : [];
  state.capacity = Number.isInteger(f.capacity) ? f.capacity : 0;
  state.session = str(f.session);
  state.canned = Array.isArray(f.canned)
    ? f.canned.filter((c) => c && typeof c.shortcut === 'string' && typeof c.text === 'string')
    : [];
  state.tickets = Array.isArray(f.tickets) ? f.tickets.filter((t) => t && typeof t === 'object') : [];
  saveJson(LOGIN_KEY, state.creds);
  setConnState('');

  // chats this page shows that the server no longer gives us
  const mine = new Set(Array.isArray(f.chats) ? f.chats : []);
  for (const chat of state.chats.values()) {
    if (chat.status === 'open' && !mine.has(chat.conv)) setChatStatus(chat, 'gone');
  }
  state.offers.clear(); // any still out were revoked when the old socket went
  state.accepting.clear();
  renderOffers();

  if (prefs.presence === 'away') send({ type: 'presence', state: 'away' });
  syncAwayPoll();
  renderPresence();
  renderMe();
  renderTickets();
  renderStatsLink();
  fillTransferTeams();

  if (first) {
    loginView.hidden = true;
    deskView.hidden = false;
    $('#login-token').value = '';
    $('#presence').focus();
  }
  renderChatsVisibility();
  updateTitle();
}

function renderMe() {
  const teams = state.teams.length ? state.teams.join(', ') : 'no team';
  $('#me').textContent = `${state.agent} · ${teams}`;
  $('#me').title = `Signed in as ${state.agent}; teams: ${teams}; up to ${state.capacity} chats at once`;
}

function renderStatsLink() {
  const a = $('#stats-link');
  // The session rides in the fragment: it never goes to a server or into a
  // Referer, and stats.js moves it to its own sessionStorage at once.
  a.href = state.session
    ? `/console/stats.html#session=${encodeURIComponent(state.session)}`
    : '/console/stats.html';
}

function setConnState(text, bad = false) {
  const s = $('#conn-state');
  s.textContent = text;
  s.classList.toggle('bad', bad);
}

// ============================================================== presence

function renderPresence() {
  const b = $('#presence');
  const online = prefs.presence === 'online';
  b.setAttribute('aria-pressed', String(online));
  b.textContent = online ? 'Online' : 'Away';
  b.classList.toggle('away', !online);
  b.title = online ? 'You get offers. Click to go away.' : 'You get no offers. Click to go online.';
  const s = $('#sound');
  s.setAttribute('aria-pressed', String(prefs.sound));
  s.textContent = prefs.sound ? 'Sound on' : 'Sound off';
}

// The server pushes queue views to online agents only: while away, the
// console asks for one now and then, so the queue it shows stays true.
let awayPoll = 0;
function syncAwayPoll() {
  clearInterval(awayPoll);
  awayPoll = 0;
  if (prefs.presence === 'away') {
    send({ type: 'queue' });
    awayPoll = setInterval(() => { if (state.loggedIn) send({ type: 'queue' }); }, AWAY_POLL_MS);
  }
}

$('#presence').addEventListener('click', () => {
  prefs.presence = prefs.presence === 'online' ? 'away' : 'online';
  saveJson(PREFS_KEY, prefs);
  send({ type: 'presence', state: prefs.presence });
  syncAwayPoll();
  renderPresence();
  toast(prefs.presence === 'online' ? 'You are online: new chats are offered to you.'
    : 'You are away: no new offers until you are back online.');
});

$('#sound').addEventListener('click', () => {
  prefs.sound = !prefs.sound;
  saveJson(PREFS_KEY, prefs);
  renderPresence();
  if (prefs.sound) { lastBeep = 0; beep(); }
});

$('#sign-out').addEventListener('click', () => {
  stop();
  try {
    sessionStorage.removeItem(LOGIN_KEY);
    sessionStorage.removeItem(PREFS_KEY);
  } catch { /* storage off */ }
  location.reload();
});

// ================================================================= toast

let toastTimer = 0;
function toast(text, bad = false) {
  const t = $('#toast');
  t.textContent = text;
  t.classList.toggle('bad', bad);
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, TOAST_MS);
}

// ================================================================= title

function updateTitle() {
  let n = state.queueTotal;
  for (const c of state.chats.values()) if (c.unread > 0) n++;
  document.title = n > 0 ? `(${n}) ${APP_TITLE}` : APP_TITLE;
}

// ================================================================= queue

function onQueueView(f) {
  const now = Date.now();
  const waiting = Array.isArray(f.waiting) ? f.waiting.filter((w) => w && typeof w.conversation === 'string') : [];
  state.queue = waiting.map((w) => ({ ...w, since: now - (Number(w.waiting_ms) || 0) }));
  state.queueTotal = Number.isInteger(f.total) ? f.total : waiting.length;
  let fresh = false;
  const ids = new Set();
  for (const w of waiting) {
    ids.add(w.conversation);
    if (!state.seenWaiting.has(w.conversation)) fresh = true;
  }
  state.seenWaiting = ids;
  if (fresh) beep();
  renderQueue();
  renderOffers(); // offers show the name the queue knows
  updateTitle();
}

function queueEntry(conv) {
  return state.queue.find((w) => w.conversation === conv);
}

function customerLabel(name, conv) {
  return name || `Visitor ${String(conv).replace(/^c_/, '').slice(0, 6)}`;
}

/** The mood badge of a queue entry or offer. */
function moodBadge(upset) {
  return upset
    ? el('span', { class: 'badge upset', text: 'Upset · first in line' })
    : el('span', { class: 'badge calm', text: 'Calm' });
}

const queueItems = new Map(); // conversation -> li

function renderQueue() {
  const list = $('#queue-list');
  const focused = document.activeElement;
  const keep = new Set();
  state.queue.forEach((w, i) => {
    keep.add(w.conversation);
    let li = queueItems.get(w.conversation);
    if (!li) {
      li = el('li', { class: 'qitem', 'data-conversation': w.conversation });
      li.append(
        el('div', { class: 'qrow' },
          el('span', { class: 'qname' }),
          el('span', { class: 'qmood' }),
          el('span', { class: 'spacer' }),
          el('span', { class: 'qwait', title: 'Waiting for' })),
        el('p', { class: 'qreason' }),
        el('p', { class: 'qmeta' }),
        el('button', { type: 'button', class: 'small qaccept', text: 'Accept' }));
      li.querySelector('.qaccept').addEventListener('click', () => accept(w.conversation));
      queueItems.set(w.conversation, li);
    }
    fillQueueItem(li, w);
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
  });
  for (const [conv, li] of queueItems) {
    if (!keep.has(conv)) {
      li.remove();
      queueItems.delete(conv);
    }
  }
  if (focused && focused !== document.activeElement && focused.isConnected) focused.focus();
  $('#queue-empty').hidden = state.queue.length > 0;
  $('#queue-count').textContent = state.queueTotal ? String(state.queueTotal) : '';
  if (state.queueTotal > state.queue.length) {
    $('#queue-count').textContent = `${state.queue.length} of ${state.queueTotal}`;
  }
}

function fillQueueItem(li, w) {
  const name = customerLabel(str(w.name), w.conversation);
  li.classList.toggle('upset', !!w.upset);
  li.querySelector('.qname').textContent = name;
  li.querySelector('.qmood').replaceChildren(moodBadge(!!w.upset));
  li.querySelector('.qwait').textContent = fmtDuration(Date.now() - w.since);
  li.querySelector('.qreason').textContent = str(w.reason);
  const meta = [str(w.team), w.lang ? fmtLang(str(w.lang)) : 'language unknown'];
  if (w.offered_to) meta.push(w.offered_to === state.agent ? 'offered to you' : `offered to ${w.offered_to}`);
  li.querySelector('.qmeta').textContent = meta.join(' · ');
  const b = li.querySelector('.qaccept');
  b.disabled = state.accepting.has(w.conversation);
  b.setAttribute('aria-label', `Accept the chat with ${name}${w.upset ? ' (upset)' : ''}`);
  li.setAttribute('aria-label', `${name}, ${w.upset ? 'upset' : 'calm'}, ${str(w.team)}`);
}

function accept(conv) {
  audioReady();
  if (!send({ type: 'accept', conversation: conv })) {
    toast('Not connected. Try again in a moment.', true);
    return;
  }
  state.accepting.add(conv);
  renderQueue();
  renderOffers();
}

// ================================================================ offers

function onOffer(f) {
  if (typeof f.conversation !== 'string') return;
  const ms = Number(f.expires_in_ms) || 0;
  state.offers.set(f.conversation, { ...f, deadline: Date.now() + ms });
  beep();
  renderOffers();
  updateTitle();
}

function onRevoked(f) {
  const conv = f.conversation;
  if (state.offers.delete(conv)) {
    state.accepting.delete(conv);
    renderOffers();
    if (f.reason === 'timeout') toast('An offer expired and went to the queue again.');
    else if (f.reason === 'taken') toast('A chat offered to you was taken by someone else.');
  }
  const chat = state.chats.get(conv);
  if (chat && f.reason === 'transferred') {
    setChatStatus(chat, 'transferred');
    toast(`The chat with ${chatName(chat)} was transferred.`);
  }
  updateTitle();
}

function renderOffers() {
  const list = $('#offer-list');
  const focusedConv = document.activeElement && document.activeElement.dataset
    ? document.activeElement.dataset.offer : undefined;
  list.replaceChildren();
  for (const o of state.offers.values()) {
    const w = queueEntry(o.conversation);
    const name = customerLabel(w ? str(w.name) : '', o.conversation);
    const b = el('button', {
      type: 'button', class: 'primary small', text: 'Accept', 'data-offer': o.conversation,
      'aria-label': `Accept the offered chat with ${name}`,
    });
    b.disabled = state.accepting.has(o.conversation);
    b.addEventListener('click', () => accept(o.conversation));
    list.append(el('li', { class: `offer${o.upset ? ' upset' : ''}`, 'data-conversation': o.conversation },
      el('div', { class: 'qrow' },
        el('span', { class: 'qname', text: name }),
        moodBadge(!!o.upset),
        el('span', { class: 'spacer' }),
        el('span', { class: 'offer-left', 'data-deadline': String(o.deadline), title: 'Time left to accept' })),
      el('p', { class: 'qreason', text: str(o.reason) }),
      el('p', { class: 'qmeta', text: str(o.team) }),
      b));
    if (focusedConv === o.conversation) b.focus();
  }
  $('#offers').hidden = state.offers.size === 0;
  tickClocks();
}

/** The clocks: waiting times in the queue and what is left of offers. */
function tickClocks() {
  const now = Date.now();
  for (const w of state.queue) {
    const li = queueItems.get(w.conversation);
    if (li) li.querySelector('.qwait').textContent = fmtDuration(now - w.since);
  }
  for (const span of document.querySelectorAll('.offer-left')) {
    const left = Number(span.dataset.deadline) - now;
    span.textContent = left > 0 ? `${Math.ceil(left / 1000)} s left` : 'expiring';
  }
}
setInterval(tickClocks, 1000);

// =============================================================== tickets

function renderTickets() {
  const list = $('#ticket-list');
  list.replaceChildren();
  for (const t of state.tickets) {
    const email = str(t.email);
    const message = str(t.message);
    const subject = 'Re: your message to our support team';
    const quoted = message.split('\n').map((l) => `> ${l}`).join('\n');
    const body = `Hello,\n\nthank you for your message.\n\n\n${quoted}\n`;
    const link = email
      ? el('a', {
        class: 'ticket-mail', href: mailtoUrl(email, subject, body), text: email,
        'aria-label': `Reply by e-mail to ${email}`,
      })
      : el('span', { class: 'muted', text: 'no e-mail address' });
    const doneBtn = el('button', {
      type: 'button', class: 'small ticket-done', text: 'Done',
      'aria-label': `Mark the message from ${email || 'this customer'} done`,
    });
    doneBtn.addEventListener('click', () => {
      doneBtn.disabled = true; // until ticket_closed removes it, or an error
      send({ type: 'close_ticket', ticket: t.id, id: `ticket-${t.id}` });
    });
    list.append(el('li', { class: 'ticket', 'data-ticket': String(t.id) },
      el('div', { class: 'qrow' }, link, el('span', { class: 'spacer' }),
        timeEl(t.created_at, fmtDateTime(t.created_at))),
      el('p', { class: 'ticket-text', text: message }),
      el('div', { class: 'qrow' }, el('p', { class: 'qmeta', text: str(t.team) }),
        el('span', { class: 'spacer' }), doneBtn)));
  }
  $('#tickets-empty').hidden = state.tickets.length > 0;
  $('#ticket-count').textContent = state.tickets.length ? String(state.tickets.length) : '';
}

/* An offline message left while this agent is signed in. */
function onTicket(f) {
  if (!Number.isInteger(f.id) || state.tickets.some((t) => t.id === f.id)) return;
  state.tickets.push(f);
  renderTickets();
}

/* An offline message was marked done (by this agent or another of its team). */
function onTicketClosed(f) {
  const before = state.tickets.length;
  state.tickets = state.tickets.filter((t) => t.id !== f.id);
  if (state.tickets.length !== before) renderTickets();
}

// ================================================================= chats

/*
 * A chat: {conv, ctx, status, upset, lastSeq, unread, tab, panel, n (its
 * nodes), pending (agent message id -> li), pendingNotes (li, in order),
 * typingSent, typingTimer, theirTypingTimer, canned: {items, index, start}}.
 * status: open, closing, closed, transferred, gone.
 */
function newChat(conv) {
  const panel = $('#chat-template').content.firstElementChild.cloneNode(true);
  const tab = el('button', {
    type: 'button', role: 'tab', class: 'tab', id: `tab-${conv}`,
    'aria-controls': `panel-${conv}`, 'aria-selected': 'false', tabIndex: -1,
  }, el('span', { class: 'tab-name' }), el('span', { class: 'tab-badge' }));
  panel.id = `panel-${conv}`;
  panel.setAttribute('aria-labelledby', tab.id);
  panel.hidden = true;
  const chat = {
    conv, ctx: null, status: 'open', upset: false, lastSeq: 0, unread: 0, tab, panel,
    pending: new Map(), pendingNotes: [], typingSent: false, typingTimer: 0,
    theirTypingTimer: 0, canned: null, resolution: '',
    n: {
      title: $('.chat-title', panel),
      status: $('.chat-status', panel),
      transcript: $('.transcript', panel),
      typing: $('.typing', panel),
      form: $('.composer', panel),
      text: $('textarea', panel),
      list: $('.canned', panel),
      send: $('.composer button[type=submit]', panel),
      transfer: $('[data-action=transfer]', panel),
      close: $('[data-action=close]', panel),
      dismiss: $('[data-action=dismiss]', panel),
      customer: $('.ctx-customer', panel),
      handoff: $('.ctx-handoff', panel),
      mood: $('.ctx-mood', panel),
      slots: $('.ctx-slots', panel),
      decisions: $('.ctx-decisions', panel),
      notes: $('.ctx-notes', panel),
    },
  };
  chat.n.transcript.setAttribute('aria-label', 'Transcript');
  chat.n.list.id = `canned-${conv}`;
  chat.n.text.setAttribute('aria-controls', chat.n.list.id);
  for (const r of panel.querySelectorAll('.mode input')) r.name = `mode-${conv}`;

  tab.addEventListener('click', () => activate(conv));
  tab.addEventListener('keydown', onTabKey);
  wireComposer(chat);
  chat.n.transfer.addEventListener('click', () => openTransfer(chat));
  chat.n.close.addEventListener('click', () => openClose(chat));
  chat.n.dismiss.addEventListener('click', () => dismiss(chat));

  state.chats.set(conv, chat);
  state.order.push(conv);
  $('#chat-tabs').append(tab);
  $('#chat-panels').append(panel);
  renderChatsVisibility();
  return chat;
}

function chatName(chat) {
  const c = chat.ctx && chat.ctx.customer;
  return customerLabel(c ? str(c.name) : '', chat.conv);
}

function renderChatsVisibility() {
  const any = state.chats.size > 0;
  $('#no-chats').hidden = any;
  $('#chat-tabs').hidden = !any;
}

function activate(conv, focus = false) {
  const chat = state.chats.get(conv);
  if (!chat) return;
  state.active = conv;
  for (const c of state.chats.values()) {
    const on = c === chat;
    c.tab.setAttribute('aria-selected', String(on));
    c.tab.tabIndex = on ? 0 : -1;
    c.panel.hidden = !on;
  }
  chat.unread = 0;
  renderTab(chat);
  scrollToEnd(chat);
  updateTitle();
  if (focus) (chat.n.text.disabled ? chat.tab : chat.n.text).focus();
}

function onTabKey(ev) {
  const i = state.order.indexOf(state.active);
  let j = -1;
  if (ev.key === 'ArrowRight') j = (i + 1) % state.order.length;
  else if (ev.key === 'ArrowLeft') j = (i - 1 + state.order.length) % state.order.length;
  else if (ev.key === 'Home') j = 0;
  else if (ev.key === 'End') j = state.order.length - 1;
  if (j < 0) return;
  ev.preventDefault();
  activate(state.order[j]);
  state.chats.get(state.order[j]).tab.focus();
}

function renderTab(chat) {
  const name = chatName(chat);
  chat.tab.querySelector('.tab-name').textContent = name;
  const badge = chat.tab.querySelector('.tab-badge');
  let label = name;
  if (chat.unread > 0) {
    badge.textContent = String(chat.unread);
    label += `, ${chat.unread} unread`;
  } else if (chat.status !== 'open' && chat.status !== 'closing') {
    badge.textContent = chat.status === 'closed' ? '✓' : '→';
    label += `, ${statusText(chat)}`;
  } else {
    badge.textContent = '';
  }
  chat.tab.classList.toggle('unread', chat.unread > 0);
  chat.tab.classList.toggle('ended', chat.status !== 'open' && chat.status !== 'closing');
  chat.tab.classList.toggle('upset', chat.upset);
  chat.tab.setAttribute('aria-label', label);
}

function statusText(chat) {
  switch (chat.status) {
    case 'closing': return 'Closing…';
    case 'closed': return `Closed · ${RESOLUTIONS[chat.resolution] || chat.resolution || 'done'}`;
    case 'transferred': return 'Transferred';
    case 'gone': return 'No longer yours';
    default: return chat.upset ? 'Upset customer' : '';
  }
}

function setChatStatus(chat, status) {
  chat.status = status;
  const open = status === 'open';
  chat.n.status.textContent = statusText(chat);
  chat.n.status.classList.toggle('upset', open && chat.upset);
  chat.n.text.disabled = !open;
  chat.n.send.disabled = !open;
  chat.n.transfer.disabled = !open;
  chat.n.close.disabled = !open;
  chat.n.dismiss.hidden = open || status === 'closing';
  for (const r of chat.panel.querySelectorAll('.mode input')) r.disabled = !open;
  if (!open) {
    closeCanned(chat);
    stopTyping(chat);
    chat.n.text.placeholder = status === 'closing' ? 'Closing…' : 'This chat has ended.';
  }
  renderTab(chat);
}

function dismiss(chat) {
  clearTimeout(chat.typingTimer);
  clearTimeout(chat.theirTypingTimer);
  chat.tab.remove();
  chat.panel.remove();
  state.chats.delete(chat.conv);
  state.order = state.order.filter((c) => c !== chat.conv);
  if (state.active === chat.conv) {
    state.active = null;
    if (state.order.length) activate(state.order[state.order.length - 1], true);
  }
  renderChatsVisibility();
  updateTitle();
  if (!state.active) $('#presence').focus();
}

function onAssigned(f) {
  const conv = f.conversation;
  const ctx = f.context;
  if (typeof conv !== 'string' || !ctx || typeof ctx !== 'object') return;
  const wasAccepting = state.accepting.delete(conv);
  const w = queueEntry(conv);
  const offer = state.offers.get(conv);
  state.offers.delete(conv);
  renderOffers();
  let chat = state.chats.get(conv);
  if (!chat) chat = newChat(conv);
  if (w) chat.upset = !!w.upset;
  else if (offer) chat.upset = !!offer.upset;
  else if (ctx.mood && (ctx.mood.upset || ctx.mood.threats > 0)) chat.upset = true;
  chat.ctx = ctx;
  renderTranscript(chat);
  renderContext(chat);
  setChatStatus(chat, 'open');
  chat.n.title.textContent = chatName(chat);
  if (wasAccepting || !state.active) activate(conv, wasAccepting);
  else renderTab(chat);
  updateTitle();
}

// ------------------------------------------------------------ transcript

const FROM = new Set(['customer', 'bot', 'agent', 'system']);

function sourceText(e) {
  const src = str(e.source);
  if (!src) return '';
  const conf = typeof e.confidence === 'number' ? ` · ${pct(e.confidence)}` : '';
  return `${src}${conf}`;
}

// ------------------------------------------------------------- markdown

/**
 * The chat Markdown subset as DOM (../shared/markdown.js, the widget's own
 * renderer): agents' newlines are line breaks, as the customer sees them;
 * in the bot's and supportd's texts a newline is a space, as in CommonMark.
 */
function markdown(text, breaks) {
  return renderMarkdown(text, el('div', { class: 'text md' }), { breaks });
}

/** One transcript line. e: a stored frame (a message or a reply). */
function entryNode(chat, e) {
  const from = e.type === 'message' ? 'customer' : (FROM.has(e.from) ? e.from : 'system');
  let who;
  if (from === 'customer') who = chatName(chat);
  else if (from === 'bot') who = 'Bot';
  else if (from === 'agent') who = (e.agent && str(e.agent.name)) || 'Agent';
  else who = 'supportd';
  const li = el('li', { class: `msg from-${from}` });
  if (Number.isInteger(e.seq)) li.dataset.seq = String(e.seq);
  const meta = el('div', { class: 'meta' }, el('span', { class: 'who', text: who }));
  if (from === 'bot' && e.source) {
    const low = typeof e.confidence === 'number' && e.confidence < 0.5;
    meta.append(el('span', {
      class: `src${low ? ' low' : ''}`, text: sourceText(e), title: 'What answered, and how sure the bot was',
    }));
  }
  meta.append(timeEl(e.ts, fmtClock(e.ts)));
  // customers write plain text; the bot, agents and supportd write the chat
  // Markdown subset (docs/protocol.md)
  li.append(meta, from === 'customer' ? el('p', { class: 'text', text: str(e.text) }) : markdown(str(e.text), from === 'agent'));
  if (Array.isArray(e.choices) && e.choices.length) {
    const labels = e.choices.map((c) => (c && str(c.label)) || '').filter(Boolean);
    if (labels.length) li.append(el('p', { class: 'choices', text: `Buttons: ${labels.join(' · ')}` }));
  }
  return li;
}

function renderTranscript(chat) {
  const t = chat.n.transcript;
  const kept = [...chat.pending.values()]; // not acknowledged yet: keep them
  t.replaceChildren();
  let last = 0;
  for (const e of Array.isArray(chat.ctx.transcript) ? chat.ctx.transcript : []) {
    if (!e || typeof e !== 'object') continue;
    t.append(entryNode(chat, e));
    if (Number.isInteger(e.seq) && e.seq > last) last = e.seq;
  }
  for (const li of kept) t.append(li);
  chat.lastSeq = Math.max(chat.lastSeq, last);
  scrollToEnd(chat);
}

function nearEnd(chat) {
  const t = chat.n.transcript;
  return t.scrollHeight - t.scrollTop - t.clientHeight < 80;
}

function scrollToEnd(chat) {
  const t = chat.n.transcript;
  t.scrollTop = t.scrollHeight;
}

function appendEntry(chat, e) {
  const stick = nearEnd(chat);
  chat.n.transcript.append(entryNode(chat, e));
  if (chat.ctx && Array.isArray(chat.ctx.transcript)) chat.ctx.transcript.push(e);
  if (stick || e.from === 'agent') scrollToEnd(chat);
}

function onCustomerMessage(f) {
  const chat = state.chats.get(f.conversation);
  if (!chat) return;
  if (Number.isInteger(f.seq)) {
    if (f.seq <= chat.lastSeq) return; // already shown (a context after a reconnect)
    chat.lastSeq = f.seq;
  }
  appendEntry(chat, { ...f, type: 'message', from: 'customer' });
  setTheirTyping(chat, false);
  if (state.active !== chat.conv || document.hidden) {
    chat.unread++;
    renderTab(chat);
    updateTitle();
  }
  renderDecisions(chat);
}

function onCustomerTyping(f) {
  const chat = state.chats.get(f.conversation);
  if (chat) setTheirTyping(chat, !!f.state);
}

function setTheirTyping(chat, on) {
  clearTimeout(chat.theirTypingTimer);
  chat.n.typing.textContent = on ? `${chatName(chat)} is typing…` : '';
  if (on) chat.theirTypingTimer = setTimeout(() => setTheirTyping(chat, false), CUSTOMER_TYPING_MS);
}

// --------------------------------------------------------------- context

function kv(dl, rows) {
  dl.replaceChildren();
  for (const [k, v, cls] of rows) {
    if (v === undefined || v === null || v === '') continue;
    dl.append(el('dt', { text: k }), el('dd', { class: cls || '', text: String(v) }));
  }
  if (!dl.children.length) dl.append(el('dd', { class: 'muted', text: 'Nothing yet.' }));
}

function renderContext(chat) {
  const ctx = chat.ctx;
  const cu = ctx.customer && typeof ctx.customer === 'object' ? ctx.customer : {};
  const slots = ctx.slots && typeof ctx.slots === 'object' && !Array.isArray(ctx.slots) ? ctx.slots : {};
  kv(chat.n.customer, [
    ['Name', str(cu.name) || 'not given'],
    ['Language', cu.lang ? fmtLang(str(cu.lang)) : 'unknown'],
    ['E-mail', str(cu.email) || str(slots.email)],
    ['Conversation', chat.conv, 'mono'],
  ]);

  const h = ctx.handoff && typeof ctx.handoff === 'object' ? ctx.handoff : null;
  kv(chat.n.handoff, h ? [
    ['Reason', str(h.reason), 'reason'],
    ['Team', str(h.team)],
    ['By', { pipeline: 'the bot', flow: 'a self-service flow', agent: 'an agent' }[h.source] || str(h.source)],
    ['At', fmtDateTime(h.at)],
  ] : []);

  renderMood(chat);

  const slotRows = Object.entries(slots).map(([k, v]) => [
    fmtKey(k), typeof v === 'string' ? v : JSON.stringify(v), /email|order/i.test(k) ? 'strong mono' : '']);
  kv(chat.n.slots, slotRows);

  renderDecisions(chat);
  renderNotes(chat);
}

function renderMood(chat) {
  const m = chat.ctx.mood && typeof chat.ctx.mood === 'object' ? chat.ctx.mood : null;
  const box = chat.n.mood;
  box.replaceChildren();
  if (!m) {
    box.append(el('p', { class: 'muted', text: 'No mood readings yet.' }));
    return;
  }
  const num = (x) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
  const level = Math.min(1, Math.max(0, num(m.level)));
  const peak = Math.min(1, Math.max(0, num(m.peak)));
  const upset = chat.upset || !!m.upset;
  let word = 'Calm';
  if (upset) word = 'Upset';
  else if (level >= 0.35 || num(m.threats) > 0) word = 'Tense';
  // the trend: the server's word, or the last message against the average
  let trend = 'steady';
  const last = typeof m.last === 'number' ? m.last : level;
  if (m.rising || last > level + 0.1) trend = 'rising';
  else if (last < level - 0.1) trend = 'easing';
  box.append(
    el('p', { class: `mood-word ${word.toLowerCase()}` },
      el('strong', { text: word }), ` · trend ${trend}`),
    moodBar('Level', level),
    moodBar('Peak', peak));
  const dl = el('dl', { class: 'kv' });
  kv(dl, [
    ['Upset messages', `${num(m.upset_messages)} of ${num(m.messages)}`],
    ['Threats', num(m.threats) ? String(num(m.threats)) : 'none'],
    ['Profanity', num(m.profanity) ? String(num(m.profanity)) : 'none'],
    ['Upset in a row', String(num(m.streak))],
  ]);
  box.append(dl);
}

/** One row of the mood panel: a label, a bar (an ARIA meter) and the figure. */
function moodBar(label, x) {
  const fill = el('span', { class: `fill${x >= 0.6 ? ' high' : x >= 0.35 ? ' mid' : ''}` });
  fill.style.width = pct(x);
  return el('div', { class: 'meter-row' },
    el('span', { text: label }),
    el('span', {
      class: 'bar', role: 'meter', 'aria-label': `Mood ${label.toLowerCase()}`,
      attrs: { 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(x * 100)) },
    }, fill),
    el('span', { class: 'num', text: pct(x) }));
}

/** The bot's replies: what it answered each message with, and how sure it was. */
function renderDecisions(chat) {
  const ol = chat.n.decisions;
  ol.replaceChildren();
  const tr = Array.isArray(chat.ctx.transcript) ? chat.ctx.transcript : [];
  const asked = new Map();
  for (const e of tr) if (e && e.type === 'message' && e.id) asked.set(e.id, str(e.text));
  for (const e of tr) {
    if (!e || e.type !== 'reply' || e.from !== 'bot') continue;
    const q = e.in_reply_to ? asked.get(e.in_reply_to) : '';
    const low = typeof e.confidence === 'number' && e.confidence < 0.5;
    ol.append(el('li', { class: 'decision' },
      q ? el('p', { class: 'asked', text: q.length > 90 ? `${q.slice(0, 90)}…` : q }) : null,
      el('p', { class: 'answer' },
        el('span', { class: 'src', text: str(e.source) || 'reply' }),
        el('span', {
          class: `conf${low ? ' low' : ''}`,
          text: typeof e.confidence === 'number' ? pct(e.confidence) : '—',
          title: 'confidence',
        }))));
  }
  if (!ol.children.length) ol.append(el('li', { class: 'muted', text: 'The bot did not answer.' }));
}

function noteNode(n, pending = false) {
  return el('li', { class: `note${pending ? ' pending' : ''}` },
    el('div', { class: 'meta' },
      el('span', { class: 'who', text: str(n.agent) || 'agent' }),
      timeEl(n.at, pending ? 'saving…' : fmtDateTime(n.at))),
    el('p', { class: 'text', text: str(n.text) }));
}

function renderNotes(chat) {
  const ol = chat.n.notes;
  ol.replaceChildren();
  for (const n of Array.isArray(chat.ctx.notes) ? chat.ctx.notes : []) if (n) ol.append(noteNode(n));
  for (const li of chat.pendingNotes) ol.append(li);
  if (!ol.children.length) ol.append(el('li', { class: 'muted empty-note', text: 'No notes.' }));
}

function onNoted(f) {
  const chat = state.chats.get(f.conversation);
  const li = chat && chat.pendingNotes.shift();
  if (!li) return;
  li.classList.remove('pending');
  const now = Date.now();
  li.querySelector('time').textContent = fmtDateTime(now);
  if (Array.isArray(chat.ctx.notes)) {
    chat.ctx.notes.push({ agent: state.agent, text: li.querySelector('.text').textContent, at: now });
  }
}

// -------------------------------------------------------------- composer

function wireComposer(chat) {
  const { form, text } = chat.n;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit(chat);
  });
  for (const r of chat.panel.querySelectorAll('.mode input')) {
    r.addEventListener('change', () => setMode(chat, r.value));
  }
  text.addEventListener('keydown', (ev) => onComposerKey(chat, ev));
  text.addEventListener('input', () => {
    updateCanned(chat);
    if (mode(chat) === 'reply') typingNow(chat);
  });
  text.addEventListener('blur', () => setTimeout(() => {
    if (document.activeElement !== text) closeCanned(chat);
  }, 150));
  text.addEventListener('click', () => updateCanned(chat));
}

function mode(chat) {
  const r = chat.panel.querySelector('.mode input:checked');
  return r ? r.value : 'reply';
}

function setMode(chat, m) {
  chat.panel.classList.toggle('note-mode', m === 'note');
  chat.n.text.setAttribute('aria-label',
    m === 'note' ? 'Internal note (other agents see it, the customer does not)' : 'Reply to the customer');
  chat.n.text.placeholder = m === 'note'
    ? 'Write an internal note. The customer never sees it.'
    : 'Write a reply. Type / for canned responses.';
  chat.n.send.textContent = m === 'note' ? 'Add note' : 'Send';
  if (m === 'note') stopTyping(chat);
  chat.n.text.focus();
}

function onComposerKey(chat, ev) {
  const c = chat.canned;
  if (c && c.items.length) {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      c.index = (c.index + (ev.key === 'ArrowDown' ? 1 : -1) + c.items.length) % c.items.length;
      renderCanned(chat);
      return;
    }
    if ((ev.key === 'Enter' && !ev.shiftKey) || ev.key === 'Tab') {
      ev.preventDefault();
      insertCanned(chat, c.items[c.index]);
      return;
    }
    if (ev.key === 'Escape') {
      ev.preventDefault();
      closeCanned(chat);
      return;
    }
  }
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    submit(chat);
  }
}

function submit(chat) {
  if (chat.status !== 'open') return;
  const text = chat.n.text.value.trim();
  if (!text) return;
  if (mode(chat) === 'note') {
    if (!send({ type: 'note', conversation: chat.conv, text })) {
      toast('Not connected: the note was not saved. Try again in a moment.', true);
      return;
    }
    const li = noteNode({ agent: state.agent, text }, true);
    const empty = chat.n.notes.querySelector('.empty-note');
    if (empty) empty.remove();
    chat.pendingNotes.push(li);
    chat.n.notes.append(li);
    li.scrollIntoView({ block: 'nearest' });
  } else {
    const id = `a-${Date.now().toString(36)}-${++state.msgNo}`;
    if (!send({ type: 'message', conversation: chat.conv, id, text })) {
      toast('Not connected: the reply was not sent. Try again in a moment.', true);
      return;
    }
    const li = entryNode(chat, { type: 'reply', from: 'agent', agent: { name: state.agent }, text, ts: Date.now() });
    li.classList.add('pending');
    li.dataset.id = id;
    li.dataset.raw = text; // what was written, for the context once stored
    li.append(el('p', { class: 'delivery', text: 'sending…' }));
    chat.pending.set(id, li);
    chat.n.transcript.append(li);
    scrollToEnd(chat);
    stopTyping(chat);
  }
  chat.n.text.value = '';
  closeCanned(chat);
}

function onAck(f) {
  const chat = state.chats.get(f.conversation);
  const li = chat && chat.pending.get(f.id);
  if (!li) return;
  chat.pending.delete(f.id);
  li.classList.remove('pending');
  li.querySelector('.delivery').textContent = 'sent';
  if (Number.isInteger(f.seq)) {
    li.dataset.seq = String(f.seq);
    chat.lastSeq = Math.max(chat.lastSeq, f.seq);
    if (chat.ctx && Array.isArray(chat.ctx.transcript)) {
      chat.ctx.transcript.push({
        type: 'reply', from: 'agent', agent: { name: state.agent }, source: 'agent',
        text: li.dataset.raw, seq: f.seq,
      });
    }
  }
}

function failPending(chat, li, why) {
  li.classList.remove('pending');
  li.classList.add('failed');
  li.querySelector('.delivery').textContent = `not sent: ${why}`;
}

/** The connection went: messages not acknowledged may not have arrived. */
function markPendingLost() {
  for (const chat of state.chats.values()) {
    for (const li of chat.pending.values()) failPending(chat, li, 'the connection was lost; send it again');
    chat.pending.clear();
    for (const li of chat.pendingNotes) li.remove();
    chat.pendingNotes = [];
  }
}

// our typing indicator for the customer: true at the first key, false after quiet
function typingNow(chat) {
  if (chat.status !== 'open') return;
  if (!chat.typingSent && chat.n.text.value.trim()) {
    chat.typingSent = send({ type: 'typing', conversation: chat.conv, state: true });
  }
  clearTimeout(chat.typingTimer);
  chat.typingTimer = setTimeout(() => stopTyping(chat), TYPING_IDLE_MS);
}

function stopTyping(chat) {
  clearTimeout(chat.typingTimer);
  if (chat.typingSent) send({ type: 'typing', conversation: chat.conv, state: false });
  chat.typingSent = false;
}

// ------------------------------------------------------- canned responses

/** The "/word" being typed just before the caret, or null. */
function slashToken(text, caret) {
  const before = text.slice(0, caret);
  const m = /(?:^|\s)\/([A-Za-z0-9_-]*)$/.exec(before);
  return m ? { query: m[1].toLowerCase(), start: caret - m[1].length - 1 } : null;
}

function cannedFor(chat, query) {
  const lang = String((chat.ctx && chat.ctx.customer && chat.ctx.customer.lang) || '').slice(0, 2).toLowerCase();
  const rank = (c) => (!c.lang ? 1 : c.lang === lang ? 0 : 2);
  const hits = state.canned.filter((c) => c.shortcut.toLowerCase().startsWith(query) ||
    (query && str(c.title).toLowerCase().includes(query)));
  return hits
    .map((c, i) => ({ c, i }))
    .sort((a, b) => (Number(b.c.shortcut.toLowerCase().startsWith(query)) -
      Number(a.c.shortcut.toLowerCase().startsWith(query))) ||
      (lang ? rank(a.c) - rank(b.c) : 0) || a.i - b.i)
    .map((x) => x.c)
    .slice(0, CANNED_SHOWN);
}

function updateCanned(chat) {
  const t = chat.n.text;
  const tok = chat.status === 'open' && mode(chat) === 'reply' && t.selectionStart === t.selectionEnd
    ? slashToken(t.value, t.selectionStart) : null;
  if (!tok) {
    closeCanned(chat);
    return;
  }
  const items = cannedFor(chat, tok.query);
  const prev = chat.canned;
  const keep = prev && prev.items[prev.index] ? items.indexOf(prev.items[prev.index]) : -1;
  chat.canned = { items, index: keep >= 0 ? keep : 0, start: tok.start };
  renderCanned(chat);
}

function renderCanned(chat) {
  const { list, text } = chat.n;
  const c = chat.canned;
  list.replaceChildren();
  if (!c) return;
  if (!c.items.length) {
    list.append(el('li', {
      class: 'canned-empty', text: state.canned.length ? 'No canned response starts like that.'
        : 'No canned responses on this server.',
    }));
  }
  c.items.forEach((item, i) => {
    const li = el('li', {
      role: 'option', id: `${list.id}-${i}`, class: 'canned-item', 'aria-selected': String(i === c.index),
    },
    el('span', { class: 'shortcut', text: `/${item.shortcut}` }),
    el('span', { class: 'title', text: str(item.title) }),
    item.lang ? el('span', { class: 'lang', text: str(item.lang) }) : null,
    el('span', { class: 'preview', text: item.text }));
    li.addEventListener('mousedown', (ev) => {
      ev.preventDefault(); // keep the focus in the textarea
      insertCanned(chat, item);
    });
    list.append(li);
  });
  list.hidden = false;
  text.setAttribute('aria-expanded', 'true');
  if (c.items.length) {
    text.setAttribute('aria-activedescendant', `${list.id}-${c.index}`);
    const sel = list.children[c.index];
    if (sel) sel.scrollIntoView({ block: 'nearest' });
  } else {
    text.removeAttribute('aria-activedescendant');
  }
}

function closeCanned(chat) {
  chat.canned = null;
  chat.n.list.hidden = true;
  chat.n.list.replaceChildren();
  chat.n.text.setAttribute('aria-expanded', 'false');
  chat.n.text.removeAttribute('aria-activedescendant');
}

function insertCanned(chat, item) {
  const t = chat.n.text;
  const c = chat.canned;
  if (!item || !c) return;
  const end = t.selectionStart;
  t.value = t.value.slice(0, c.start) + item.text + t.value.slice(end);
  const caret = c.start + item.text.length;
  t.setSelectionRange(caret, caret);
  closeCanned(chat);
  t.focus();
  typingNow(chat);
}

// ------------------------------------------------------ transfer and close

let dialogChat = null;

function openTransfer(chat) {
  if (chat.status !== 'open') return;
  dialogChat = chat;
  const d = $('#transfer-dialog');
  d.returnValue = '';
  $('#transfer-error').textContent = '';
  $('#transfer-team').value = '';
  $('#transfer-agent').value = '';
  d.showModal();
  syncTransferKind();
  $('#transfer-team').focus();
}

function fillTransferTeams() {
  const dl = $('#transfer-teams');
  dl.replaceChildren(...state.teams.map((t) => el('option', { value: t })));
}

function transferKind() {
  const r = document.querySelector('input[name="transfer-kind"]:checked');
  return r ? r.value : 'team';
}

function syncTransferKind() {
  const team = transferKind() === 'team';
  $('#transfer-team-row').hidden = !team;
  $('#transfer-agent-row').hidden = team;
}

for (const r of document.querySelectorAll('input[name="transfer-kind"]')) {
  r.addEventListener('change', () => {
    syncTransferKind();
    (transferKind() === 'team' ? $('#transfer-team') : $('#transfer-agent')).focus();
  });
}

$('#transfer-dialog form').addEventListener('submit', (ev) => {
  if (!ev.submitter || ev.submitter.value !== 'cancel') {
    const kind = transferKind();
    const v = (kind === 'team' ? $('#transfer-team') : $('#transfer-agent')).value.trim();
    if (!v) {
      ev.preventDefault();
      $('#transfer-error').textContent = kind === 'team' ? 'Name a team.' : 'Name an agent.';
      return;
    }
    $('#transfer-dialog').returnValue = 'ok';
  }
});

$('#transfer-dialog').addEventListener('close', () => {
  const chat = dialogChat;
  dialogChat = null;
  if (!chat) return;
  if ($('#transfer-dialog').returnValue === 'ok' && chat.status === 'open') {
    const kind = transferKind();
    const v = (kind === 'team' ? $('#transfer-team') : $('#transfer-agent')).value.trim();
    if (send({ type: 'transfer', conversation: chat.conv, [kind]: v })) {
      toast(`Transferring the chat to ${kind === 'team' ? `the team ${v}` : v}…`);
    } else {
      toast('Not connected: the chat was not transferred.', true);
    }
  }
  chat.n.transfer.focus();
});

function openClose(chat) {
  if (chat.status !== 'open') return;
  dialogChat = chat;
  const d = $('#close-dialog');
  d.returnValue = '';
  const first = document.querySelector('input[name="resolution"][value="resolved"]');
  first.checked = true;
  d.showModal();
  first.focus();
}

$('#close-dialog').addEventListener('close', () => {
  const chat = dialogChat;
  dialogChat = null;
  if (!chat) return;
  if ($('#close-dialog').returnValue === 'ok' && chat.status === 'open') {
    const r = document.querySelector('input[name="resolution"]:checked');
    const resolution = r ? r.value : 'resolved';
    if (send({ type: 'close', conversation: chat.conv, resolution })) {
      chat.resolution = resolution;
      setChatStatus(chat, 'closing');
      chat.tab.focus();
      return;
    }
    toast('Not connected: the chat was not closed.', true);
  }
  chat.n.close.focus();
});

function onClosed(f) {
  const chat = state.chats.get(f.conversation);
  if (!chat) return;
  setChatStatus(chat, 'closed');
  toast(`Closed the chat with ${chatName(chat)} (${RESOLUTIONS[chat.resolution] || chat.resolution}).`);
}

// ================================================================ errors

const LOGIN_CODES = new Set(['login_failed', 'rate_limited']);

function onError(f) {
  const code = str(f.code);
  const message = str(f.message) || code;
  if (!state.loggedIn && LOGIN_CODES.has(code)) {
    onLoginRefused(f);
    return;
  }
  if (code === 'login_replaced') {
    stop();
    deskView.hidden = true;
    showLogin('You signed in on another tab or device, so this one was signed out.');
    return;
  }
  if (code === 'session_ended') {
    // removed, or given a new token: the stored one will not sign in again
    stop();
    try { sessionStorage.removeItem(LOGIN_KEY); } catch { /* storage off */ }
    $('#login-token').value = '';
    deskView.hidden = true;
    showLogin(`You were signed out: ${message}.`);
    return;
  }
  if (code === 'login_required') {
    // the socket lost its login (should not happen): start again
    if (state.ws) state.ws.close();
    return;
  }
  if (typeof f.in_reply_to === 'string' && f.in_reply_to.startsWith('ticket-')) {
    // done meanwhile (or not ours): drop it; any other failure: try again
    if (code === 'not_found') onTicketClosed({ id: Number(f.in_reply_to.slice(7)) });
    else renderTickets();
    return;
  }
  if (f.in_reply_to) {
    for (const chat of state.chats.values()) {
      const li = chat.pending.get(f.in_reply_to);
      if (li) {
        chat.pending.delete(f.in_reply_to);
        failPending(chat, li, message);
        return;
      }
    }
  }
  // an accept or a close that did not go through: let the agent try again
  if (state.accepting.size) {
    state.accepting.clear();
    renderQueue();
    renderOffers();
  }
  for (const chat of state.chats.values()) {
    if (chat.status === 'closing') setChatStatus(chat, code === 'not_assigned' ? 'gone' : 'open');
  }
  toast(message, true);
}

// ================================================================= start

document.addEventListener('pointerdown', audioReady, { once: true, capture: true });
document.addEventListener('keydown', audioReady, { once: true, capture: true });
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && state.active) {
    const chat = state.chats.get(state.active);
    if (chat && chat.unread) {
      chat.unread = 0;
      renderTab(chat);
      updateTitle();
    }
  }
});

renderPresence();
const saved = loadJson(LOGIN_KEY);
if (saved && typeof saved.agent === 'string' && typeof saved.token === 'string') {
  state.creds = saved;
  loginView.hidden = false;
  $('#login-agent').value = saved.agent;
  setLoginBusy(true);
  connect();
} else {
  showLogin();
}
