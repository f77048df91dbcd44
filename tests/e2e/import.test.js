'use strict';
// `supportd import-faq`: a spreadsheet export (RFC 4180 quoting, commas and
// line breaks inside cells, CRLF between records, Portuguese and Polish
// rows, a repeated question, an id that an existing file has, and rows with
// problems) becomes FAQ files the loader accepts and `supportd ask` answers
// with. The files, the problem lines and the exit status are checked
// exactly.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { BIN, T, REPO_ROOT, makeContent, copyLanguages, useCleanups } = require('./lib');

const { defer, tempDir } = useCleanups();

const SANITIZER_RE = /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:/;

function run(args, opts = {}) {
  const r = spawnSync(BIN, args, {
    cwd: opts.cwd || REPO_ROOT, encoding: 'utf8', timeout: T(60000),
  });
  assert.equal(r.error, undefined, `supportd ${args.join(' ')} did not finish: ${r.error}`);
  assert.doesNotMatch(r.stderr, SANITIZER_RE);
  return r;
}

// The sheet as Excel or Google Sheets export it: CRLF between records, LF
// inside cells. The line numbers in the comments are the CSV lines where
// each record starts.
const RECORDS = [
  /* 1 */ 'Lang,Question,Answer,Alternates,Team',
  /* 2 */ 'en,"Do you have a loyalty programme, and how do points work?",' +
    '"Yes: **Northwind Rewards** is free to join.\n\n' +
    '- you earn 1 point for every £1 you spend;\n' +
    '- 100 points take £5 off your next order.\n\n' +
    'Sign up in [your account](https://northwind.example/account/rewards).",' +
    '"loyalty points | how do I earn points; rewards programme\ndo points expire",loyalty',
  /* 9 */ 'en,Can you gift wrap my order?,' +
    '"We can! Tick **Gift wrap** at checkout (£3.50 an item).\n' +
    'The receipt is left out of wrapped parcels.",' +
    '"gift wrapping\nwrap it as a present\nis gift wrap available",',
  /* 13 */ 'pt,Vocês têm programa de fidelidade?,' +
    '"Sim! Com o **Northwind Pontos** ganha 1 ponto por cada euro gasto, ' +
    'e 100 pontos valem 5 € de desconto.",' +
    'como ganho pontos | pontos de fidelidade | os pontos expiram,loyalty',
  /* 14 */ 'pl,Czy mogę zapakować zamówienie na prezent?,' +
    '"Tak, zaznacz **Pakowanie na prezent** przy składaniu zamówienia.\n' +
    'Koszt: 15 zł za produkt.",pakowanie prezentów; czy jest opakowanie na prezent,',
  /* 16 */ 'en,Can you gift wrap my order?,"Yes, for £3.50 an item.",,',
  /* 17 */ 'EN,Cancel order,"See **Cancelling an order**: you have 1 hour.",,orders',
  /* 18 */ 'pt,Como devolver um artigo?,,devolução,returns',
  /* 19 */ 'de,Wo ist meine Bestellung?,Siehe Ihr Konto.,,',
  /* 20 */ 'en,Do you price match?,We match any UK shop.,,Customer Care',
  /* 21 */ 'en,Do you engrave jewellery?,"<b>Yes</b>, for £10.",engraving,',
  /* 22 */ 'en,Where are you based?,"Leeds, UK"',
  /* 23 */ 'pt,Quanto custa o envio?,"O envio é grátis a partir de 50 €; abaixo disso custa ' +
    '3,90 €.",portes de envio | preço da entrega | quanto pago pela entrega,',
  /* 24 */ 'pl,Ile kosztuje wysyłka?,"Wysyłka jest darmowa od 200 zł, poniżej kosztuje ' +
    '12,99 zł.",koszt dostawy; cena wysyłki | ile zapłacę za dostawę,',
  /* 25 */ '',
  /* 26 */ ',,,,',
];
const CSV = RECORDS.join('\r\n') + '\r\n';

