/* supportd chat widget: one <script> tag adds a chat button and panel to any
 * page and speaks the customer protocol supportd.chat.v1 (docs/protocol.md).
 *
 *   <script src="https://support.example.com/widget.js"
 *           data-server="https://support.example.com" data-lang="pt" async></script>
 *
 * Plain JavaScript (ES5), no framework. This is the source: `make widget`
 * bundles it with contrib/shared/markdown.js into one classic script,
 * build/widget/widget.js (esbuild, IIFE, not minified), which supportd serves.
 * Everything lives in an open shadow root, so no CSS leaks in or out of the
 * host page. Text from the server (bot answers, agents' messages) is rendered
 * with the chat Markdown subset (../shared/markdown.js) built from DOM nodes
 * and textContent: no string is ever parsed as HTML. Nothing here needs eval
 * or inline scripts, so it runs under a strict Content-Security-Policy
 * (styles go in through a constructed stylesheet).
 *
 * Options (data- attributes of the script tag) are in contrib/widget/README.md.
 */
import { renderMarkdown } from '../shared/markdown.js';

(function () {
  'use strict';

  if (window.SupportdWidget) return; // one widget per page

  var VERSION = '1';
  var PROTOCOL = 'supportd.chat.v1';
  var STORE_KEY = 'supportd.widget.v1';
  var CSAT_COMMENT_MAX = 1000;         // bytes (docs/desk.md)
  var BACKOFF_BASE_MS = 500;
  var BACKOFF_MAX_MS = 30000;
  var REPLAY_GRACE_MS = 4000;          // resend the outbox even if a replay stalls
  var TYPING_IDLE_MS = 4000;           // our typing:false after this long without a key
  var TYPING_REMOTE_MAX_MS = 20000;    // hide an agent's indicator nobody switched off

  // Natural pacing of bot replies: shown after "typing" for this long.
  function paceMs(text) {
    return Math.min(400 + 15 * String(text || '').length, 2500);
  }

  // ------------------------------------------------------------ strings

  // Every text the widget shows comes from the catalogs (the widget.* keys of
  // lua/locale/<lang>.lua): supportd writes them in place of this placeholder
  // when it serves /widget.js, one object per language, each one complete
  // (English fills a translation's gaps). A new language is a catalog file,
  // not a change here.
  var CATALOGS = '__SUPPORTD_STRINGS__';
  if (!CATALOGS || typeof CATALOGS !== 'object') CATALOGS = {};

  function fill(s, vars) {
    return String(s).replace(/\{(\w+)\}/g, function (m, k) {
      return vars && vars[k] !== undefined ? String(vars[k]) : m;
    });
  }

  // ------------------------------------------------------------ options

  var script = document.currentScript ||
    document.querySelector('script[src$="/widget.js"],script[src="widget.js"]');
  var data = (script && script.dataset) || {};

  // ws(s)://host[/prefix]/chat from data-server (an http(s) or ws(s) origin,
  // optionally with a path prefix), else from where this script came from.
  function chatUrl() {
    var base;
    try {
      if (data.server) base = new URL(data.server, location.href);
      else base = new URL('/', (script && script.src) || location.href);
    } catch (e) {
      base = new URL('/', location.href);
    }
    var secure = base.protocol === 'https:' || base.protocol === 'wss:';
    var path = base.pathname.replace(/\/+$/, '');
    if (!/\/chat$/.test(path)) path += '/chat';
    return (secure ? 'wss://' : 'ws://') + base.host + path;
  }

  var LANG_TAG_RE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;
  var langTag = String(data.lang || navigator.language || 'en');
  if (!LANG_TAG_RE.test(langTag) || langTag.length > 16) langTag = 'en';
  var uiLang = langTag.slice(0, 2).toLowerCase();
  if (!CATALOGS[uiLang]) uiLang = 'en';
  var S = CATALOGS[uiLang] || {};
  if (!S.err) S.err = {};

  var URL_CHAT = chatUrl();
  var TITLE = data.title || S.title;

  // ------------------------------------------------------------ DOM helpers

  // h('div', {class: 'x', 'aria-label': 'y'}, child, 'text', ...): attributes
  // through setAttribute and text through text nodes, never markup.
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, k) || attrs[k] == null || attrs[k] === false) continue;
        if (k === 'text') el.textContent = attrs[k];
        else el.setAttribute(k, attrs[k] === true ? '' : String(attrs[k]));
      }
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c == null) continue;
      el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return el;
  }

  var SVG_NS = 'http://www.w3.org/2000/svg';
  function icon(d) {
    var svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '24');
    svg.setAttribute('height', '24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    var p = document.createElementNS(SVG_NS, 'path');
    p.setAttribute('d', d);
    p.setAttribute('fill', 'currentColor');
    svg.appendChild(p);
    return svg;
  }
  var ICON_CHAT = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z';
  var ICON_CLOSE = 'M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z';
  var ICON_SEND = 'M3 20.5 21.5 12 3 3.5 3 10l12 2-12 2z';

  // ------------------------------------------------------------ styles

  // Colours (every pair passes WCAG 2.1 AA; contrib/widget/README.md):
  // white on the accent #1d4ed8 6.70:1 (hover #1e3a8a 10.4:1); text #1d2433
  // on white 15.5:1 and on the bot bubble #f1f3f7 14.0:1; muted #4b5563 on
  // white 7.56:1; links #1e40af on #f1f3f7 7.85:1; error notes #8a1c1c on
  // #fdecec 8.12:1; the reconnecting banner #713f12 on #fef3c7 7.79:1; field
  // borders and empty stars #6b7280 4.83:1, chosen stars #b45309 5.02:1
  // (3:1 needed for both); focus ring #1d4ed8 with a white halo.
  var CSS = [
    ':host{all:initial}',
    '*,*::before,*::after{box-sizing:border-box}',
    '.root{--accent:var(--supportd-accent,#1d4ed8);--accent-dark:#1e3a8a;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1d2433;-webkit-text-size-adjust:100%}',
    'button,input,textarea{font:inherit;color:inherit}',
    '[hidden]{display:none!important}',
    '.sr{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}',
    ':focus{outline:none}',
    ':focus-visible{outline:3px solid #1d4ed8;outline-offset:2px;box-shadow:0 0 0 2px #fff}',
    '.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;border:0;background:var(--accent);color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center;box-shadow:0 4px 14px rgba(0,0,0,.3)}',
    '.launcher:hover{background:var(--accent-dark)}',
    '.launcher svg{width:28px;height:28px}',
    '.badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#b91c1c;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;border:2px solid #fff}',
    '.panel{position:fixed;right:20px;bottom:92px;z-index:2147483000;width:380px;max-width:calc(100vw - 40px);height:580px;max-height:calc(100vh - 112px);display:flex;flex-direction:column;background:#fff;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.28);overflow:hidden}',
    '.head{display:flex;align-items:center;gap:10px;padding:12px 12px 12px 16px;background:var(--accent);color:#fff}',
    '.head .t{flex:1;min-width:0}',
    '.head h2{margin:0;font-size:16px;font-weight:700;line-height:1.3}',
    '.head p{margin:0;font-size:13px;color:#fff;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}',
    '.head button{flex:none;width:40px;height:40px;border:0;border-radius:8px;background:transparent;color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center}',
    '.head button:hover{background:rgba(255,255,255,.16)}',
    '.head button:focus-visible{outline:3px solid #fff;outline-offset:-3px;box-shadow:none}',
    '.banner{padding:8px 16px;font-size:13px;background:#fef3c7;color:#713f12;border-bottom:1px solid #f3d98b;display:flex;align-items:center;gap:8px;flex-wrap:wrap}',
    '.banner button{border:1px solid #713f12;background:#fff;color:#713f12;border-radius:6px;padding:2px 10px;cursor:pointer}',
    '.queue{padding:8px 16px;font-size:13px;background:#eef2ff;color:#1d2433;border-bottom:1px solid #c7d2fe}',
    '.scroll{flex:1;overflow-y:auto;overscroll-behavior:contain;padding:14px 12px 6px;background:#fff}',
    '.log{display:flex;flex-direction:column;gap:6px}',
    '.who{font-size:12px;color:#4b5563;margin:6px 6px 0}',
    '.who.mine{align-self:flex-end}',
    '.msg{max-width:85%;padding:8px 12px;border-radius:16px;overflow-wrap:anywhere;word-break:break-word}',
    '.msg.mine{align-self:flex-end;background:var(--accent);color:#fff;border-bottom-right-radius:4px;white-space:pre-wrap}',
    '.msg.them{align-self:flex-start;background:#f1f3f7;color:#1d2433;border-bottom-left-radius:4px}',
    '.msg p{margin:0 0 .5em}.msg p:last-child{margin-bottom:0}',
    '.msg ul,.msg ol{margin:.2em 0 .5em;padding-left:1.3em}.msg ul:last-child,.msg ol:last-child{margin-bottom:0}',
    '.msg a{color:#1e40af;text-decoration:underline}',
    '.thumbs{display:flex;gap:4px;margin:-2px 0 2px 6px}',
    '.thumb{border:1px solid #6b7280;background:#fff;border-radius:12px;padding:0 8px;cursor:pointer;font-size:13px;line-height:22px}',
    '.thumb[aria-pressed=true]{background:#1d4ed8;border-color:#1d4ed8}',
    '.msg.mine a{color:#fff}',
    '.msg code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.92em;background:rgba(0,0,0,.07);padding:0 .25em;border-radius:4px}',
    '.state{align-self:flex-end;font-size:12px;color:#4b5563;margin:-2px 6px 0}',
    '.state.bad{color:#b91c1c}',
    '.note{align-self:center;max-width:95%;text-align:center;font-size:13px;color:#374151;background:#f9fafb;border:1px solid #e5e7eb;border-radius:10px;padding:6px 12px;margin:4px 0}',
    '.note p{margin:0}',
    '.note.error{color:#8a1c1c;background:#fdecec;border-color:#f5c2c2}',
    '.choices{align-self:flex-start;display:flex;flex-wrap:wrap;gap:6px;max-width:100%;margin:2px 0 4px}',
    '.choice{min-height:36px;padding:6px 14px;border:2px solid var(--accent);border-radius:18px;background:#fff;color:var(--accent);cursor:pointer;text-align:left}',
    '.choice:hover{background:#eff6ff}',
    '.typing{display:flex;align-items:center;gap:8px;padding:4px 6px 8px;font-size:13px;color:#4b5563}',
    '.dots{display:inline-flex;gap:3px;padding:8px 10px;background:#f1f3f7;border-radius:12px}',
    '.dots i{width:6px;height:6px;border-radius:50%;background:#4b5563;animation:sd-bounce 1.2s infinite ease-in-out}',
    '.dots i:nth-child(2){animation-delay:.15s}.dots i:nth-child(3){animation-delay:.3s}',
    '@keyframes sd-bounce{0%,60%,100%{transform:translateY(0)}30%{transform:translateY(-4px)}}',
    '.card{margin:8px 0 6px;padding:12px;border:1px solid #d1d5db;border-radius:12px;background:#fff}',
    '.card h3,.card legend{margin:0 0 4px;padding:0;font-size:15px;font-weight:700}',
    '.card fieldset{border:0;margin:0;padding:0;min-width:0}',
    '.card .hint{margin:0 0 6px;font-size:13px;color:#4b5563}',
    '.card label.f{display:block;font-size:13px;font-weight:600;margin:8px 0 4px}',
    '.card input[type=email],.card textarea{display:block;width:100%;padding:8px 10px;border:1px solid #6b7280;border-radius:8px;background:#fff;color:#1d2433}',
    '.card textarea{min-height:64px;resize:vertical}',
    '.card .err{margin:6px 0 0;font-size:13px;color:#b91c1c}',
    '.row{display:flex;gap:8px;margin-top:10px;flex-wrap:wrap}',
    '.btn{min-height:40px;padding:8px 16px;border-radius:8px;border:2px solid var(--accent);background:var(--accent);color:#fff;font-weight:600;cursor:pointer}',
    '.btn:hover{background:var(--accent-dark);border-color:var(--accent-dark)}',
    '.btn.alt{background:#fff;color:var(--accent)}',
    '.btn.alt:hover{background:#eff6ff}',
    '.btn:disabled{cursor:default;background:#e5e7eb;border-color:#e5e7eb;color:#374151}',
    '.stars{display:flex;gap:2px}',
    '.stars label{position:relative;cursor:pointer;font-size:30px;line-height:1;color:#6b7280;padding:2px 3px;border-radius:6px}',
    '.stars label.on{color:#b45309}',
    '.stars input{position:absolute;opacity:0;width:1px;height:1px;margin:0}',
    '.stars label:focus-within{outline:3px solid #1d4ed8;outline-offset:1px}',
    '.composer{display:flex;align-items:flex-end;gap:8px;padding:10px 12px;border-top:1px solid #d1d5db;background:#fff}',
    '.composer textarea{flex:1;min-width:0;height:42px;max-height:120px;resize:none;padding:9px 12px;border:1px solid #6b7280;border-radius:10px;background:#fff;color:#1d2433;line-height:1.4}',
    '.composer textarea::placeholder{color:#4b5563;opacity:1}',
    '.composer .send{flex:none;width:44px;height:42px;border:0;border-radius:10px;background:var(--accent);color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center}',
    '.composer .send:hover{background:var(--accent-dark)}',
    '@media (max-width:480px){.panel{top:0;right:0;bottom:0;left:0;width:100%;max-width:none;height:100%;max-height:none;border-radius:0}.root.open .launcher{display:none}.msg{max-width:90%}}',
    '@media (prefers-reduced-motion:reduce){.dots i{animation:none}}',
    '@media (forced-colors:active){.msg,.note,.choice,.card,.launcher,.composer .send{border:1px solid CanvasText}}',
  ].join('\n');

  function addStyles(root) {
    try {
      var sheet = new CSSStyleSheet(); // not an inline <style>: strict CSPs allow it
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.appendChild(h('style', { text: CSS }));
    }
  }

  // ------------------------------------------------------------ storage

  // {server, conversation, resume, last_seq, outbox: [{id, text, choice}]}
  var memoryStore = null;
  function load() {
    var v = null;
    try {
      v = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || 'null');
    } catch (e) {
      v = memoryStore;
    }
    if (!v || typeof v !== 'object' || v.server !== URL_CHAT) return null;
    return v;
  }
  function save() {
    var v = {
      server: URL_CHAT,
      conversation: conv.id,
      resume: conv.resume,
      last_seq: conv.seq,
      outbox: outbox.map(function (m) { return { id: m.id, text: m.text, choice: m.choice }; }),
    };
    memoryStore = v;
    try {
      window.sessionStorage.setItem(STORE_KEY, JSON.stringify(v));
    } catch (e) { /* storage disabled: memory only */ }
  }

  // ------------------------------------------------------------ state

  var conv = { id: null, resume: null, seq: 0 };  // seq: highest content seq received
  var outbox = [];          // messages not acknowledged yet, oldest first
  var ws = null;
  var phase = 'idle';       // idle | connecting | welcomed | backoff | elsewhere
  var attempts = 0;         // reconnects since the last welcome
  var retryTimer = 0;
  var replayUpTo = 0;       // frames with seq <= this are a replay: shown at once
  var replayTimer = 0;
  var flushed = false;      // the outbox was (re)sent on this connection
  var limits = { max_text: 4096 };
  var pendingCsat = null;   // a csat frame waiting for a connection
  var msgSeq = 0;
  var isOpen = false;
  var unread = 0;
  var agentName = null;
  var lastReplySource = null;
  var offline = null;       // the leave_message flow: {answers, queuedEmail, last}
  var csatCard = null;
  var lastNotice = {};      // error code -> time shown, to not repeat notices
  var typingSent = false, typingTimer = 0, remoteTypingTimer = 0;
  var ackTimer = 0, shownSeq = 0, ackedSeq = 0;

  var stored = load();
  if (stored) {
    conv.id = stored.conversation || null;
    conv.resume = typeof stored.resume === 'string' ? stored.resume : null;
    // a fresh page has an empty transcript: ask for all of it (last_seq 0)
    conv.seq = 0;
    if (Array.isArray(stored.outbox)) {
      stored.outbox.forEach(function (m) {
        if (m && typeof m.id === 'string' && typeof m.text === 'string') {
          outbox.push({ id: m.id, text: m.text, choice: typeof m.choice === 'string' ? m.choice : null, el: null });
        }
      });
    }
  }

  // ------------------------------------------------------------ the view

  var host = document.createElement('supportd-chat');
  host.setAttribute('data-version', VERSION);
  var root = host.attachShadow({ mode: 'open' });
  addStyles(root);

  var ids = 0;
  function uid(p) { return 'sd-' + p + '-' + (++ids); }

  var titleId = uid('title');
  var panelId = uid('panel');
  var launcherLabel = h('span', { class: 'sr', text: S.open });
  var badge = h('span', { class: 'badge', 'aria-hidden': 'true', hidden: true });
  var launcher = h('button', {
    type: 'button', class: 'launcher', 'aria-expanded': 'false', 'aria-controls': panelId,
  }, icon(ICON_CHAT), launcherLabel, badge);

  var statusText = S.subtitle; // what the header says when the connection is fine
  var statusLine = h('p', { text: statusText });
  function setStatus(text) {
    statusText = text;
    if (phase === 'welcomed' || phase === 'idle') statusLine.textContent = text;
  }
  var closeBtn = h('button', { type: 'button', 'aria-label': S.close, title: S.close }, icon(ICON_CLOSE));
  var banner = h('div', { class: 'banner', role: 'status', hidden: true });
  var queueBar = h('div', { class: 'queue', role: 'status', hidden: true });
  var log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': TITLE });
  var typingText = h('span');
  var typingRow = h('div', { class: 'typing', hidden: true },
    h('span', { class: 'dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')), typingText);
  var actions = h('div', { class: 'actions' });
  var intro = h('div', { class: 'log' }, h('div', { class: 'msg them' }, h('p', { text: S.intro })));
  var scroller = h('div', { class: 'scroll' }, intro, log, typingRow, actions);
  var inputId = uid('input');
  var input = h('textarea', {
    id: inputId, rows: '1', placeholder: S.placeholder, autocomplete: 'off', enterkeyhint: 'send',
  });
  var sendBtn = h('button', { type: 'submit', class: 'send', 'aria-label': S.send, title: S.send }, icon(ICON_SEND));
  var composer = h('form', { class: 'composer' },
    h('label', { class: 'sr', for: inputId, text: S.input }), input, sendBtn);
  var panel = h('div', {
    id: panelId, class: 'panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': titleId, hidden: true,
  },
  h('div', { class: 'head' },
    h('div', { class: 't' }, h('h2', { id: titleId, text: TITLE }), statusLine), closeBtn),
  banner, queueBar, scroller, composer);
  var rootEl = h('div', { class: 'root', lang: uiLang }, panel, launcher);
  root.appendChild(rootEl);

  // New content scrolls into view unless the reader has scrolled up.
  var stick = true;
  scroller.addEventListener('scroll', function () {
    stick = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 60;
  });
  function toBottom(force) {
    if (force) stick = true;
    if (stick) scroller.scrollTop = scroller.scrollHeight;
  }

  function setUnread(n) {
    unread = n;
    badge.textContent = n > 9 ? '9+' : String(n);
    badge.hidden = n === 0;
    launcherLabel.textContent = isOpen ? S.close : S.open + (n ? ' (' + fill(S.unread, { n: n }) + ')' : '');
  }

  function open() {
    if (isOpen) return;
    isOpen = true;
    panel.hidden = false;
    rootEl.classList.add('open');
    launcher.setAttribute('aria-expanded', 'true');
    setUnread(0);
    connect();
    toBottom(true);
    input.focus();
    scheduleAck();
  }

  function close() {
    if (!isOpen) return;
    isOpen = false;
    panel.hidden = true;
    rootEl.classList.remove('open');
    launcher.setAttribute('aria-expanded', 'false');
    setUnread(0);
    stopTyping();
    launcher.focus();
  }

  launcher.addEventListener('click', function () { if (isOpen) close(); else open(); });
  closeBtn.addEventListener('click', close);
  rootEl.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && isOpen) {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  });

  // ------------------------------------------------------------ transcript

  var lastWho = null; // who spoke last, to label runs of bubbles once

  function speaker(kind, name) {
    var key = kind + ':' + (name || '');
    var label = kind === 'mine' ? S.you : name;
    if (key !== lastWho) {
      lastWho = key;
      log.appendChild(h('div', { class: 'who' + (kind === 'mine' ? ' mine' : ''), 'aria-hidden': 'true', text: label }));
    }
    return h('span', { class: 'sr', text: label + ': ' });
  }

  function timeTitle(ts) {
    var d = typeof ts === 'number' ? new Date(ts) : new Date();
    try {
      return d.toLocaleTimeString(langTag, { hour: '2-digit', minute: '2-digit' });
    } catch (e) {
      return d.toLocaleTimeString();
    }
  }

  // A customer bubble: plain text, never Markdown.
  function customerBubble(text, ts) {
    var b = h('div', { class: 'msg mine', title: timeTitle(ts) }, speaker('mine'), document.createTextNode(text));
    log.appendChild(b);
    dropChoices();
    if (csatCard) removeCsat();
    return b;
  }

  function setState(m, text, bad) {
    if (!m.stateEl) {
      m.stateEl = h('div', { class: 'state', 'aria-hidden': 'true' });
      if (m.el && m.el.parentNode) m.el.parentNode.insertBefore(m.stateEl, m.el.nextSibling);
    }
    m.stateEl.textContent = text;
    m.stateEl.classList.toggle('bad', !!bad);
  }
  function clearState(m) {
    if (m.stateEl && m.stateEl.parentNode) m.stateEl.parentNode.removeChild(m.stateEl);
    m.stateEl = null;
  }

  function note(text, cls, markdownText) {
    var n = h('div', { class: 'note' + (cls ? ' ' + cls : '') }, h('span', { class: 'sr', text: S.notice + ': ' }));
    if (markdownText) renderMarkdown(text, n);
    else n.appendChild(h('p', { text: text }));
    log.appendChild(n);
    lastWho = null;
    toBottom(false);
    return n;
  }

  function errorNote(code) {
    var now = Date.now();
    if (lastNotice[code] && now - lastNotice[code] < 5000) return;
    lastNotice[code] = now;
    note(S.err[code] || S.err.generic, 'error');
  }

  var activeChoices = [];
  function dropChoices() {
    activeChoices.forEach(function (g) { if (g.parentNode) g.parentNode.removeChild(g); });
    activeChoices = [];
  }

  function choiceButtons(choices) {
    var g = h('div', { class: 'choices', role: 'group' });
    choices.forEach(function (c) {
      if (!c || typeof c.id !== 'string' || typeof c.label !== 'string') return;
      var b = h('button', { type: 'button', class: 'choice', 'data-choice': c.id, text: c.label });
      b.addEventListener('click', function () {
        send(c.label, c.id);
        input.focus();
      });
      g.appendChild(b);
    });
    if (!g.firstChild) return;
    log.appendChild(g);
    activeChoices.push(g);
  }

  // Shows one content frame (a reply, or a customer message from a replay
  // or another connection of this conversation).
  function render(f) {
    if (f.type === 'message') {
      var mine = outbox.filter(function (m) { return m.id === f.id; })[0];
      var existing = log.querySelector('[data-id="' + cssEscape(f.id) + '"]');
      if (mine) acked(mine); // stored: the replay proves it
      if (!existing) { // sent from another page, or before a reload
        var b = customerBubble(String(f.text || ''), f.ts);
        if (typeof f.id === 'string') b.setAttribute('data-id', f.id);
        offlineAnswer(String(f.text || ''));
      }
    } else if (f.type === 'reply') {
      renderReply(f);
    }
    if (typeof f.seq === 'number' && f.seq > shownSeq) shownSeq = f.seq;
    scheduleAck();
    toBottom(false);
  }

  function renderReply(f) {
    var text = String(f.text || '');
    var src = String(f.source || '');
    var from = f.from;
    if (from === 'agent' && f.agent && typeof f.agent.name === 'string') agentName = f.agent.name;
    hideTyping();

    if (from === 'system') {
      note(text, src === 'closed' ? 'closed' : '', true);
      if (src === 'agent_joined') {
        queueBar.hidden = true;
        setStatus(text.replace(/\s+/g, ' '));
      } else if (src === 'closed') {
        queueBar.hidden = true;
        setStatus(S.subtitle);
        agentName = null;
        var rates = (f.choices || []).filter(function (c) { return c && /^csat:[1-5]$/.test(c.id); });
        if (rates.length) showCsat();
      } else if (src === 'csat') {
        removeCsat();
      }
    } else {
      var name = from === 'agent' ? (agentName || S.agent) : S.bot;
      var b = h('div', { class: 'msg them', title: timeTitle(f.ts) }, speaker(from === 'agent' ? 'agent' : 'bot', name));
      renderMarkdown(text, b, { breaks: from === 'agent' });
      log.appendChild(b);
      if (from !== 'agent' && /^(faq|intent):/.test(src) && typeof f.seq === 'number') thumbs(f.seq);
      var choices = Array.isArray(f.choices) ? f.choices : [];
      if (choices.length) choiceButtons(choices);
    }
    offlineReply(src, text);
    lastReplySource = src;
  }

  // Thumbs up or down under a bot answer (the rate frame): the choice stays
  // pressed once the server has stored it ("rated").
  function thumbs(seq) {
    var row = h('div', { class: 'thumbs', role: 'group', 'aria-label': S.rateAnswer, 'data-seq': seq });
    [['up', '\uD83D\uDC4D', S.helpful], ['down', '\uD83D\uDC4E', S.notHelpful]].forEach(function (t) {
      var b = h('button', { type: 'button', class: 'thumb', 'data-value': t[0], 'aria-label': t[2],
        'aria-pressed': 'false', title: t[2] }, t[1]);
      b.addEventListener('click', function () {
        sendFrame({ type: 'rate', seq: seq, value: t[0] });
      });
      row.appendChild(b);
    });
    log.appendChild(row);
  }

  function rated(f) {
    var row = log.querySelector('.thumbs[data-seq="' + Number(f.seq) + '"]');
    if (!row) return;
    var bs = row.querySelectorAll('.thumb');
    for (var i = 0; i < bs.length; i++) {
      bs[i].setAttribute('aria-pressed', bs[i].getAttribute('data-value') === f.value ? 'true' : 'false');
    }
  }

  function cssEscape(s) {
    return window.CSS && CSS.escape ? CSS.escape(String(s)) : String(s).replace(/["\\]/g, '\\$&');
  }

  // ------------------------------------------------------------ pacing

  // Content frames are shown one at a time, in seq order. A live bot reply
  // waits while the typing indicator runs (paceMs); replays, agents and
  // notices show at once.
  var showQueue = [];
  var showTimer = 0;

  function enqueue(f, replayed) {
    var wait = !replayed && f.type === 'reply' && f.from === 'bot' ? paceMs(f.text) : 0;
    showQueue.push({ f: f, wait: wait, live: !replayed });
    pump();
  }

  function pump() {
    while (!showTimer && showQueue.length) {
      var item = showQueue[0];
      if (item.wait > 0) {
        showTyping(S.typingBot);
        showTimer = setTimeout(function () {
          showTimer = 0;
          item.wait = 0;
          pump();
        }, item.wait);
        return;
      }
      showQueue.shift();
      render(item.f);
      if (item.live && !isOpen && item.f.type === 'reply') setUnread(unread + 1);
    }
  }

  function resetQueue() {
    clearTimeout(showTimer);
    showTimer = 0;
    showQueue = [];
    hideTyping();
  }

  function showTyping(text) {
    typingText.textContent = text;
    typingRow.hidden = false;
    toBottom(false);
  }
  function hideTyping() {
    typingRow.hidden = true;
    clearTimeout(remoteTypingTimer);
  }

  // ------------------------------------------------------------ offline form

  // The leave_message flow (lua/flows/leave_message.lua) asks for a message,
  // then for an e-mail address. Its first question right after a handoff
  // notice brings up a form for both; the form answers the first question,
  // keeps the address and sends it when the flow asks for it.
  var EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
  var offlineCard = null;

  function offlineReply(src, text) {
    if (src !== 'flow:leave_message') {
      if (offline && lastReplySource !== null) endOffline();
      return;
    }
    if (!offline) {
      if (lastReplySource !== 'handoff') return; // e.g. "OK, I've stopped"
      offline = { answers: 0, queuedEmail: null, last: null };
      queueBar.hidden = true;
      showOfflineForm(false);
      return;
    }
    if (offline.answers === 0) return showOfflineForm(false);
    if (offline.queuedEmail) {
      var email = offline.queuedEmail;
      offline.queuedEmail = null;
      send(email, null);
      return;
    }
    if (offline.answers >= 2 && offline.last && text.indexOf(offline.last) >= 0) return endOffline(); // "we'll reply to <address>"
    if (offline.answers >= 4) return endOffline(); // three addresses refused: the flow gave up
    showOfflineForm(true, offline.answers >= 2);
  }

  function offlineAnswer(text) {
    if (!offline) return;
    offline.answers++;
    offline.last = text;
    if (offlineCard && !offline.queuedEmail) removeOfflineForm();
  }

  function endOffline() {
    offline = null;
    removeOfflineForm();
  }

  function removeOfflineForm() {
    if (offlineCard && offlineCard.parentNode) offlineCard.parentNode.removeChild(offlineCard);
    offlineCard = null;
  }

  function field(label, control) {
    control.id = uid('f');
    return [h('label', { class: 'f', for: control.id, text: label }), control];
  }

  function showOfflineForm(emailOnly, again) {
    removeOfflineForm();
    var msg = h('textarea', { name: 'message', rows: '3', required: true, maxlength: String(limits.max_text) });
    var email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'email', inputmode: 'email' });
    var err = h('p', { class: 'err', role: 'alert', hidden: true });
    var title = h('h3', { id: uid('h'), text: emailOnly && again ? S.offlineEmailAgain : S.offlineTitle });
    var form = h('form', { class: 'card offline', 'aria-labelledby': title.id, novalidate: true }, title,
      emailOnly ? null : h('p', { class: 'hint', text: S.offlineHint }));
    if (!emailOnly) field(S.offlineMessage, msg).forEach(function (n) { form.appendChild(n); });
    field(S.offlineEmail, email).forEach(function (n) { form.appendChild(n); });
    var cancel = h('button', { type: 'button', class: 'btn alt', text: S.offlineCancel });
    form.appendChild(err);
    form.appendChild(h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn', text: S.offlineSend }), cancel));
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var m = msg.value.trim();
      var a = email.value.trim();
      var problem = !emailOnly && !m ? [S.needMessage, msg] : !EMAIL_RE.test(a) ? [S.needEmail, email] : null;
      if (problem) {
        err.textContent = problem[0];
        err.hidden = false;
        problem[1].setAttribute('aria-invalid', 'true');
        problem[1].focus();
        return;
      }
      if (emailOnly) {
        send(a, null);
      } else {
        offline.queuedEmail = a;
        send(m, null);
      }
      removeOfflineForm();
      input.focus();
    });
    cancel.addEventListener('click', function () {
      offline = null;
      removeOfflineForm();
      send(S.cancel, 'cancel');
      input.focus();
    });
    actions.appendChild(form);
    offlineCard = form;
    toBottom(true);
  }

  // ------------------------------------------------------------ CSAT

  function removeCsat() {
    if (csatCard && csatCard.parentNode) csatCard.parentNode.removeChild(csatCard);
    csatCard = null;
  }

  function showCsat() {
    removeCsat();
    var legendId = uid('h');
    var stars = h('div', { class: 'stars', role: 'radiogroup', 'aria-labelledby': legendId });
    var labels = [];
    var name = uid('rating');
    var rating = 0;
    function paint(n) {
      labels.forEach(function (l, i) { l.classList.toggle('on', i < n); });
    }
    for (var n = 1; n <= 5; n++) {
      (function (v) {
        var r = h('input', { type: 'radio', name: name, value: String(v) });
        var l = h('label', { title: fill(S.star, { n: v }) }, r, h('span', { 'aria-hidden': 'true', text: '★' }),
          h('span', { class: 'sr', text: fill(S.star, { n: v }) }));
        r.addEventListener('change', function () { rating = v; paint(v); });
        l.addEventListener('mouseenter', function () { paint(v); });
        l.addEventListener('mouseleave', function () { paint(rating); });
        labels.push(l);
        stars.appendChild(l);
      })(n);
    }
    var comment = h('textarea', { name: 'comment', rows: '2', maxlength: String(CSAT_COMMENT_MAX) });
    var err = h('p', { class: 'err', role: 'alert', hidden: true });
    var submit = h('button', { type: 'submit', class: 'btn', text: S.csatSend });
    var form = h('form', { class: 'card csat', novalidate: true },
      h('fieldset', null, h('legend', { id: legendId, text: S.csatTitle }), stars));
    field(S.csatComment, comment).forEach(function (x) { form.appendChild(x); });
    form.appendChild(err);
    form.appendChild(h('div', { class: 'row' }, submit));
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var c = comment.value.trim();
      var problem = !rating ? S.csatNeed : utf8Length(c) > CSAT_COMMENT_MAX ? S.csatLong : null;
      if (problem) {
        err.textContent = problem;
        err.hidden = false;
        return;
      }
      var frame = { type: 'csat', rating: rating };
      if (c) frame.comment = c;
      submit.disabled = true;
      submit.textContent = S.sending;
      if (!sendFrame(frame)) pendingCsat = frame;
    });
    actions.appendChild(form);
    csatCard = form;
    toBottom(true);
  }

  // ------------------------------------------------------------ sending

  function utf8Length(s) {
    return new TextEncoder().encode(s).length;
  }

  function sendFrame(obj) {
    if (!ws || ws.readyState !== 1 || phase !== 'welcomed') return false;
    try {
      ws.send(JSON.stringify(obj));
      return true;
    } catch (e) {
      return false;
    }
  }

  function newId() {
    return 'w-' + Date.now().toString(36) + '-' + (++msgSeq) + '-' + Math.random().toString(36).slice(2, 7);
  }

  // Sends a customer message (a button press when choice is set). It shows
  // at once, waits in the outbox until acknowledged, and is sent again with
  // the same id after a reconnect.
  function send(text, choice) {
    if (!text.trim()) return false;
    if (utf8Length(text) > limits.max_text) {
      errorNote('text_too_long');
      return false;
    }
    var m = { id: newId(), text: text, choice: choice || null, el: null, stateEl: null };
    m.el = customerBubble(text);
    m.el.setAttribute('data-id', m.id);
    setState(m, S.sending);
    outbox.push(m);
    save();
    offlineAnswer(text);
    stopTyping();
    transmit(m);
    toBottom(true);
    connect();
    return true;
  }

  function transmit(m) {
    var frame = { type: 'message', id: m.id, text: m.text };
    if (m.choice) frame.choice = m.choice;
    if (flushed) sendFrame(frame); // otherwise the outbox goes after the welcome (and replay)
  }

  function acked(m) {
    var i = outbox.indexOf(m);
    if (i >= 0) outbox.splice(i, 1);
    clearState(m);
    save();
  }

  function failed(m) {
    var i = outbox.indexOf(m);
    if (i >= 0) outbox.splice(i, 1);
    setState(m, S.notSent, true);
    save();
  }

  // After the welcome and its replay: show outbox messages that a reload
  // left out, and send them all again with the same ids.
  function flushOutbox() {
    clearTimeout(replayTimer);
    if (flushed) return;
    flushed = true;
    outbox.slice().forEach(function (m) {
      if (!m.el) {
        m.el = customerBubble(m.text);
        m.el.setAttribute('data-id', m.id);
        setState(m, S.sending);
      }
      transmit(m);
    });
    if (pendingCsat && sendFrame(pendingCsat)) pendingCsat = null;
    toBottom(false);
  }

  function retryLater(m, ms) {
    setTimeout(function () {
      if (outbox.indexOf(m) >= 0) transmit(m);
    }, ms);
  }

  // Tells the server what has been shown (while the panel is open).
  function scheduleAck() {
    if (ackTimer || !isOpen || shownSeq <= ackedSeq) return;
    ackTimer = setTimeout(function () {
      ackTimer = 0;
      if (isOpen && shownSeq > ackedSeq && sendFrame({ type: 'ack', seq: shownSeq })) ackedSeq = shownSeq;
    }, 300);
  }

  function stopTyping() {
    clearTimeout(typingTimer);
    if (typingSent) sendFrame({ type: 'typing', state: false });
    typingSent = false;
  }

  input.addEventListener('input', function () {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight + 2, 120) + 'px';
    if (!input.value.trim()) return stopTyping();
    if (!typingSent && sendFrame({ type: 'typing', state: true })) typingSent = true;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  });
  input.addEventListener('blur', stopTyping);
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submitInput();
    }
  });
  composer.addEventListener('submit', function (e) {
    e.preventDefault();
    submitInput();
    input.focus();
  });

  function submitInput() {
    var text = input.value;
    if (!text.trim()) return;
    if (send(text, null)) {
      input.value = '';
      input.style.height = '';
    }
  }

  // ------------------------------------------------------------ connection

  function setBanner(text, action) {
    banner.textContent = '';
    if (!text) {
      banner.hidden = true;
      return;
    }
    banner.appendChild(h('span', { text: text }));
    if (action) banner.appendChild(action);
    banner.hidden = false;
  }

  function connect() {
    if (ws || phase === 'elsewhere' || phase === 'backoff') return;
    phase = 'connecting';
    flushed = false;
    if (attempts === 0 && !conv.resume) statusLine.textContent = S.connecting;
    var sock;
    try {
      sock = new WebSocket(URL_CHAT, PROTOCOL);
    } catch (e) {
      ws = null;
      return scheduleReconnect(0);
    }
    ws = sock;
    sock.onopen = function () {
      var hello = { type: 'hello', lang: langTag };
      if (data.name) hello.name = String(data.name).slice(0, 128);
      if (data.email) hello.email = String(data.email).slice(0, 254);
      if (conv.resume) {
        hello.resume = conv.resume;
        hello.last_seq = conv.seq; // 0 on a fresh page: the whole transcript
      }
      sock.send(JSON.stringify(hello));
    };
    sock.onmessage = function (ev) {
      if (ws !== sock) return;
      var f;
      try {
        f = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (f && typeof f === 'object') onFrame(f);
    };
    sock.onclose = function (ev) {
      if (ws !== sock) return;
      ws = null;
      clearTimeout(replayTimer);
      typingSent = false;
      if (ev.code === 4001) { // resumed elsewhere: do not fight the other tab
        phase = 'elsewhere';
        var again = h('button', { type: 'button', text: S.continueHere });
        again.addEventListener('click', function () {
          phase = 'idle';
          setBanner(null);
          conv.seq = shownSeq; // the other tab may have added frames: replay them
          connect();
        });
        setBanner(S.elsewhere, again);
        return;
      }
      scheduleReconnect(ev.code === 1008 ? 10000 : 0);
    };
  }

  // Exponential backoff with jitter: 0.5-1 x min(30 s, 0.5 s x 2^n).
  function scheduleReconnect(minMs) {
    phase = 'backoff';
    var cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * Math.pow(2, attempts));
    var wait = Math.max(minMs || 0, cap / 2 + Math.random() * cap / 2);
    attempts++;
    setBanner(navigator.onLine === false ? S.offline : S.reconnecting);
    statusLine.textContent = S.reconnecting;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(function () {
      phase = 'idle';
      connect();
    }, wait);
  }

  window.addEventListener('online', function () {
    if (phase === 'backoff') {
      clearTimeout(retryTimer);
      phase = 'idle';
      connect();
    }
  });

  function onWelcome(f) {
    var fresh = conv.id && f.conversation !== conv.id;
    if (fresh) { // the old conversation is gone: start over on screen too
      resetQueue();
      log.textContent = '';
      actions.textContent = '';
      offline = null;
      offlineCard = csatCard = null;
      lastReplySource = null;
      lastWho = null;
      conv.seq = shownSeq = ackedSeq = 0;
      activeChoices = [];
      outbox.forEach(function (m) { m.el = m.stateEl = null; }); // shown again after the welcome
    }
    conv.id = f.conversation;
    conv.resume = f.resume;
    if (f.limits && typeof f.limits.max_text === 'number') limits = f.limits;
    phase = 'welcomed';
    attempts = 0;
    setBanner(null);
    statusLine.textContent = statusText;
    save();
    replayUpTo = typeof f.last_seq === 'number' ? f.last_seq : 0;
    if (conv.seq >= replayUpTo) flushOutbox();
    else replayTimer = setTimeout(flushOutbox, REPLAY_GRACE_MS);
  }

  function outboxById(id) {
    for (var i = 0; i < outbox.length; i++) if (outbox[i].id === id) return outbox[i];
    return null;
  }

  function onFrame(f) {
    switch (f.type) {
    case 'welcome':
      return onWelcome(f);
    case 'ack': {
      if (typeof f.seq === 'number' && f.seq > conv.seq) conv.seq = f.seq;
      if (typeof f.seq === 'number' && f.seq > shownSeq) shownSeq = f.seq;
      var m = outboxById(f.id);
      if (m) acked(m);
      else save();
      return;
    }
    case 'message':
    case 'reply':
      if (typeof f.seq !== 'number') return;
      if (f.seq <= conv.seq) return; // seen already
      conv.seq = f.seq;
      save();
      enqueue(f, f.seq <= replayUpTo);
      if (!flushed && conv.seq >= replayUpTo) flushOutbox();
      return;
    case 'typing':
      if (f.from === 'agent' || f.from === 'bot') {
        if (!f.state) return hideTyping();
        showTyping(f.from === 'agent' ? fill(S.typingAgent, { name: agentName || S.agent }) : S.typingBot);
        clearTimeout(remoteTypingTimer);
        remoteTypingTimer = setTimeout(hideTyping, TYPING_REMOTE_MAX_MS);
      }
      return;
    case 'queue':
      return showQueuePosition(f);
    case 'rated':
      rated(f);
      break;
    case 'error':
      return onError(f);
    default:
      return; // newer servers may send more: ignore
    }
  }

  function showQueuePosition(f) {
    var pos = Number(f.position);
    var sec = Number(f.estimated_wait_sec);
    if (!(pos >= 1)) return;
    var text = pos === 1 ? S.queueNext : fill(S.queue, { position: pos });
    if (sec >= 0) {
      var wait = sec < 60 ? S.waitShort : fill(S.waitMin, { n: Math.round(sec / 60) });
      text += ' ' + fill(S.wait, { wait: wait });
    }
    queueBar.textContent = text;
    queueBar.hidden = false;
  }

  function onError(f) {
    var code = String(f.code || '');
    var m = typeof f.in_reply_to === 'string' ? outboxById(f.in_reply_to) : null;
    switch (code) {
    case 'rate_limited':
      errorNote(code);
      if (m) retryLater(m, 1500 + Math.random() * 1500);
      return;
    case 'store_unavailable':
      errorNote(code);
      if (m) retryLater(m, 3000);
      return;
    case 'text_too_long':
    case 'empty_text':
    case 'conversation_full':
    case 'bad_field':
    case 'invalid_utf8':
      errorNote(S.err[code] ? code : 'generic');
      if (m) failed(m);
      return;
    case 'resume_unknown':
    case 'resume_expired':
      errorNote(code); // a fresh conversation and its welcome follow
      conv.seq = 0;
      return;
    case 'not_closed':
      removeCsat();
      pendingCsat = null;
      return;
    case 'already_greeted':
    case 'hello_required':
      return;
    default:
      errorNote(S.err[code] ? code : 'generic');
    }
  }

  // ------------------------------------------------------------ start

  function mount() {
    document.body.appendChild(host);
    if (conv.resume) connect(); // a conversation in this tab: bring its history back now
  }

  window.SupportdWidget = Object.freeze({
    version: VERSION,
    open: open,
    close: close,
    toggle: function () { if (isOpen) close(); else open(); },
  });

  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
