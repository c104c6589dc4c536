from html.parser import HTMLParser


class Texts(HTMLParser):
    """The visible text of a page and its table rows."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in {"td", "th"}:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in {"td", "th"} and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(response) -> Texts:
    page = Texts()
    page.feed(response.get_data(as_text=True))
    return page


def test_the_start_page_speaks_german_first(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "Qualifizierung von Lernbegleiter:innen" in html
    assert "Lernbegleitung kompakt: zwei Seminartage und Reflexionstag" in html
    assert "Lernbegleitung blended" in html


def test_the_start_page_shows_the_shape_of_each_format(client):
    page = parse(client.get("/"))
    rows = [row for row in page.rows if row and row[0] != "Woche"]
    blended = rows[:7]
    assert blended[0] == [
        "1",
        "Auftakt: Kennenlernen und Rollenverständnis",
        "Auftakt",
        "Präsenz",
        "09:00 Uhr, 4 Std.",
    ]
    assert blended[1][3:] == ["Selbstgesteuert", "2 Wochen"]
    # Checkpoint 2 sits about seven months after the start.
    assert 28 <= int(blended[6][0]) <= 32


def test_english_on_request_and_remembered(client):
    response = client.get("/?lang=en")
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Qualification programmes for learning companions" in html
    assert "Learning companion, compact" in html
    assert "qualiplan_lang=en" in response.headers["Set-Cookie"]
    again = client.get("/")
    assert '<html lang="en">' in again.get_data(as_text=True)


def test_the_browser_language_is_used_when_nothing_was_chosen(client):
    response = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in response.get_data(as_text=True)
    response = client.get("/", headers={"Accept-Language": "fr-FR"})
    assert '<html lang="de">' in response.get_data(as_text=True)


def test_an_unknown_language_falls_back_to_german(client):
    response = client.get("/?lang=xx")
    assert '<html lang="de">' in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_security_headers(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_inline_scripts_or_styles_and_local_assets_only(client):
    html = client.get("/").get_data(as_text=True)
    assert "<script" not in html
    assert "<style" not in html
    assert " style=" not in html
    assert "http://" not in html
    assert "https://" not in html
    with client.get("/static/qualiplan.css") as stylesheet:
        assert stylesheet.status_code == 200
        assert stylesheet.mimetype == "text/css"


def test_unknown_pages_answer_404_in_the_users_language(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.get_data(as_text=True)
    response = client.get("/no/such/page?lang=en")
    assert "Page not found" in response.get_data(as_text=True)


def test_state_is_never_changed_by_get_and_other_methods_are_refused(client):
    assert client.post("/").status_code == 405


def test_error_pages_speak_the_users_language(client, make):
    from app.models import Role
    from tests.web.helpers import log_in

    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    log_in(client, "hr@example.org")
    expired = client.post("/cohorts/new", data={"name": "x"})
    assert expired.status_code == 400
    assert "Das Formular ist abgelaufen" in expired.get_data(as_text=True)
    forbidden = client.get("/cohorts/new")
    assert forbidden.status_code == 403
    assert "Nicht erlaubt" in forbidden.get_data(as_text=True)
    wrong_method = client.get("/logout")
    assert wrong_method.status_code == 405
    assert "Nicht auf diesem Weg möglich" in wrong_method.get_data(as_text=True)


def test_the_start_page_gives_teaching_units_and_no_internal_keys(client):
    text = " ".join("".join(parse(client.get("/")).text).split())
    assert "Version 2 · 20 Unterrichtseinheiten" in text  # compact: 15 hours of 45-minute units
    assert "Version 2 · 26 Unterrichtseinheiten" in text  # blended
    assert "Schlüssel" not in text
    assert "compact" not in text
    assert "Unterrichtsstunden" not in text
