"""CLI commands of the API: ``companion serve``, ``companion keys …``, ``companion sessions purge``.

Registered on the main Typer app by :func:`register` (called from
``companion.cli._register_optional``).
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

__all__ = ["register", "keys_app", "sessions_app", "serve"]

out = Console()
err = Console(stderr=True)

keys_app = typer.Typer(help="API keys for clinics: create (shown once), list, revoke.", no_args_is_help=True)
sessions_app = typer.Typer(help="Stored conversations: purge expired ones.", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]Error:[/] {escape(message)}")
    raise typer.Exit(code)


def _settings():  # type: ignore[no-untyped-def]
    from companion.settings import describe_settings_error, get_settings

    try:
        return get_settings()
    except Exception as exc:  # noqa: BLE001 - pydantic names the bad variable
        _fail(f"invalid configuration:\n{describe_settings_error(exc)}")


def _stores():  # type: ignore[no-untyped-def]
    from companion.keys import KeyStore
    from companion.sessions import SessionStore

    try:
        store = SessionStore.from_settings(_settings())
    except ValueError as exc:
        _fail(str(exc))
    return store, KeyStore(store.engine)


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind (0.0.0.0 for all).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    proxy_headers: Annotated[bool, typer.Option(help="Trust X-Forwarded-* from --forwarded-allow-ips.")] = False,
    forwarded_allow_ips: Annotated[str, typer.Option(help="Proxies trusted for X-Forwarded-For.")] = "127.0.0.1",
) -> None:
    """Serve the HTTP API (and the widget) with uvicorn; JSON logs to stderr, no message text."""
    import uvicorn

    from companion.api.app import create_app
    from companion.api.logs import configure_logging

    settings = _settings()
    configure_logging(settings.log_level)
    try:
        app = create_app(settings)
    except ValueError as exc:
        _fail(str(exc))
    if settings.require_api_key:
        err.print("API keys are required: create one with `companion keys create --name CLINIC`.")
    else:
        err.print("[yellow]COMPANION_REQUIRE_API_KEY=false: requests without a key are accepted (local use only).[/]")
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=False,
        log_config=None,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
    )


@keys_app.command("create")
def keys_create(name: Annotated[str, typer.Option("--name", help="Clinic (or integration) name.")]) -> None:
    """Create an API key; the key is printed once and only its hash is stored."""
    from companion.sessions import StoreUnavailable

    _store, keys = _stores()
    try:
        created = keys.create(name)
    except ValueError as exc:
        _fail(str(exc), 2)
    except StoreUnavailable as exc:
        _fail(str(exc))
    out.print(f"Created key [bold]{created.id}[/] for {escape(created.name)}. Copy it now; it is not shown again:")
    print(created.key)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (id, name, created, revoked); secrets are never shown."""
    from companion.sessions import StoreUnavailable

    _store, keys = _stores()
    try:
        items = keys.list()
    except StoreUnavailable as exc:
        _fail(str(exc))
    if not items:
        out.print("No API keys yet. Create one with `companion keys create --name CLINIC`.")
        return
    for k in items:
        status = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"
        out.print(f"{k.id}  {escape(k.name):30}  created {k.created_at:%Y-%m-%d %H:%M}  {status}", soft_wrap=True)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id (from `companion keys list`).")]) -> None:
    """Revoke a key: requests with it get 401 (within a few seconds on running servers)."""
    from companion.sessions import StoreUnavailable

    _store, keys = _stores()
    try:
        done = keys.revoke(key_id)
    except StoreUnavailable as exc:
        _fail(str(exc))
    if not done:
        _fail(f"no active key with id {key_id!r} (see `companion keys list`).", 2)
    out.print(f"Revoked key {escape(key_id)}.")


@sessions_app.command("purge")
def sessions_purge(
    older_than_days: Annotated[
        Optional[float], typer.Option(help="Age in days since last message (default: COMPANION_RETENTION_DAYS).", min=0)
    ] = None,
) -> None:
    """Delete conversations not updated within the retention period."""
    from companion.sessions import StoreUnavailable

    store, _keys = _stores()
    days = store.retention_days if older_than_days is None else older_than_days
    try:
        n = store.purge(days)
    except StoreUnavailable as exc:
        _fail(str(exc))
    out.print(f"Purged {n} conversation(s) older than {days:g} day(s).")


def register(app: typer.Typer) -> None:
    """Attach ``serve``, ``keys`` and ``sessions`` to the main CLI app."""
    app.command("serve")(serve)
    app.add_typer(keys_app, name="keys")
    app.add_typer(sessions_app, name="sessions")
