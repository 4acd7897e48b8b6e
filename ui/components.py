"""Helpers of the Streamlit chat page: formatting (pure functions) and rendering.

Pure functions (no Streamlit state) turn pipeline data into Markdown:

* :func:`resource_markdown` -- one crisis resource (``ResourceSet.to_dict()``
  entry) as Markdown with tappable ``tel:`` / ``sms:`` links;
* :func:`safe_markdown` -- text from the model or the person, made inert for
  Streamlit's Markdown (no remote images, no LaTeX, no raw HTML);
* :func:`country_choices`, :func:`default_country`, :func:`locale_for` -- the
  country selector of the help panel.

Rendering functions (``render_*``) write Streamlit elements into the current
container. Privacy: nothing here logs message text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import streamlit as st

from companion.prompts import shorten

log = logging.getLogger(__name__)

#: Pseudo country code of the international resource set (no country chosen).
INTERNATIONAL = "INTL"

#: Characters of a source passage shown under a reply.
EXCERPT_CHARS = 280

CRISIS_KEY_PREFIX = "crisis_reply_"

#: Chat avatars: calm icons instead of Streamlit's default coloured faces.
AVATARS = {"assistant": ":material/spa:", "user": ":material/person:"}

#: Calm styling of crisis replies: a soft blue-green panel, never an alarm red.
PAGE_CSS = f"""
<style>
[class*="st-key-{CRISIS_KEY_PREFIX}"] {{
  background: #EEF5F4;
  border: 1px solid #CFE2DF;
  border-radius: 0.75rem;
  padding: 0.9rem 1rem 0.6rem 1rem;
}}
[class*="st-key-help_panel"] a, [class*="st-key-{CRISIS_KEY_PREFIX}"] a {{
  font-weight: 600;
}}
</style>
"""


# --------------------------------------------------------------------------- text
_IMAGE = re.compile(r"!\[")
_HTML_TAG = re.compile(r"<(?=[A-Za-z/!?])")


def safe_markdown(text: str) -> str:
    """``text`` made safe to show with ``st.markdown``.

    Escapes ``$`` (Streamlit renders ``$…$`` as LaTeX), ``![`` (a Markdown
    image would make the browser fetch a remote URL: a privacy leak a
    prompt-injected passage could trigger) and the ``<`` of tag-like text.
    Everything else (bold, lists, links) renders as written.
    """
    text = text.replace("\\$", "$").replace("$", "\\$")
    text = _IMAGE.sub(r"!\\[", text)
    return _HTML_TAG.sub("&lt;", text)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A passage folded to one paragraph and cut at a word boundary (``limit`` characters)."""
    return shorten(text or "", limit)


def source_label(source: str) -> str:
    """How a passage's source is named under it: a web address as is, a file by its name."""
    if re.match(r"^https?://", source):
        return source
    return source.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


# --------------------------------------------------------------------------- links
def dial_digits(number: str) -> str:
    """``"116 123"`` -> ``"116123"``; a leading ``+`` is kept (``"+44 …"`` -> ``"+44…"``)."""
    number = (number or "").strip()
    digits = re.sub(r"[^0-9*#]", "", number)
    return ("+" + digits) if number.startswith("+") else digits


def tel_href(number: str) -> str:
    """A ``tel:`` URI for a phone number as written in the directory."""
    return "tel:" + dial_digits(number)


def sms_href(number: str, keyword: str | None = None) -> str:
    """An ``sms:`` URI, with the keyword pre-filled as the message body when given."""
    href = "sms:" + dial_digits(number)
    if keyword:
        href += "?body=" + re.sub(r"[^A-Za-z0-9]", "", keyword)
    return href


def _label(text: str) -> str:
    """Text safe inside ``[...]`` of a Markdown link."""
    return safe_markdown(text).replace("[", "(").replace("]", ")")


def resource_markdown(res: Mapping[str, Any]) -> str:
    """One resource (a ``Resource.to_dict()``) as Markdown.

    Shape::

        **Samaritans** · 24/7
        [Call 116 123](tel:116123) · [Website](https://www.samaritans.org)

    Phone numbers become ``tel:`` links, text lines ``sms:`` links (with the
    keyword as body), WhatsApp a ``wa.me`` link; a resource with no contact
    (the generic "your local emergency number") shows its note instead.
    """
    name = _label(str(res.get("name") or "Support line"))
    hours = str(res.get("hours") or "").strip()
    if res.get("kind") == "clinic" and hours == "clinic hours":
        hours = ""  # the placeholder of an unconfigured ClinicContact.hours says nothing
    head = f"**{name}**" + (f" · {safe_markdown(hours)}" if hours else "")
    links: list[str] = []
    phone = res.get("phone")
    if phone:
        call = f"[Call {_label(phone)}]({tel_href(phone)})"
        for alt in res.get("alt_phones") or ():
            call += f" or [{_label(alt)}]({tel_href(alt)})"
        links.append(call)
    sms = res.get("sms")
    if sms:
        keyword = res.get("sms_keyword")
        label = f"Text {keyword} to {sms}" if keyword else f"Text {sms}"
        links.append(f"[{_label(label)}]({sms_href(sms, keyword)})")
    whatsapp = res.get("whatsapp")
    if whatsapp:
        links.append(f"[WhatsApp {_label(whatsapp)}](https://wa.me/{dial_digits(whatsapp).lstrip('+')})")
    if res.get("chat_url"):
        links.append(f"[Chat online]({res['chat_url']})")
    if res.get("url"):
        links.append(f"[Website]({res['url']})")
    lines = [head]
    if links:
        lines.append(" · ".join(links))
    note = res.get("note")
    if note and (not links or res.get("kind") in {"clinic", "emergency"}):
        lines.append(safe_markdown(str(note)))
    return "  \n".join(lines)


def emergency_markdown(resources: Mapping[str, Any]) -> str:
    """The "in immediate danger" line of a ``ResourceSet.to_dict()``."""
    number = resources.get("emergency_number")
    if not number:
        return "**In immediate danger?** Call your local emergency number or go to the nearest emergency department."
    alts = [a for a in resources.get("emergency_alt_numbers") or () if a]
    text = f"**In immediate danger?** [Call {number}]({tel_href(number)})"
    if alts:
        text += "".join(f" or [{a}]({tel_href(a)})" for a in alts)
    return text


def help_line(resources: Mapping[str, Any]) -> str:
    """One short line for the top of the page (the sidebar is hidden on small screens):
    the first crisis line that has a phone, and the emergency number, as ``tel:`` links."""
    parts: list[str] = []
    for res in resources.get("resources") or ():
        if res.get("kind") == "crisis_line" and res.get("phone"):
            parts.append(f"{_label(str(res.get('name') or 'Crisis line'))}: [call {_label(res['phone'])}]({tel_href(res['phone'])})")
            break
    number = resources.get("emergency_number")
    if number:
        parts.append(f"in immediate danger: [call {number}]({tel_href(number)})")
    else:
        parts.append("in immediate danger: call your local emergency number")
    return "**Need help now?** " + " · ".join(parts)


def split_resources(resources: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(lines, clinic)``: the resources of a set without / with kind ``clinic``."""
    items = [dict(r) for r in resources.get("resources") or ()]
    clinic = [r for r in items if r.get("kind") == "clinic"]
    lines = [r for r in items if r.get("kind") != "clinic"]
    return lines, clinic


# --------------------------------------------------------------------------- countries
def known_countries() -> tuple[str, ...]:
    """Country codes the resources directory knows (sorted); ``()`` when it cannot say."""
    try:
        from safety.resources import known_countries as _known

        return tuple(_known())
    except Exception as exc:  # noqa: BLE001 - the help panel must render anyway
        log.warning("resources directory cannot list countries (%s)", type(exc).__name__)
        return ()


@lru_cache(maxsize=128)
def country_name(code: str) -> str:
    """Display name of a country code (``"GB"`` -> ``"United Kingdom"``); the code if unknown."""
    if code == INTERNATIONAL:
        return "Another country / international"
    try:
        from safety import resources_for

        name = resources_for(code).country_name
        return name if name and name != "International" else code
    except Exception:  # noqa: BLE001
        return code


def default_country(locale: str | None) -> str:
    """The country of ``locale`` (``"en-GB"`` -> ``"GB"``), or :data:`INTERNATIONAL`."""
    from safety.locale import parse_locale

    return parse_locale(locale).country or INTERNATIONAL


def country_choices(locale: str | None) -> list[str]:
    """Options of the country selector: the directory's countries, the locale's
    country even when the directory cannot be listed, and :data:`INTERNATIONAL` last."""
    codes = list(known_countries())
    own = default_country(locale)
    if own != INTERNATIONAL and own not in codes:
        codes.append(own)
    codes.sort(key=country_name)
    return [*codes, INTERNATIONAL]


def locale_for(settings_locale: str | None, country: str) -> str:
    """The locale a turn runs in: the settings' language with the chosen country.

    ``("en-US", "GB")`` -> ``"en-GB"``; ``("es-MX", INTERNATIONAL)`` -> ``"es"``
    (a language alone routes to the international resources).
    """
    from safety.locale import parse_locale

    parsed = parse_locale(settings_locale)
    if parsed.country == country and settings_locale:
        return settings_locale
    lang = parsed.language or "en"
    return lang if country == INTERNATIONAL else f"{lang}-{country}"


# --------------------------------------------------------------------------- notes
def reply_notes(warnings: Iterable[str]) -> list[str]:
    """Gentle notes for a reply's operator warnings (no user text in them).

    ``llm_unavailable…`` -> the model could not be reached, a library passage
    was given instead; ``retrieval_unavailable…`` -> the library could not be
    searched. Other warnings (e.g. ``output_blocked``) show nothing.
    """
    notes: list[str] = []
    for w in warnings:
        if w.startswith("llm_unavailable"):
            notes.append(
                "My language model isn't reachable right now, so this reply is shorter and "
                "comes from the library. I'm still here, and you can keep writing."
            )
        elif w.startswith("retrieval_unavailable"):
            notes.append("I couldn't search the library just now, so this reply has no sources.")
    return list(dict.fromkeys(notes))


# --------------------------------------------------------------------------- rendering
def render_resources(resources: Mapping[str, Any], *, show_clinic: bool = True) -> None:
    """Write a resource set: emergency line, crisis lines, then the clinic."""
    st.markdown(emergency_markdown(resources))
    lines, clinic = split_resources(resources)
    for res in lines:
        if res.get("kind") == "emergency" and not res.get("phone"):
            continue  # already said by the emergency line
        st.markdown(resource_markdown(res))
    if show_clinic and clinic:
        st.markdown("**Your clinic**")
        for res in clinic:
            st.markdown(resource_markdown(res))


def render_sources(sources: Sequence[Mapping[str, Any]]) -> None:
    """An expander listing the passages a reply drew on (title, short excerpt, file)."""
    if not sources:
        return
    label = "Source from the library" if len(sources) == 1 else f"Sources from the library ({len(sources)})"
    with st.expander(label, icon=":material/menu_book:"):
        for s in sources:
            st.markdown(f"**[{s.get('number', '?')}] {_label(str(s.get('title') or 'Untitled'))}**")
            st.markdown("> " + safe_markdown(excerpt(str(s.get("excerpt") or ""))))
            if s.get("source"):
                st.caption(safe_markdown(source_label(str(s["source"]))))


def render_assistant(msg: Mapping[str, Any], index: int) -> None:
    """The body of one assistant message (inside ``st.chat_message``).

    Crisis replies sit in a calm, softly coloured panel with their resources as
    tappable links; other replies show their text, gentle notes, the concern
    pointer's resources (collapsed) and their sources.
    """
    text = safe_markdown(str(msg.get("content") or ""))
    resources = msg.get("resources")
    if msg.get("kind") == "crisis":
        with st.container(key=f"{CRISIS_KEY_PREFIX}{index}"):
            st.markdown(text)
            if resources:
                st.markdown("**You can reach someone right now:**")
                render_resources(resources)
        return
    st.markdown(text)
    for note in reply_notes(msg.get("warnings") or ()):
        st.caption(note)
    if resources:
        with st.expander("Support you can reach any time", icon=":material/support:"):
            render_resources(resources)
    render_sources(msg.get("sources") or ())
