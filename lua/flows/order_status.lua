-- order_status.lua: where is my order?
--
-- Asks for the order number (checked with the config's
-- flows.patterns.order_number), looks it up with
-- GET {backend.api}/orders/{number} and says what the status means. An
-- unknown number is asked again once; the second miss offers a person.
-- Backend trouble ends in an apology and a handoff to the orders team.
--
-- The backend's reply is {"id", "status", "carrier", "tracking_url",
-- "delivered_at"}; status is shipped, processing, delivered or cancelled.

-- A tracking link is passed on only if it is a plain http(s) URL.
local function safe_url(u)
  if type(u) == "string" and #u <= 500 and u:match("^https?://[%w%-%._~:/%?&=%%#+]+$") then
    return u
  end
end

local function text_or(v, default)
  if type(v) == "string" and v ~= "" and #v <= 100 then
    return v
  end
  return default
end

-- The sentence for an order the backend knows.
local function phrase(id, o)
  local status = o.status
  if status == "shipped" then
    local url = safe_url(o.tracking_url)
    if url then
      return t("order.shipped", id, text_or(o.carrier, t("order.our_courier")), url)
    end
    return t("order.shipped_no_link", id)
  elseif status == "processing" then
    return t("order.processing", id)
  elseif status == "delivered" then
    local date = text_or(o.delivered_at)
    if date then
      return t("order.delivered", id, date)
    end
    return t("order.delivered_no_date", id)
  elseif status == "cancelled" then
    return t("order.cancelled", id)
  end
  return t("order.other", id, text_or(status, "?"))
end

return function()
  local base = backend.api or error("no backend named \"api\" in the config (flows.backends)")
  local prompt = t("order.ask_number")

  for attempt = 1, 2 do
    local id = ask(prompt, {
      validate = "order_number",
      invalid = t("order.bad_number"),
      retries = 2,
    })
    if not id then
      return handoff { team = "orders", reason = "no valid order number after three tries" }
    end
    slots.order_number = id

    local res = http.get(base .. "/orders/" .. id)
    if res.status == 404 then
      if attempt == 2 then
        say(t("order.not_found_again"), { { id = "handoff", label = t("order.talk_to_person") } })
        return
      end
      prompt = t("order.not_found", id)
    elseif not res.ok or type(res.json) ~= "table" then
      say(t("order.failed"))
      return handoff {
        team = "orders",
        reason = "order lookup failed: " .. (res.error or "the reply is not a JSON object"),
      }
    else
      slots.order_status = text_or(res.json.status)
      say(phrase(id, res.json))
      return
    end
  end
end
