"""Every route of the HTTP API, as a clinic's integration would see it (fake LLM, fake retriever)."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest

import safety
from companion.prompts import DISCLOSURE
from companion.sessions import SessionStore

from .conftest import CRISIS_MESSAGE, GROUNDED_REPLY, DownModel, EchoModel, FakeRetriever, sse_events

PROBLEM = "application/problem+json"


def assert_problem(resp: httpx.Response, status: int, *words: str) -> dict:
    """The response is an RFC 9457 problem with ``status`` whose detail mentions every word."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    for w in words:
        assert w.lower() in body["detail"].lower(), body["detail"]
    return body


# --------------------------------------------------------------------------- health
def test_healthz_answers_without_credentials(api):
    r = api.client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_readyz_ready_when_index_store_and_llm_are(api):
    r = api.client.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ready"] is True
    assert body["checks"]["index"]["ok"] and body["checks"]["store"]["ok"] and body["checks"]["llm"]["ok"]


def test_readyz_says_the_index_is_empty(make_api):
    api = make_api(retriever=FakeRetriever([]))
    r = api.client.get("/readyz")
    assert r.status_code == 503
    checks = r.json()["checks"]
    assert checks["index"]["ok"] is False and "companion ingest" in checks["index"]["detail"]
    assert checks["store"]["ok"] is True


def test_readyz_says_the_store_is_down(api):
    api.app.state.ctx.store = SessionStore("postgresql+psycopg://nobody@127.0.0.1:9/none", connect_timeout_s=1)
    r = api.client.get("/readyz")
    assert r.status_code == 503
    store = r.json()["checks"]["store"]
    assert store["ok"] is False and "session store unavailable" in store["detail"]
    assert r.json()["checks"]["index"]["ok"] is True


def test_readyz_says_the_llm_is_not_configured(make_api):
    api = make_api()
    api.companion._llm = None
    api.settings.llm_provider = "openai"
    api.settings.llm_base_url = None
    api.settings.openai_api_key = None
    r = api.client.get("/readyz")
    assert r.status_code == 503
    assert "COMPANION_LLM_BASE_URL" in r.json()["checks"]["llm"]["detail"]


# --------------------------------------------------------------------------- chat
def test_chat_starts_a_session_and_cites_the_library(api):
    r = api.chat("I keep going back to old habits even though therapy was helping.")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["reply"].startswith("That sounds really discouraging")
    assert body["level"] == "none" and body["kind"] == "grounded"
    assert body["sources"] and body["sources"][0]["title"] == "When old patterns come back"
    assert body["sources"][0]["cited"] is True
    assert body["disclosure"] == DISCLOSURE
    assert len(body["session_id"]) == 32
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-request-id"]
    assert "pipeline;dur=" in r.headers["server-timing"] and "app;dur=" in r.headers["server-timing"]


def test_second_turn_sees_the_stored_history_and_context(make_api):
    model = EchoModel()
    api = make_api(llm=model)
    first = api.chat("I had a rough week at work").json()
    second = api.chat("and today was worse", session_id=first["session_id"]).json()
    assert second["session_id"] == first["session_id"]
    assert second["disclosure"] is None  # shown once, at the start
    last_prompt = [str(m.content) for m in model.prompts[-1]]
    joined = "\n".join(last_prompt)
    assert "I had a rough week at work" in joined
    assert first["reply"] in joined
    # the passages block of turn 1 is re-sent with the turn-1 user message (KV-cache prefix)
    assert sum("When old patterns come back" in m for m in last_prompt) == 2


def test_transcript_lists_both_turns_in_order(api):
    sid = api.chat("first message about sleep").json()["session_id"]
    api.chat("second message about work", session_id=sid)
    r = api.client.get(f"/v1/sessions/{sid}", headers=api.auth)
    assert r.status_code == 200
    msgs = r.json()["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant"]
    assert [m["seq"] for m in msgs] == [1, 2, 3, 4]
    assert msgs[0]["content"] == "first message about sleep"
    assert msgs[2]["content"] == "second message about work"
    assert msgs[1]["sources"][0]["title"] == "When old patterns come back"
    assert all("context" not in m for m in msgs)
    # the context is stored with the user message for the next prompt
    history = api.store.history(sid, api.app.state.ctx.auth.authenticate(None, f"Bearer {api.key}").owner)
    assert history[0]["context"] and "When old patterns come back" in history[0]["context"]


