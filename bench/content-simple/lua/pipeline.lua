-- The simplest pipeline, for bench/run.sh with
-- BENCH_CONTENT=bench/content-simple: the websocket targets of issue 2 are
-- defined against a durable store and a simple pipeline ("a greeting and
-- an 'I'm still learning' fallback"). It takes no third parameter, so
-- supportd does not ask the brain about the message (docs/content.md,
-- "The pipeline"); the mood check still runs. It replies with a fixed
-- text, which counts as a fallback: each message also goes on the
-- unanswered list.
function on_message(conversation, text)
  return { text = "Thanks! A person will read this soon.", source = "fallback", confidence = 0.0 }
end
