-- pl.lua: Polish texts of the flows (see en.lua).
return {
  ["flow.invalid"] = "Przepraszam, nie zrozumiałem. Czy możesz spróbować jeszcze raz?",
  ["flow.timeout"] = "Nie otrzymałem odpowiedzi, więc zamknąłem tę sprawę. Napisz ponownie, kiedy zechcesz.",
  ["flow.error"] = "Przepraszamy, coś poszło nie tak po naszej stronie.",
  ["flow.handoff"] = "Przekazuję rozmowę koledze z zespołu {team}. Zobaczy całą tę rozmowę, więc nie musisz niczego powtarzać.",
  ["flow.busy"] = "Chwileczkę, wciąż zajmuję się Twoją poprzednią prośbą.",
  ["answer.other_language"] = "Na razie mam tę odpowiedź tylko po angielsku:",

  ["reset.ask_email"] = "Jasne, pomogę zresetować hasło. Jaki adres e-mail jest przypisany do Twojego konta?",
  ["reset.bad_email"] = "To nie wygląda na adres e-mail. Wpisz go w postaci nazwa@przyklad.pl.",
  ["reset.done"] = "Dziękuję. Jeśli istnieje konto dla %s, właśnie wysłaliśmy na nie link do zmiany hasła. Sprawdź skrzynkę (i folder spam) w ciągu kilku minut.",
  ["reset.failed"] = "Przepraszam, nie udało się teraz rozpocząć resetu hasła.",

  ["order.ask_number"] = "Mogę to sprawdzić. Jaki jest numer zamówienia? Znajdziesz go w e-mailu z potwierdzeniem.",
  ["order.bad_number"] = "To nie wygląda na numer zamówienia. Ma od 5 do 10 cyfr, na przykład 100234.",
  ["order.shipped"] = "Dobra wiadomość: zamówienie %s zostało wysłane przez %s. Możesz je śledzić tutaj: %s",
  ["order.shipped_no_link"] = "Dobra wiadomość: zamówienie %s zostało wysłane. Link do śledzenia dostaniesz e-mailem.",
  ["order.our_courier"] = "naszego kuriera",
  ["order.processing"] = "Zamówienie %s jest przygotowywane i jeszcze nie zostało wysłane. Napiszemy, gdy tylko wyjdzie.",
  ["order.delivered"] = "Zamówienie %s zostało doręczone %s.",
  ["order.delivered_no_date"] = "Zamówienie %s zostało doręczone.",
  ["order.cancelled"] = "Zamówienie %s zostało anulowane. Jeśli tego nie zlecałeś, konsultant może to sprawdzić.",
  ["order.other"] = "Zamówienie %s ma status „%s”.",
  ["order.not_found"] = "Nie znalazłem zamówienia o numerze %s. Czy możesz sprawdzić numer i wpisać go ponownie?",
  ["order.not_found_again"] = "Nadal nie mogę znaleźć tego zamówienia. Czy chcesz porozmawiać z konsultantem?",
  ["order.talk_to_person"] = "Porozmawiaj z konsultantem",
  ["order.failed"] = "Przepraszam, nie mogę teraz sprawdzić zamówień.",
  ["desk.joined"] = "Rozmawiasz teraz z: {agent}.",
  ["desk.closed"] = "{agent} zakończył(a) tę rozmowę. Jak oceniasz otrzymaną pomoc?",
  ["desk.csat_thanks"] = "Dziękujemy za opinię!",
  ["desk.offline"] = "W tej chwili nikt z zespołu {team} nie jest dostępny.",
  ["desk.closed_hours"] = "Zespół {team} jest teraz poza godzinami pracy.",

  ["ticket.ask_message"] = "Zostaw nam wiadomość, a odpowiemy e-mailem. Co chcesz nam przekazać?",
  ["ticket.ask_email"] = "Dziękuję. Na jaki adres e-mail mamy odpowiedzieć?",
  ["ticket.no_email"] = "Bez adresu e-mail nie możemy odpisać, przepraszam. W każdej chwili możesz znów poprosić o konsultanta.",
  ["ticket.done"] = "Przyjęte. Odpowiemy na adres %s, gdy tylko ktoś z zespołu wróci.",

  -- what lua/pipeline.lua says (say(lang, key) there)
  ["bot.greeting"] = "Dzień dobry! Jestem asystentem obsługi klienta. W czym mogę pomóc?",
  ["bot.fallback"] = "Przepraszam, nie znam odpowiedzi na to pytanie. Czy możesz to ująć inaczej, czy wolisz porozmawiać z konsultantem?",
  ["bot.clarify_two"] = "Chcę się upewnić, że dobrze rozumiem. Czy chodzi o jedną z tych spraw?",
  ["bot.clarify_one"] = "Wydaje mi się, że pytasz o „%s”. Czy o to chodzi?",
  ["bot.no_flow"] = "Nie mogę jeszcze sam załatwić sprawy „%s”. Czy chcesz porozmawiać z konsultantem?",
  ["bot.human"] = "Porozmawiaj z konsultantem",
  ["bot.other"] = "Coś innego",
  ["bot.cancelled"] = "Dobrze, przerwałem. Czy mogę pomóc w czymś jeszcze?",
  ["bot.apology"] = "Przepraszamy, coś poszło nie tak po naszej stronie. Spróbuj ponownie za chwilę.",

  -- words lua/pipeline.lua looks for, separated by | (own_text(lang, key);
  -- compared without case or accents)
  ["words.greetings"] = "cześć|dzień dobry|witam|hej",
  ["words.exits"] = "anuluj|przerwij|nieważne|zapomnij|koniec|rezygnuję",
  ["words.person_verbs"] = "rozmawiać|porozmawiać|chcę|chciałbym|chciałabym|proszę|połącz|daj|potrzebuję",
  ["words.persons"] = "konsultant|konsultantem|konsultanta|człowiek|człowiekiem|osoba|osobą|pracownik|pracownikiem|agent|agentem",
}