def test_crisis_message_gets_level_and_the_countrys_resources(api):
    r = api.chat(CRISIS_MESSAGE, locale="en-GB")
    assert r.status_code == 200, r.text
    body = r.json()
    assert safety.Level.parse(body["level"]) >= safety.Level.CRISIS
    assert body["kind"] == "crisis"
    expected = safety.resources_for("en-GB", api.companion.clinic).to_dict()
    assert body["resources"]["country"] == "GB"
    assert body["resources"]["emergency_number"] == expected["emergency_number"]
    assert [x["name"] for x in body["resources"]["resources"]] == [x["name"] for x in expected["resources"]]
    first_line = expected["resources"][0]
    assert first_line["phone"] in body["reply"] or (first_line.get("sms") or "@@") in body["reply"]


def test_crisis_resources_follow_the_locale(api):
    body = api.chat(CRISIS_MESSAGE, locale="en-US").json()
    assert body["resources"]["country"] == "US"


def test_llm_down_gives_a_fallback_reply_not_a_500(make_api):
    api = make_api(llm=DownModel())
    r = api.chat("I feel stuck and tired")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "fallback"
    assert any(w.startswith("llm_unavailable") for w in body["warnings"])
    assert body["reply"].strip()
    # the turn is kept like any other
    t = api.client.get(f"/v1/sessions/{body['session_id']}", headers=api.auth).json()
    assert [m["role"] for m in t["messages"]] == ["user", "assistant"]


def test_concurrent_turns_on_one_session_keep_every_message_in_pairs(make_api):
    api = make_api(llm=EchoModel())
    sid = api.chat("start note-0").json()["session_id"]

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await asyncio.gather(*[
                c.post("/v1/chat", json={"session_id": sid, "message": f"more note-{i}"}, headers=api.auth)
                for i in range(1, 5)
            ])

    responses = asyncio.run(burst())
    assert [r.status_code for r in responses] == [200] * 4
    msgs = api.client.get(f"/v1/sessions/{sid}", headers=api.auth).json()["messages"]
    assert len(msgs) == 10
    assert [m["seq"] for m in msgs] == list(range(1, 11))
    for user, assistant in zip(msgs[0::2], msgs[1::2]):
        assert user["role"] == "user" and assistant["role"] == "assistant"
        note = user["content"].split()[-1]
        assert f"about {note}." in assistant["content"]
    assert len({m["content"] for m in msgs[0::2]}) == 5
    assert len(api.app.state.ctx.locks) == 0  # no lock left behind


# --------------------------------------------------------------------------- streaming
def test_stream_sends_tokens_then_one_reply_event(api):
    with api.client.stream("POST", "/v1/chat/stream", json={"message": "I had a tough day at work"},
                           headers=api.auth) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r.read().decode())
    kinds = [e for e, _ in events]
    assert kinds[-1] == "reply" and kinds.count("reply") == 1
    assert kinds.count("token") >= 2 and set(kinds[:-1]) == {"token"}
    streamed = "".join(d["text"] for e, d in events if e == "token")
    final = events[-1][1]
    assert streamed.strip() == final["reply"] == GROUNDED_REPLY
    assert final["saved"] is True and final["level"] == "none"
    assert final["sources"][0]["title"] == "When old patterns come back"
    msgs = api.client.get(f"/v1/sessions/{final['session_id']}", headers=api.auth).json()["messages"]
    assert [m["content"] for m in msgs] == ["I had a tough day at work", GROUNDED_REPLY]


def test_stream_crisis_reply_streams_with_resources(api):
    with api.client.stream("POST", "/v1/chat/stream", json={"message": CRISIS_MESSAGE, "locale": "en-GB"},
                           headers=api.auth) as r:
        events = sse_events(r.read().decode())
    final = events[-1][1]
    assert events[-1][0] == "reply"
    assert safety.Level.parse(final["level"]) >= safety.Level.CRISIS
    assert final["resources"]["country"] == "GB" and final["resources"]["resources"]
    assert sum(1 for e, _ in events if e == "token") >= 2
    assert "".join(d["text"] for e, d in events if e == "token").strip() == final["reply"].strip()


