'use strict';
// The customer chat widget (contrib/widget/widget.src.js, bundled by make
// widget into build/widget/widget.js) in a real headless Chromium, against a
// real supportd serving the demo page (/) and the widget (/widget.js) under
// its Content-Security-Policy, with a fake company backend for the password
// reset flow and real agents for the desk.
//
//   make asan widget && SUPPORTD_BIN=build/asan/supportd node --test tests/browser/widget.test.js
//
// Screenshots go to docs/img/widget-*.png.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  T, sqlite, sqlQuote, addAgent, connectAgent, useCleanups, useSharedDaemon, httpGet,
} = require('../e2e/lib');
const { startBackend } = require('../e2e/backend');
const {
  WAIT, launchBrowser, newPage, hostSite, screenshot, widget, focusedInWidget, storedSession,
} = require('./lib');

const CHAT = { rate_per_sec: 1000, rate_burst: 1000 };
const TEST_TIMEOUT = T(120000);

let B = null;
let SITE = null; // another site (origin) that embeds the widget; supportd allows it
const shared = useSharedDaemon(async ({ defer }) => {
  B = await startBackend();
  defer(() => B.close());
  SITE = await hostSite();
  defer(() => SITE.close());
  return {
    config: { chat: CHAT, flows: { backends: { api: B.url } }, allowed_origins: [SITE.origin] },
  };
});
const scope = useCleanups();

let browser = null;
before(async () => { browser = await launchBrowser(); });
after(async () => { if (browser) await browser.close(); });

const base = (d = shared.daemon) => `http://127.0.0.1:${d.port}/`;

/** A page on the demo shop with the widget loaded (its launcher visible). */
async function shopPage(opts = {}, d) {
  const page = await newPage(browser, opts);
  scope.defer(() => page.context().close());
  const res = await page.goto(base(d));
  assert.equal(res.status(), 200);
  assert.match(String(res.headers()['content-security-policy']), /script-src 'self'/,
    'the page is served with its CSP, and the widget must work under it');
  await widget(page).launcher.waitFor({ state: 'visible' });
  return page;
}

/** Open the panel with the launcher; the input has the focus. */
async function openPanel(page) {
  const w = widget(page);
  await w.launcher.click();
  await w.panel.waitFor({ state: 'visible' });
  await w.input.waitFor({ state: 'visible' });
  return w;
}

/** Type a message into the composer and send it with Enter; wait for its bubble. */
async function say(page, text) {
  const w = widget(page);
  await w.input.fill(text);
  await w.input.press('Enter');
  await w.mine.filter({ hasText: text }).last().waitFor({ state: 'visible' });
  assert.equal(await w.input.inputValue(), '', 'the composer is emptied');
}

/** Nothing went wrong in the page: no errors, no CSP violations, no dialogs. */
function assertClean(page) {
  assert.deepEqual(page.problems, [], 'page errors, console errors or CSP violations');
  assert.deepEqual(page.dialogs, [], 'no dialog may open');
}

const count = (loc) => loc.count();

// ================================================================== tests

