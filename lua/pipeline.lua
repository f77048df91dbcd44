-- pipeline.lua: decides what the bot says to each customer message.
--
-- supportd calls on_message(conversation, text, understanding) for every
-- message a customer sends.
--
-- `conversation` is a read-only snapshot:
--   conversation.id    the public conversation id
--   conversation.lang  the language the widget announced (may be nil)
--   conversation.name  the customer's name (may be nil)
--   conversation.turn  how many messages the customer has sent, this one included
--   conversation.flow  the self-service flow waiting for this message, or nil
--   conversation.choice  the id of the button the customer pressed, or nil
--   conversation.unsure  how many times in a row the bot could not answer before this
--   conversation.topic_team  the team of what the conversation was last about, or nil
--
-- `understanding` is what the brain (C: text normalisation, the intent
-- matcher and the FAQ retriever) made of the text:
--   understanding.lang           the content language used ("en", "pt", "pl")
--   understanding.words          how many words the message has
--   understanding.content_words  ... of which are not stop words
--   understanding.margin         confidence of the best candidate minus the second's
--   understanding.thresholds     { answer, clarify, clarify_margin } from rules/thresholds.yaml
--   understanding.mood           how upset the message reads (src/mood.c):
--       score 0..1, upset, threat, threats (names: legal, cancel, chargeback,
--       regulator, review), profanity, shouting, why, and trend = { level,
--       messages, upset_messages, streak, rising, upset } for the conversation
--   understanding.candidates     best first, at most five, each with
--       source      "intent:<name>" or "faq:<id>"
--       kind        "intent" or "faq"
--       label       text for a button (intent label or FAQ title)
--       answer      Markdown to say (nil for an intent that runs a flow)
--       flow        the intent's self-service flow (lua/flows/), or nil
--       team        who takes a handoff about it
--       confidence  calibrated, 0..1; model, retriever: its two inputs
--       pattern     the rule pattern that matched, or nil
--       terms       the words that drove it
--
-- Return a string, a reply table
--   { text = "...", source = "faq:returns", confidence = 0.93,
--     choices = { { id = "faq:returns", label = "Returns" } } }
-- a list of reply tables, or nil for no reply. A button's id comes back as
-- the `choice` of the customer's next message, and the brain then puts that
-- candidate first with confidence 1.
--
-- A second result, an action table, asks for more than words
-- (docs/flows.md):
--   { start_flow = "order_status", lang = "en", team = "orders" }
--   { to_flow = true }        the message answers the waiting flow
--   { cancel_flow = true }    end the waiting flow
--   { handoff = { team = "accounts", reason = "...", text = "..." } }

-- What the bot says lives in the catalogs, lua/locale/<lang>.lua, under
-- "bot.*" keys: text(lang, key, ...) looks one up (English when the
-- language lacks it) and formats it like string.format.
local BOT_KEYS = { "greeting", "fallback", "clarify_two", "clarify_one", "no_flow", "human",
                   "other", "cancelled" }

-- The texts of lang, by their short names (s.fallback, ...).
local function strings_for(lang)
  local s = {}
  for _, k in ipairs(BOT_KEYS) do
    s[k] = text(lang, "bot." .. k)
  end
  return s
end