def test_stream_continues_a_session(api):
    sid = api.chat("hello there").json()["session_id"]
    with api.client.stream("POST", "/v1/chat/stream", json={"message": "still here", "session_id": sid},
                           headers=api.auth) as r:
        final = sse_events(r.read().decode())[-1][1]
    assert final["session_id"] == sid and final["disclosure"] is None
    assert len(api.client.get(f"/v1/sessions/{sid}", headers=api.auth).json()["messages"]) == 4


def test_stream_errors_before_the_first_token_are_problems(api):
    r = api.client.post("/v1/chat/stream", json={"message": ""}, headers=api.auth)
    assert_problem(r, 422, "empty")
    r = api.client.post("/v1/chat/stream", json={"message": "x" * 5000}, headers=api.auth)
    assert_problem(r, 413, "4,000")
    r = api.client.post("/v1/chat/stream", json={"message": "hi", "session_id": "0" * 32}, headers=api.auth)
    assert_problem(r, 404)


def test_stream_with_llm_down_still_replies(make_api):
    api = make_api(llm=DownModel())
    with api.client.stream("POST", "/v1/chat/stream", json={"message": "I feel stuck"}, headers=api.auth) as r:
        assert r.status_code == 200
        events = sse_events(r.read().decode())
    assert events[-1][0] == "reply" and events[-1][1]["kind"] == "fallback"


# --------------------------------------------------------------------------- input errors
@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"content": b'{"message": "hi"', "headers": {"content-type": "application/json"}}, ["not valid json"]),
        ({"content": b"", "headers": {"content-type": "application/json"}}, ["json body is required"]),
        ({"json": {}}, ["body.message", "required"]),
        ({"json": {"message": 42}}, ["body.message", "string"]),
        ({"json": {"message": ["hi"]}}, ["body.message", "string"]),
        ({"json": {"message": None}}, ["body.message", "string"]),
        ({"json": {"message": "hi", "session_id": 7}}, ["body.session_id", "string"]),
        ({"json": {"message": "hi", "session_id": "../../etc"}}, ["body.session_id", "format"]),
        ({"json": {"message": "hi", "locale": "not a locale!"}}, ["body.locale", "format"]),
        ({"json": ["hi"]}, ["body", "json object"]),
        ({"json": {"message": ""}}, ["body.message", "empty"]),
        ({"json": {"message": "   \n "}}, ["body.message", "empty"]),
    ],
)
def test_bad_input_is_a_422_problem_naming_the_field(api, kwargs, words):
    headers = {**api.auth, **kwargs.pop("headers", {})}
    r = api.client.post("/v1/chat", headers=headers, **kwargs)
    body = assert_problem(r, 422, *words)
    assert body["errors"] and body["errors"][0]["field"].startswith("body")
    assert api.store.count_sessions() == 0  # nothing half-stored


def test_too_long_message_is_413_but_crisis_is_still_answered(api):
    r = api.chat("ordinary words " * 400)
    assert_problem(r, 413, "limit is 4,000")
    long_crisis = CRISIS_MESSAGE + ". " + "I have been thinking about it for a long time. " * 120
    r = api.chat(long_crisis, locale="en-GB")
    assert r.status_code == 200
    assert r.json()["kind"] == "crisis" and r.json()["resources"]["country"] == "GB"


def test_body_over_64_kib_is_413(api):
    big = json.dumps({"message": "a" * (70 * 1024)}).encode()
    r = api.client.post("/v1/chat", content=big, headers={**api.auth, "content-type": "application/json"})
    assert_problem(r, 413, "larger than")

    def chunks():
        for _ in range(80):
            yield b"a" * 1024

    r = api.client.post("/v1/chat", content=chunks(), headers={**api.auth, "content-type": "application/json"})
    assert_problem(r, 413, "larger than")