// The files the import must write, relative to the content root.
const EXPECTED = {
  'faq/en/do-you-have-a-loyalty-programme-and-how-do-points-work.md': [
    '---',
    'id: do-you-have-a-loyalty-programme-and-how-do-points-work',
    'title: Do you have a loyalty programme, and how do points work?',
    'team: loyalty',
    'questions:',
    '  - Do you have a loyalty programme, and how do points work?',
    '  - loyalty points',
    '  - how do I earn points',
    '  - rewards programme',
    '  - do points expire',
    '---',
    'Yes: **Northwind Rewards** is free to join.',
    '',
    '- you earn 1 point for every £1 you spend;',
    '- 100 points take £5 off your next order.',
    '',
    'Sign up in [your account](https://northwind.example/account/rewards).',
    '',
  ].join('\n'),
  'faq/en/can-you-gift-wrap-my-order.md': [
    '---',
    'id: can-you-gift-wrap-my-order',
    'title: Can you gift wrap my order?',
    'questions:',
    '  - Can you gift wrap my order?',
    '  - gift wrapping',
    '  - wrap it as a present',
    '  - is gift wrap available',
    '---',
    'We can! Tick **Gift wrap** at checkout (£3.50 an item).',
    'The receipt is left out of wrapped parcels.',
    '',
  ].join('\n'),
  'faq/pt/voces-tem-programa-de-fidelidade.md': [
    '---',
    'id: voces-tem-programa-de-fidelidade',
    'title: Vocês têm programa de fidelidade?',
    'team: loyalty',
    'questions:',
    '  - Vocês têm programa de fidelidade?',
    '  - como ganho pontos',
    '  - pontos de fidelidade',
    '  - os pontos expiram',
    '---',
    'Sim! Com o **Northwind Pontos** ganha 1 ponto por cada euro gasto, e 100 pontos ' +
      'valem 5 € de desconto.',
    '',
  ].join('\n'),
  'faq/pl/czy-moge-zapakowac-zamowienie-na-prezent.md': [
    '---',
    'id: czy-moge-zapakowac-zamowienie-na-prezent',
    'title: Czy mogę zapakować zamówienie na prezent?',
    'questions:',
    '  - Czy mogę zapakować zamówienie na prezent?',
    '  - pakowanie prezentów',
    '  - czy jest opakowanie na prezent',
    '---',
    'Tak, zaznacz **Pakowanie na prezent** przy składaniu zamówienia.',
    'Koszt: 15 zł za produkt.',
    '',
  ].join('\n'),
  'faq/en/can-you-gift-wrap-my-order-2.md': [
    '---',
    'id: can-you-gift-wrap-my-order-2',
    'title: Can you gift wrap my order?',
    'questions:',
    '  - Can you gift wrap my order?',
    '---',
    'Yes, for £3.50 an item.',
    '',
  ].join('\n'),
  'faq/en/cancel-order-2.md': [
    '---',
    'id: cancel-order-2',
    'title: Cancel order',
    'team: orders',
    'questions:',
    '  - Cancel order',
    '---',
    'See **Cancelling an order**: you have 1 hour.',
    '',
  ].join('\n'),
  'faq/pt/quanto-custa-o-envio.md': [
    '---',
    'id: quanto-custa-o-envio',
    'title: Quanto custa o envio?',
    'questions:',
    '  - Quanto custa o envio?',
    '  - portes de envio',
    '  - preço da entrega',
    '  - quanto pago pela entrega',
    '---',
    'O envio é grátis a partir de 50 €; abaixo disso custa 3,90 €.',
    '',
  ].join('\n'),
  'faq/pl/ile-kosztuje-wysylka.md': [
    '---',
    'id: ile-kosztuje-wysylka',
    'title: Ile kosztuje wysyłka?',
    'questions:',
    '  - Ile kosztuje wysyłka?',
    '  - koszt dostawy',
    '  - cena wysyłki',
    '  - ile zapłacę za dostawę',
    '---',
    'Wysyłka jest darmowa od 200 zł, poniżej kosztuje 12,99 zł.',
    '',
  ].join('\n'),
};

// Every problem and warning, in row order, for a sheet imported into dir.
function expectedStderr(csv, dir) {
  return [
    `${csv}:16: warning: id 'can-you-gift-wrap-my-order' is taken by row 9; ` +
      "this entry is 'can-you-gift-wrap-my-order-2'",
    `${csv}:17: warning: id 'cancel-order' is taken by ${dir}/faq/en/cancel-order.md; ` +
      "this entry is 'cancel-order-2'",
    `${csv}:18: the answer is empty`,
    `${csv}:19: lang 'de' is not a language of ${dir} (en, pl, pt)`,
    `${csv}:20: team 'Customer Care' is not valid: use up to 32 lower-case letters, ` +
      "digits, '-' and '_', starting with a letter",
    `${csv}:21: answer: raw HTML is not allowed ('<b>')`,
    `${csv}:22: the row has 3 fields but the header has 5`,
    '',
  ].join('\n');
}

// Every file under dir/faq, relative to dir, sorted.
function faqFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(path.join(dir, 'faq'));
  return out.sort();
}

// A content root with the shipped lua/, rules/ and faq/ (cleaned up), and
// the sheet written beside it.
function setup() {
  const content = makeContent();
  defer(() => fs.rmSync(content, { recursive: true, force: true }));
  const sheet = path.join(tempDir('supportd-e2e-import-'), 'faq.csv');
  fs.writeFileSync(sheet, CSV);
  return { content, sheet };
}

