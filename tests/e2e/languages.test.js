'use strict';
// Portuguese and Polish end to end: an FAQ answer, the password reset flow
// typed in the language, an upset customer and a request for a person, each
// handed off; the language detected when hello has none, kept, and switched
// only when the customer clearly does; an entry not translated yet answered
// from English and marked; a language's own team; a catalog text missing.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const {
  T, BIN, REPO_ROOT, sqlite, sqlQuote, makeContent, removeDir, useCleanups, useSharedDaemon,
  addAgent, connectAgent, httpGet,
} = require('./lib');
const { startBackend } = require('./backend');

const CHAT = { rate_per_sec: 1000, rate_burst: 1000 };
let B = null;
const shared = useSharedDaemon(async ({ defer }) => {
  B = await startBackend();
  defer(() => B.close());
  return { config: { chat: CHAT, flows: { backends: { api: B.url } } } };
});
const scope = useCleanups();

let n = 0;
async function ask(c, text) {
  const id = `lg-${++n}`;
  c.send({ type: 'message', id, text });
  await c.ackFor(id);
  return c.replyFor(id);
}

async function customer(hello = {}, d = null) {
  const c = d ? await scope.client(d.port) : await shared.open();
  const w = await c.hello(hello);
  return { c, w };
}

function convLang(db, conv) {
  const rows = sqlite(db, `select coalesce(lang, '') from conversations where public_id = ${sqlQuote(conv)}`);
  return rows[0][0];
}

function handoffOf(db, conv) {
  const rows = sqlite(db, 'select h.team, h.reason from handoffs h join conversations c on ' +
    `c.id = h.conversation_id where c.public_id = ${sqlQuote(conv)} order by h.id`);
  return rows.map(([team, reason]) => ({ team, reason }));
}

// ------------------------------------------------------------ per language

const CASES = {
  pt: {
    faq: ['como faço para cancelar a encomenda que fiz ontem', 'intent:cancel_order', /encomenda/i],
    reset: ['esqueci-me da palavra-passe', /e-mail/i, /acabámos de enviar/i],
    upset: 'Isto é uma vergonha! Estou furioso, vou processar-vos em tribunal!',
    person: 'quero falar com um atendente, por favor',
  },
  pl: {
    faq: ['jak mogę anulować zamówienie złożone wczoraj', 'intent:cancel_order', /zamówieni/i],
    reset: ['zapomniałem hasła do konta', /e-mail/i, /wysłaliśmy/i],
    upset: 'To skandal! Jestem wściekły, podam was do sądu!',
    person: 'chcę porozmawiać z konsultantem',
  },
};

for (const [lang, k] of Object.entries(CASES)) {
  test(`${lang}: an FAQ answer in ${lang}`, async () => {
    const { c } = await customer({ lang });
    const [q, source, words] = k.faq;
    const r = await ask(c, q);
    assert.equal(r.source, source);
    assert.match(r.text, words, `the answer is in ${lang}: ${r.text}`);
    assert.equal(r.lang, undefined, 'not marked as another language');
  });

  test(`${lang}: the password reset flow typed in ${lang}`, async () => {
    const { c } = await customer({ lang });
    const [q, askRe, doneRe] = k.reset;
    const prompt = await ask(c, q);
    assert.equal(prompt.source, 'flow:password_reset');
    assert.match(prompt.text, askRe);
    const mark = B.requests.length;
    const done = await ask(c, `klient.${lang}@example.com`);
    assert.match(done.text, doneRe);
    assert.equal(B.since(mark, (r) => r.method === 'POST').length, 1, 'the backend was called once');
  });

  test(`${lang}: an upset customer is handed off`, async () => {
    const { c, w } = await customer({ lang });
    const r = await ask(c, k.upset);
    assert.equal(r.source, 'handoff');
    const h = handoffOf(shared.daemon.dbPath, w.conversation);
    assert.equal(h.length, 1);
    assert.match(h[0].reason, /upset|threat/);
  });

  test(`${lang}: asking for a person`, async () => {
    const { c, w } = await customer({ lang });
    const r = await ask(c, k.person);
    assert.equal(r.source, 'handoff');
    assert.equal(handoffOf(shared.daemon.dbPath, w.conversation).length, 1);
  });
}

// ---------------------------------------------------------------- detection

test('without hello.lang the language is detected, answered in and stored', async () => {
  const { c, w } = await customer({});
  const r = await ask(c, 'Dzień dobry, gdzie jest moja paczka? Czekam już tydzień na zamówienie');
  assert.match(r.text, /zamówieni|numer/i, `answered in Polish: ${r.text}`);
  assert.equal(convLang(shared.daemon.dbPath, w.conversation), 'pl');
  const logged = shared.daemon.logs.find((l) => l.includes(`conv=${w.conversation}`) && /event=language /.test(l));
  assert.match(logged, /lang=pl/);

  const { c: c2, w: w2 } = await customer({});
  const r2 = await ask(c2, 'Olá, ainda não recebi a minha encomenda e já passou uma semana');
  assert.match(r2.text, /encomenda|número/i, `answered in Portuguese: ${r2.text}`);
  assert.equal(convLang(shared.daemon.dbPath, w2.conversation), 'pt');
});

