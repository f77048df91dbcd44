-- leave_message.lua: an offline ticket, when nobody of the team can take
-- the chat (no agent online, or outside the team's hours).
--
-- supportd starts this flow itself instead of queueing the chat, after
-- saying that the team is not available. It asks for the message and an
-- e-mail address to answer to, and files a ticket for the team, which its
-- agents see when they log in (docs/desk.md).
return function()
  local message = ask(t("ticket.ask_message"))
  local email = ask(t("ticket.ask_email"), {
    validate = "email",
    invalid = t("reset.bad_email"),
    retries = 2,
  })
  if not email then
    say(t("ticket.no_email"))
    return
  end
  slots.email = email
  ticket { email = email, message = message }
  say(t("ticket.done", email))
end