test('import-faq writes one valid entry per good row and reports the rest by row', () => {
  const { content, sheet } = setup();
  const before = faqFiles(content);

  const r = run(['import-faq', sheet, '--out', content]);
  assert.equal(r.stderr, expectedStderr(sheet, content));
  assert.equal(r.stdout,
    `imported 8 entries to ${content}/faq/en/ (4), ${content}/faq/pl/ (2), ` +
    `${content}/faq/pt/ (2), skipped 5 rows\n`);
  assert.equal(r.status, 1);

  // Exactly the expected files are new, with exactly the expected text;
  // the existing cancel-order.md is untouched.
  const added = faqFiles(content).filter((f) => !before.includes(f));
  assert.deepEqual(added, Object.keys(EXPECTED).sort());
  for (const [file, text] of Object.entries(EXPECTED)) {
    assert.equal(fs.readFileSync(path.join(content, file), 'utf8'), text, file);
  }
  assert.equal(fs.readFileSync(path.join(content, 'faq/en/cancel-order.md'), 'utf8'),
    fs.readFileSync(path.join(REPO_ROOT, 'faq/en/cancel-order.md'), 'utf8'));

  // The bot answers with the new entries, in each language.
  const asked = (lang, q) => {
    const a = run(['ask', '--content', content, '--json', '--lang', lang, q]);
    assert.equal(a.status, 0, a.stderr);
    return JSON.parse(a.stdout);
  };
  let o = asked('en', 'Do you have a loyalty programme, and how do points work?');
  assert.equal(o.replies[0].source, 'faq:do-you-have-a-loyalty-programme-and-how-do-points-work');
  assert.match(o.replies[0].text, /Northwind Rewards/);
  o = asked('en', 'how do I earn loyalty points');
  assert.equal(o.replies[0].source, 'faq:do-you-have-a-loyalty-programme-and-how-do-points-work');
  o = asked('pt', 'Vocês têm programa de fidelidade?');
  assert.equal(o.lang, 'pt');
  assert.equal(o.replies[0].source, 'faq:voces-tem-programa-de-fidelidade');
  assert.match(o.replies[0].text, /Northwind Pontos/);
  o = asked('pt', 'como ganho pontos de fidelidade');
  assert.equal(o.replies[0].source, 'faq:voces-tem-programa-de-fidelidade');
  // the shipped Portuguese content answers delivery costs too: the imported
  // entry is found, first or as the "did you mean" alternative
  o = asked('pt', 'quanto pago de portes de envio');
  assert.ok(JSON.stringify(o).includes('faq:quanto-custa-o-envio'), JSON.stringify(o));
  o = asked('pl', 'Czy mogę zapakować zamówienie na prezent?');
  assert.equal(o.lang, 'pl');
  assert.equal(o.replies[0].source, 'faq:czy-moge-zapakowac-zamowienie-na-prezent');
  o = asked('pl', 'czy jest pakowanie na prezent');
  assert.equal(o.replies[0].source, 'faq:czy-moge-zapakowac-zamowienie-na-prezent');

  // Importing the same sheet again never overwrites: every id moves on.
  const again = run(['import-faq', sheet, '--out', content]);
  assert.equal(again.status, 1);
  assert.match(again.stderr, new RegExp(`^${sheet}:2: warning: id ` +
    "'do-you-have-a-loyalty-programme-and-how-do-points-work' is taken by " +
    `${content}/faq/en/do-you-have-a-loyalty-programme-and-how-do-points-work\\.md; ` +
    "this entry is 'do-you-have-a-loyalty-programme-and-how-do-points-work-2'$", 'm'));
  // Row 9 now finds the first two gift-wrap files taken, row 16 also row 9's.
  assert.match(again.stderr, new RegExp(`^${sheet}:9: warning: id ` +
    "'can-you-gift-wrap-my-order' is taken by .*; this entry is 'can-you-gift-wrap-my-order-3'$",
  'm'));
  assert.match(again.stderr, new RegExp(`^${sheet}:16: warning: id ` +
    "'can-you-gift-wrap-my-order' is taken by .*; this entry is 'can-you-gift-wrap-my-order-4'$",
  'm'));
  for (const [file, text] of Object.entries(EXPECTED)) {
    assert.equal(fs.readFileSync(path.join(content, file), 'utf8'), text, file);
  }
  assert.equal(faqFiles(content).length, before.length + 16);
});

