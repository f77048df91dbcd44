-- en.lua: English texts of the flows (t("key", ...) in lua/flows/).
-- Values are Lua string.format patterns: %s takes the next argument.
-- flow.handoff is said by supportd itself: {team} is replaced by the team.
return {
  ["flow.invalid"] = "Sorry, I didn't get that. Could you try again?",
  ["flow.timeout"] = "I haven't heard back from you, so I've closed this request. Just ask again whenever you're ready.",
  ["flow.error"] = "Sorry, something went wrong on our side.",
  ["flow.handoff"] = "I'm passing you to a colleague from our {team} team. They'll see this whole conversation, so you won't need to repeat anything.",
  ["flow.busy"] = "One moment, I'm still working on your previous request.",
  ["answer.other_language"] = "I only have this answer in English for now:",

  ["reset.ask_email"] = "Sure, I can help you reset your password. What is the e-mail address on your account?",
  ["reset.bad_email"] = "That doesn't look like an e-mail address. Please type it like name@example.com.",
  ["reset.done"] = "Thanks. If there is an account for %s, we've just sent it a link to reset the password. Please check your inbox (and the spam folder) in the next few minutes.",
  ["reset.failed"] = "Sorry, I couldn't start the password reset just now.",

  ["order.ask_number"] = "I can check that for you. What is your order number? You'll find it in your confirmation e-mail.",
  ["order.bad_number"] = "That doesn't look like an order number. It has 5 to 10 digits, for example 100234.",
  ["order.shipped"] = "Good news: order %s has shipped with %s. You can follow it here: %s",
  ["order.shipped_no_link"] = "Good news: order %s has shipped. You'll get the tracking link by e-mail.",
  ["order.our_courier"] = "our courier",
  ["order.processing"] = "Order %s is being prepared and hasn't shipped yet. We'll e-mail you as soon as it does.",
  ["order.delivered"] = "Order %s was delivered on %s.",
  ["order.delivered_no_date"] = "Order %s has been delivered.",
  ["order.cancelled"] = "Order %s was cancelled. If you didn't ask for that, a colleague can look into it.",
  ["order.other"] = "Order %s has the status \"%s\".",
  ["order.not_found"] = "I couldn't find an order with the number %s. Could you check it and type it again?",
  ["order.not_found_again"] = "I still can't find that order. Would you like to talk to a person?",
  ["order.talk_to_person"] = "Talk to a person",
  ["order.failed"] = "Sorry, I can't look up orders right now.",
  ["desk.joined"] = "You're now chatting with {agent}.",
  ["desk.closed"] = "{agent} has closed this chat. How would you rate the help you got?",
  ["desk.csat_thanks"] = "Thank you for your feedback!",
  ["desk.offline"] = "Nobody from our {team} team is available right now.",
  ["desk.closed_hours"] = "Our {team} team is away at the moment.",

  ["ticket.ask_message"] = "Leave us a message and we'll get back to you by e-mail. What would you like to tell us?",
  ["ticket.ask_email"] = "Thanks. Which e-mail address should we answer to?",
  ["ticket.no_email"] = "Without an e-mail address we can't write back, sorry. You can ask for a person again at any time.",
  ["ticket.done"] = "Got it. We'll reply to %s as soon as someone from the team is back.",

  -- what lua/pipeline.lua says (say(lang, key) there)
  ["bot.greeting"] = "Hello! I'm the support assistant. How can I help you today?",
  ["bot.fallback"] = "I'm sorry, I don't know the answer to that. Could you put it another way, or would you like to talk to a person?",
  ["bot.clarify_two"] = "I want to be sure I understand. Did you mean one of these?",
  ["bot.clarify_one"] = "I think you are asking about \"%s\". Is that right?",
  ["bot.no_flow"] = "I can't do \"%s\" for you myself yet. Would you like to talk to a person?",
  ["bot.human"] = "Talk to a person",
  ["bot.other"] = "Something else",
  ["bot.cancelled"] = "OK, I've stopped. Is there anything else I can help with?",
  ["bot.apology"] = "Sorry, something went wrong on our side. Could you try again in a moment?",

  -- words lua/pipeline.lua looks for, separated by | (own_text(lang, key);
  -- compared without case or accents)
  ["words.greetings"] = "hi|hello|hey|hiya|good morning|good afternoon|good evening",
  ["words.exits"] = "cancel|stop|never mind|nevermind|forget it|quit|exit|no thanks|abort",
}
