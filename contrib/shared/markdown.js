// markdown.js: the chat Markdown subset as DOM nodes, shared by the
// customer widget (contrib/widget, bundled into /widget.js by esbuild) and
// the agents' console (contrib/console, copied next to console.js).
//
// The subset (docs/protocol.md): paragraphs, line breaks, bullet and
// numbered lists, **bold**, *italic* (and the _ forms), `code`,
// [links](https://...) and bare http(s) URLs. Links are made only for http,
// https and mailto; anything else stays text, shown as typed. Everything is
// built with document.createElement, text nodes and setAttribute: no string
// is ever parsed as HTML.
//
// Written in ES5 apart from the export, so the widget bundle stays ES5 for
// the sites that load it.

var ALNUM = /[0-9A-Za-z\u00C0-\uFFFF]/;
var MAX_DEPTH = 6; // nesting of emphasis and links

function make(tag, text) {
  var el = document.createElement(tag);
  if (text != null) el.textContent = text;
  return el;
}

/** The URL if it is an absolute http, https or mailto URL, else null. */
function safeHref(url) {
  try {
    var u = new URL(url); // absolute only: relative URLs throw
    if (u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'mailto:') return u.href;
  } catch (e) { /* not a URL */ }
  return null;
}

function link(href, parent) {
  var a = make('a');
  a.setAttribute('href', href);
  a.setAttribute('target', '_blank');
  a.setAttribute('rel', 'noopener noreferrer nofollow');
  parent.appendChild(a);
  return a;
}

function findClose(s, from, d) {
  for (var j = s.indexOf(d, from); j >= 0; j = s.indexOf(d, j + 1)) {
    if (j === from || /\s/.test(s[j - 1])) continue;
    if (d.length === 1 && (s[j + 1] === d || s[j - 1] === d)) continue;
    if (d[0] === '_' && s[j + d.length] && ALNUM.test(s[j + d.length])) continue;
    return j;
  }
  return -1;
}

function inline(s, parent, depth) {
  var buf = '';
  function flush() {
    if (buf) parent.appendChild(document.createTextNode(buf));
    buf = '';
  }
  var i = 0;
  while (i < s.length) {
    var c = s[i];
    var m;
    if (c === '\\' && i + 1 < s.length && /[\\`*_[\]()#+\-.!>]/.test(s[i + 1])) {
      buf += s[i + 1];
      i += 2;
      continue;
    }
    if (c === '`') {
      var e = s.indexOf('`', i + 1);
      if (e > i + 1) {
        flush();
        parent.appendChild(make('code', s.slice(i + 1, e)));
        i = e + 1;
        continue;
      }
    }
    if ((c === '*' || c === '_') && depth < MAX_DEPTH) {
      var d = s[i + 1] === c ? c + c : c;
      var start = i + d.length;
      var opens = start < s.length && !/\s/.test(s[start]) && s[start] !== c &&
        !(c === '_' && i > 0 && ALNUM.test(s[i - 1]));
      var close = opens ? findClose(s, start, d) : -1;
      if (close > start) {
        flush();
        var el = make(d.length === 2 ? 'strong' : 'em');
        inline(s.slice(start, close), el, depth + 1);
        parent.appendChild(el);
        i = close + d.length;
        continue;
      }
    }
    if (c === '[' && depth < MAX_DEPTH && (m = /^\[([^\]\n]+)\]\(\s*([^\s()]+)\s*\)/.exec(s.slice(i)))) {
      var href = safeHref(m[2]);
      flush();
      if (href) inline(m[1], link(href, parent), depth + 1);
      else parent.appendChild(document.createTextNode(m[0])); // shown as typed, never a link
      i += m[0].length;
      continue;
    }
    if ((c === 'h' || c === 'H') && (i === 0 || !/[0-9A-Za-z/]/.test(s[i - 1])) &&
        (m = /^https?:\/\/[^\s<>"]+/i.exec(s.slice(i)))) {
      var url = m[0].replace(/[.,;:!?'")\]]+$/, '');
      var ok = safeHref(url);
      if (ok) {
        flush();
        link(ok, parent).textContent = url;
        i += url.length;
        continue;
      }
    }
    buf += c;
    i++;
  }
  flush();
}

/**
 * Render src (the chat Markdown subset) as children of parent; returns
 * parent. opts.breaks: a single newline is a line break (agents type in a
 * chat box); without it, as in CommonMark, a newline is a space unless the
 * line ends with two spaces or a backslash (bot answers are hard-wrapped
 * Markdown files). A blank line ends a paragraph or a list.
 */
export function renderMarkdown(src, parent, opts) {
  var breaks = !!(opts && opts.breaks);
  var lines = String(src == null ? '' : src).replace(/\r\n?/g, '\n').split('\n');
  var para = null, list = null, item = null, hard = false;
  for (var n = 0; n < lines.length; n++) {
    var raw = lines[n];
    var brk = breaks || hard; // how this line joins the one before
    hard = / {2,}$/.test(raw) || /(^|[^\\])\\$/.test(raw);
    var line = raw.replace(/\s+$/, '');
    if (/(^|[^\\])\\$/.test(line)) line = line.slice(0, -1);
    if (!line.trim()) {
      para = list = item = null;
      continue;
    }
    var m = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/.exec(line);
    if (m) {
      var ordered = /\d/.test(m[1][0]);
      if (!list || list.ordered !== ordered) {
        var el = make(ordered ? 'ol' : 'ul');
        if (ordered && parseInt(m[1], 10) !== 1) el.setAttribute('start', String(parseInt(m[1], 10)));
        parent.appendChild(el);
        list = { el: el, ordered: ordered };
      }
      para = null;
      item = make('li');
      list.el.appendChild(item);
      inline(m[2], item, 0);
      continue;
    }
    var into = item || para; // a line continues the item or paragraph above it
    if (into) {
      into.appendChild(brk ? make('br') : document.createTextNode(' '));
      inline(line.trim(), into, 0);
      continue;
    }
    parent.appendChild(para = make('p'));
    inline(line, para, 0);
  }
  return parent;
}
