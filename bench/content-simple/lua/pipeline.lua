-- The foundation's simple pipeline (greeting or "still learning"), kept for
-- bench/run.sh with BENCH_CONTENT=bench/content-simple: the websocket
-- targets of issue 2 are defined against it. The brain still runs first,
-- on the one FAQ entry beside this file.
--
-- supportd calls on_message(conversation, text) for every message a
-- customer sends. `conversation` is a read-only snapshot:
--   conversation.id    the public conversation id
--   conversation.lang  the language the widget announced (may be nil)
--   conversation.name  the customer's name (may be nil)
--   conversation.turn  how many messages the customer has sent, this one included
-- Return a string, a reply table
--   { text = "...", source = "greeting", confidence = 1.0,
--     choices = { { id = "faq:returns", label = "Returns" } } }
-- a list of reply tables, or nil for no reply.
--
-- This first pipeline greets and otherwise says it is still learning; the
-- intent matcher and FAQ retriever plug in here later.

local strings = {
  en = {
    greeting = "Hello! I'm the support assistant. How can I help you today?",
    fallback = "I'm still learning and can't answer that yet. Could you put it another way?",
  },
  pt = {
    greeting = "Olá! Sou o assistente de apoio. Como posso ajudar?",
    fallback = "Ainda estou a aprender e não sei responder a isso. Pode dizer de outra forma?",
  },
  pl = {
    greeting = "Dzień dobry! Jestem asystentem obsługi klienta. W czym mogę pomóc?",
    fallback = "Wciąż się uczę i nie umiem jeszcze na to odpowiedzieć. Czy możesz to ująć inaczej?",
  },
}

-- Greetings, lower-cased, with and without diacritics.
local greetings = {
  ["hi"] = "en", ["hello"] = "en", ["hey"] = "en", ["hiya"] = "en",
  ["good morning"] = "en", ["good afternoon"] = "en", ["good evening"] = "en",
  ["olá"] = "pt", ["ola"] = "pt", ["oi"] = "pt", ["bom dia"] = "pt",
  ["boa tarde"] = "pt", ["boa noite"] = "pt",
  ["cześć"] = "pl", ["czesc"] = "pl", ["dzień dobry"] = "pl", ["dzien dobry"] = "pl",
  ["witam"] = "pl", ["hej"] = "pl",
}

-- Lower-cases ASCII and the accented capitals these greetings use, and
-- trims white space and trailing punctuation.
local upper_to_lower = { ["Á"] = "á", ["Ó"] = "ó", ["Ś"] = "ś", ["Ć"] = "ć", ["Ń"] = "ń", ["Ę"] = "ę" }
local function simplify(text)
  local t = text:lower()
  for up, low in pairs(upper_to_lower) do
    t = t:gsub(up, low)
  end
  t = t:gsub("^%s+", ""):gsub("[%s%p]+$", ""):gsub("%s+", " ")
  return t
end

local function language(conversation, detected)
  local lang = conversation.lang and conversation.lang:sub(1, 2):lower()
  if lang and strings[lang] then
    return lang
  end
  return detected or "en"
end

-- The longest greeting above, in bytes; longer messages are not greetings.
local GREETING_MAX = 24

function on_message(conversation, text)
  local greeted = #text <= GREETING_MAX and greetings[simplify(text)]
  local s = strings[language(conversation, greeted)]
  if greeted then
    return { text = s.greeting, source = "greeting", confidence = 1.0 }
  end
  return { text = s.fallback, source = "fallback", confidence = 0.0 }
end
