"""Error pages, static assets, language and time zone."""

import json
import re
from gettext import GNUTranslations
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db

LOCALE_TAIL = Path("locale") / "zh_Hans" / "LC_MESSAGES"
LOCALE = Path(settings.BASE_DIR) / "web" / LOCALE_TAIL


def test_unknown_page_is_an_html_404(viewer_web):
    response = viewer_web.get("/no/such/page/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"].startswith("text/html")
    assert b"There is no page at this address." in response.content


def test_unknown_api_path_stays_a_json_404(viewer_web):
    response = viewer_web.get("/api/v1/nothing-here")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Not Found"}


def test_server_error_page_is_html_for_pages_and_json_for_the_api(rf):
    from config.urls import handler500

    assert handler500(rf.get("/studies/"))["Content-Type"].startswith("text/html")
    assert handler500(rf.get("/api/v1/studies/search")).status_code == 500
    assert b'"detail"' in handler500(rf.get("/api/v1/studies/search")).content


@pytest.mark.parametrize(
    "path", ["web/vendor/htmx.min.js", "web/vendor/chart.umd.min.js", "web/app.css", "web/app.js"]
)
def test_assets_are_vendored_not_loaded_from_a_cdn(path):
    assert finders.find(path) is not None


def test_pages_load_nothing_from_another_site(viewer_web):
    for page in ("/studies/", "/dashboard/"):
        body = viewer_web.get(page).content.decode()
        assert not re.search(r'(src|href)="(https?:)?//', body)


def test_language_follows_the_browser(viewer_web):
    body = viewer_web.get("/studies/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in body
    assert "检查" in body and "退出登录" in body


def test_language_switch_is_remembered(viewer_web):
    response = viewer_web.post("/i18n/setlang/", {"language": "zh-hans", "next": "/reports/?q=x"})
    assert response["Location"] == "/reports/?q=x"
    body = viewer_web.get("/reports/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="zh-hans">' in body
    back = viewer_web.post("/i18n/setlang/", {"language": "en", "next": "/reports/"})
    assert back.status_code == HTTPStatus.FOUND
    assert b'<html lang="en">' in viewer_web.get("/reports/").content


def test_login_page_is_translated_too(client):
    body = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert "登录" in body


def _po_entries(path: Path) -> dict[str, str]:
    """msgid -> msgstr (the first form of a plural) of a .po file; a msgid with a context is
    keyed as the compiled catalogue keys it, "context\x04msgid"."""
    entries: dict[str, str] = {}
    current: dict[str, str] = {}
    key = None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr", "msgstr[0]"):
            key = keyword
            current[key] = json.loads(rest)  # a .po string is a C string, as JSON's
        elif line.startswith('"') and key:
            current[key] += json.loads(line)
        elif not line.strip():
            if current.get("msgid"):
                msgid = current["msgid"]
                if "msgctxt" in current:
                    msgid = f"{current['msgctxt']}\x04{msgid}"
                entries[msgid] = current.get("msgstr", current.get("msgstr[0]", ""))
            current, key = {}, None
    return entries


@pytest.mark.parametrize(
    ("locale", "least"), [(LOCALE, 200), (Path(settings.BASE_DIR) / "ingest" / LOCALE_TAIL, 30)]
)
def test_chinese_catalogue_is_complete_and_compiled(locale, least):
    po = locale / "django.po"
    entries = _po_entries(po)
    assert len(entries) > least
    assert [msgid for msgid, msgstr in entries.items() if not msgstr] == []
    assert "#, fuzzy" not in po.read_text(encoding="utf-8")
    # The committed .mo is compiled from the .po as it is now.
    with (locale / "django.mo").open("rb") as fh:
        catalogue = GNUTranslations(fh)
    stale = {
        msgid: msgstr
        for msgid, msgstr in entries.items()
        if catalogue.gettext(msgid) != msgstr and catalogue.ngettext(msgid, "", 1) != msgstr
    }
    assert stale == {}


def test_times_are_shown_in_the_configured_time_zone(viewer_web, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert b"Asia/Shanghai" in viewer_web.get("/studies/").content


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_pages_render_no_template_syntax(admin_web, language):
    from tests.factories import StudyFactory

    StudyFactory(exam_id="CT1")
    for path in (
        "/studies/",
        "/studies/CT1/",
        "/reports/",
        "/analysis/",
        "/import/",
        "/dashboard/",
    ):
        body = admin_web.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert "{#" not in body and "{%" not in body and "{{" not in body, path