test('the server serves the widget and the demo page that embeds it', async () => {
  const js = await httpGet(shared.port, '/widget.js');
  assert.equal(js.status, 200);
  assert.match(String(js.headers['content-type']), /javascript/);
  assert.ok(js.body.includes('supportd.chat.v1'));
  assert.ok(!/\beval\s*\(|new Function\s*\(|\.innerHTML\b|insertAdjacentHTML|document\.write/.test(js.body),
    'no eval, no HTML parsing of strings');
  const page = await httpGet(shared.port, '/');
  assert.equal(page.status, 200);
  assert.match(page.body, /<script src="\/widget\.js" data-server="" async><\/script>/);
  assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(page.body), 'no inline script in index.html');
});

test('1. password reset: "I forgot my password", the address, done, against the fake backend', { timeout: TEST_TIMEOUT }, async () => {
  const page = await shopPage();
  const w = await openPanel(page);
  const email = 'widget.jane@example.com';
  const mark = B.requests.length;

  await say(page, 'I forgot my password');
  // the bot "types" before its answer shows
  await w.typing.waitFor({ state: 'visible' });
  assert.match(await w.typing.innerText(), /typing/i);
  const ask = w.reply(/What is the e-mail address on your account\?/);
  await ask.waitFor({ state: 'visible' });
  assert.equal(await w.typing.isVisible(), false, 'the indicator goes when the answer shows');
  assert.equal(B.since(mark).length, 0, 'nothing reaches the backend before there is an address');

  await say(page, email);
  const req = await B.waitForRequest((r) => r.method === 'POST' && r.path === '/password-reset' &&
    r.json && r.json.email === email, WAIT, mark);
  assert.deepEqual(req.json, { email });
  const done = w.reply(/we've just sent it a link to reset the password/);
  await done.waitFor({ state: 'visible' });
  assert.ok((await done.innerText()).includes(email), 'the confirmation names the address');
  assert.equal(B.since(mark).length, 1, 'one backend call');

  // the transcript reads in order: question, address, confirmation
  const texts = await page.locator('supportd-chat .log[role="log"] .msg').allInnerTexts();
  const at = (re) => texts.findIndex((t) => re.test(t));
  assert.ok(at(/I forgot my password/) < at(/e-mail address on your account/));
  assert.ok(at(/e-mail address on your account/) < at(new RegExp(email.replace(/\./g, '\\.'))));
  assert.ok(at(new RegExp(email.replace(/\./g, '\\.'))) < at(/just sent it a link/));
  assert.equal(await w.log.getAttribute('aria-live'), 'polite');
  assertClean(page);
});

test('2. a reload in the middle of a conversation keeps it: same conversation, history once', { timeout: TEST_TIMEOUT }, async () => {
  const page = await shopPage();
  const w = await openPanel(page);
  await say(page, 'how do I return an item');
  await w.reply(/Return items/).waitFor({ state: 'visible' });
  await say(page, 'I forgot my password');
  await w.reply(/What is the e-mail address on your account\?/).waitFor({ state: 'visible' });
  const before1 = await storedSession(page);
  assert.match(before1.conversation, /^c_/);
  assert.ok(before1.resume && before1.resume.length >= 40, 'the resume token is kept');
  assert.ok(before1.last_seq >= 4, `last seq kept: ${JSON.stringify(before1)}`);

  await page.reload();
  await w.launcher.waitFor({ state: 'visible' });
  const after1 = await storedSession(page);
  assert.equal(after1.conversation, before1.conversation, 'the same conversation');
  assert.equal(after1.resume, before1.resume);

  await w.launcher.click();
  await w.reply(/What is the e-mail address on your account\?/).waitFor({ state: 'visible' });
  assert.equal(await count(w.mine.filter({ hasText: 'how do I return an item' })), 1, 'shown once');
  assert.equal(await count(w.mine.filter({ hasText: 'I forgot my password' })), 1, 'shown once');
  assert.equal(await count(w.reply(/Return items/)), 1, 'shown once');
  assert.equal(await count(w.reply(/What is the e-mail address on your account\?/)), 1, 'shown once');
  // the markdown of the return answer came back as a list with links
  assert.ok(await count(page.locator('supportd-chat .msg.them ol li')) >= 3);
  assert.equal(await page.locator('supportd-chat .msg.them a[href="https://northwind.example/returns"]').count(), 1);

  // and the flow carries on where it was
  const email = 'reload.sam@example.com';
  await say(page, email);
  await w.reply(/we've just sent it a link/).waitFor({ state: 'visible' });
  assert.equal((await storedSession(page)).conversation, before1.conversation);
  const rows = sqlite(shared.daemon.dbPath,
    `select count(*) from conversations where public_id = ${sqlQuote(before1.conversation)}`);
  assert.equal(rows[0][0], '1');
  assertClean(page);
});

test('3. HTML in a message is shown as text: no element, no script', { timeout: TEST_TIMEOUT }, async () => {
  const page = await shopPage();
  const w = await openPanel(page);
  const evil = '<img src=x onerror=alert(1)> and <b>bold?</b> <script>alert(2)</script>';
  await say(page, evil);
  // the bot answers (so the whole round trip, and its rendering, is done)
  await w.theirs.nth(0).waitFor({ state: 'visible' });
  await w.typing.waitFor({ state: 'hidden' });
  assert.equal(await w.mine.filter({ hasText: evil }).count(), 1, 'the literal text is shown');
  const inShadow = await page.evaluate(() => {
    const r = document.querySelector('supportd-chat').shadowRoot;
    return { img: r.querySelectorAll('img').length, b: r.querySelectorAll('.log b').length,
      script: r.querySelectorAll('script').length };
  });
  assert.deepEqual(inShadow, { img: 0, b: 0, script: 0 });
  assert.equal(await page.locator('img').count(), 0, 'no img anywhere on the page');
  assert.deepEqual(page.dialogs, [], 'no alert fired');
  assertClean(page);
});

test('4. keyboard only: Tab to the button, Enter opens, type and Enter, Tab to a choice, Escape', { timeout: TEST_TIMEOUT }, async () => {
  const page = await shopPage();
  const w = widget(page);
  let f = null;
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    f = await focusedInWidget(page);
    if (f && /launcher/.test(f.cls)) break;
  }
  assert.ok(f && /launcher/.test(f.cls), `Tab reaches the chat button: ${JSON.stringify(f)}`);
  assert.equal(await w.launcher.getAttribute('aria-expanded'), 'false');

  await page.keyboard.press('Enter');
  await w.panel.waitFor({ state: 'visible' });
  assert.equal(await w.launcher.getAttribute('aria-expanded'), 'true');
  f = await focusedInWidget(page);
  assert.equal(f && f.tag, 'textarea', `focus lands in the input: ${JSON.stringify(f)}`);

  // a question the bot cannot answer: it offers a person
  await page.keyboard.type('qwxz vbnm');
  await page.keyboard.press('Enter');
  await w.mine.filter({ hasText: 'qwxz vbnm' }).waitFor({ state: 'visible' });
  await w.choices.first().waitFor({ state: 'visible' });
  const labels = await w.choices.allInnerTexts();
  assert.ok(labels.includes('Talk to a person'), `choices: ${labels}`);

  // the buttons sit just above the composer: Shift+Tab from the input
  f = await focusedInWidget(page);
  assert.equal(f && f.tag, 'textarea', 'a reply does not steal the focus');
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press('Shift+Tab');
    f = await focusedInWidget(page);
    if (f && f.choice) break;
  }
  assert.ok(f && f.choice, `Tab reaches a choice button: ${JSON.stringify(f)}`);
  const chosen = f.text;

  // Enter presses it: the label goes as the message, the id as its choice
  await page.keyboard.press('Enter');
  await w.mine.filter({ hasText: chosen }).waitFor({ state: 'visible' });
  f = await focusedInWidget(page);
  assert.equal(f && f.tag, 'textarea', 'focus back in the input after a choice');
  await w.theirs.nth(1).waitFor({ state: 'visible' }); // the answer to the choice

  await page.keyboard.press('Escape');
  await w.panel.waitFor({ state: 'hidden' });
  f = await focusedInWidget(page);
  assert.ok(f && /launcher/.test(f.cls), `focus returns to the chat button: ${JSON.stringify(f)}`);
  assert.equal(await w.launcher.getAttribute('aria-expanded'), 'false');

  // Space opens it again
  await page.keyboard.press('Space');
  await w.panel.waitFor({ state: 'visible' });
  f = await focusedInWidget(page);
  assert.equal(f && f.tag, 'textarea');
  await page.keyboard.press('Escape');
  await w.panel.waitFor({ state: 'hidden' });
  assertClean(page);
});

test('5 and 7. on a 360x640 phone the panel fits the viewport (screenshot widget-phone.png)', { timeout: TEST_TIMEOUT }, async () => {
  const page = await shopPage({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const w = await openPanel(page);
  const box = await w.panel.boundingBox();
  assert.ok(box, 'the panel has a box');
  assert.ok(box.x >= 0 && box.y >= 0, `inside: ${JSON.stringify(box)}`);
  assert.ok(box.x + box.width <= 360.5 && box.y + box.height <= 640.5, `fits: ${JSON.stringify(box)}`);
  assert.ok(box.width >= 359, `full width: ${JSON.stringify(box)}`);
  await say(page, 'Hi');
  await w.reply(/How can I help you today/).waitFor({ state: 'visible' });
  await say(page, 'where is my order');
  await w.reply(/What is your order number/).waitFor({ state: 'visible' });
  for (const loc of [w.input, w.send, w.mine.last(), w.theirs.last()]) {
    const b = await loc.boundingBox();
    assert.ok(b.x >= 0 && b.x + b.width <= 360.5 && b.y + b.height <= 640.5, `visible: ${JSON.stringify(b)}`);
  }
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 360, `no sideways scrolling: ${overflow}`);
  await page.mouse.move(180, 60);
  await screenshot(page, 'phone');
  assertClean(page);
});

test('6. Portuguese with data-lang="pt" on another site (strict CSP); Polish from navigator.language', { timeout: TEST_TIMEOUT }, async () => {
  // a shop on another origin embeds supportd's /widget.js with one tag, and
  // allows no inline styles at all: the widget's styles must still apply
  const sd = `http://127.0.0.1:${shared.port}`;
  SITE.page = {
    html: '<!doctype html><html lang="pt"><head><meta charset="utf-8"><link rel="icon" href="data:,">' +
      '<title>Loja</title></head><body><h1>Loja de exemplo</h1><p><a href="#x">Produtos</a></p>' +
      `<script src="${sd}/widget.js" data-lang="pt" async></script></body></html>`,
    headers: {
      'content-security-policy': `default-src 'none'; script-src ${sd}; ` +
        `connect-src ws://127.0.0.1:${shared.port}; style-src 'self'; img-src data:`,
    },
  };
  const page = await newPage(browser);
  scope.defer(() => page.context().close());
  await page.goto(SITE.url);
  const w = widget(page);
  await w.launcher.waitFor({ state: 'visible' });
  assert.equal(await w.launcher.innerText(), 'Abrir conversa');
  const launcherBox = await w.launcher.boundingBox();
  assert.ok(launcherBox.width >= 56 && launcherBox.width <= 64, `styled: ${JSON.stringify(launcherBox)}`);
  await w.launcher.click();
  await w.panel.waitFor({ state: 'visible' });
  assert.equal(await page.locator('supportd-chat .head h2').innerText(), 'Apoio ao cliente');
  assert.equal(await w.input.getAttribute('placeholder'), 'Escreva a sua mensagem…');
  assert.equal(await w.send.getAttribute('aria-label'), 'Enviar');
  assert.equal(await page.locator('supportd-chat .panel .head button').getAttribute('aria-label'), 'Fechar conversa');
  await page.locator('supportd-chat').getByText('Olá! Como podemos ajudar?').waitFor();
  // the bot is told the language too (hello carries lang "pt")
  await say(page, 'qwxz vbnm');
  await w.reply(/Desculpe, não sei responder a isso/).waitFor({ state: 'visible' });
  assert.equal(await w.choices.first().innerText(), 'Falar com uma pessoa');
  assert.equal(await page.locator('h1').evaluate((el) => getComputedStyle(el).fontFamily.includes('system-ui')), false,
    'no widget CSS leaks into the host page');
  assertClean(page);

  const pl = await newPage(browser, { locale: 'pl-PL' });
  scope.defer(() => pl.context().close());
  await pl.goto(base());
  await widget(pl).launcher.waitFor({ state: 'visible' });
  assert.equal(await widget(pl).launcher.innerText(), 'Otwórz czat');
  await widget(pl).launcher.click();
  assert.equal(await widget(pl).input.getAttribute('placeholder'), 'Napisz wiadomość…');
  assertClean(pl);
});

test('7. screenshot widget-open.png: a short conversation with choices (desktop)', { timeout: TEST_TIMEOUT }, async () => {
  const page = await shopPage({ viewport: { width: 1280, height: 800 } });
  const w = await openPanel(page);
  await say(page, 'How do I return an item?');
  await w.reply(/Return items/).waitFor({ state: 'visible' });
  await say(page, 'I need to change something');
  await w.reply(/I think you are asking about/).waitFor({ state: 'visible' });
  await w.choices.first().waitFor({ state: 'visible' });
  assert.ok(await w.choices.count() >= 2);
  const box = await w.panel.boundingBox();
  assert.ok(box.width >= 340 && box.width <= 420, `a side panel on a desktop: ${JSON.stringify(box)}`);
  await page.mouse.move(0, 0);
  await screenshot(page, 'open');
  assertClean(page);
});

test('offline: no agent online, the leave_message form answers both questions', { timeout: TEST_TIMEOUT }, async () => {
  const page = await shopPage();
  const w = await openPanel(page);
  const email = 'offline.zoe@example.com';
  const message = 'Please call me back about my refund';
  await say(page, 'talk to a person');
  await w.reply(/Nobody from our general team is available/).waitFor({ state: 'visible' });
  await w.offlineForm.waitFor({ state: 'visible' });
  await w.reply(/Leave us a message/).waitFor({ state: 'visible' });

  // a wrong address is caught before anything is sent
  await w.offlineForm.locator('textarea').fill(message);
  await w.offlineForm.locator('input[type=email]').fill('not an address');
  await w.offlineForm.locator('button[type=submit]').click();
  await w.offlineForm.locator('.err').waitFor({ state: 'visible' });
  assert.equal(await w.mine.filter({ hasText: message }).count(), 0);

  await w.offlineForm.locator('input[type=email]').fill(email);
  await w.offlineForm.locator('button[type=submit]').click();
  await w.offlineForm.waitFor({ state: 'detached' });
  await w.mine.filter({ hasText: message }).waitFor({ state: 'visible' });
  await w.reply(/Which e-mail address should we answer to/).waitFor({ state: 'visible' });
  await w.mine.filter({ hasText: email }).waitFor({ state: 'visible' });
  await w.reply(new RegExp(`We'll reply to ${email.replace(/\./g, '\\.')}`)).waitFor({ state: 'visible' });
  // the conversation stays readable around the form
  assert.equal(await w.reply(/Nobody from our general team is available/).count(), 1);
  assert.equal(await w.offlineForm.count(), 0);

  const conv = (await storedSession(page)).conversation;
  const rows = sqlite(shared.daemon.dbPath, "select json_object('email', t.email, 'message', t.message) from tickets t " +
    `join conversations c on c.id = t.conversation_id where c.public_id = ${sqlQuote(conv)}`).map((r) => JSON.parse(r[0]));
  assert.deepEqual(rows, [{ email, message }], 'one ticket with the message and the address');
  assertClean(page);
});

test('desk: queue position, the agent joins by name, typing, agent HTML stays text, CSAT when closed', { timeout: TEST_TIMEOUT }, async () => {
  const b = await startBackend();
  scope.defer(() => b.close());
  const d = await scope.daemon({ config: { chat: CHAT, flows: { backends: { api: b.url } } } });
  const token = addAgent(d.dataDir, 'ana', { teams: ['general'], capacity: 1 });
  const a = await connectAgent(d.port);
  scope.defer(async () => a.terminate());
  await a.login('ana', token);
  await a.next({ type: 'queue_view' });

  const page = await shopPage({}, d);
  const w = await openPanel(page);
  await say(page, 'talk to a person');
  await w.reply(/connecting you with someone from our team/).waitFor({ state: 'visible' });
  await w.queue.waitFor({ state: 'visible' });
  assert.match(await w.queue.innerText(), /next in the queue|number \d+ in the queue/);
  assert.match(await w.queue.innerText(), /Estimated wait/);
  const conv = (await storedSession(page)).conversation;

  const offer = await a.next((f) => f.type === 'offer' && f.conversation === conv);
  assert.equal(offer.team, 'general');
  a.send({ type: 'accept', conversation: conv });
  await a.next((f) => f.type === 'assigned' && f.conversation === conv);
  await w.notes.filter({ hasText: "You're now chatting with ana" }).waitFor({ state: 'visible' });
  await w.queue.waitFor({ state: 'hidden' });

  a.send({ type: 'typing', conversation: conv, state: true });
  await w.typing.waitFor({ state: 'visible' });
  assert.match(await w.typing.innerText(), /typing/);
  a.send({ type: 'typing', conversation: conv, state: false });
  await w.typing.waitFor({ state: 'hidden' });

  const evil = 'Hi! <img src=x onerror=alert(1)> **Sure**, see [the help page](https://example.com/help) ' +
    'or [this](javascript:alert(2)).\nSecond line';
  a.send({ type: 'message', conversation: conv, id: 'ag-1', text: evil });
  await a.next({ type: 'ack', id: 'ag-1' });
  const bubble = w.reply(/Second line/);
  await bubble.waitFor({ state: 'visible' });
  assert.ok((await bubble.innerText()).includes('<img src=x onerror=alert(1)>'), 'the tag is shown as text');
  assert.equal(await bubble.locator('strong').innerText(), 'Sure');
  assert.equal(await bubble.locator('a').count(), 1, 'one link: the javascript: one is text');
  assert.equal(await bubble.locator('a').getAttribute('href'), 'https://example.com/help');
  assert.equal(await bubble.locator('a').getAttribute('rel'), 'noopener noreferrer nofollow');
  assert.ok((await bubble.innerText()).includes('[this](javascript:alert(2))'));
  assert.equal(await bubble.locator('br').count(), 1, "an agent's new line is a line break");
  assert.equal(await page.locator('supportd-chat .who').filter({ hasText: /^ana$/ }).count(), 1, 'the agent is named');
  assert.equal(await page.locator('supportd-chat img').count(), 0);

  await say(page, 'thanks, that helped');
  const got = await a.next((f) => f.type === 'message' && f.conversation === conv);
  assert.equal(got.text, 'thanks, that helped');

  a.send({ type: 'close', conversation: conv, resolution: 'resolved' });
  await w.notes.filter({ hasText: /has closed this chat/ }).waitFor({ state: 'visible' });
  await w.csatForm.waitFor({ state: 'visible' });
  assert.equal(await w.csatForm.locator('input[type=radio]').count(), 5);
  await w.csatForm.locator('button[type=submit]').click();
  await w.csatForm.locator('.err').waitFor({ state: 'visible' }); // no stars chosen yet
  await w.csatForm.locator('.stars label').nth(3).click();
  await w.csatForm.locator('textarea').fill('quick, thanks');
  await w.csatForm.locator('button[type=submit]').click();
  await w.notes.filter({ hasText: 'Thank you for your feedback' }).waitFor({ state: 'visible' });
  await w.csatForm.waitFor({ state: 'detached' });
  const row = sqlite(d.dbPath, `select csat, csat_comment from conversations where public_id = ${sqlQuote(conv)}`);
  assert.deepEqual(row, [['4', 'quick, thanks']]);
  assert.deepEqual(page.dialogs, []);
  assertClean(page);
});

test('reconnect: a dropped connection shows "reconnecting", backs off, and re-sends with the same id', { timeout: TEST_TIMEOUT }, async () => {
  const page = await newPage(browser);
  scope.defer(() => page.context().close());
  // Every /chat connection goes through this route, which forwards to the
  // real daemon. On cue it loses one customer message on the way and drops
  // the connection (as a dead network would), then refuses the first two
  // reconnects; the third goes through.
  const conns = [];        // {at, hello, sent: [frames from the page]}
  let dropNext = false;
  let refusals = 0;
  let droppedAt = 0;
  await page.routeWebSocket(/\/chat$/, (ws) => {
    const c = { at: Date.now(), hello: null, sent: [] };
    conns.push(c);
    if (refusals > 0) {
      refusals--;
      ws.close({ code: 1013, reason: 'try again later' });
      return;
    }
    const server = ws.connectToServer();
    ws.onMessage((msg) => {
      const f = JSON.parse(String(msg));
      if (f.type === 'hello') c.hello = f;
      c.sent.push(f);
      if (dropNext && f.type === 'message') {
        dropNext = false;
        droppedAt = Date.now();
        refusals = 2;
        ws.close({ code: 1001, reason: 'going away' });
        server.close();
        return;
      }
      server.send(msg);
    });
  });
  await page.goto(base());
  const w = await openPanel(page);
  await say(page, 'Hi');
  await w.reply(/How can I help you today/).waitFor({ state: 'visible' });
  assert.equal(conns.length, 1);
  assert.equal(conns[0].hello.resume, undefined, 'a first visit has nothing to resume');
  const session = await storedSession(page);

  dropNext = true;
  await say(page, 'I forgot my password');
  await w.banner.waitFor({ state: 'visible' });
  assert.match(await w.banner.innerText(), /Reconnecting/);
  assert.match(await page.locator('supportd-chat .head p').innerText(), /Reconnecting/);
  assert.match(await page.locator('supportd-chat .state').last().innerText(), /Sending/);
  await w.reply(/What is the e-mail address on your account\?/).waitFor({ state: 'visible', timeout: WAIT * 2 });
  await w.banner.waitFor({ state: 'hidden' });
  assert.equal(await page.locator('supportd-chat .state').count(), 0, 'acknowledged');

  assert.equal(conns.length, 4, `the dropped one, two refused, one through: ${conns.length}`);
  const dropped = conns[0].sent.find((f) => f.type === 'message' && f.text === 'I forgot my password');
  const last = conns[3];
  const resent = last.sent.find((f) => f.type === 'message');
  assert.ok(dropped && resent, JSON.stringify(conns.map((c) => c.sent)));
  assert.equal(resent.id, dropped.id, 'the same id after the reconnect');
  assert.equal(resent.text, 'I forgot my password');
  assert.equal(last.hello.resume, session.resume, 'it resumes the conversation');
  assert.ok(last.hello.last_seq >= 2, `with the last seq it has: ${JSON.stringify(last.hello)}`);
  assert.equal((await storedSession(page)).conversation, session.conversation);
  // exponential backoff with jitter: retry n waits 0.5-1 x (0.5 s x 2^n)
  const gaps = [conns[1].at - droppedAt, conns[2].at - conns[1].at, conns[3].at - conns[2].at];
  assert.ok(gaps[0] >= 200 && gaps[1] >= 450 && gaps[2] >= 950, `the waits grow: ${gaps}`);

  assert.equal(await w.mine.filter({ hasText: 'I forgot my password' }).count(), 1, 'one bubble');
  const stored = sqlite(shared.daemon.dbPath, `select count(*) from events where client_id = ${sqlQuote(dropped.id)}`);
  assert.equal(stored[0][0], '1', 'stored once');
  assertClean(page);
});

test('errors: rate_limited is a polite "slow down" notice, and the message goes again later', { timeout: TEST_TIMEOUT }, async () => {
  const page = await newPage(browser);
  scope.defer(() => page.context().close());
  // The route stands in for a server that refuses the first message once.
  const sent = [];
  let limitNext = true;
  await page.routeWebSocket(/\/chat$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((msg) => {
      const f = JSON.parse(String(msg));
      if (f.type === 'message') sent.push(f);
      if (limitNext && f.type === 'message') {
        limitNext = false;
        ws.send(JSON.stringify({ type: 'error', code: 'rate_limited', message: 'more than 5 messages a second', in_reply_to: f.id }));
        return;
      }
      server.send(msg);
    });
  });
  await page.goto(base());
  const w = await openPanel(page);
  await say(page, 'Hi');
  const note = w.notes.filter({ hasText: /slow down/ });
  await note.waitFor({ state: 'visible' });
  assert.match(await note.getAttribute('class'), /error/);
  assert.ok(!(await note.innerText()).includes('more than 5 messages'), 'the server\'s technical text is not shown');
  await w.reply(/How can I help you today/).waitFor({ state: 'visible' });
  assert.equal(sent.length, 2, JSON.stringify(sent));
  assert.equal(sent[1].id, sent[0].id, 'sent again with the same id');
  assert.equal(await w.mine.filter({ hasText: 'Hi' }).count(), 1);
  assertClean(page);
});

test('thumbs: a bot answer can be rated; the rating is stored and shown as pressed', { timeout: TEST_TIMEOUT }, async () => {
  const page = await shopPage();
  const w = await openPanel(page);
  await say(page, 'how long does delivery take');
  await w.theirs.nth(0).waitFor({ state: 'visible' });
  const down = page.locator('supportd-chat .thumbs .thumb[data-value="down"]').last();
  await down.waitFor({ state: 'visible' });
  await down.click();
  await page.locator('supportd-chat .thumbs .thumb[data-value="down"][aria-pressed="true"]').last()
    .waitFor({ state: 'attached' });
  const stored = await storedSession(page);
  const conv = stored && stored.conversation;
  assert.ok(conv, `the widget keeps its conversation id: ${JSON.stringify(stored)}`);
  const rows = sqlite(shared.daemon.dbPath, 'select r.rating, r.source from answer_ratings r join conversations c ' +
    `on c.id = r.conversation_id where c.public_id = ${sqlQuote(conv)}`);
  assert.equal(rows.length, 1);
  assert.equal(Number(rows[0][0]), -1);
  assert.match(rows[0][1], /^faq:/);
  assertClean(page);
});
