-- A flow that does not compile: 'then' is missing.
return function(ctx)
  if ctx.answer == "yes"
    say("Done.")
  end
end
