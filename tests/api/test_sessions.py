"""The session store and API keys (SQLite here; test_postgres.py runs the same tests on PostgreSQL).

Tests take a ``make_store(**kwargs) -> SessionStore`` fixture on a fresh database.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from companion.keys import KeyStore
from companion.sessions import NewMessage, SessionNotFound, SessionStore, StoreUnavailable, new_session_id


@pytest.fixture
def make_store(tmp_path):
    """SQLite stores in a temp dir (one file per call unless ``name`` repeats)."""
    made: list[SessionStore] = []

    def build(name: str = "s", **kwargs) -> SessionStore:
        store = SessionStore(f"sqlite:///{tmp_path / (name + '.sqlite3')}", **kwargs)
        made.append(store)
        return store

    yield build
    for s in made:
        s.dispose()


def turn(i: int, level: str = "none") -> list[NewMessage]:
    return [
        NewMessage("user", f"user message {i}", context=f"[1] passage for {i}", level=level),
        NewMessage("assistant", f"reply to {i}", level=level, sources=[{"number": 1, "title": f"T{i}"}]),
    ]


def test_turns_round_trip_in_order(make_store):
    store = make_store()
    sid = new_session_id()
    assert store.append(sid, "k:a", turn(1), create=True) == 1
    assert store.append(sid, "k:a", turn(2)) == 3
    rec = store.get(sid, "k:a")
    assert [(m.seq, m.role, m.content) for m in rec.messages] == [
        (1, "user", "user message 1"), (2, "assistant", "reply to 1"),
        (3, "user", "user message 2"), (4, "assistant", "reply to 2"),
    ]
    assert rec.messages[0].context == "[1] passage for 1" and rec.messages[1].sources == [{"number": 1, "title": "T1"}]
    assert rec.created_at.tzinfo is not None and rec.updated_at >= rec.created_at
    assert store.history(sid, "k:a")[2] == {"role": "user", "content": "user message 2", "context": "[1] passage for 2"}


def test_unicode_and_long_text_survive(make_store):
    store = make_store()
    sid = new_session_id()
    text_ = "Me siento solo 😔 — «nadie me escucha»\n" * 200
    store.append(sid, "o", [NewMessage("user", text_), NewMessage("assistant", "Estoy aquí.")], create=True)
    assert store.get(sid, "o").messages[0].content == text_


def test_other_owner_sees_nothing_and_changes_nothing(make_store):
    store = make_store()
    sid = new_session_id()
    store.append(sid, "k:a", turn(1), create=True)
    assert store.get(sid, "k:b") is None and store.history(sid, "k:b") is None
    with pytest.raises(SessionNotFound):
        store.append(sid, "k:b", turn(2))
    with pytest.raises(SessionNotFound):
        store.append(sid, "k:b", turn(2), create=True)  # cannot take over an existing id
    assert store.delete(sid, "k:b") is False
    assert len(store.get(sid, "k:a").messages) == 2


def test_missing_session_without_create_is_not_found(make_store):
    with pytest.raises(SessionNotFound):
        make_store().append(new_session_id(), "o", turn(1))


def test_a_failed_turn_writes_nothing_and_keeps_earlier_messages(make_store):
    store = make_store()
    sid = new_session_id()
    store.append(sid, "o", turn(1), create=True)
    broken = [NewMessage("user", "half a turn"), NewMessage("assistant", None)]  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailable) as err:
        store.append(sid, "o", broken)
    assert "session store unavailable" in str(err.value) and "half a turn" not in str(err.value)
    assert [m.content for m in store.get(sid, "o").messages] == ["user message 1", "reply to 1"]
    assert store.append(sid, "o", turn(2)) == 3


def test_concurrent_turns_lose_and_interleave_nothing(make_store):
    store = make_store()
    sid = new_session_id()
    store.append(sid, "o", [], create=True)
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            for i in range(10):
                store.append(sid, "o", turn(w * 100 + i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    msgs = store.get(sid, "o").messages
    assert [m.seq for m in msgs] == list(range(1, 161))
    for u, a in zip(msgs[0::2], msgs[1::2]):
        assert u.role == "user" and a.role == "assistant"
        assert a.content == "reply to " + u.content.split()[-1]
    assert len({m.content for m in msgs}) == 160


def test_two_stores_on_one_database_share_the_seq(make_store):
    """Two processes (two engines) appending to one session: the unique (session_id, seq) + retry."""
    a, b = make_store("shared"), make_store("shared")
    sid = new_session_id()
    a.append(sid, "o", [], create=True)

    def run(store: SessionStore, base: int) -> None:
        for i in range(15):
            store.append(sid, "o", turn(base + i))

    ts = [threading.Thread(target=run, args=(a, 0)), threading.Thread(target=run, args=(b, 100))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    msgs = a.get(sid, "o").messages
    assert [m.seq for m in msgs] == list(range(1, 61))
    assert all(u.role == "user" and a_.content == "reply to " + u.content.split()[-1] for u, a_ in zip(msgs[::2], msgs[1::2]))


def test_delete_erases_messages(make_store):
    store = make_store()
    sid, keep = new_session_id(), new_session_id()
    store.append(sid, "o", turn(1), create=True)
    store.append(keep, "o", turn(2), create=True)
    assert store.delete(sid, "o") is True
    assert store.get(sid, "o") is None
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM messages WHERE session_id = :s"), {"s": sid}).scalar() == 0
    assert len(store.get(keep, "o").messages) == 2


def test_purge_removes_only_expired_sessions(make_store):
    store = make_store(retention_days=30)
    old, recent = new_session_id(), new_session_id()
    store.append(old, "o", turn(1), create=True)
    store.append(recent, "o", turn(2), create=True)
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=31)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE sessions SET updated_at = :t WHERE id = :s"),
                     {"t": past if store.dialect != "sqlite" else past.replace(tzinfo=None), "s": old})
    assert store.purge() == 1
    assert store.get(old, "o") is None and len(store.get(recent, "o").messages) == 2
    assert store.purge() == 0
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM messages WHERE session_id = :s"), {"s": old}).scalar() == 0


def test_encryption_at_rest(make_store):
    key = Fernet.generate_key().decode()
    store = make_store("enc", encryption_key=key)
    sid = new_session_id()
    store.append(sid, "o", [NewMessage("user", "my secret worry", context="ctx block"),
                            NewMessage("assistant", "a caring reply")], create=True)
    with store.engine.connect() as conn:
        raw = [tuple(r) for r in conn.execute(text("SELECT content, context FROM messages ORDER BY seq"))]
    assert all("secret" not in (c or "") and "caring" not in (c or "") for row in raw for c in row)
    assert raw[0][0].startswith("enc:v1:")
    assert [m.content for m in store.get(sid, "o").messages] == ["my secret worry", "a caring reply"]
    assert store.get(sid, "o").messages[0].context == "ctx block"

    no_key = make_store("enc")
    with pytest.raises(StoreUnavailable, match="COMPANION_ENCRYPTION_KEY"):
        no_key.get(sid, "o")
    wrong = make_store("enc", encryption_key=Fernet.generate_key().decode())
    with pytest.raises(StoreUnavailable, match="cannot be decrypted"):
        wrong.get(sid, "o")


def test_rows_written_before_encryption_stay_readable(make_store):
    plain = make_store("mixed")
    sid = new_session_id()
    plain.append(sid, "o", turn(1), create=True)
    enc = make_store("mixed", encryption_key=Fernet.generate_key().decode())
    enc.append(sid, "o", turn(2))
    assert [m.content for m in enc.get(sid, "o").messages] == ["user message 1", "reply to 1", "user message 2", "reply to 2"]


def test_invalid_encryption_key_is_refused_up_front(tmp_path):
    with pytest.raises(ValueError, match="Fernet"):
        SessionStore(f"sqlite:///{tmp_path}/x.sqlite3", encryption_key="not-a-key")


def test_unreachable_database_is_store_unavailable():
    store = SessionStore("postgresql+psycopg://nobody:pw@127.0.0.1:9/none", connect_timeout_s=1)
    with pytest.raises(StoreUnavailable, match="session store unavailable"):
        store.get("x" * 32, "o")
    with pytest.raises(StoreUnavailable) as err:
        store.append("x" * 32, "o", [NewMessage("user", "private words")], create=True)
    assert "private words" not in str(err.value) and "pw" not in str(err.value).split("(")[0]
    assert "nobody:pw" not in store.safe_url


def test_api_keys_create_verify_revoke(make_store):
    store = make_store()
    keys = KeyStore(store.engine, cache_ttl_s=0)
    a, b = keys.create("Clinic North"), keys.create("Clinic South")
    assert a.key.startswith("gck_") and a.key != b.key
    assert keys.verify(a.key).name == "Clinic North"
    assert keys.verify(a.key[:-1] + ("A" if a.key[-1] != "A" else "B")) is None
    assert keys.verify(f"gck_{b.id}_{a.key.split('_', 2)[2]}") is None  # a's secret with b's id
    assert keys.verify("nonsense") is None
    assert [k.name for k in keys.list()] == ["Clinic North", "Clinic South"]
    assert keys.revoke(a.id) is True and keys.revoke(a.id) is False
    assert keys.verify(a.key) is None and keys.verify(b.key) is not None
    assert [k.active for k in keys.list()] == [False, True]
    with pytest.raises(ValueError):
        keys.create("   ")


# --------------------------------------------------------------------------- CLI
@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run ``companion …`` in-process against a temp data dir."""
    from typer.testing import CliRunner

    from companion.cli import app
    from companion.settings import get_settings

    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.delenv("COMPANION_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_cli_keys_create_list_revoke(cli, tmp_path):
    created = cli("keys", "create", "--name", "Clinic North")
    assert created.exit_code == 0, created.output
    key = [line for line in created.output.splitlines() if line.startswith("gck_")][0]
    key_id = key.split("_")[1]
    listed = cli("keys", "list")
    assert key_id in listed.output and "Clinic North" in listed.output and "active" in listed.output
    assert key.split("_", 2)[2] not in listed.output  # the secret is shown once only
    store = SessionStore(f"sqlite:///{tmp_path / 'cli-data' / 'sessions.sqlite3'}")
    assert KeyStore(store.engine).verify(key) is not None
    assert cli("keys", "revoke", key_id).exit_code == 0
    assert "revoked" in cli("keys", "list").output
    assert KeyStore(store.engine).verify(key) is None
    missing = cli("keys", "revoke", "000000000000")
    assert missing.exit_code == 2 and "no active key" in missing.output
    store.dispose()


def test_cli_sessions_purge(cli, tmp_path):
    store = SessionStore(f"sqlite:///{tmp_path / 'cli-data' / 'sessions.sqlite3'}")
    old = new_session_id()
    store.append(old, "o", turn(1), create=True)
    store.append(new_session_id(), "o", turn(2), create=True)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE sessions SET updated_at = :t WHERE id = :s"),
                     {"t": dt.datetime.utcnow() - dt.timedelta(days=45), "s": old})
    result = cli("sessions", "purge")
    assert result.exit_code == 0 and "Purged 1 conversation" in result.output
    assert store.count_sessions() == 1
    assert "Purged 1" in cli("sessions", "purge", "--older-than-days", "0").output
    assert store.count_sessions() == 0
    store.dispose()


def test_deleted_conversation_text_is_not_left_in_the_sqlite_files(tmp_path):
    from companion.sessions import NewMessage, SessionStore, new_session_id

    db = tmp_path / "s.sqlite3"
    store = SessionStore(f"sqlite:///{db}")
    sid = new_session_id()
    store.append(
        sid, "owner-a",
        [NewMessage("user", "zebra-violet-9182 is my secret"), NewMessage("assistant", "I hear you.")],
        create=True,
    )
    assert store.delete(sid, "owner-a")
    # checked while the store is still open, as on a running server
    for path in tmp_path.iterdir():
        assert b"zebra-violet-9182" not in path.read_bytes(), path.name
    store.dispose()
