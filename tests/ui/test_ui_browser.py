"""The chat page in a real headless Chromium, served by ``companion ui``.

Starts ``python -m companion ui`` (fake canned-reply model, a temporary data
dir holding a one-note index) on a free loopback port, then drives the page
with Playwright: an ordinary message gets a streamed reply with its sources, a
crisis message gets the calm crisis panel with tappable ``tel:`` / ``sms:``
links, and the country selector switches the help panel.

Screenshots go to ``test-artifacts/`` (gitignored). ``docs/screenshot.png``
(the README picture) is written only when it is missing or when
``COMPANION_UPDATE_SCREENSHOT=1``, so ordinary runs leave the tree clean.

Uses the system Chromium (``/usr/bin/chromium``, or ``COMPANION_CHROMIUM``);
never downloads a browser. Skipped, with the reason, when it is missing.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from companion.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("COMPANION_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO_ROOT / "test-artifacts"
README_SHOT = REPO_ROOT / "docs" / "screenshot.png"
START_TIMEOUT_S = 120
REPLY_TIMEOUT_MS = 90_000

NOTE = """---
title: Why healing moves in loops
summary: Setbacks in therapy are part of recovery, not proof of failure.
reviewed: 2024-05-01
licence: CC-BY-4.0
---

# Why healing moves in loops

Recovery in therapy rarely runs in a straight line. Many people feel they are going backwards
after a good stretch: old feelings return, sleep gets worse, motivation dips. A setback like this
is common and does not erase what you have learned in therapy.

## What can help when you feel you are sliding back

Notice the feeling with kindness, write down what changed recently, and bring it to your next
session with your therapist. Small steady habits matter more than a perfect week.
"""

ORDINARY = "Lately I feel like I'm going backwards in therapy, like all my progress is gone."
CRISIS = "I want to kill myself tonight"


def _skip_reason() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM} (install Debian's `chromium` or set COMPANION_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "python playwright is not installed (pip install -e '.[dev]')"
    return None


if _skip_reason():
    pytest.skip(_skip_reason(), allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"`companion ui` exited with {proc.returncode}; log:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"`companion ui` did not answer within {START_TIMEOUT_S}s; log:\n{log_path.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory, embeddings):
    """``companion ui`` on a free loopback port; yields its URL."""
    from companion.ingest import ingest

    data = tmp_path_factory.mktemp("browser-data")
    notes = tmp_path_factory.mktemp("browser-notes")
    (notes / "healing-loops.md").write_text(NOTE, encoding="utf-8")
    assert ingest([notes], Settings(data_dir=data), progress=False, embeddings=embeddings).chunks_total > 0

    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "ui-server.log"
    port = _free_port()
    env = {
        **os.environ,
        "COMPANION_LLM_PROVIDER": "fake",
        "COMPANION_DATA_DIR": str(data),
        "COMPANION_LOCALE": "en-US",
        "COMPANION_CLINIC_NAME": "Riverside Counselling",
        "COMPANION_CLINIC_CONTACT": "Your therapist, weekdays 9-17",
        "COMPANION_CLINIC_PHONE": "555 0100",
    }
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "companion", "ui", "--port", str(port), "--host", "127.0.0.1"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped below with the child Streamlit
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log_path)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, server) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.goto(server)
    expect(pg.get_by_test_id("stChatInput").locator("textarea")).to_be_visible(timeout=60_000)
    expect(pg.get_by_text("not a therapist", exact=False).first).to_be_visible()
    yield pg
    context.close()


def _send(pg: Page, text: str) -> None:
    box = pg.get_by_test_id("stChatInput").locator("textarea")
    box.fill(text)
    box.press("Enter")


def _record_reply_growth(pg: Page) -> None:
    """Record every distinct text length of the newest chat message (to see streaming)."""
    pg.evaluate(
        """() => {
            window.__lengths = [];
            const seen = () => {
              const msgs = document.querySelectorAll('[data-testid="stChatMessage"]');
              const last = msgs[msgs.length - 1];
              const n = last ? last.innerText.length : 0;
              if (window.__lengths[window.__lengths.length - 1] !== n) window.__lengths.push(n);
            };
            new MutationObserver(seen).observe(document.body, {subtree: true, childList: true, characterData: true});
        }"""
    )


def test_message_gets_a_streamed_reply_with_sources(page: Page):
    _record_reply_growth(page)
    _send(page, ORDINARY)
    messages = page.get_by_test_id("stChatMessage")
    expect(messages).to_have_count(3, timeout=REPLY_TIMEOUT_MS)  # disclosure, you, the reply
    expect(messages.nth(1)).to_contain_text("going backwards in therapy")
    sources = page.get_by_test_id("stExpander").filter(has_text="Source")
    expect(sources).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    reply_text = messages.nth(2).inner_text()
    assert len(reply_text.strip()) > 40
    lengths = page.evaluate("window.__lengths")
    growing = [n for n in lengths if 0 < n < len(reply_text)]
    assert growing, f"the reply appeared at once, not streamed (lengths seen: {lengths})"

    sources.locator("summary").click()
    expect(sources).to_contain_text("Why healing moves in loops")
    time.sleep(0.5)
    page.screenshot(path=str(ARTIFACTS / "ui-reply.png"), full_page=True)
    if not README_SHOT.exists() or os.environ.get("COMPANION_UPDATE_SCREENSHOT") == "1":
        README_SHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(ARTIFACTS / "ui-reply.png", README_SHOT)


def test_crisis_message_shows_tappable_resources(page: Page):
    _send(page, CRISIS)
    panel = page.locator('[class*="st-key-crisis_reply_"]')
    expect(panel).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    expect(panel).to_contain_text("You can reach someone right now")
    expect(panel.locator('a[href="tel:988"]').first).to_be_visible()
    expect(panel.locator('a[href="sms:988"]').first).to_be_visible()
    expect(panel.locator('a[href="tel:911"]').first).to_be_visible()
    background = panel.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(238, 245, 244)", background  # the soft panel, not an alarm red
    expect(panel).to_contain_text("Riverside Counselling")  # the clinic contact
    page.screenshot(path=str(ARTIFACTS / "ui-crisis.png"), full_page=True)


def test_help_panel_follows_the_chosen_country(page: Page):
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Need help now?")).to_be_visible()
    expect(sidebar.locator('a[href="tel:988"]').first).to_be_visible()
    expect(sidebar).to_contain_text("Riverside Counselling")
    sidebar.get_by_test_id("stSelectbox").click()
    page.keyboard.type("United Kingdom")
    page.keyboard.press("Enter")
    expect(sidebar.locator('a[href="tel:116123"]').first).to_be_visible(timeout=30_000)
    expect(sidebar).to_contain_text("Samaritans")
    expect(sidebar.locator('a[href="tel:988"]')).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "ui-help-gb.png"), full_page=True)
