-- A pipeline that loads: this content root is about the other files.
function on_message(conversation, text, understanding)
  return {}
end
