-- pt.lua: Portuguese texts of the flows (see en.lua).
return {
  ["flow.invalid"] = "Desculpe, não percebi. Pode tentar de novo?",
  ["flow.timeout"] = "Como não tive resposta, encerrei este pedido. Pode voltar a pedir quando quiser.",
  ["flow.error"] = "Desculpe, algo correu mal do nosso lado.",
  ["flow.handoff"] = "Vou passá-lo a um colega da equipa {team}. Ele vai ver toda esta conversa, por isso não precisa de repetir nada.",
  ["flow.busy"] = "Um momento, ainda estou a tratar do seu pedido anterior.",
  ["answer.other_language"] = "Por agora só tenho esta resposta em inglês:",

  ["reset.ask_email"] = "Claro, posso ajudar a repor a sua palavra-passe. Qual é o endereço de e-mail da sua conta?",
  ["reset.bad_email"] = "Isso não parece um endereço de e-mail. Escreva-o assim: nome@exemplo.com.",
  ["reset.done"] = "Obrigado. Se existir uma conta para %s, acabámos de enviar uma ligação para repor a palavra-passe. Veja a sua caixa de entrada (e o spam) nos próximos minutos.",
  ["reset.failed"] = "Desculpe, não consegui iniciar a reposição da palavra-passe agora.",

  ["order.ask_number"] = "Posso verificar isso. Qual é o número da encomenda? Está no e-mail de confirmação.",
  ["order.bad_number"] = "Isso não parece um número de encomenda. Tem de 5 a 10 algarismos, por exemplo 100234.",
  ["order.shipped"] = "Boas notícias: a encomenda %s foi enviada com %s. Pode segui-la aqui: %s",
  ["order.shipped_no_link"] = "Boas notícias: a encomenda %s foi enviada. Vai receber a ligação de seguimento por e-mail.",
  ["order.our_courier"] = "a nossa transportadora",
  ["order.processing"] = "A encomenda %s está a ser preparada e ainda não foi enviada. Enviamos um e-mail assim que for.",
  ["order.delivered"] = "A encomenda %s foi entregue em %s.",
  ["order.delivered_no_date"] = "A encomenda %s foi entregue.",
  ["order.cancelled"] = "A encomenda %s foi cancelada. Se não pediu isso, um colega pode ver o que aconteceu.",
  ["order.other"] = "A encomenda %s tem o estado \"%s\".",
  ["order.not_found"] = "Não encontrei nenhuma encomenda com o número %s. Pode confirmar e escrevê-lo de novo?",
  ["order.not_found_again"] = "Continuo sem encontrar essa encomenda. Quer falar com uma pessoa?",
  ["order.talk_to_person"] = "Falar com uma pessoa",
  ["order.failed"] = "Desculpe, agora não consigo consultar encomendas.",
  ["desk.joined"] = "Está agora a falar com {agent}.",
  ["desk.closed"] = "{agent} encerrou esta conversa. Como avalia a ajuda que recebeu?",
  ["desk.csat_thanks"] = "Obrigado pela sua opinião!",
  ["desk.offline"] = "Neste momento não há ninguém disponível da equipa {team}.",
  ["desk.closed_hours"] = "A equipa {team} está fora de horas neste momento.",

  ["ticket.ask_message"] = "Deixe-nos uma mensagem e respondemos por e-mail. O que nos quer dizer?",
  ["ticket.ask_email"] = "Obrigado. Para que endereço de e-mail devemos responder?",
  ["ticket.no_email"] = "Sem um endereço de e-mail não conseguimos responder, desculpe. Pode voltar a pedir uma pessoa quando quiser.",
  ["ticket.done"] = "Recebido. Respondemos para %s assim que alguém da equipa voltar.",

  -- what lua/pipeline.lua says (say(lang, key) there)
  ["bot.greeting"] = "Olá! Sou o assistente de apoio. Como posso ajudar?",
  ["bot.fallback"] = "Desculpe, não sei responder a isso. Pode dizer de outra forma, ou prefere falar com uma pessoa?",
  ["bot.clarify_two"] = "Quero ter a certeza de que percebi. Queria dizer uma destas opções?",
  ["bot.clarify_one"] = "Acho que pergunta sobre \"%s\". É isso?",
  ["bot.no_flow"] = "Ainda não consigo tratar de \"%s\" sozinho. Quer falar com uma pessoa?",
  ["bot.human"] = "Falar com uma pessoa",
  ["bot.other"] = "Outra coisa",
  ["bot.cancelled"] = "Está bem, parei. Posso ajudar com mais alguma coisa?",
  ["bot.apology"] = "Desculpe, algo correu mal do nosso lado. Pode tentar de novo daqui a pouco?",

  -- words lua/pipeline.lua looks for, separated by | (own_text(lang, key);
  -- compared without case or accents)
  ["words.greetings"] = "olá|oi|bom dia|boa tarde|boa noite",
  ["words.exits"] = "cancelar|parar|esquece|deixa para lá|deixa pra lá|sair|desistir",
  ["words.person_verbs"] = "falar|fala|conversar|quero|queria|preciso|passe|passa",
  ["words.persons"] = "atendente|pessoa|humano|alguém|operador|agente|assistente real",
}
