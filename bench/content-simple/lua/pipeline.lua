-- The simplest pipeline, for bench/run.sh with
-- BENCH_CONTENT=bench/content-simple: the websocket targets of issue 2 are
-- defined against a durable store and a simple pipeline. The brain still
-- runs first, on the one FAQ entry beside this file; this script then
-- replies with a fixed text.
function on_message(conversation, text, understanding)
  return { text = "Thanks! A person will read this soon.", source = "fallback", confidence = 0.0 }
end