-- Lower-cases, strips accents (fold(), the brain's folding), trims white
-- space and trailing punctuation.
local function simplify(text)
  local t = fold(text) or text:lower()
  t = t:gsub("^%s+", ""):gsub("[%s%p]+$", ""):gsub("%s+", " ")
  return t
end

-- The word lists of every language of lua/locale/ ("words.*" keys: words
-- or phrases separated by |), folded, built on first use.
local lists
local function word_lists()
  if lists then
    return lists
  end
  lists = { greetings = {}, exits = {}, person_verbs = {}, persons = {} }
  for _, lang in ipairs(languages()) do
    for name, set in pairs(lists) do
      for w in (own_text(lang, "words." .. name) or ""):gmatch("[^|]+") do
        set[simplify(w)] = lang
      end
    end
  end
  return lists
end

local function language(conversation, understanding, detected)
  local lang = conversation.lang and conversation.lang:sub(1, 2):lower()
  if lang and lang:match("^%a%a$") then
    return lang
  end
  if detected then
    return detected
  end
  if understanding and understanding.lang then
    return understanding.lang
  end
  return "en"
end

-- The longest greeting above, in bytes; longer messages are not greetings.
local GREETING_MAX = 24

local HANDOFF = "handoff"
local CANCEL = "cancel"

-- The intent that means "let me talk to a person".
local PERSON_INTENT = "human_agent"

-- After this many fallbacks in a row, the bot hands off instead of
-- offering a person once more.
local UNSURE_HANDOFF_AFTER = 2

-- A message this upset hands off on its own; a merely upset one does when
-- the conversation has been upset too (two in a row, or its level), or
-- swears. Threats of legal action, a chargeback or a regulator always do;
-- "cancel my account" or "I'll write a review" alone do not.
local UPSET_ALONE = 0.8
local MILD_THREATS = { cancel = true, review = true }

-- Why the customer should have a person because of their mood, or nil.
local function upset_reason(understanding)
  local m = understanding and understanding.mood
  if not m then
    return nil
  end
  for _, t in ipairs(m.threats or {}) do
    if not MILD_THREATS[t] then
      return "the customer threatened " .. t .. " action (" .. (m.why or "") .. ")"
    end
  end
  local trend = m.trend or {}
  local sustained = (trend.streak or 0) >= 2 or trend.rising or
                    ((trend.messages or 0) >= 2 and trend.upset)
  if m.score >= UPSET_ALONE or (m.upset and (m.profanity or sustained)) then
    return "the customer is upset (" .. (m.why or "") .. ")"
  end
  return nil
end

-- Said alone (or nearly), the catalogs' words.exits leave a flow.
local function is_exit(text)
  if #text > 40 then
    return false
  end
  local t = simplify(text)
  for e in pairs(word_lists().exits) do
    if t == e or (t:sub(1, #e + 1) == e .. " " and #t <= #e + 12) then
      return true
    end
  end
  return false
end

-- The customer asked for a person: the button, or the intent for sure.
-- Or, in a short message, a verb of asking or talking (the catalogs'
-- words.person_verbs) and a word for a person (words.persons): a safety
-- net under the human_agent intent, for the many ways of saying it.
local function has_word(t, w)
  return t:find(" " .. w .. " ", 1, true) ~= nil
end

local function asks_for_person(text)
  if #text > 120 then
    return false
  end
  local t = " " .. simplify(text):gsub("[%p%s]+", " ") .. " "
  local l = word_lists()
  local verb = false
  for v in pairs(l.person_verbs) do
    verb = verb or has_word(t, v)
  end
  if not verb then
    return false
  end
  for p in pairs(l.persons) do
    if has_word(t, p) then
      return true
    end
  end
  return false
end

local function wants_person(conversation, understanding, text)
  if conversation.choice == HANDOFF then
    return true
  end
  local best = understanding and understanding.candidates[1]
  if best ~= nil and best.name == PERSON_INTENT and
     best.confidence >= understanding.thresholds.answer then
    return true
  end
  return text ~= nil and asks_for_person(text)
end

-- The reply that answers with candidate c, and the action it needs.
local function answer(s, c, lang)
  if c.flow then
    return nil, { start_flow = c.flow, lang = lang, team = c.team }
  end
  if c.answer then
    return { text = c.answer, source = c.source, confidence = c.confidence }
  end
  return {
    text = string.format(s.no_flow, c.label),
    source = c.source,
    confidence = c.confidence,
    choices = { { id = HANDOFF, label = s.human } },
  }
end

local function fallback(s, confidence)
  return {
    text = s.fallback,
    source = "fallback",
    confidence = confidence,
    choices = { { id = HANDOFF, label = s.human } },
  }
end

function on_message(conversation, text, understanding)
  local greeted = #text <= GREETING_MAX and word_lists().greetings[simplify(text)]
  local lang = language(conversation, understanding, greeted)
  local s = strings_for(lang)

  -- A flow is waiting for this message: it is the answer, unless the
  -- customer wants out or wants a person.
  local upset = upset_reason(understanding)

  if conversation.flow then
    if upset then
      return nil, { handoff = { reason = upset, upset = true } }
    end
    if conversation.choice == CANCEL or is_exit(text) then
      return { text = s.cancelled, source = "flow:" .. conversation.flow }, { cancel_flow = true }
    end
    if wants_person(conversation, understanding, text) then
      return nil, { handoff = {
        reason = "the customer asked for a person during flow " .. conversation.flow } }
    end
    return nil, { to_flow = true }
  end

  if greeted then
    return { text = s.greeting, source = "greeting", confidence = 1.0 }
  end
  if upset then
    local best = understanding.candidates[1]
    return nil, { handoff = { team = best and best.team or nil, reason = upset, upset = true } }
  end
  if wants_person(conversation, understanding, text) then
    local best = understanding.candidates[1]
    -- the intent's own words only when it is what the bot understood
    -- (asked in another language, the daemon's translated notice is said)
    local person = best and best.name == PERSON_INTENT and
                   best.confidence >= understanding.thresholds.answer
    return nil, { handoff = {
      -- the topic of the conversation so far, else the person intent's team
      team = conversation.topic_team or (person and best.team) or nil,
      reason = "the customer asked for a person",
      text = person and best.answer or nil,
    } }
  end

  local cands = understanding and understanding.candidates or {}
  local best, second = cands[1], cands[2]
  if not best then
    if (conversation.unsure or 0) + 1 >= UNSURE_HANDOFF_AFTER then
      return fallback(s, 0.0), { handoff = { reason = "the bot could not answer twice in a row" } }
    end
    return fallback(s, 0.0)
  end
  local th = understanding.thresholds
  local close = second ~= nil and best.confidence - second.confidence < th.clarify_margin

  if best.confidence >= th.answer and not close then
    return answer(s, best, lang)
  end
  if best.confidence >= th.clarify then
    if close and second.confidence >= th.clarify then
      -- "Did you mean A or B?": a button for each close candidate.
      local choices = {}
      for _, c in ipairs(cands) do
        if #choices < 3 and c.confidence >= th.clarify and
           best.confidence - c.confidence < th.clarify_margin then
          choices[#choices + 1] = { id = c.source, label = c.label }
        end
      end
      choices[#choices + 1] = { id = HANDOFF, label = s.human }
      return { text = s.clarify_two, source = "clarify", confidence = best.confidence,
               choices = choices }
    end
    return {
      text = string.format(s.clarify_one, best.label),
      source = "clarify",
      confidence = best.confidence,
      choices = { { id = best.source, label = best.label }, { id = "other", label = s.other } },
    }
  end
  if (conversation.unsure or 0) + 1 >= UNSURE_HANDOFF_AFTER then
    -- a candidate this unlikely is not "in play": the default team takes it
    return fallback(s, best.confidence), { handoff = {
      team = best.confidence >= th.clarify and best.team or nil,
      reason = "the bot could not answer twice in a row" } }
  end
  return fallback(s, best.confidence)
end
