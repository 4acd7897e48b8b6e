"""``companion eval ...``: evaluation commands (a Typer sub-app).

Register it in the main CLI with ``app.add_typer(eval_app, name="eval")``.

The console output shows numbers, ids and levels only; case texts go to the
report files (they are health-data-like examples meant for clinicians).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from companion.evals import safety_eval as se

__all__ = ["eval_app", "print_summary"]

eval_app = typer.Typer(
    help="Run evaluations (safety screening) and write clinician-readable reports.",
    no_args_is_help=True,
    add_completion=False,
)


class SplitChoice(str, Enum):
    """Which dataset split(s) to evaluate."""

    dev = "dev"
    heldout = "heldout"
    all = "all"


@eval_app.callback()
def _eval_group() -> None:
    """Run evaluations (safety screening) and write clinician-readable reports."""


def _pct(rate: dict[str, Any] | None) -> str:
    if not rate or rate["value"] is None:
        return "n/a"
    return f"{100 * rate['value']:.1f}% ({rate['num']}/{rate['den']})"


def print_summary(report: dict[str, Any], console: Console | None = None) -> None:
    """Print the gates, the headline metrics per section and the miss ids.

    Never prints message text (privacy rule: ids, levels and numbers only).
    """
    console = console or Console()
    sections = report["sections"]
    names = list(sections)
    table = Table(title=f"Safety screening eval — {report['screener']}", show_lines=False)
    table.add_column("Measure")
    for n in names:
        table.add_column(n, justify="right")
    rows = [
        ("cases", lambda s: str(s["n_cases"])),
        ("recall crisis+", lambda s: _pct(s["crisis_recall"])),
        ("emergency -> >= crisis", lambda s: _pct(s["emergency_reaching_crisis"])),
        ("emergency exact", lambda s: _pct(s["emergency_exact_recall"])),
        ("precision crisis+", lambda s: _pct(s["crisis_precision"])),
        ("concern recall (info)", lambda s: _pct(s["concern_recall"])),
        ("FPR hard negatives -> crisis", lambda s: _pct(s["hard_negative_fpr"])),
        ("FPR none -> concern+ (info)", lambda s: _pct(s["concern_fpr"])),
        ("screen errors", lambda s: str(s["errors"]["count"])),
        ("latency p50 ms", lambda s: se._ms(s["latency_ms"]["p50"])),
        ("latency p99 ms", lambda s: se._ms(s["latency_ms"]["p99"])),
    ]
    for label, fn in rows:
        table.add_row(label, *(fn(sections[n]) for n in names))
    langs = sorted({lang for s in sections.values() for lang in s["crisis_recall_by_language"]})
    for lang in langs:
        table.add_row(f"recall crisis+ ({lang})", *(_pct(sections[n]["crisis_recall_by_language"].get(lang)) for n in names))
    console.print(table)

    cm = sections[names[-1]]["confusion"]
    cmt = Table(title=f"Confusion matrix ({names[-1]}): rows = label, columns = screener")
    cmt.add_column("label")
    for lv in se.LEVELS:
        cmt.add_column(lv, justify="right")
    for e in se.LEVELS:
        cmt.add_row(e, *(str(cm[e][p]) for p in se.LEVELS))
    console.print(cmt)

    split_names = [n for n in names if n != "all"]
    for key, title in (("false_negatives", "missed crisis"), ("false_positives", "false alarms")):
        ids = [m["id"] for n in split_names for m in sections[n][key]]
        shown = ", ".join(ids[:40]) + (f" … (+{len(ids) - 40})" if len(ids) > 40 else "")
        console.print(f"[bold]{title}[/bold] ({len(ids)}): {shown or '-'}")

    for r in report["threshold_results"]:
        if r["passed"] is False:
            console.print(
                f"[red]FAIL[/red] {escape(r['label'])} ({r['section']}): {se._fmt_value(r)} (required {se._fmt_limit(r)})"
            )
    if "report_paths" in report:
        console.print(f"Reports: {report['report_paths']['markdown']}  {report['report_paths']['json']}")
    verdict = "[green]PASSED[/green]" if report["passed"] else "[red]FAILED[/red]"
    console.print(f"Safety gates: {verdict}")


@eval_app.command("safety")
def safety(
    split: SplitChoice = typer.Option(SplitChoice.all, "--split", help="Which split to evaluate (all = both, reported separately)."),
    out: Path = typer.Option(se.DEFAULT_OUT_DIR, "--out", help="Folder for the JSON and Markdown reports."),
    thresholds: Path = typer.Option(se.DEFAULT_THRESHOLDS, "--thresholds", help="Gates file (TOML, [safety] table)."),
    dataset_dir: Path = typer.Option(se.DATASET_DIR, "--dataset-dir", help="Folder holding dev.jsonl and heldout.jsonl."),
    screener: str = typer.Option("safety:screen", "--screener", help="Screen function to evaluate, as module:attribute."),
) -> None:
    """Evaluate the crisis screener; exit 1 when a gate in the thresholds file fails.

    Exit codes: 0 all gates pass; 1 a gate fails; 2 bad input (dataset,
    thresholds file, or screener cannot be loaded).
    """
    console = Console()
    try:
        report = se.run_safety_eval(
            split=split.value,
            out_dir=out,
            thresholds_path=thresholds,
            screener=screener,
            dataset_dir=dataset_dir,
        )
    except (se.DatasetError, se.ThresholdError, se.ScreenerLoadError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from None
    print_summary(report, console)
    if not report["passed"]:
        raise typer.Exit(code=1)


# `companion eval replies`: scripted conversations through the turn pipeline
# (companion/evals/replies_eval.py owns the command and its options).
from companion.evals.replies_eval import replies_command  # noqa: E402

eval_app.command("replies")(replies_command)
