"""The Streamlit chat page of the companion.

Run with ``companion ui`` (or ``streamlit run ui/app.py`` from the repository).

One turn uses the shared pipeline, :meth:`companion.chat.Companion.stream`:
its ``str`` pieces are streamed with ``st.write_stream`` and its final
:class:`~companion.chat.Reply` is kept in ``st.session_state`` with the
conversation. One ``Companion`` serves the whole process (``st.cache_resource``),
built from :func:`companion.settings.get_settings` (``COMPANION_LLM_PROVIDER=fake``
gives canned replies for tests and demos).

Privacy: the conversation lives only in this browser session's server memory
(``st.session_state``); "Delete my conversation" removes it. Message text is
never logged.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_REPO_ROOT = str(Path(__file__).resolve().parent.parent)
if _REPO_ROOT not in sys.path:  # `ui` is a folder of the checkout, not an installed package
    sys.path.insert(0, _REPO_ROOT)

import companion  # noqa: E402,F401  (turns third-party telemetry off first)
import streamlit as st  # noqa: E402

from companion.chat import Companion, InputError, Reply  # noqa: E402
from companion.prompts import DISCLOSURE  # noqa: E402
from companion.settings import Settings, describe_settings_error, get_settings  # noqa: E402
from ui import components as ui  # noqa: E402

log = logging.getLogger("companion.ui")

st.set_page_config(
    page_title="Companion",
    page_icon=":material/spa:",
    layout="centered",
    initial_sidebar_state="expanded",
)
st.html(ui.PAGE_CSS)

WHAT_IT_IS_NOT = (
    "Companion is an AI. It is **not a therapist**, not a doctor and **not an emergency service**. "
    "If you might act on thoughts of harming yourself or someone else, please use the contacts under "
    "**Need help now?**"
)


# --------------------------------------------------------------------------- process-wide parts
@st.cache_resource(show_spinner=False)
def get_companion() -> Companion:
    """The one turn pipeline of this process (its LLM and retriever are built lazily)."""
    return Companion(get_settings())


def _settings_or_stop() -> Settings:
    try:
        return get_settings()
    except Exception as exc:  # pydantic ValidationError names the bad variable, never user text
        st.error(
            "The companion is not configured correctly, so it cannot start. "
            f"For whoever runs this page: {describe_settings_error(exc)}"
        )
        st.stop()
        raise  # unreachable


def _index_note(bot: Companion) -> str | None:
    """A note when the library index is empty or unreadable (``None`` when fine)."""
    try:
        with st.spinner("Opening the library…"):
            count = bot.retriever.count()
    except Exception as exc:  # IndexUnavailable (message says how to fix) or a broken store
        log.warning("library index unavailable (%s)", type(exc).__name__)
        return (
            "I can't open my library right now, so replies can't point to sources. "
            f"For whoever runs this page: {exc}"
        )
    if count == 0:
        return (
            "My library is empty, so replies can't point to sources yet. "
            "For whoever runs this page: run `companion ingest` to add the knowledge notes."
        )
    return None


def _llm_note(bot: Companion) -> str | None:
    """A note when the language model cannot be built (missing model or runtime)."""
    from companion.llm import LLMUnavailable

    try:
        with st.spinner("Getting the companion ready…"):
            bot.llm()
    except LLMUnavailable as exc:
        log.warning("language model unavailable")
        return (
            "My language model isn't available right now, so my replies will be short passages "
            f"from the library. For whoever runs this page: {exc}"
        )
    except Exception as exc:  # noqa: BLE001 - never a traceback on the page
        log.warning("language model could not be built (%s)", type(exc).__name__)
        return "My language model isn't available right now, so my replies will be short passages from the library."
    return None


# --------------------------------------------------------------------------- session state
def _init_state() -> None:
    ss = st.session_state
    ss.setdefault("messages", [])  # [{"role", "content", ...}], oldest first
    ss.setdefault("session_id", uuid.uuid4().hex)
    ss.setdefault("notice", None)  # an inline note about the last input (too long, error)
    ss.setdefault("flash", None)  # a one-time confirmation (deleted, new conversation)
    ss.setdefault("pending", None)  # the message of a turn in progress


def _clear_conversation() -> None:
    ss = st.session_state
    ss["messages"] = []
    ss["notice"] = None
    ss["pending"] = None
    ss["session_id"] = uuid.uuid4().hex


def _new_conversation() -> None:
    _clear_conversation()
    st.session_state["flash"] = ("info", "Started a new conversation. The previous one is no longer shown or kept here.")


def _delete_conversation() -> None:
    """Remove the conversation from this session and from anything cached by the page."""
    _clear_conversation()
    st.cache_data.clear()  # the page caches no conversation data; cleared anyway, to be sure
    get_companion().forget()  # and the embedded model's KV cache of the last prompt
    log.info("conversation deleted by the user")
    st.session_state["flash"] = (
        "success",
        "Your conversation has been deleted. Nothing of it is kept on this page any more.",
    )


def _history() -> list[dict[str, Any]]:
    """The conversation in the pipeline's history shape (``role``, ``content``, ``context``)."""
    out: list[dict[str, Any]] = []
    for m in st.session_state["messages"]:
        item = {"role": m["role"], "content": m["content"]}
        if m["role"] == "user":
            item["context"] = m.get("context")
        out.append(item)
    return out


