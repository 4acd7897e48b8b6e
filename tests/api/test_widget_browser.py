"""The embeddable widget in headless Chromium against a real uvicorn server (fake, slow LLM).

A clinic page on one loopback origin embeds ``widget.js`` from the API on
another (so CORS is exercised). Keyboard only: Tab to the launcher, Enter to
open, type, Enter to send. Checks the disclosure, the streamed reply, the
calm crisis reply with tel: links, the "Need help now?" panel and deletion.
Saves test-artifacts/widget-*.png.
"""

from __future__ import annotations

import http.server
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

import safety
from companion.api import create_app
from companion.chat import Companion
from companion.settings import REPO_ROOT, Settings

from .conftest import CRISIS_MESSAGE, FakeRetriever

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO_ROOT / "test-artifacts"
REPLY = ("That sounds like a heavy day, and it makes sense that you feel worn out. "
         "Setbacks are a common part of change [1]. What would help you rest tonight?")


class SlowModel(BaseChatModel):
    """Streams a fixed reply word by word, 25 ms apart (so streaming is visible)."""

    @property
    def _llm_type(self) -> str:
        return "slow"

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=REPLY))])

    def _stream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> Iterator[ChatGenerationChunk]:
        for word in re.split(r"(?<= )", REPLY):
            time.sleep(0.025)
            yield ChatGenerationChunk(message=AIMessageChunk(content=word))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """(page_url, api_url, app): uvicorn on one port, a static clinic page on another."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    pytest.importorskip("playwright.sync_api")
    api_port, page_port = _free_port(), _free_port()
    api_url, page_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{page_port}"
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("widget-data"), llm_provider="fake", rate_limit="1000/minute",
        cors_origins=[page_url], locale="en-GB",
    )
    safety.screen("warm up the screening models", locale="en-GB")  # loads MiniLM once (seconds)
    app = create_app(settings, companion=Companion(settings, llm=SlowModel(), retriever=FakeRetriever()))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=api_port, log_config=None, access_log=False))
    api_thread = threading.Thread(target=server.run, daemon=True)
    api_thread.start()

    site = tmp_path_factory.mktemp("clinic-site")
    (site / "index.html").write_text(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Clinic North</title></head>"
        "<body><h1>Clinic North</h1><p>Welcome to our practice.</p>"
        f"<script src='{api_url}/widget.js' data-api-base='{api_url}' data-clinic-name='Clinic North' "
        "data-country='GB'></script></body></html>",
        encoding="utf-8",
    )

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, directory=str(site), **kw)

        def log_message(self, *a: Any) -> None:
            pass

    page_server = http.server.ThreadingHTTPServer(("127.0.0.1", page_port), Quiet)
    threading.Thread(target=page_server.serve_forever, daemon=True).start()
    for _ in range(100):
        try:
            if httpx.get(f"{api_url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield page_url, api_url, app
    server.should_exit = True
    page_server.shutdown()
    api_thread.join(timeout=10)


def test_widget_chat_crisis_help_and_delete(servers):
    from playwright.sync_api import expect, sync_playwright

    page_url, api_url, app = servers
    ARTIFACTS.mkdir(exist_ok=True)
    gb = safety.resources_for("GB").to_dict()
    first_phone = next(r["phone"] for r in gb["resources"] if r.get("phone"))
    tel = "tel:" + re.sub(r"[^0-9+]", "", first_phone)

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 and r.url.startswith(api_url) else None)
            page.goto(page_url)

            # keyboard only: Tab reaches the launcher, Enter opens the panel and focuses the input
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.className") == "gcw-launcher"
            page.keyboard.press("Enter")
            expect(page.locator(".gcw-panel")).to_be_visible()
            assert page.evaluate("document.activeElement.tagName") == "TEXTAREA"
            expect(page.get_by_label("Your message")).to_be_focused()
            expect(page.locator(".gcw-disclosure")).to_contain_text("AI")
            expect(page.get_by_role("log")).to_have_attribute("aria-live", "polite")
            expect(page.get_by_role("button", name="Need help now?")).to_be_visible()

            # a streamed reply: text grows in several steps before the reply is complete
            page.evaluate("""() => {
                window.__updates = [];
                new MutationObserver(() => {
                    const m = document.querySelectorAll('.gcw-assistant .gcw-text');
                    if (m.length) window.__updates.push([performance.now(), m[m.length - 1].textContent.length]);
                }).observe(document.querySelector('.gcw-log'), {subtree: true, childList: true, characterData: true});
            }""")
            page.keyboard.type("I had a tough day at work")
            page.keyboard.press("Enter")
            expect(page.locator(".gcw-user").first).to_have_text(re.compile("tough day at work"))
            assistant = page.locator(".gcw-assistant").first
            expect(assistant).to_contain_text("What would help you rest tonight?", timeout=20_000)
            expect(assistant.locator(".gcw-sources")).to_contain_text("When old patterns come back")
            updates = page.evaluate("window.__updates")
            lengths = sorted({n for _, n in updates if n > 0})
            assert len(lengths) >= 3, updates  # arrived in pieces
            assert updates[-1][0] - next(t for t, n in updates if n > 0) > 50  # over time, not at once
            expect(page.get_by_label("Your message")).to_be_focused()
            page.screenshot(path=str(ARTIFACTS / "widget-reply.png"))

            # a crisis message: calm crisis reply with tel: links to the country's lines
            page.keyboard.type(CRISIS_MESSAGE)
            page.keyboard.press("Enter")
            crisis = page.locator(".gcw-crisis")
            expect(crisis).to_be_visible(timeout=20_000)
            expect(crisis.locator(f"a[href='{tel}']").first).to_be_visible()
            assert crisis.get_attribute("data-level") in {"crisis", "emergency"}

            # "Need help now?" lists the resources
            page.get_by_role("button", name="Need help now?").click()
            help_panel = page.locator(".gcw-help")
            expect(help_panel.locator(f"a[href='{tel}']").first).to_be_visible()
            expect(page.get_by_role("button", name="Need help now?")).to_have_attribute("aria-expanded", "true")
            page.screenshot(path=str(ARTIFACTS / "widget-crisis.png"), full_page=True)

            stored = page.evaluate("JSON.parse(sessionStorage.getItem('gentle-companion:' + %r))" % api_url)
            assert stored["token"] and stored["sessionId"]
            store = app.state.ctx.store
            assert store.count_sessions() == 1

            # delete the conversation (two-step, keyboard-reachable)
            page.get_by_role("button", name="Delete conversation").click()
            confirm = page.get_by_role("button", name="Delete", exact=True)
            expect(confirm).to_be_focused()
            page.keyboard.press("Enter")
            expect(page.locator(".gcw-status")).to_contain_text("deleted")
            assert page.locator(".gcw-msg").count() == 0
            assert store.count_sessions() == 0

            # Escape closes and gives focus back to the launcher
            page.get_by_label("Your message").focus()
            page.keyboard.press("Escape")
            expect(page.locator(".gcw-panel")).to_be_hidden()
            assert page.evaluate("document.activeElement.className") == "gcw-launcher"
            assert not errors, errors
        finally:
            browser.close()
