'use strict';
// Helpers for the browser tests: a headless Chromium driven by
// playwright-core (the system's /usr/bin/chromium; Playwright never
// downloads a browser here), pages that record what went wrong in them, and
// locators for the chat widget, which lives in an open shadow root
// (Playwright's CSS locators pierce open shadow roots).
//
// Every wait is a Playwright wait with a bounded timeout; nothing sleeps.

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { REPO_ROOT, T } = require('../e2e/lib');

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const WAIT = T(10000);          // one UI step (a reply is paced up to 2.5 s)
// Screenshots go to build/screenshots; `make screenshots` (UPDATE_SCREENSHOTS=1)
// writes them over docs/img, so a test run leaves the checkout clean.
const IMG_DIR = process.env.UPDATE_SCREENSHOTS === '1'
  ? path.join(REPO_ROOT, 'docs', 'img')
  : path.join(REPO_ROOT, 'build', 'screenshots');

/** Launch headless Chromium (closed by the caller: browser.close()). */
async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (set CHROMIUM_BIN)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox'],
  });
}

/**
 * A fresh context and page (own sessionStorage). Records on the page:
 *   page.problems  uncaught errors, console errors and CSP violations
 *   page.dialogs   every alert/confirm/prompt (dismissed at once)
 * opts: viewport ({width, height}), locale, colorScheme, ...
 */
async function newPage(browser, opts = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
    ...opts,
  });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  page.problems = [];
  page.dialogs = [];
  page.on('pageerror', (err) => page.problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.problems.push(`console: ${msg.text()}`);
  });
  page.on('dialog', (d) => {
    page.dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  return page;
}

/** Save a PNG screenshot as docs/img/widget-<name>.png; returns its path. */
async function screenshot(page, name) {
  fs.mkdirSync(IMG_DIR, { recursive: true });
  const file = path.join(IMG_DIR, `widget-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * Another web site on loopback (a different origin from supportd's) that
 * serves one page at /: site.page = {html, headers} (extra response
 * headers, a CSP say), settable after the start, since the page usually
 * names a supportd whose port is not known yet. Resolves
 * {url, origin, page, close()}.
 */
function hostSite() {
  const site = { page: { html: '<!doctype html><title>empty</title>', headers: {} } };
  const server = http.createServer((req, res) => {
    if (req.url !== '/') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...site.page.headers });
    res.end(site.page.html);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      site.origin = `http://127.0.0.1:${port}`;
      site.url = `${site.origin}/`;
      site.close = () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); });
      resolve(site);
    });
  });
}

/** Locators for the widget's parts (inside <supportd-chat>'s shadow root). */
function widget(page) {
  const w = (sel) => page.locator(`supportd-chat ${sel}`);
  return {
    launcher: w('.launcher'),
    panel: w('.panel'),
    input: w('.composer textarea'),
    send: w('.composer .send'),
    log: w('.log[role="log"]'),
    mine: w('.msg.mine'),
    theirs: w('.msg.them'),
    notes: w('.note'),
    choices: w('.choice'),
    typing: w('.typing'),
    queue: w('.queue'),
    banner: w('.banner'),
    offlineForm: w('form.offline'),
    csatForm: w('form.csat'),
    /** The reply bubble (bot or agent) whose text matches re. */
    reply: (re) => w('.msg.them').filter({ hasText: re }),
  };
}

/** The element focused inside the widget's shadow root, described. */
function focusedInWidget(page) {
  return page.evaluate(() => {
    const host = document.querySelector('supportd-chat');
    const el = host && host.shadowRoot && host.shadowRoot.activeElement;
    if (!el) return null;
    return {
      tag: el.tagName.toLowerCase(),
      cls: el.className && String(el.className),
      text: el.textContent,
      choice: el.getAttribute('data-choice'),
      hostFocused: document.activeElement === host,
    };
  });
}

/** The widget's sessionStorage record ({conversation, resume, last_seq, outbox}). */
function storedSession(page) {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem('supportd.widget.v1') || 'null'));
}

module.exports = {
  CHROMIUM, WAIT, IMG_DIR, launchBrowser, newPage, hostSite, screenshot, widget, focusedInWidget, storedSession,
};
