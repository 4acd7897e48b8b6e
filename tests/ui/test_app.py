"""The Streamlit chat page (ui/app.py) driven by AppTest, with the fake chat model.

The page runs the real pipeline (screening, retrieval on a tiny real index,
output checks); only the LLM is the canned-reply "fake" provider
(``COMPANION_LLM_PROVIDER=fake`` builds a ``GenericFakeChatModel``).
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from companion.prompts import DISCLOSURE
from companion.settings import REPO_ROOT, Settings, get_settings

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from ui import components  # noqa: E402

APP = str(REPO_ROOT / "ui" / "app.py")
TIMEOUT = 90  # seconds; the first run loads MiniLM and opens the index

NOTE_TITLE = "Why healing moves in loops"
NOTE = f"""---
title: {NOTE_TITLE}
summary: Setbacks in therapy are part of recovery, not proof of failure.
reviewed: 2024-05-01
licence: CC-BY-4.0
---

# {NOTE_TITLE}

Recovery in therapy rarely runs in a straight line. Many people feel they are going backwards
after a good stretch: old feelings return, sleep gets worse, motivation dips. A setback like this
is common and does not erase what you have learned in therapy.

## What can help when you feel you are sliding back

Notice the feeling with kindness, write down what changed recently, and bring it to your next
session with your therapist. Small steady habits matter more than a perfect week.
"""

ORDINARY = "I feel like I'm going backwards in therapy, like all my progress is gone."
CRISIS = "I want to kill myself tonight"


@pytest.fixture(scope="module")
def library(tmp_path_factory, embeddings) -> Path:
    """A data dir whose index holds one small note about setbacks in therapy."""
    from companion.ingest import ingest

    data = tmp_path_factory.mktemp("ui-data")
    notes = tmp_path_factory.mktemp("ui-notes")
    (notes / "healing-loops.md").write_text(NOTE, encoding="utf-8")
    report = ingest([notes], Settings(data_dir=data), progress=False, embeddings=embeddings)
    assert report.chunks_total > 0
    return data


def _configure(monkeypatch, data_dir: Path, **env: str) -> None:
    """Point the page at ``data_dir`` with the fake model; drop cached settings and Companion."""
    monkeypatch.setenv("COMPANION_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COMPANION_LLM_PROVIDER", "fake")
    monkeypatch.setenv("COMPANION_LOCALE", "en-US")
    for key in ("COMPANION_CLINIC_NAME", "COMPANION_CLINIC_PHONE", "COMPANION_CLINIC_CONTACT"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    st.cache_resource.clear()


@pytest.fixture
def page(monkeypatch, library) -> AppTest:
    _configure(monkeypatch, library)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    yield at
    get_settings.cache_clear()
    st.cache_resource.clear()


def _send(at: AppTest, text: str) -> AppTest:
    at.chat_input[0].set_value(text).run()
    assert not at.exception, at.exception
    return at


def _texts(block) -> list[str]:
    return [m.value for m in block.markdown]


def _messages(at: AppTest, role: str) -> list:
    return [m for m in at.chat_message if m.name == role]


def _sidebar_text(at: AppTest) -> str:
    return "\n".join(_texts(at.sidebar))


# --------------------------------------------------------------------------- opening
def test_page_opens_with_disclosure_what_it_is_not_and_help(page):
    assert _texts(page.chat_message[0]) == [DISCLOSURE]
    caption = " ".join(c.value for c in page.caption)
    assert "not a therapist" in caption and "not an emergency service" in caption
    assert "Need help now?" in [h.value for h in page.sidebar.header]
    assert "[Call 988](tel:988)" in _sidebar_text(page)  # en-US default
    top = [m for m in _texts(page.main) if m.startswith("**Need help now?**")]  # for small screens
    assert len(top) == 1 and "(tel:988)" in top[0] and "(tel:911)" in top[0]
    assert not [i for i in page.info if "companion ingest" in i.value]  # the library is not empty


# --------------------------------------------------------------------------- turns
def test_message_gets_a_streamed_reply_with_its_sources(page):
    _send(page, ORDINARY)
    users, bots = _messages(page, "user"), _messages(page, "assistant")
    assert [_texts(u) for u in users] == [[ORDINARY]]
    assert len(bots) == 2  # the disclosure, then the reply
    reply = _texts(bots[1])[0]
    assert reply.strip() and reply != DISCLOSURE
    # (a support expander may follow: the screener may read this setback as concern)
    expanders = [e for e in bots[1].expander if "Source" in e.label]
    assert len(expanders) == 1
    shown = "\n".join(_texts(expanders[0]))
    assert NOTE_TITLE in shown
    assert "straight line" in shown  # the excerpt of the passage


def test_conversation_survives_reruns_and_continues(page):
    _send(page, ORDINARY)
    first_reply = _texts(_messages(page, "assistant")[1])[0]
    page.run()  # e.g. a widget interaction elsewhere
    assert [_texts(u)[0] for u in _messages(page, "user")] == [ORDINARY]
    assert _texts(_messages(page, "assistant")[1])[0] == first_reply
    _send(page, "Thank you, that helps a little.")
    assert len(_messages(page, "user")) == 2
    assert len(_messages(page, "assistant")) == 3
    stored = page.session_state["messages"]
    assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]


def test_crisis_message_shows_resources_as_tappable_links(page):
    _send(page, CRISIS)
    crisis = _messages(page, "assistant")[-1]
    text = "\n".join(_texts(crisis))
    assert "[Call 988](tel:988)" in text
    assert "(sms:988)" in text
    assert "[Call 911](tel:911)" in text
    assert "You can reach someone right now" in text  # the calm resources panel
    assert page.session_state["messages"][-1]["kind"] == "crisis"
    assert not crisis.expander  # no library sources on a crisis reply


def test_country_selector_changes_the_resources(page):
    assert "988" in _sidebar_text(page)
    page.sidebar.selectbox(key="country").select("GB").run()
    sidebar = _sidebar_text(page)
    assert "Samaritans" in sidebar and "[Call 116 123](tel:116123)" in sidebar
    assert "[Call 999](tel:999)" in sidebar
    assert "988" not in sidebar
    top = [m for m in _texts(page.main) if m.startswith("**Need help now?**")]
    assert "Samaritans" in top[0] and "(tel:116123)" in top[0] and "(tel:999)" in top[0]
    _send(page, CRISIS)  # the reply follows the chosen country too
    text = "\n".join(_texts(_messages(page, "assistant")[-1]))
    assert "Samaritans" in text and "tel:116123" in text and "tel:988" not in text
    page.sidebar.selectbox(key="country").select("US").run()
    assert "[Call 988](tel:988)" in _sidebar_text(page)


def test_country_selector_lists_the_directory_and_international(page):
    from safety.resources import known_countries

    options = page.sidebar.selectbox(key="country").options
    assert len(options) == len(known_countries()) + 1
    for name in ("United Kingdom", "United States"):
        assert name in options
    assert options[-1] == components.country_name(components.INTERNATIONAL)
    page.sidebar.selectbox(key="country").select(components.INTERNATIONAL).run()
    assert "local emergency number" in _sidebar_text(page)


def test_delete_clears_the_conversation_with_a_confirmation(page):
    _send(page, ORDINARY)
    old_session = page.session_state["session_id"]
    page.sidebar.button(key="delete_conversation").click().run()
    assert not _messages(page, "user")
    assert len(_messages(page, "assistant")) == 1  # only the disclosure of a fresh start
    assert page.session_state["messages"] == []
    assert page.session_state["session_id"] != old_session
    assert any("deleted" in s.value for s in page.success)
    page.run()  # the confirmation is shown once, the conversation stays gone
    assert not page.success and not _messages(page, "user")


def test_new_conversation_starts_fresh(page):
    _send(page, ORDINARY)
    page.sidebar.button(key="new_conversation").click().run()
    assert not _messages(page, "user")
    assert page.session_state["messages"] == []


# --------------------------------------------------------------------------- bad input
def test_too_long_message_gets_a_gentle_note_and_the_text_is_kept(monkeypatch, library):
    _configure(monkeypatch, library, COMPANION_MAX_MESSAGE_CHARS="300")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    long_text = "Today was long and I keep thinking about work. " * 10  # ~470 characters
    _send(at, long_text)
    assert not _messages(at, "user")  # not sent, nothing answered
    note = " ".join(i.value for i in at.info)
    assert "a little long" in note and "300" in note
    assert [c.value for c in at.code] == [long_text]  # kept, with a copy button
    _send(at, "Shorter now.")  # the next message clears the note
    assert not at.code and len(_messages(at, "user")) == 1


def test_too_long_crisis_message_is_still_answered_with_resources(monkeypatch, library):
    _configure(monkeypatch, library, COMPANION_MAX_MESSAGE_CHARS="50")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    _send(at, "Everything is too much and I have decided that I want to kill myself tonight.")
    assert "tel:988" in "\n".join(_texts(_messages(at, "assistant")[-1]))
    assert not at.code


def test_a_reply_interrupted_mid_stream_keeps_the_message(page):
    # Streamlit stops a run when the person clicks something while a reply streams;
    # the stopped run leaves its message in session_state["pending"].
    page.session_state["pending"] = "Something I really wanted to say."
    page.run()
    assert any("interrupted" in i.value for i in page.info)
    assert [c.value for c in page.code] == ["Something I really wanted to say."]
    assert page.session_state["messages"] == []


def test_blank_message_does_nothing(page):
    _send(page, "   \n  ")
    assert not _messages(page, "user")
    assert page.session_state["messages"] == []
    assert not page.code


# --------------------------------------------------------------------------- degraded
def test_empty_index_says_to_run_ingest_and_still_replies(monkeypatch, tmp_path):
    _configure(monkeypatch, tmp_path / "empty")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any("companion ingest" in i.value for i in at.info)
    _send(at, ORDINARY)
    bot = _messages(at, "assistant")[-1]
    assert _texts(bot)[0].strip()
    assert not [e for e in bot.expander if "Source" in e.label]  # nothing to cite


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_endpoint_down_gives_a_gentle_note_not_a_traceback(monkeypatch, library):
    _configure(
        monkeypatch,
        library,
        COMPANION_LLM_PROVIDER="openai",
        COMPANION_LLM_BASE_URL=f"http://127.0.0.1:{_closed_port()}/v1",
        COMPANION_LLM_MAX_RETRIES="0",
        COMPANION_LLM_TIMEOUT_S="5",
    )
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    _send(at, ORDINARY)
    bot = _messages(at, "assistant")[-1]
    assert "isn't reachable" in " ".join(c.value for c in bot.caption)
    assert _texts(bot)[0].strip()  # a library-based fallback reply
    assert at.session_state["messages"][-1]["kind"] == "fallback"


def test_missing_model_gives_a_friendly_note(monkeypatch, library, tmp_path):
    _configure(
        monkeypatch,
        library,
        COMPANION_LLM_PROVIDER="local",
        COMPANION_LOCAL_MODEL_PATH=str(tmp_path / "missing.gguf"),
    )
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any("language model isn't available" in i.value for i in at.info)
    _send(at, ORDINARY)
    assert at.session_state["messages"][-1]["kind"] == "fallback"


# --------------------------------------------------------------------------- helpers
def test_resource_links_are_tappable():
    res = {"name": "Shout", "kind": "text_line", "sms": "85258", "sms_keyword": "SHOUT", "hours": "24/7",
           "phone": "+44 116 123", "url": "https://giveusashout.org"}
    md = components.resource_markdown(res)
    assert "[Call +44 116 123](tel:+44116123)" in md
    assert "[Text SHOUT to 85258](sms:85258?body=SHOUT)" in md
    assert "**Shout** · 24/7" in md


def test_model_text_cannot_load_remote_images_or_latex():
    shown = components.safe_markdown("See ![x](http://evil.example/p.png) for $5 <img src=x>")
    assert "![" not in shown and "\\$5" in shown and "<img" not in shown


@pytest.mark.parametrize(
    ("settings_locale", "country", "expected"),
    [("en-US", "US", "en-US"), ("en-US", "GB", "en-GB"), ("es-MX", components.INTERNATIONAL, "es"), ("fr", "FR", "fr-FR")],
)
def test_locale_follows_the_chosen_country(settings_locale, country, expected):
    assert components.locale_for(settings_locale, country) == expected