test('a detected language sticks through short lines, and switches when the customer clearly does', async () => {
  const { c, w } = await customer({});
  await ask(c, 'Bom dia, gostaria de saber quanto tempo demora a entrega em Portugal');
  assert.equal(convLang(shared.daemon.dbPath, w.conversation), 'pt');
  // short: stays Portuguese, whatever it reads as
  await ask(c, 'ok thanks');
  assert.equal(convLang(shared.daemon.dbPath, w.conversation), 'pt');
  // mixed: mostly Portuguese with an English word stays Portuguese, and is answered
  const mixed = await ask(c, 'hello, quero cancelar a encomenda que fiz hoje de manhã');
  assert.equal(mixed.source, 'intent:cancel_order');
  assert.match(mixed.text, /encomenda/);
  assert.equal(convLang(shared.daemon.dbPath, w.conversation), 'pt');
  // a whole sentence in English: the customer switched
  const en = await ask(c, 'Sorry, could you tell me in English how I can cancel the order I placed yesterday?');
  assert.equal(convLang(shared.daemon.dbPath, w.conversation), 'en');
  assert.match(en.text, /cancel an order yourself/i);
  assert.equal(en.lang, undefined);
});

test('a conversation whose widget says pt stays pt for a short English word', async () => {
  const { c, w } = await customer({ lang: 'pt' });
  const r = await ask(c, 'thanks');
  assert.equal(convLang(shared.daemon.dbPath, w.conversation), 'pt');
  assert.ok(typeof r.text === 'string');
});

// ------------------------------------------------- untranslated, and teams

test('an entry not translated yet is answered from English, marked as such', async () => {
  const content = makeContent(undefined);
  scope.defer(async () => removeDir(content));
  fs.unlinkSync(path.join(content, 'faq', 'pt', 'opening-hours.md'));
  const d = await scope.daemon({ content, config: { chat: CHAT } });
  const { c } = await customer({ lang: 'pt' }, d);
  const r = await ask(c, 'qual é o vosso horário de atendimento?');
  assert.equal(r.lang, 'en', JSON.stringify(r));
  assert.match(r.text, /^Por agora só tenho esta resposta em inglês:/);
  assert.match(r.text, /Monday to Friday/);
  // a short English question in a Portuguese chat (too short to switch
  // languages on): the English content's answer, marked
  const r2 = await ask(c, 'size guide?');
  assert.equal(r2.source, 'faq:size-guide');
  assert.equal(r2.lang, 'en');
  assert.match(r2.text, /^Por agora só tenho esta resposta em inglês:/);
});

test("a language's own team takes its customers' handoffs while someone of it is online", async () => {
  const d = await scope.daemon({
    config: { chat: CHAT, desk: { language_teams: { pl: 'support_pl' } } },
  });
  const token = addAgent(d.dataDir, 'ola', { teams: ['support_pl'] });
  const a = await connectAgent(d.port);
  scope.defer(async () => a.terminate());
  await a.login('ola', token);

  const { c, w } = await customer({ lang: 'pl' }, d);
  await ask(c, 'chcę porozmawiać z konsultantem');
  const offer = await a.next((f) => f.type === 'offer' && f.conversation === w.conversation);
  assert.equal(offer.conversation, w.conversation);
  assert.equal(handoffOf(d.dbPath, w.conversation)[0].team, 'support_pl');

  // a Portuguese customer goes to the topic's team, not to the Polish one
  const { c: c2, w: w2 } = await customer({ lang: 'pt' }, d);
  await ask(c2, 'quero falar com um atendente');
  assert.notEqual(handoffOf(d.dbPath, w2.conversation)[0].team, 'support_pl');

  // with the Polish team gone, a Polish customer goes to any team
  a.terminate();
  await a.waitClose();
  const { c: c3, w: w3 } = await customer({ lang: 'pl' }, d);
  await ask(c3, 'chcę porozmawiać z konsultantem');
  assert.notEqual(handoffOf(d.dbPath, w3.conversation)[0].team, 'support_pl');
});

test('supportd check warns about a catalog text a language lacks', async () => {
  const content = makeContent(undefined);
  scope.defer(async () => removeDir(content));
  const file = path.join(content, 'lua', 'locale', 'pl.lua');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/^\s*\["flow\.busy"\][^\n]*\n/m, ''));
  const out = execFileSync(BIN, ['check', content], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(out, /lua\/locale\/pl\.lua:1:1: warning: no text for 'flow\.busy': customers writing pl get the English one/);
});

// ------------------------------------------------- a fourth language: files

