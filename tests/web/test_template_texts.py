"""Templates translate their texts in the language of each request: the
catalog looked up once per request never carries over to the next one, and
texts keep Jinja's rules (values escaped, `%%` read as `%`)."""

from __future__ import annotations

from flask import render_template_string


def test_each_request_reads_its_own_language(app, client):
    # The tests hold one app context for all requests, so anything kept in
    # `g` would carry over from one request to the next.
    assert "Anmelden" in client.get("/login").get_data(as_text=True)
    assert "Log in" in client.get("/login?lang=en").get_data(as_text=True)
    assert "Anmelden" in client.get("/login?lang=de").get_data(as_text=True)
    assert "Log in" in client.get("/login?lang=en").get_data(as_text=True)


def test_texts_are_escaped_and_formatted_as_jinja_does(app):
    with app.test_request_context("/?lang=en"):
        shown = render_template_string(
            "{{ _('%(name)s, nationwide holidays only', name=name) }}|{{ _('100%%') }}",
            name="<b>A & B</b>",
        )
        assert shown == "&lt;b&gt;A &amp; B&lt;/b&gt;, nationwide holidays only|100%"
        plain = app.jinja_env.from_string(
            "{% autoescape false %}{{ _('a <b>') }}{% endautoescape %}"
        )
        assert plain.render() == "a <b>"
    with app.app_context(), app.test_request_context("/?lang=de"):
        shown = render_template_string(
            "{{ _('%(country)s, nationwide holidays only', country=c) }}", c="DE"
        )
        assert shown == "DE, nur landesweite Feiertage"
