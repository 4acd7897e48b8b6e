"""The session store and the API on a real PostgreSQL server (throwaway cluster on loopback).

Starts ``initdb`` + ``pg_ctl`` from /usr/lib/postgresql/*/bin as the ``postgres``
user (PostgreSQL refuses to run as root) on a free port in a temp dir, and
runs the store tests of test_sessions.py against it, plus an outage test:
the server is stopped mid-conversation (503 that says so) and started again
(nothing lost). Skips, with the reason, only when no server can be started.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from companion.sessions import SessionStore

from .test_routes import assert_problem
from .test_sessions import (  # noqa: F401  (collected again here, on PostgreSQL)
    test_a_failed_turn_writes_nothing_and_keeps_earlier_messages,
    test_api_keys_create_verify_revoke,
    test_concurrent_turns_lose_and_interleave_nothing,
    test_delete_erases_messages,
    test_encryption_at_rest,
    test_missing_session_without_create_is_not_found,
    test_other_owner_sees_nothing_and_changes_nothing,
    test_purge_removes_only_expired_sessions,
    test_rows_written_before_encryption_stay_readable,
    test_turns_round_trip_in_order,
    test_two_stores_on_one_database_share_the_seq,
    test_unicode_and_long_text_survive,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """A throwaway PostgreSQL cluster: ``start()``, ``stop()``, ``url(db)``, ``create_db(name)``."""

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            pytest.skip("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
        self.bin = Path(bins[-1]).parent
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="companion-pg-"))
        self.data = self.root / "data"
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no 'postgres' user to run the server as")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            runuser = shutil.which("runuser")
            self.run_as = [runuser, "-u", "postgres", "--"] if runuser else ["su", "postgres", "-s", "/bin/sh", "-c"]
        self.log = self.root / "server.log"

    def _run(self, *cmd: str) -> subprocess.CompletedProcess:
        if self.run_as and self.run_as[0] == "su":
            return subprocess.run([*self.run_as, " ".join(cmd)], capture_output=True, text=True, timeout=120)
        return subprocess.run([*self.run_as, *cmd], capture_output=True, text=True, timeout=120)

    def init(self) -> None:
        r = self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                      "--no-sync", "-E", "UTF8", "--locale=C")
        if r.returncode != 0:
            pytest.skip(f"initdb failed: {r.stderr.strip()[-400:]}")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        r = self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "-t", "60", "start")
        if r.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            pytest.skip(f"PostgreSQL did not start: {r.stderr.strip()[-300:]} {log[-300:]}")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, db: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{db}"

    def create_db(self, name: str) -> str:
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)

    def cleanup(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def pg() -> PgCluster:
    cluster = PgCluster()
    cluster.init()
    cluster.start()
    yield cluster
    cluster.cleanup()


@pytest.fixture
def make_store(pg, request):
    """Stores on a fresh PostgreSQL database per test (same name -> same database)."""
    made: list[SessionStore] = []
    dbs: dict[str, str] = {}
    prefix = "t_" + request.node.name.replace("test_", "")[:40].lower()

    def build(name: str = "s", **kwargs) -> SessionStore:
        if name not in dbs:
            dbs[name] = pg.create_db(f"{prefix}_{name}")
        store = SessionStore(dbs[name], **kwargs)
        made.append(store)
        return store

    yield build
    for s in made:
        s.dispose()


def test_it_really_is_postgresql(make_store):
    store = make_store()
    store.ping()
    with store.engine.connect() as conn:
        assert "PostgreSQL" in conn.execute(text("SELECT version()")).scalar()
    assert store.dialect == "postgresql"


def test_api_on_postgres_survives_an_outage(pg, make_api):
    url = pg.create_db("api_outage")
    store = SessionStore(url, connect_timeout_s=2)
    api = make_api(store=store)
    first = api.chat("before the outage")
    assert first.status_code == 200, first.text
    sid = first.json()["session_id"]
    assert api.client.get("/readyz").json()["checks"]["store"]["ok"] is True

    pg.stop("fast")
    try:
        assert_problem(api.chat("during the outage", session_id=sid), 503, "session store unavailable")
        r = api.client.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["store"]["ok"] is False
    finally:
        pg.start()

    for _ in range(50):  # the pool notices the restart (pre-ping) on the next checkout
        if api.client.get("/readyz").json()["checks"]["store"]["ok"]:
            break
        time.sleep(0.1)
    msgs = api.client.get(f"/v1/sessions/{sid}", headers=api.auth).json()["messages"]
    assert [m["content"] for m in msgs] == ["before the outage", first.json()["reply"]]
    assert api.chat("after the outage", session_id=sid).status_code == 200
    assert len(api.client.get(f"/v1/sessions/{sid}", headers=api.auth).json()["messages"]) == 4