# --------------------------------------------------------------------------- sidebar
def _sidebar(settings: Settings, bot: Companion) -> tuple[str, dict[str, Any]]:
    """Help panel and controls; returns the locale for this turn and its resources."""
    with st.sidebar:
        with st.container(key="help_panel"):
            st.header("Need help now?", anchor=False)
            choices = ui.country_choices(settings.locale)
            default = ui.default_country(settings.locale)
            if default not in choices:
                default = ui.INTERNATIONAL
            country = st.selectbox(
                "Where are you?",
                choices,
                index=choices.index(default),
                format_func=ui.country_name,
                key="country",
                help="Shows crisis lines for this country. Nothing is stored.",
            )
            locale = ui.locale_for(settings.locale, country)
            try:
                import safety

                rs = safety.resources_for(locale, bot.clinic).to_dict()
            except Exception as exc:  # noqa: BLE001 - the panel must never disappear
                log.error("resources unavailable (%s)", type(exc).__name__)
                rs = {"emergency_number": None, "resources": []}
                st.caption("The list of helplines could not be loaded.")
            ui.render_resources(rs)
            if not bot.clinic.is_configured:
                st.caption("If you have a therapist or doctor, they are a good person to tell too.")
        st.divider()
        st.button(
            "New conversation",
            icon=":material/add_comment:",
            on_click=_new_conversation,
            key="new_conversation",
            width="stretch",
        )
        st.button(
            "Delete my conversation",
            icon=":material/delete:",
            on_click=_delete_conversation,
            key="delete_conversation",
            width="stretch",
            help="Removes everything you wrote and every reply from this page.",
        )
        st.caption("Your conversation is kept only while this page is open. It is not saved.")
    return locale, rs


# --------------------------------------------------------------------------- one turn
def _run_turn(bot: Companion, text: str, locale: str) -> None:
    """Stream one reply to ``text`` and keep the turn in ``st.session_state``."""
    ss = st.session_state
    ss["notice"] = None
    ss["pending"] = text  # until the turn is kept: an interrupted run must not lose it
    index = len(ss["messages"])
    user_slot = st.empty()
    with user_slot.container():
        with st.chat_message("user", avatar=ui.AVATARS["user"]):
            st.markdown(ui.safe_markdown(text))
    assistant_slot = st.empty()
    holder: dict[str, Reply] = {}
    events = bot.stream(text, _history(), locale=locale, session_id=ss["session_id"])

    def pieces() -> Iterator[str]:
        for event in events:
            if isinstance(event, Reply):
                holder["reply"] = event
            else:
                yield ui.safe_markdown(event)

    try:
        with assistant_slot.container():
            with st.chat_message("assistant", avatar=ui.AVATARS["assistant"]):
                stream = pieces()
                with st.spinner("Companion is thinking…"):
                    first = next(stream, "")  # screening, retrieval, first sentence
                st.write_stream(_chain(first, stream))
    except InputError as exc:
        ss["pending"] = None
        user_slot.empty()
        assistant_slot.empty()
        if exc.code == "too_long":
            ss["notice"] = {"code": "too_long", "text": text}
        # "empty" / "wrong_type": nothing to answer, nothing to keep
        return
    except Exception as exc:  # noqa: BLE001 - never a traceback on the page
        log.error("turn failed (%s)", type(exc).__name__)
        ss["pending"] = None
        user_slot.empty()
        assistant_slot.empty()
        ss["notice"] = {"code": "error", "text": text}
        return
    finally:
        # Streamlit stops this run (RerunException / StopException) when the person
        # interacts with the page mid-reply; the next run finds ss["pending"] and
        # shows the text back (see _recover_interrupted_turn).
        events.close()  # release the model (its lock, its stream) even when interrupted

    reply = holder.get("reply")
    ss["pending"] = None
    if reply is None:  # the pipeline always ends with a Reply; be gentle if it did not
        ss["notice"] = {"code": "error", "text": text}
        return
    _keep_turn(text, reply)
    with assistant_slot.container():  # replace the streamed text by the full rendering
        with st.chat_message("assistant", avatar=ui.AVATARS["assistant"]):
            ui.render_assistant(ss["messages"][-1], index + 1)