def test_unknown_session_is_404(api):
    r = api.chat("hello", session_id="f" * 32)
    assert_problem(r, 404, "no conversation")
    assert_problem(api.client.get("/v1/sessions/" + "f" * 32, headers=api.auth), 404)
    assert_problem(api.client.delete("/v1/sessions/" + "f" * 32, headers=api.auth), 404)
    assert_problem(api.client.get("/v1/sessions/bad%20id!", headers=api.auth), 422, "session_id")


def test_unknown_route_and_method_are_problems(api):
    assert_problem(api.client.get("/v2/chat"), 404, "/docs")
    assert_problem(api.client.get("/v1/chat", headers=api.auth), 405, "GET")


# --------------------------------------------------------------------------- store failures
def test_store_down_is_503_that_says_so_and_keeps_earlier_data(api):
    first = api.chat("a message that must survive").json()
    sid = first["session_id"]
    original = api.store
    # a store whose database file cannot be opened: a directory is in the way
    (api.settings.data_dir / "blocker.sqlite3").mkdir()
    api.app.state.ctx.store = SessionStore(f"sqlite:///{api.settings.data_dir / 'blocker.sqlite3'}")
    r = api.chat("next message", session_id=sid)
    body = assert_problem(r, 503, "session store unavailable")
    assert body["resources"]["country"] == "GB"  # a person in crisis still sees where to get help
    r = api.chat("a new conversation")
    assert_problem(r, 503, "session store unavailable", "not saved")
    assert_problem(api.client.get(f"/v1/sessions/{sid}", headers=api.auth), 503, "session store unavailable")
    api.app.state.ctx.store = original
    msgs = api.client.get(f"/v1/sessions/{sid}", headers=api.auth).json()["messages"]
    assert [m["content"] for m in msgs] == ["a message that must survive", first["reply"]]


def test_store_locked_at_write_time_is_503_and_loses_nothing(make_api, tmp_path):
    import sqlite3

    db = tmp_path / "locked.sqlite3"
    store = SessionStore(f"sqlite:///{db}", sqlite_timeout_s=0.05)
    api = make_api(store=store)
    first = api.chat("kept safe").json()
    sid = first["session_id"]
    blocker = sqlite3.connect(db, timeout=0.1)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        r = api.chat("written while locked", session_id=sid)
        assert_problem(r, 503, "session store unavailable")
        with api.client.stream("POST", "/v1/chat/stream", json={"message": "streamed while locked", "session_id": sid},
                               headers=api.auth) as s:
            events = sse_events(s.read().decode())
        assert [e for e, _ in events][-2:] == ["error", "reply"]
        assert "session store unavailable" in events[-2][1]["detail"] and events[-1][1]["saved"] is False
    finally:
        blocker.rollback()
        blocker.close()
    msgs = api.client.get(f"/v1/sessions/{sid}", headers=api.auth).json()["messages"]
    assert [m["content"] for m in msgs] == ["kept safe", first["reply"]]
    assert api.chat("after the lock", session_id=sid).status_code == 200


# --------------------------------------------------------------------------- sessions
def test_delete_erases_the_conversation(api):
    sid = api.chat("please forget this").json()["session_id"]
    other = api.chat("keep this one").json()["session_id"]
    r = api.client.delete(f"/v1/sessions/{sid}", headers=api.auth)
    assert r.status_code == 204 and r.content == b""
    assert_problem(api.client.get(f"/v1/sessions/{sid}", headers=api.auth), 404)
    assert_problem(api.client.delete(f"/v1/sessions/{sid}", headers=api.auth), 404)
    assert_problem(api.chat("again", session_id=sid), 404)
    with api.store.engine.connect() as conn:
        from sqlalchemy import text

        left = conn.execute(text("SELECT count(*) FROM messages WHERE session_id = :s"), {"s": sid}).scalar()
    assert left == 0
    assert len(api.client.get(f"/v1/sessions/{other}", headers=api.auth).json()["messages"]) == 2


