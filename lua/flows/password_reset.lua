-- password_reset.lua: the customer gets a password reset link without
-- waiting for a person.
--
-- Asks for the account's e-mail address, checks its shape, and asks the
-- company backend to send a reset link: POST {backend.api}/password-reset
-- with {"email": ...}. The reply to the customer is the same whether or
-- not an account exists, so the bot never tells anyone who is a customer.
-- Any backend trouble (an error status, a timeout, no connection) ends in
-- an apology and a handoff to the accounts team, with the reason recorded.
-- The address stays in the conversation's slots for the agent.
return function()
  local base = backend.api or error("no backend named \"api\" in the config (flows.backends)")

  local email = ask(t("reset.ask_email"), {
    validate = "email",
    invalid = t("reset.bad_email"),
    retries = 2,
  })
  if not email then
    return handoff { team = "accounts", reason = "no valid e-mail address after three tries" }
  end
  slots.email = email

  local res = http.post(base .. "/password-reset", { email = email })
  if not res.ok then
    say(t("reset.failed"))
    return handoff { team = "accounts", reason = "password reset request failed: " .. res.error }
  end
  say(t("reset.done", email))
end
