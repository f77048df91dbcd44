-- pt.lua: Portuguese texts of the flows (see en.lua).
return {
  ["flow.invalid"] = "Desculpe, não percebi. Pode tentar de novo?",
  ["flow.timeout"] = "Como não tive resposta, encerrei este pedido. Pode voltar a pedir quando quiser.",
  ["flow.error"] = "Desculpe, algo correu mal do nosso lado.",
  ["flow.handoff"] = "Vou passá-lo a um colega da equipa {team}. Ele vai ver toda esta conversa, por isso não precisa de repetir nada.",
  ["flow.busy"] = "Um momento, ainda estou a tratar do seu pedido anterior.",

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
}