// German, added the way docs/content.md ("Adding a language") says: its
// language.yaml, intents, an FAQ entry and a catalog. No code knows German.
const DE = {
  'rules/de/language.yaml': 'name: Deutsch\nstemmer:\n  snowball: german\n' +
    'stop_words: [der, die, das, und, ich, mein, meine, ist, wie, lange, bei, ihnen]\n' +
    'detection:\n  fingerprint: de\n  rivals: [nl, da]\n',
  'rules/de/account.yaml': 'intents:\n  - name: reset_password\n    label: Passwort zurücksetzen\n' +
    '    team: accounts\n    examples:\n      - Ich habe mein Passwort vergessen\n' +
    '      - Passwort zurücksetzen\n      - ich kann mich nicht anmelden\n' +
    '      - mein Passwort funktioniert nicht mehr\n      - ich brauche ein neues Passwort\n' +
    '    flow: password_reset\n',
  'faq/de/lieferzeiten.md': '---\nid: shipping-times\ntitle: Wie lange die Lieferung dauert\n' +
    'team: orders\nquestions:\n  - Wie lange dauert die Lieferung?\n  - Wann kommt meine Bestellung an?\n' +
    '  - Lieferzeiten\n---\nDie **Standardlieferung** dauert 3–5 Werktage.\n',
};

function addGerman(content) {
  for (const [name, text] of Object.entries(DE)) {
    fs.mkdirSync(path.dirname(path.join(content, name)), { recursive: true });
    fs.writeFileSync(path.join(content, name), text);
  }
  // the catalog: English with the texts this test reads translated (check
  // would list any key it lacked)
  const en = fs.readFileSync(path.join(content, 'lua', 'locale', 'en.lua'), 'utf8');
  const de = en
    .replace(/(\["reset\.ask_email"\] = )"[^"\n]*"/, '$1"Gern helfe ich beim Zurücksetzen. Wie lautet die E-Mail-Adresse Ihres Kontos?"')
    .replace(/(\["widget\.title"\] = )"[^"\n]*"/, '$1"Kundenservice"')
    .replace(/(\["widget\.send"\] = )"[^"\n]*"/, '$1"Senden"');
  fs.writeFileSync(path.join(content, 'lua', 'locale', 'de.lua'), de);
}

test('a fourth language is files only: checked, detected, stemmed, answered, and in the widget', async () => {
  const content = makeContent(undefined);
  scope.defer(async () => removeDir(content));
  addGerman(content);

  // check passes (execFileSync throws on a non-zero exit), and has nothing
  // to say about German but that it is thinner than English
  const out = execFileSync(BIN, ['check', content], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.doesNotMatch(out, /error:/);
  assert.doesNotMatch(out, /rules\/de\/language\.yaml/);

  const d = await scope.daemon({ content, config: { chat: CHAT, flows: { backends: { api: B.url } } } });
  // the widget says it is German, and gets German strings
  const { c } = await customer({ lang: 'de' }, d);
  const faq = await ask(c, 'Wie lange dauern die Lieferungen?');
  assert.equal(faq.source, 'faq:shipping-times', JSON.stringify(faq));
  assert.match(faq.text, /Werktage/);
  const reset = await ask(c, 'Ich habe mein Passwort vergessen');
  assert.match(reset.text, /Wie lautet die E-Mail-Adresse/);

  // nothing says German: detected from what the customer writes
  const { c: c2, w: w2 } = await customer({}, d);
  const r = await ask(c2, 'Ich habe mein Passwort vergessen und kann mich nicht mehr anmelden');
  assert.match(r.text, /Wie lautet die E-Mail-Adresse/, JSON.stringify(r));
  assert.equal(convLang(d.dbPath, w2.conversation), 'de');

  // /widget.js carries the catalogs' widget.* texts, German among them
  const js = await httpGet(d.port, '/widget.js');
  assert.equal(js.status, 200);
  const m = js.body.match(/var CATALOGS = (\{.*?\});\n/);
  assert.ok(m, 'the placeholder is replaced by the catalogs');
  const catalogs = JSON.parse(m[1]);
  assert.deepEqual(Object.keys(catalogs).sort(), ['de', 'en', 'pl', 'pt']);
  assert.equal(catalogs.de.title, 'Kundenservice');
  assert.equal(catalogs.de.send, 'Senden');
  assert.equal(catalogs.pt.title, 'Apoio ao cliente');
  assert.equal(catalogs.de.err.generic, catalogs.en.err.generic);
});

test('a language directory without language.yaml, and a broken one, are reported with file and line', () => {
  const content = makeContent(undefined);
  scope.defer(async () => removeDir(content));
  addGerman(content);
  fs.writeFileSync(path.join(content, 'rules', 'de', 'language.yaml'),
    'name: Deutsch\nstemmer:\n  snowball: germn\n');
  let r;
  try {
    execFileSync(BIN, ['check', content], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.fail('check passed');
  } catch (e) {
    r = e;
  }
  assert.equal(r.status, 1);
  assert.match(r.stdout, /rules\/de\/language\.yaml:3:\d+: error: no Snowball stemmer 'germn'; libstemmer has: .*german/);

  fs.unlinkSync(path.join(content, 'rules', 'de', 'language.yaml'));
  try {
    execFileSync(BIN, ['check', content], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.fail('check passed');
  } catch (e) {
    r = e;
  }
  assert.match(r.stdout, /rules\/de:1:1: error: no language\.yaml: a language directory needs one/);
  assert.match(r.stdout, /faq\/de:1:1: error: not a language directory: there is no language 'de'/);
});