test('import-faq --dry-run prints the files and writes nothing', () => {
  const { content, sheet } = setup();
  const before = faqFiles(content);
  const r = run(['import-faq', sheet, '--out', content, '--dry-run']);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, expectedStderr(sheet, content));
  const order = [
    'faq/en/do-you-have-a-loyalty-programme-and-how-do-points-work.md',
    'faq/en/can-you-gift-wrap-my-order.md',
    'faq/pt/voces-tem-programa-de-fidelidade.md',
    'faq/pl/czy-moge-zapakowac-zamowienie-na-prezent.md',
    'faq/en/can-you-gift-wrap-my-order-2.md',
    'faq/en/cancel-order-2.md',
    'faq/pt/quanto-custa-o-envio.md',
    'faq/pl/ile-kosztuje-wysylka.md',
  ];
  assert.equal(r.stdout,
    order.map((f) => `==> ${content}/${f} <==\n${EXPECTED[f]}\n`).join('') +
    `dry run: would import 8 entries to ${content}/faq/en/ (4), ${content}/faq/pl/ (2), ` +
    `${content}/faq/pt/ (2), skipped 5 rows; nothing was written\n`);
  assert.deepEqual(faqFiles(content), before);
});

test('import-faq into the current directory, with --lang for rows without one', () => {
  const dir = tempDir('supportd-e2e-import-');
  copyLanguages(dir); // a content tree's languages: rules/<code>/language.yaml
  fs.writeFileSync(path.join(dir, 'sheet.csv'),
    '\ufeffquestion,answer\nGdzie jest moja przesyłka?,Sprawdź zakładkę **Zamówienia**.\n');
  const r = run([ 'import-faq', 'sheet.csv', '--lang', 'pl'], { cwd: dir });
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'imported 1 entry to ./faq/pl/, skipped 0 rows\n');
  assert.equal(r.status, 0);
  assert.equal(fs.readFileSync(path.join(dir, 'faq/pl/gdzie-jest-moja-przesylka.md'), 'utf8'),
    '---\nid: gdzie-jest-moja-przesylka\ntitle: Gdzie jest moja przesyłka?\nquestions:\n' +
    '  - Gdzie jest moja przesyłka?\n---\nSprawdź zakładkę **Zamówienia**.\n');
});

test('import-faq refuses a sheet without the required columns, and bad quoting', () => {
  const dir = tempDir('supportd-e2e-import-');
  copyLanguages(dir);
  const sheet = path.join(dir, 'bad.csv');
  fs.writeFileSync(sheet, 'question,answr\nWhere is my order?,In your account.\n');
  let r = run(['import-faq', sheet, '--out', dir]);
  assert.equal(r.stderr,
    `${sheet}:1: warning: column 'answr' is not read (the columns are question, alternates, ` +
    'answer, team and lang)\n' +
    `${sheet}:1: missing required column 'answer' in the header\n`);
  assert.equal(r.stdout, `imported 0 entries to ${dir}/faq/en/, skipped 1 row\n`);
  assert.equal(r.status, 1);
  assert.equal(fs.existsSync(path.join(dir, 'faq')), false);

  fs.writeFileSync(sheet, 'question,answer\nA 5" screen?,Yes.\n"ok",fine\n' +
    'Broken,"never closed\nlast,line\n');
  r = run(['import-faq', sheet, '--out', dir]);
  assert.equal(r.stderr,
    `${sheet}:2: malformed quoting: a '"' in a field that is not quoted, or text after a ` +
    `closing '"' (a '"' inside a quoted field is written "")\n` +
    `${sheet}:4: a quoted field is not closed: a '"' is missing, so the rest of the file ` +
    'was read as one field; this row is not read\n');
  assert.equal(r.stdout, `imported 1 entry to ${dir}/faq/en/, skipped 2 rows\n`);
  assert.equal(r.status, 1);
  assert.deepEqual(faqFiles(dir), ['faq/en/ok.md']);
});

test('import-faq usage errors exit 2', () => {
  const dir = tempDir('supportd-e2e-import-');
  const sheet = path.join(dir, 'a.csv');
  fs.writeFileSync(sheet, 'question,answer\n');
  const cases = [
    [[], /usage: supportd import-faq/],
    [[sheet, sheet], /usage: supportd import-faq/],
    [[sheet, '--lang', 'de'], /--lang de is not a language of \. \(en, pl, pt\); a language is added with rules\/<code>\/language\.yaml/],
    [[sheet, '--out', path.join(dir, 'nope')], /not a directory/],
    [[path.join(dir, 'missing.csv')], /missing\.csv: cannot open: No such file/],
    [[sheet, '--bogus'], /usage: supportd import-faq/],
  ];
  for (const [args, re] of cases) {
    const r = run(['import-faq', ...args]);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, re);
    assert.equal(r.stdout, '');
  }
  const h = run(['import-faq', '--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /^usage: supportd import-faq FILE\.csv/);
  assert.equal(run(['help', 'import-faq']).stdout, h.stdout);
  assert.match(run(['--help']).stdout, /\n  import-faq /);
  copyLanguages(dir);
  const ok = run(['import-faq', sheet, '--out', dir]);
  assert.equal(ok.status, 0);
  assert.equal(ok.stdout, `imported 0 entries to ${dir}/faq/en/, skipped 0 rows\n`);
});
