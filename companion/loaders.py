"""Load knowledge files (.md, .txt, .html/.htm, .pdf) as LangChain Documents.

One file gives one :class:`~langchain_core.documents.Document` whose
``page_content`` is Markdown-ish text (``#`` title, ``##`` section headings,
paragraphs separated by blank lines) and whose metadata is scalar (Chroma
accepts only str / int / float / bool):

=============  ==============================================================
title          front-matter title (.md), first ``<h1>`` / ``<title>`` (.html),
               PDF title or the first headline-like line (.txt/.pdf), else
               the file name
source         path relative to the repository root when inside it, else absolute
sources        front-matter references joined with ``" | "`` ("" when none)
summary        front-matter summary ("" when none)
tags           front-matter tags joined with ``", "``
doc_hash       sha256 (hex) of the file's bytes
licence        front-matter ``licence`` / ``license`` ("" when none)
reviewed       front-matter ``reviewed`` date as ISO text ("" when none)
kind           file type: md, txt, html, pdf
=============  ==============================================================

Scraped inputs (.txt, .html, .pdf) are cleaned of page chrome with
:mod:`companion.cleaning`; the team's Markdown notes are taken as written.
A file that cannot be used raises :class:`SkipFile` with a human reason;
callers report it and go on with the other files.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from pathlib import Path
from typing import Any

import yaml
from langchain_core.documents import Document

from companion.cleaning import clean, normalize_text, to_markdown
from companion.settings import REPO_ROOT

__all__ = ["SUPPORTED_SUFFIXES", "SkipFile", "load_document", "display_source", "split_front_matter"]

#: File types the loader understands (lower-case suffixes).
SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".md", ".markdown", ".txt", ".html", ".htm", ".pdf"})

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_DROP_HTML_TAGS = ("nav", "header", "footer", "script", "style", "form", "noscript", "aside",
                   "iframe", "svg", "button", "template", "select", "input")
_BLOCK_TAGS = ("p", "div", "section", "article", "main", "blockquote", "pre", "ul", "ol", "li",
               "table", "tr", "dl", "dt", "dd", "figure", "figcaption", "br", "hr")
_PARA = "\ue000"  # paragraph mark used while flattening HTML (private use, not whitespace)


class SkipFile(Exception):
    """A file that cannot be ingested; ``reason`` says why, for a person."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def display_source(path: Path, repo_root: Path = REPO_ROOT) -> str:
    """``path`` relative to ``repo_root`` (POSIX separators) when inside it, else absolute."""
    p = Path(path).resolve()
    try:
        return p.relative_to(repo_root.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def _decode(path: Path, data: bytes) -> str:
    if not data.strip():
        raise SkipFile(path, "empty file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SkipFile(path, f"not UTF-8 text (invalid byte at offset {exc.start}); re-save it as UTF-8") from None
    if "\x00" in text:
        raise SkipFile(path, "binary content (NUL bytes) in a text file")
    return text


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split ``---``-delimited YAML front matter from a Markdown body.

    Returns ``(front_matter, body)``; ``({}, text)`` when there is none.
    Raises ``ValueError`` when the front matter is not a YAML mapping.
    """
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    try:
        data = yaml.safe_load(m.group(1))
    except yaml.YAMLError as exc:
        raise ValueError(f"invalid YAML front matter ({exc.__class__.__name__})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError("front matter is not a mapping of fields")
    return data, text[m.end():]


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return str(value).strip()


def _join_sources(value: Any) -> str:
    """Front-matter ``sources``: a string, a list of strings, or a list of
    mappings (title / url / author ...) -> one string, items joined by " | "."""
    if value is None:
        return ""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, dict):
            title = _scalar(item.get("title") or item.get("name") or "")
            url = _scalar(item.get("url") or item.get("link") or "")
            rest = [f"{k}: {_scalar(v)}" for k, v in item.items()
                    if k not in {"title", "name", "url", "link"} and v]
            text = " ".join(p for p in [title, f"<{url}>" if url else "", *rest] if p)
        else:
            text = _scalar(item)
        if text:
            out.append(text)
    return " | ".join(out)


def _load_markdown(path: Path, text: str) -> tuple[str, dict[str, Any]]:
    try:
        fm, body = split_front_matter(text)
    except ValueError as exc:
        raise SkipFile(path, str(exc)) from None
    body = body.strip()
    meta: dict[str, Any] = {
        "title": _scalar(fm.get("title")),
        "summary": _scalar(fm.get("summary")),
        "sources": _join_sources(fm.get("sources")),
        "licence": _scalar(fm.get("licence") or fm.get("license")),
        "reviewed": _scalar(fm.get("reviewed")),
        "tags": ", ".join(_scalar(t) for t in fm.get("tags") or [] if t) if isinstance(fm.get("tags"), list)
        else _scalar(fm.get("tags")),
    }
    if not meta["title"]:
        m = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
        meta["title"] = m.group(1).strip() if m else ""
    return body, meta


def _load_text(path: Path, text: str) -> tuple[str, dict[str, Any]]:
    result = clean(text)
    return to_markdown(result.text, result.title), {"title": result.title or ""}


def _load_html(path: Path, text: str) -> tuple[str, dict[str, Any]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    page_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup.find_all(["head", *_DROP_HTML_TAGS]):
        tag.decompose()
    h1 = soup.find("h1")
    h1_text = h1.get_text(" ", strip=True) if h1 else ""
    for level in range(1, 7):
        for h in soup.find_all(f"h{level}"):
            h.replace_with(f"{_PARA}{'#' * min(level, 3)} {h.get_text(' ', strip=True)}{_PARA}")
    for li in soup.find_all("li"):
        li.insert(0, "- ")
    for tag in soup.find_all(list(_BLOCK_TAGS)):
        tag.insert_before(_PARA)
        tag.insert_after(_PARA)
    flat = re.sub(r"\s+", " ", soup.get_text())
    paragraphs = [p.strip() for p in flat.split(_PARA)]
    body = "\n\n".join(p for p in paragraphs if p)
    result = clean(body)
    title = h1_text or (re.split(r"\s+[|\u2013\u2014-]\s+", page_title)[0].strip() if page_title else "")
    title = title or result.title or ""
    return result.text, {"title": title}


def _load_pdf(path: Path, data: bytes) -> tuple[str, dict[str, Any]]:
    import io

    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception:  # noqa: BLE001 - any failure means "cannot open"
                raise SkipFile(path, "encrypted PDF (password protected)") from None
        pages = [(page.extract_text() or "") for page in reader.pages]
        info_title = ""
        try:
            info_title = _scalar(reader.metadata.title) if reader.metadata else ""
        except Exception:  # noqa: BLE001 - broken info dictionary: no title, not fatal
            info_title = ""
    except SkipFile:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types on corrupt files
        raise SkipFile(path, f"unreadable PDF ({exc.__class__.__name__})") from None
    text = "\n\n".join(p for p in pages if p.strip())
    if not text.strip():
        raise SkipFile(path, "PDF has no extractable text (scanned image?)")
    result = clean(text)
    title = info_title or result.title or ""
    body = result.text
    if result.title and body.startswith(result.title):
        body = f"# {body}"
    return body, {"title": title}


def load_document(path: Path, *, repo_root: Path = REPO_ROOT) -> Document:
    """Load one knowledge file as a Document (see the module docstring for metadata).

    Raises :class:`SkipFile` (with a human-readable ``reason``) for an
    unsupported type, a missing / unreadable / empty / non-UTF-8 file, bad
    front matter, an unreadable or text-less PDF, or a file with no text left
    after cleaning. Never raises anything else for bad input.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise SkipFile(path, f"unsupported file type {suffix or '(none)'}")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SkipFile(path, "file not found") from None
    except OSError as exc:
        raise SkipFile(path, f"cannot read file ({exc.strerror or exc.__class__.__name__})") from None

    if suffix == ".pdf":
        if not data.strip():
            raise SkipFile(path, "empty file")
        body, meta = _load_pdf(path, data)
        kind = "pdf"
    else:
        text = _decode(path, data)
        if suffix in {".md", ".markdown"}:
            body, meta = _load_markdown(path, text)
            kind = "md"
        elif suffix in {".html", ".htm"}:
            body, meta = _load_html(path, text)
            kind = "html"
        else:
            body, meta = _load_text(path, text)
            kind = "txt"

    if not normalize_text(re.sub(r"^#{1,6}\s.*$", "", body, flags=re.MULTILINE)):
        raise SkipFile(path, "no text left after removing page chrome" if kind != "md" else "no body text")

    title = meta.get("title") or path.stem.replace("-", " ").replace("_", " ").strip().capitalize()
    metadata: dict[str, Any] = {
        "title": title,
        "source": display_source(path, repo_root),
        "sources": meta.get("sources", ""),
        "summary": meta.get("summary", ""),
        "tags": meta.get("tags", ""),
        "doc_hash": hashlib.sha256(data).hexdigest(),
        "licence": meta.get("licence", ""),
        "reviewed": meta.get("reviewed", ""),
        "kind": kind,
    }
    return Document(page_content=body, metadata=metadata)

