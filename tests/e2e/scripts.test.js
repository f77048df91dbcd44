'use strict';
// The Lua pipeline: its contract (arguments, return shapes) and its failure
// modes (errors, instruction budget, memory cap, sandbox). A failing script
// produces an apology reply with source "error"; the daemon keeps going.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  startDaemon, makeContent, removeDir, healthz, useSharedDaemon, sqlite,
} = require('./lib');

const PIPELINE = `
function on_message(conversation, text)
  if text == "boom" then error("boom") end
  if text == "loop" then while true do end end
  if text == "bomb" then
    local s, keep = "x", {}
    while true do s = s .. s; keep[#keep + 1] = s end
  end
  if text == "sandbox" then return tostring(io) .. tostring(os) .. tostring(debug) end
  if text == "files" then return tostring(dofile) .. tostring(loadfile) end
  if text == "ctx" then
    return table.concat({ tostring(conversation.id), tostring(conversation.lang),
      tostring(conversation.name), tostring(conversation.turn) }, "|")
  end
  if text == "silent" then return nil end
  if text == "table" then
    return { text = "Did you mean one of these?", source = "clarify", confidence = 0.25,
             choices = { { id = "faq:returns", label = "Returning an item" },
                         { id = "faq:refunds", label = "When will I get my refund?" } } }
  end
  return "echo:" .. text
end
`;

const shared = useSharedDaemon(({ defer }) => {
  const content = makeContent(PIPELINE);
  defer(async () => removeDir(content));
  return {
    content,
    config: {
      chat: { rate_per_sec: 10000, rate_burst: 10000 },
      script: { instruction_limit: 1000000, memory_limit_kb: 8192 },
    },
  };
});
const { open } = shared;

let n = 0;
// The script still works: a plain message is echoed by the script.
async function assertScriptWorks(c) {
  const id = `ping-${++n}`;
  const { reply } = await c.message(id, `ping ${n}`);
  assert.equal(reply.text, `echo:ping ${n}`);
  assert.notEqual(reply.source, 'error');
}

async function assertApology(c, id, text) {
  const { ack, reply } = await c.message(id, text);
  assert.equal(reply.type, 'reply');
  assert.equal(reply.source, 'error', `reply to ${text}: ${JSON.stringify(reply)}`);
  assert.equal(reply.from, 'bot');
  assert.equal(typeof reply.text, 'string');
  assert.ok(reply.text.trim().length > 0, 'apology text is not empty');
  assert.ok(!/boom|stack traceback|\.lua:\d+/.test(reply.text), `no script internals leak to the customer: ${reply.text}`);
  assert.equal(reply.seq, ack.seq + 1);
}

test('a plain string return becomes a bot reply', async () => {
  const c = await open();
  await c.hello();
  const { reply } = await c.message('s-1', 'anything');
  assert.equal(reply.text, 'echo:anything');
  assert.equal(reply.from, 'bot');
  assert.notEqual(reply.source, 'error');
});

test('a table return carries text, source, confidence and choices', async () => {
  const c = await open();
  await c.hello();
  const { reply } = await c.message('t-1', 'table');
  assert.equal(reply.text, 'Did you mean one of these?');
  assert.equal(reply.source, 'clarify');
  assert.equal(reply.confidence, 0.25);
  assert.deepEqual(reply.choices, [
    { id: 'faq:returns', label: 'Returning an item' },
    { id: 'faq:refunds', label: 'When will I get my refund?' },
  ]);
});

test('a nil return sends no reply', async () => {
  const c = await open();
  await c.hello();
  c.send({ type: 'message', id: 'quiet', text: 'silent' });
  const a1 = await c.ackFor('quiet');
  c.send({ type: 'message', id: 'loud', text: 'after silence' });
  const a2 = await c.ackFor('loud');
  const r2 = await c.replyFor('loud');
  assert.equal(a1.seq, 1);
  assert.equal(a2.seq, 2, 'no reply was stored for the nil return');
  assert.equal(r2.seq, 3);
  assert.ok(!c.all.some((f) => f.in_reply_to === 'quiet'), `nothing answers quiet: ${JSON.stringify(c.all)}`);
});

test('the conversation table has id, lang, name and turn', async () => {
  const c = await open();
  const w = await c.hello({ lang: 'pt', name: 'Ana Silva' });
  let r = await c.message('c-1', 'ctx');
  assert.equal(r.reply.text, `${w.conversation}|pt|Ana Silva|1`);
  await c.message('c-2', 'hello there');
  r = await c.message('c-3', 'ctx');
  assert.equal(r.reply.text, `${w.conversation}|pt|Ana Silva|3`, 'turn counts customer messages including this one');
  await c.close();
  // On resume, lang and name update the stored conversation.
  const c2 = await open();
  await c2.hello({ resume: w.resume, lang: 'pl', name: 'Anna' });
  r = await c2.message('c-4', 'ctx');
  assert.equal(r.reply.text, `${w.conversation}|pl|Anna|4`);
});

