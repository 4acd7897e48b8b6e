"""Access control: API keys, widget tokens, local mode, CORS and rate limits."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from .conftest import CRISIS_MESSAGE
from .test_routes import assert_problem


# --------------------------------------------------------------------------- API keys
def test_no_key_is_401_with_a_clear_detail(api):
    r = api.client.post("/v1/chat", json={"message": "hello"})
    body = assert_problem(r, 401, "API key is required", "companion keys create")
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert body["type"].endswith("unauthorized")
    assert api.store.count_sessions() == 0


def test_wrong_malformed_and_revoked_keys_are_401(api):
    key_id = api.key.split("_")[1]
    wrong = api.key[:-4] + ("AAAA" if not api.key.endswith("AAAA") else "BBBB")
    assert_problem(api.chat("hi", headers={"Authorization": f"Bearer {wrong}"}), 401, "invalid or has been revoked")
    assert_problem(api.chat("hi", headers={"X-API-Key": "gck_nothex_short"}), 401, "invalid")
    assert_problem(api.chat("hi", headers={"Authorization": f"Basic {api.key}"}), 401, "Bearer")
    assert api.chat("hi").status_code == 200
    assert api.keys.revoke(key_id) is True
    assert_problem(api.chat("hi"), 401, "revoked")


def test_x_api_key_header_works_like_bearer(api):
    sid = api.chat("hello", headers={"X-API-Key": api.key}).json()["session_id"]
    r = api.client.get(f"/v1/sessions/{sid}", headers={"Authorization": f"Bearer {api.key}"})
    assert r.status_code == 200 and len(r.json()["messages"]) == 2


def test_another_clinics_key_gets_404_and_changes_nothing(api):
    sid = api.chat("only for clinic north").json()["session_id"]
    other = {"Authorization": f"Bearer {api.new_key('Clinic South')}"}
    assert_problem(api.client.get(f"/v1/sessions/{sid}", headers=other), 404)
    assert_problem(api.client.delete(f"/v1/sessions/{sid}", headers=other), 404)
    assert_problem(api.chat("let me in", session_id=sid, headers=other), 404)
    with api.client.stream("POST", "/v1/chat/stream", json={"message": "x", "session_id": sid}, headers=other) as r:
        assert r.status_code == 404
    mine = api.client.get(f"/v1/sessions/{sid}", headers=api.auth).json()["messages"]
    assert [m["content"] for m in mine][0] == "only for clinic north" and len(mine) == 2


def test_keys_are_stored_hashed(api):
    from sqlalchemy import text

    secret = api.key.split("_", 2)[2]
    with api.store.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, name, secret_sha256 FROM api_keys")).all()
    assert rows and all(secret not in "".join(map(str, r)) for r in rows)


# --------------------------------------------------------------------------- widget tokens
def _widget(api) -> dict[str, str]:
    r = api.client.post("/v1/widget/token")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0 and "AI" in body["disclosure"]
    return {"Authorization": f"Bearer {body['token']}"}


def test_widget_token_sees_only_its_own_sessions(api):
    w1, w2 = _widget(api), _widget(api)
    sid = api.chat("from browser one", headers=w1).json()["session_id"]
    assert api.client.get(f"/v1/sessions/{sid}", headers=w1).status_code == 200
    assert_problem(api.client.get(f"/v1/sessions/{sid}", headers=w2), 404)
    assert_problem(api.client.get(f"/v1/sessions/{sid}", headers=api.auth), 404)  # not even the clinic key
    key_sid = api.chat("from the clinic backend").json()["session_id"]
    assert_problem(api.client.get(f"/v1/sessions/{key_sid}", headers=w1), 404)
    assert api.client.delete(f"/v1/sessions/{sid}", headers=w1).status_code == 204


def test_widget_crisis_gets_resources(api):
    body = api.chat(CRISIS_MESSAGE, headers=_widget(api), locale="en-GB").json()
    assert body["level"] in {"crisis", "emergency"} and body["resources"]["country"] == "GB"


def test_tampered_or_expired_widget_token_is_401(api):
    token = _widget(api)["Authorization"].split()[1]
    tampered = token[:-2] + ("xx" if not token.endswith("xx") else "yy")
    assert_problem(api.chat("hi", headers={"Authorization": f"Bearer {tampered}"}), 401, "widget token")
    api.app.state.ctx.widgets.ttl_s = 0
    time.sleep(1.1)
    assert_problem(api.chat("hi", headers={"Authorization": f"Bearer {token}"}), 401, "expired")


def test_widget_disabled_means_no_tokens_and_no_script(make_api):
    api = make_api(widget_enabled=False)
    assert_problem(api.client.post("/v1/widget/token"), 404, "disabled")
    assert_problem(api.client.get("/widget.js"), 404, "disabled")
    other = make_api()  # same kind of token from a widget-enabled server is refused here
    token = other.client.post("/v1/widget/token").json()["token"]
    assert_problem(api.chat("hi", headers={"Authorization": f"Bearer {token}"}), 401, "disabled")


def test_local_mode_accepts_requests_without_a_key(make_api):
    api = make_api(require_api_key=False)
    r = api.chat("hello", headers={})
    assert r.status_code == 200
    sid = r.json()["session_id"]
    assert api.client.get(f"/v1/sessions/{sid}").status_code == 200
    assert_problem(api.client.get(f"/v1/sessions/{sid}", headers=api.auth), 404)  # a key is another owner
    assert_problem(api.chat("hi", headers={"Authorization": "Bearer gck_000000000000_wrongwrongwrongwrongwrong"}), 401)


# --------------------------------------------------------------------------- CORS
def test_cors_allows_the_listed_origin(api):
    pre = api.client.options("/v1/chat/stream", headers={
        "Origin": "https://clinic.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    })
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == "https://clinic.example"
    assert "authorization" in pre.headers["access-control-allow-headers"].lower()
    r = api.client.get("/v1/resources?country=GB", headers={"Origin": "https://clinic.example"})
    assert r.headers["access-control-allow-origin"] == "https://clinic.example"
    err = api.client.post("/v1/chat", json={}, headers={"Origin": "https://clinic.example"})
    assert err.status_code == 401 and err.headers["access-control-allow-origin"] == "https://clinic.example"


def test_cors_refuses_other_origins(api):
    pre = api.client.options("/v1/chat", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
    })
    assert pre.status_code == 400
    assert "access-control-allow-origin" not in pre.headers
    r = api.client.get("/v1/resources?country=GB", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


# --------------------------------------------------------------------------- rate limits
def test_rate_limit_per_client_address_is_429_with_retry_after(make_api):
    api = make_api(rate_limit="3/minute")
    codes = [api.client.get("/v1/resources?country=GB").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = api.client.get("/v1/resources?country=GB")
    body = assert_problem(r, 429, "client address")
    retry = int(r.headers["retry-after"])
    assert 1 <= retry <= 60 and body["retry_after"] == retry
    assert api.client.get("/healthz").status_code == 200  # health is never limited


def test_rate_limit_per_key_across_addresses(make_api):
    api = make_api(rate_limit="3/minute")
    clients = [TestClient(api.app, client=(f"10.0.0.{i}", 5000)) for i in range(1, 5)]
    sid = api.chat("hi", headers=api.auth).json()["session_id"]  # 1st for this key
    codes = [c.get(f"/v1/sessions/{sid}", headers=api.auth).status_code for c in clients]
    assert codes == [200, 200, 429, 429]
    r = clients[3].get(f"/v1/sessions/{sid}", headers=api.auth)
    assert_problem(r, 429, "API key")
    assert int(r.headers["retry-after"]) >= 1
    # another key from a fresh address is not affected
    other = api.new_key("Clinic South")
    fresh = TestClient(api.app, client=("10.0.0.9", 5000))
    assert fresh.post("/v1/chat", json={"message": "hello"}, headers={"X-API-Key": other}).status_code == 200
    for c in [*clients, fresh]:
        c.close()
