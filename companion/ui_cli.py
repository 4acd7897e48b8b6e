"""``companion ui``: start the Streamlit chat page (``ui/app.py``).

Runs ``python -m streamlit run ui/app.py`` in a child process from the
repository folder (so ``.streamlit/config.toml``, the calm theme, applies),
always headless and with Streamlit's usage statistics off. Registered on the
Typer app by :func:`companion.cli._register_optional`.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from companion.settings import REPO_ROOT

__all__ = ["APP_PATH", "streamlit_command", "ui"]

#: The Streamlit page.
APP_PATH: Path = REPO_ROOT / "ui" / "app.py"


def streamlit_command(port: int, host: str, app_path: Path = APP_PATH) -> list[str]:
    """The argv that serves ``app_path`` on ``host:port`` (headless, no usage statistics)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.address",
        host,
        "--server.port",
        str(port),
    ]


def _port_free(host: str, port: int) -> bool:
    """False when ``host:port`` is taken; raises ``OSError`` when ``host`` cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def ui(
    port: Annotated[int, typer.Option(help="Port to serve the page on.", min=1, max=65535)] = 8501,
    host: Annotated[
        str,
        typer.Option(help="Address to listen on. The default serves this computer only; 0.0.0.0 exposes it to your network."),
    ] = "127.0.0.1",
) -> None:
    """Open the chat page in your browser (Streamlit; Ctrl+C to stop)."""
    if not APP_PATH.is_file():
        typer.echo(f"Error: the chat page {APP_PATH} is missing; run this from a source checkout.", err=True)
        raise typer.Exit(1)
    try:
        import streamlit  # noqa: F401
    except ImportError:
        typer.echo("Error: Streamlit is not installed. Fix: pip install -e . (it is a dependency).", err=True)
        raise typer.Exit(1) from None
    try:
        free = _port_free(host, port)
    except (OSError, UnicodeError) as exc:
        typer.echo(f"Error: cannot listen on {host!r} ({exc}). Use --host 127.0.0.1 or a valid address.", err=True)
        raise typer.Exit(2) from None
    if not free:
        typer.echo(f"Error: port {port} on {host} is already in use. Fix: pass another one, e.g. --port {port + 1}.", err=True)
        raise typer.Exit(1)

    env = dict(os.environ)
    env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    shown = "localhost" if host in {"127.0.0.1", "::1", "localhost"} else host
    typer.echo(f"Starting the chat page on http://{shown}:{port} (Ctrl+C to stop)…", err=True)
    proc = subprocess.Popen(streamlit_command(port, host), cwd=REPO_ROOT, env=env)

    def _forward(signum: int, _frame: object) -> None:
        if proc.poll() is None:
            proc.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, _forward)
    try:
        code = proc.wait()
    except KeyboardInterrupt:  # Ctrl+C reaches the child too (same process group)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if code not in (0, -signal.SIGINT, -signal.SIGTERM):
        raise typer.Exit(code if code > 0 else 1)