test('a script error gets an apology with source error; the next message works', async () => {
  const c = await open();
  await c.hello();
  await assertApology(c, 'err-1', 'boom');
  await assertScriptWorks(c);
  await assertApology(c, 'err-2', 'boom');
  await assertScriptWorks(c);
});

test('an endless loop hits the instruction budget: apology; the next message works', async () => {
  const c = await open();
  await c.hello();
  await assertApology(c, 'loop-1', 'loop');
  await assertScriptWorks(c);
  // Other conversations are served too.
  const c2 = await open();
  await c2.hello();
  await assertScriptWorks(c2);
});

test('a memory bomb hits the memory cap: apology; the next message works', async () => {
  const c = await open();
  await c.hello();
  await assertApology(c, 'bomb-1', 'bomb');
  await assertScriptWorks(c);
  await assertApology(c, 'bomb-2', 'bomb');
  await assertScriptWorks(c);
});

test('the sandbox has no io, os or debug library', async () => {
  const c = await open();
  await c.hello();
  const { reply } = await c.message('sb-1', 'sandbox');
  assert.equal(reply.text, 'nilnilnil');
  assert.notEqual(reply.source, 'error');
});

test('the sandbox has no dofile or loadfile', async () => {
  const c = await open();
  await c.hello();
  const { reply } = await c.message('sb-2', 'files');
  assert.equal(reply.text, 'nilnil');
});

test('the daemon is healthy after the script failures', async () => {
  const h = await healthz(shared.port);
  assert.equal(h.status, 200);
  assert.equal(h.json.status, 'ok');
  assert.equal(shared.daemon.running, true);
  const c = await open();
  await c.hello();
  await assertScriptWorks(c);
});

test('without --content the shipped lua/pipeline.lua in the repo root is used', async () => {
  const d2 = await startDaemon({ content: null });
  try {
    const c = await shared.client(d2.port);
    await c.hello();
    const { reply } = await c.message('def-1', 'hello');
    assert.equal(reply.source, 'greeting');
    c.terminate();
  } finally {
    await d2.cleanup();
  }
});

test('bot_typing on: a bot typing frame precedes the reply', async () => {
  const d3 = await startDaemon({ config: { chat: { bot_typing: true } } });
  try {
    const c = await shared.client(d3.port);
    await c.hello();
    const { reply } = await c.message('bt-1', 'hello');
    // The order relative to the ack is not specified; before the reply it is.
    const before = c.all.slice(1, c.all.indexOf(reply));
    const typing = before.filter((f) => f.type === 'typing');
    assert.ok(typing.length >= 1, `typing frame before the reply: ${JSON.stringify(c.all)}`);
    assert.equal(typing[0].from, 'bot');
    assert.equal(typing[0].state, true);
    assert.equal(typing[0].seq, undefined, 'typing is transient');
    c.terminate();
  } finally {
    await d3.cleanup();
  }
});

// on_message(conversation, text) never sees the brain's view, so supportd
// does not work it out: the unanswered list gets no candidates for it. A
// third parameter, or ..., gets the view (and the list its candidates).
test('the brain runs only for a pipeline that takes its third argument', async () => {
  const pipelines = {
    two: 'function on_message(conversation, text)\n'
      + '  return { text = "two", source = "fallback" }\nend\n',
    three: 'function on_message(conversation, text, understanding)\n'
      + '  return { text = tostring(#understanding.candidates), source = "fallback" }\nend\n',
    vararg: 'function on_message(...)\n'
      + '  local u = select(3, ...)\n'
      + '  return { text = tostring(u ~= nil and #u.candidates > 0), source = "fallback" }\nend\n',
  };
  const got = {};
  for (const [name, source] of Object.entries(pipelines)) {
    const content = makeContent(source);
    const d = await startDaemon({ content });
    try {
      const c = await shared.client(d.port);
      await c.hello();
      const { reply } = await c.message(`${name}-1`, 'I forgot my password and cannot log in');
      const rows = sqlite(d.dbPath, 'SELECT candidates FROM unanswered');
      assert.equal(rows.length, 1, `${name}: one unanswered question`);
      got[name] = { text: reply.text, candidates: JSON.parse(rows[0][0]) };
      c.terminate();
    } finally {
      await d.cleanup();
      removeDir(content);
    }
  }
  assert.equal(got.two.text, 'two');
  assert.deepEqual(got.two.candidates, []);
  assert.ok(Number(got.three.text) > 0, `candidates seen by the script: ${got.three.text}`);
  assert.ok(got.three.candidates.length > 0);
  assert.ok(got.three.candidates.some((x) => /password|reset/.test(x.source)), JSON.stringify(got.three.candidates));
  assert.equal(got.vararg.text, 'true');
  assert.ok(got.vararg.candidates.length > 0);
});