# --------------------------------------------------------------------------- resources
def test_resources_by_country_and_locale(api):
    gb = api.client.get("/v1/resources?country=gb")
    assert gb.status_code == 200 and gb.json() == safety.resources_for("GB", api.companion.clinic).to_dict()
    mx = api.client.get("/v1/resources", params={"locale": "es-MX"}).json()
    assert mx["country"] == "MX" and mx["resources"]
    default = api.client.get("/v1/resources").json()
    assert default["country"] == "GB"  # settings.locale = en-GB
    unknown = api.client.get("/v1/resources?country=ZZ").json()
    assert unknown["country"] is None and unknown["resources"]  # the international set, never nothing


def test_resources_bad_query_is_422(api):
    assert_problem(api.client.get("/v1/resources?country=GBR"), 422, "query.country")
    assert_problem(api.client.get("/v1/resources?country=GB&locale=en-GB"), 422, "not both")


def test_resources_include_the_clinic(make_api):
    api = make_api(clinic_name="Clinic North", clinic_phone="+44 20 7946 0000")
    names = [r["name"] for r in api.client.get("/v1/resources?country=GB").json()["resources"]]
    assert names[-1] == "Clinic North" and len(names) > 1


# --------------------------------------------------------------------------- widget + docs
def test_widget_assets_are_served(api):
    js = api.client.get("/widget.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "/v1/chat/stream" in js.text and "aria-live" in js.text
    css = api.client.get("/widget.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_openapi_documents_examples_and_problems(api):
    spec = api.client.get("/openapi.json").json()
    paths = spec["paths"]
    for p in ["/v1/chat", "/v1/chat/stream", "/v1/sessions/{session_id}", "/v1/resources", "/healthz", "/readyz",
              "/v1/widget/token"]:
        assert p in paths, p
    schemas = spec["components"]["schemas"]
    assert schemas["ChatRequest"]["examples"] and schemas["ChatResponse"]["examples"]
    assert "application/problem+json" in paths["/v1/chat"]["post"]["responses"]["422"]["content"]
    assert api.client.get("/docs").status_code == 200


# --------------------------------------------------------------------------- logs
def test_logs_never_contain_message_text_or_replies(make_api, all_logs, capsys):
    secret = "my-secret-phrase-zebra-4711"
    api = make_api(llm=EchoModel())
    sid = api.chat(f"I told nobody that {secret}").json()["session_id"]
    api.chat(f"{secret} again and I want to kill myself tonight", session_id=sid)
    with api.client.stream("POST", "/v1/chat/stream", json={"message": f"stream {secret}", "session_id": sid},
                           headers=api.auth) as r:
        r.read()
    api.client.post("/v1/chat", json={"message": secret * 300}, headers=api.auth)  # too long
    api.client.post("/v1/chat", content=f'{{"message": "{secret}"', headers={**api.auth, "content-type": "application/json"})
    api.client.post("/v1/chat", json={"message": secret, "session_id": 5}, headers=api.auth)
    captured = capsys.readouterr()
    everything = "\n".join(r.getMessage() + json.dumps(getattr(r, "fields", {}), default=str) for r in all_logs.records)
    everything += captured.out + captured.err
    assert secret not in everything and "zebra" not in everything
    access = [r for r in all_logs.records if r.name == "companion.access"]
    assert len(access) == 6
    fields = [r.fields for r in access]
    assert fields[0]["route"] == "/v1/chat" and fields[0]["status"] == 200 and fields[0]["latency_ms"] >= 0
    assert fields[1]["safety_level"] in {"crisis", "emergency"}
    assert fields[2]["route"] == "/v1/chat/stream" and fields[2].get("stream") is True
    assert {f["status"] for f in fields[3:]} == {413, 422}
    assert all(f["request_id"] and f["key_id"] for f in fields[:3])


def test_json_formatter_writes_one_object_per_line():
    from companion.api.logs import JsonFormatter

    rec = logging.LogRecord("companion.access", logging.INFO, __file__, 1, "request", None, None)
    rec.fields = {"route": "/v1/chat", "status": 200}
    doc = json.loads(JsonFormatter().format(rec))
    assert doc["route"] == "/v1/chat" and doc["status"] == 200 and doc["msg"] == "request"
