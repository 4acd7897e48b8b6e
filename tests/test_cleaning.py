"""Page-chrome cleaning and title / heading extraction (no model needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from companion.cleaning import (
    DEFAULT_PATTERNS_PATH,
    clean,
    extract_title,
    is_heading_line,
    load_patterns,
    normalize_text,
    to_markdown,
)
from companion.settings import REPO_ROOT

SEEDS = Path(REPO_ROOT).parent / "shared" / "seeds"
BACKSLIDING = "not-making-progress-in-therapy.txt"
PERFECTIONIST = "perfectionist-doing-the-work.txt"
EVERYTHING_RIGHT = "doing-everything-right-still-hard.txt"


def _seed(name: str) -> str:
    path = SEEDS / name
    if not path.is_file():
        pytest.skip(f"seed article {path} not present (the seeds live in ../shared/seeds beside the repo)")
    return path.read_text(encoding="utf-8")


def _long_lines(text: str, min_chars: int = 200) -> list[str]:
    return [normalize_text(line) for line in text.splitlines() if len(line.strip()) > min_chars]


# --- the real seeds ---------------------------------------------------------------

SEED_002_CHROME = [
    "Thank you! Your submission has been received!",
    "Oops! Something went wrong while submitting the form.",
    "Popular Categories",
    "min read",
    "Meet with a Therapist",
    "Your mental health is our priority",
    "offices are closed",
    "email protected",
    "Last Updated:",
    "First Published:",
    "September 22, 2020",
    "Reviewed By:",
    "related resources",
    "No items found.",
    "Connect with a licensed therapist",
]


def test_seed_002_chrome_is_removed_and_article_kept():
    raw = _seed(BACKSLIDING)
    result = clean(raw)
    for chrome in SEED_002_CHROME:
        assert chrome.lower() in normalize_text(raw).lower(), f"seed changed? {chrome!r} not in the input"
        assert chrome.lower() not in result.text.lower(), f"chrome left in: {chrome!r}"
    # every real paragraph survives, word for word (after whitespace normalisation)
    for paragraph in _long_lines(raw):
        if "our priority" in paragraph:
            continue  # the banner
        assert paragraph in result.text
    for word in ("backsliding", "A Deeper Step", "Be Gentle", "journaling", "contact your therapist"):
        assert word in result.text
    # section headings and the bullet list are still there
    assert result.text.count("\u2022") == raw.count("\u2022")
    assert set(result.removed) >= {"form_messages", "banners", "navigation", "stubs"}


def test_seed_000_author_bio_is_cut_but_advice_kept():
    raw = _seed(PERFECTIONIST)
    result = clean(raw)
    assert "wellness coach" in raw and "wellness coach" not in result.text
    assert "Hi, I" not in result.text
    assert "#MoreThanAMom" not in result.text
    assert "Alyson" not in result.text  # the author name line above the bio goes with it
    assert "Just sit with it." in result.text
    assert result.text.rstrip().endswith("coaching programs!")  # last real paragraph is the end now
    assert "author_bio" in result.removed


def test_seed_001_trailing_call_to_action_removed_only():
    raw = _seed(EVERYTHING_RIGHT)
    result = clean(raw)
    assert "schedule a consultation" in raw and "schedule a consultation" not in result.text
    for paragraph in _long_lines(raw):
        assert paragraph in result.text
    assert result.removed == {"trailing_cta": 1}


@pytest.mark.parametrize(
    ("name", "title"),
    [
        (BACKSLIDING, "What Happens When You Feel You're Not Making Progress in Therapy"),
        (PERFECTIONIST, "Are you a perfectionist trying to \u201cdo the work?\u201d Read this."),
        (EVERYTHING_RIGHT, "When You\u2019re Doing Everything Right, but Things Still Feel Hard"),
    ],
)
def test_seed_titles_are_the_headlines(name, title):
    assert clean(_seed(name)).title == title


def test_seed_002_sections_become_headings():
    result = clean(_seed(BACKSLIDING))
    md = to_markdown(result.text, result.title)
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert headings[0] == f"# {result.title}"
    assert "## A Deeper Step" in headings and "## Get Support" in headings
    assert not any("\u2022" in h for h in headings)  # bullets are never headings


# --- conservative on real content -------------------------------------------------


def test_phrases_inside_long_paragraphs_are_kept():
    paragraph = (
        "When my therapist said our offices are closed for the holidays, I panicked at first, then I "
        "remembered that healing is not linear and that I could share how I felt in my journal, read "
        "slowly, and call a friend; that week taught me more about coping than any other."
    )
    text = f"My Holiday Story\n\n{paragraph}\n\nShare\n\nTweet"
    result = clean(text)
    assert paragraph in result.text
    assert "Tweet" not in result.text and "\nShare" not in result.text


def test_bio_like_sentence_early_in_article_is_not_cut():
    body = "\n\n".join(
        [
            "Healing Takes Time",
            "Dr. Rivera is a psychologist who studies recovery and with her team found that setbacks are common.",
            *[f"Paragraph {i} about gentle, steady practice and self-compassion in daily life." for i in range(12)],
        ]
    )
    result = clean(body)
    assert "Dr. Rivera is a psychologist" in result.text
    assert "Paragraph 11" in result.text


def test_about_the_author_tail_is_cut_and_non_empty_stubs_kept():
    body = "\n".join(
        [
            "Small Steps",
            "Last Updated: March 3, 2024",
            *[f"Line {i}: a real sentence about rest and pacing yourself kindly." for i in range(10)],
            "About the Author",
            "Sam writes about wellbeing.",
        ]
    )
    result = clean(body)
    assert "Line 9" in result.text
    assert "About the Author" not in result.text and "Sam writes" not in result.text
    assert "Last Updated: March 3, 2024" in result.text  # has a value: not an empty stub


# --- data-driven rules --------------------------------------------------------------


def test_rules_come_from_the_yaml_file(tmp_path):
    assert DEFAULT_PATTERNS_PATH.is_file()
    custom = tmp_path / "rules.yaml"
    custom.write_text('lines:\n  promo:\n    - "buy our course today!?"\n', encoding="utf-8")
    text = "A Title\n\nReal words stay here.\n\nBuy our course today!"
    assert "Buy our course" in clean(text, load_patterns(DEFAULT_PATTERNS_PATH)).text
    result = clean(text, load_patterns(custom))
    assert "Buy our course" not in result.text
    assert result.removed == {"promo": 1}


def test_invalid_rule_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('lines:\n  x:\n    - "([unclosed"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="invalid chrome pattern"):
        load_patterns(bad)


# --- small helpers ------------------------------------------------------------------


def test_extract_title_and_heading_heuristic():
    assert extract_title("\n\n# Sleep and Worry\n\nBody") == "Sleep and Worry"
    assert extract_title("x " * 60) is None  # a paragraph is not a title
    assert is_heading_line("Re-evaluating and Re-starting")
    assert is_heading_line("Your Nervous System Needs Time to Catch Up")
    assert not is_heading_line("Reminders when you backslide:")
    assert not is_heading_line("So what's a gal to do?")
    assert not is_heading_line("\u2022 Focus on where you want to be")


def test_normalize_text_removes_invisible_characters():
    assert normalize_text("a\u00a0b\u200b c\uf04c\r\n\r\n\r\n\r\nd  ") == "a b c\n\nd"