def _keep_turn(text: str, reply: Reply) -> None:
    """Append the user message (with the reply's passages ``context``) and the reply."""
    ss = st.session_state
    ss["session_id"] = reply.session_id
    ss["messages"].append({"role": "user", "content": text, "context": reply.context})
    ss["messages"].append(
        {
            "role": "assistant",
            "content": reply.text,
            "kind": reply.kind,
            "level": reply.level.value,
            "resources": reply.resources,
            "sources": [s.to_dict() for s in reply.sources],
            "warnings": list(reply.warnings),
        }
    )


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


def _recover_interrupted_turn() -> None:
    """A message whose turn never finished (the run was stopped mid-reply) becomes a
    notice showing the text back, so the person can send it again."""
    ss = st.session_state
    text = ss.get("pending")
    if text:
        ss["pending"] = None
        ss["notice"] = {"code": "interrupted", "text": text}


def _render_notice(settings: Settings) -> None:
    notice = st.session_state.get("notice")
    if not notice:
        return
    text = notice.get("text") or ""
    if notice["code"] == "too_long":
        st.info(
            f"That message is a little long for me to take in at once: it has {len(text):,} characters "
            f"and I can read up to {settings.max_message_chars:,}. Could you shorten it, or send it in "
            "a few parts? Your text is kept below so nothing is lost.",
            icon=":material/edit_note:",
        )
    elif notice["code"] == "interrupted":
        st.info(
            "My reply was interrupted because the page changed while I was writing. Your message is "
            "kept below; you can send it again.",
            icon=":material/refresh:",
        )
    else:
        st.info(
            "Something went wrong on my side while replying, and I'm sorry. Your message is kept below; "
            "you can send it again.",
            icon=":material/refresh:",
        )
    with st.expander("Your message (copy it from here)", expanded=True):
        st.code(text, language=None, wrap_lines=True)


# --------------------------------------------------------------------------- page
def main() -> None:
    """Draw the page and answer the message sent in this run, if any."""
    settings = _settings_or_stop()
    _init_state()
    _recover_interrupted_turn()
    bot = get_companion()
    locale, resources = _sidebar(settings, bot)

    st.title("Companion", anchor=False)
    st.caption(WHAT_IT_IS_NOT)
    st.markdown(ui.help_line(resources))  # help stays visible when the sidebar is collapsed

    flash = st.session_state.get("flash")
    if flash:
        kind, message = flash
        (st.success if kind == "success" else st.info)(message)
        st.session_state["flash"] = None

    for note in filter(None, (_llm_note(bot), _index_note(bot))):
        st.info(note, icon=":material/info:")

    # The AI disclosure opens every conversation.
    with st.chat_message("assistant", avatar=ui.AVATARS["assistant"]):
        st.markdown(ui.safe_markdown(DISCLOSURE))

    for i, msg in enumerate(st.session_state["messages"]):
        with st.chat_message(msg["role"], avatar=ui.AVATARS.get(msg["role"])):
            if msg["role"] == "user":
                st.markdown(ui.safe_markdown(msg["content"]))
            else:
                ui.render_assistant(msg, i)

    prompt = st.chat_input("Write what's on your mind…", key="message")
    if prompt is not None and str(prompt).strip():
        _run_turn(bot, str(prompt), locale)
    _render_notice(settings)


main()
