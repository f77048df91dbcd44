-- pl.lua: Polish texts of the flows (see en.lua).
return {
  ["flow.invalid"] = "Przepraszam, nie zrozumiałem. Czy możesz spróbować jeszcze raz?",
  ["flow.timeout"] = "Nie otrzymałem odpowiedzi, więc zamknąłem tę sprawę. Napisz ponownie, kiedy zechcesz.",
  ["flow.error"] = "Przepraszamy, coś poszło nie tak po naszej stronie.",
  ["flow.handoff"] = "Przekazuję rozmowę koledze z zespołu {team}. Zobaczy całą tę rozmowę, więc nie musisz niczego powtarzać.",
  ["flow.busy"] = "Chwileczkę, wciąż zajmuję się Twoją poprzednią prośbą.",

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
}
