"""Reports of the reply evaluation: terminal table, JSON, Markdown and a PNG chart.

Input is the report dict built by :func:`companion.evals.replies_eval.run_replies_eval`.
:func:`write_reports` writes ``replies-eval.json``, ``replies-eval.md`` and
``replies-eval.png`` into the output folder (default ``evals/reports/``,
git-ignored). The Markdown shows every failing turn with its conversation
context so a reviewer can read what happened.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["print_report", "render_markdown", "render_chart", "write_reports", "benchmark_line", "failing_turns"]

_DIMS = ("safety", "voice", "grounding")


def _pct(rate: Mapping[str, Any] | None) -> str:
    if not rate or rate.get("value") is None:
        return "n/a"
    return f"{100 * rate['value']:.0f}% ({rate['num']}/{rate['den']})"


def _rate_pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.0f}%"


def _s(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1f}s"


def _fmt_value(g: Mapping[str, Any]) -> str:
    v = g["value"]
    if v is None:
        return "n/a"
    if g["metric"].endswith("rate"):
        return f"{100 * v:.1f}%"
    return f"{v:g}"


def _fmt_limit(g: Mapping[str, Any]) -> str:
    op = ">=" if g["bound"] == "min" else "<="
    lim = g["limit"]
    return f"{op} {100 * lim:.0f}%" if g["metric"].endswith("rate") else f"{op} {lim:g}"


def benchmark_line(report: Mapping[str, Any]) -> str:
    """One line: wall time per generated turn, per crisis turn, per conversation, and setup."""
    b = report["benchmark"]
    g, c, conv, first = b["generated_turn_s"], b["crisis_turn_s"], b["conversation_s"], b["first_piece_s"]
    setup = ", ".join(f"{k.removesuffix('_s')} {v:.1f}s" for k, v in b["setup_s"].items())
    budget = report.get("ci_budget") or {}
    line = (
        f"Benchmark ({b['model']}): {b['turn_s']['n']} turns in {b['total_s']:.0f}s total; "
        f"generated turn mean {_s(g['mean'])} (p50 {_s(g['p50'])}, p90 {_s(g['p90'])}, max {_s(g['max'])}, n={g['n']}), "
        f"first text after {_s(first['mean'])}; crisis turn mean {_s(c['mean'])} (n={c['n']}); "
        f"conversation mean {_s(conv['mean'])} (max {_s(conv['max'])}); setup: {setup or 'none'}"
    )
    if b.get("words_per_s"):
        line += f"; {b['words_per_s']:.1f} words/s generated"
    if budget.get("n") is not None:
        line += f". Fits {budget['budget_s'] / 60:.0f} min: --subset {budget['n']} (est. {budget['estimated_s']:.0f}s)"
    lf = b.get("load_factor")
    if lf is not None and lf < 0.8:
        idle, idle_conv = b["idle_estimate_generated_turn_s"], b["idle_estimate_conversation_s"]
        idle_budget = report.get("ci_budget_idle_estimate") or {}
        line += (
            f". The run got {100 * lf:.0f}% of {b['cores']} cores (a shared machine, or single-threaded stages); "
            f"idle-runner estimate from CPU time / cores (a lower bound): {_s(idle['mean'])} per generated turn, "
            f"{_s(idle_conv['mean'])} per conversation"
        )
        if idle_budget.get("n") is not None:
            line += f", --subset {idle_budget['n']} in {idle_budget['budget_s'] / 60:.0f} min"
    return line + "."


def failing_turns(report: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """``(conversation, turn)`` pairs of every turn with a failed check, in run order; harmful first."""
    out = [(c, t) for c in report["conversations"] for t in c["turns"] if not t["passed"]]
    return sorted(out, key=lambda ct: (not ct[1]["harmful"], report["conversations"].index(ct[0]), ct[1]["index"]))


def _failed_checks(turn: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [k for k in turn["checks"] if k["status"] in ("fail", "error")]


# --------------------------------------------------------------------------- terminal


def print_report(report: Mapping[str, Any], console: Console | None = None, *, show_failures: int = 5) -> None:
    """Print the per-conversation table, gates, benchmark line and the first failing turns."""
    console = console or Console()
    s = report["summary"]
    table = Table(title=f"Reply eval — {escape(report['model'])}")
    for col, just in (("conversation", "left"), ("locale", "left"), ("turns ok", "right"), ("safety", "right"),
                      ("voice", "right"), ("grounding", "right"), ("time", "right")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for c in report["conversations"]:
        harmful = any(t["harmful"] for t in c["turns"])
        style = "red" if harmful else ("green" if c["turns_passed"] == c["n_turns"] else "yellow")
        table.add_row(
            f"[{style}]{escape(c['id'])}[/{style}]",
            c["locale"],
            f"{c['turns_passed']}/{c['n_turns']}",
            *(_pct(c["dimensions"][d]) for d in _DIMS),
            _s(c["seconds"]),
        )
    console.print(table)
    console.print(
        f"Turns: {s['turns']} in {s['conversations']} conversations; all checks passed: {_pct(s['turn_pass'])}; "
        + "; ".join(f"{d} {_pct(s['dimensions'][d])}" for d in _DIMS)
        + f"; level as scripted {_pct(s['level_match'])}; harmful turns {s['harmful_turns']}; "
        f"crisis turns with resources {_pct(s['crisis_resources'])}."
    )
    bad = [(n, c) for n, c in s["checks"].items() if c["fail"] or c["error"]]
    if bad:
        ct = Table(title="Checks that failed")
        for col in ("check", "dimension", "failed", "applied", "rate"):
            ct.add_column(col)
        for n, c in sorted(bad, key=lambda x: (-(x[1]["fail"] + x[1]["error"]), x[0])):
            applied = c["pass"] + c["fail"] + c["error"]
            name = f"[red]{n} (harmful)[/red]" if c["harmful"] else n
            ct.add_row(name, c["dimension"], str(c["fail"] + c["error"]), str(applied), f"{100 * (c['rate'] or 0):.0f}%")
        console.print(ct)
    if report.get("judge"):
        j = report["judge"]
        console.print(
            f"LLM judge ({escape(j['model'])}): {j['judged']} turns judged, {j['errors']} errors; agreement with checks: "
            + ", ".join(f"{k} {_rate_pct(v['rate'])} (n={v['n']})" for k, v in j["items"].items())
        )
    console.print(escape(benchmark_line(report)), highlight=False)

    fails = failing_turns(report)
    for conv, turn in fails[:show_failures]:
        console.print(f"\n[bold]{escape(conv['id'])} turn {turn['index']}[/bold] "
                      f"(level {turn['level']}, expected {turn['expect']['level']}, {turn['kind']}):")
        for prev in conv["turns"][: turn["index"] - 1]:
            console.print(f"[dim]  person: {escape(_short(prev['user'], 160))}[/dim]")
            console.print(f"[dim]  companion: {escape(_short(prev['reply'], 160))}[/dim]")
        console.print(f"  person: {escape(turn['user'])}")
        console.print(f"  companion: {escape(turn['reply'])}")
        for k in _failed_checks(turn):
            console.print(f"  [red]✗ {k['name']}[/red] ({k['dimension']}): {escape(k['detail'])}")
    if len(fails) > show_failures:
        console.print(f"\n… {len(fails) - show_failures} more failing turn(s) in the Markdown report.")

    console.print()
    for g in report["threshold_results"]:
        mark = {True: "[green]PASS[/green]", False: "[red]FAIL[/red]", None: "[yellow]n/a[/yellow]"}[g["passed"]]
        console.print(f"{mark} {escape(g['label'])}: {_fmt_value(g)} (required {_fmt_limit(g)})")
    if "report_paths" in report:
        p = report["report_paths"]
        console.print(f"Reports: {p.get('markdown')}  {p.get('json')}  {p.get('chart')}", highlight=False)
    verdict = "[green]PASSED[/green]" if report["passed"] else "[red]FAILED[/red]"
    console.print(f"Reply gates ({escape(report['thresholds']['source'])}): {verdict}")


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# --------------------------------------------------------------------------- markdown


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _quote(text: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in text.strip().splitlines()) or "> (empty)"


def render_markdown(report: Mapping[str, Any]) -> str:
    """The full report as Markdown (gates, benchmark, dimensions, checks, conversations, failing turns)."""
    s = report["summary"]
    out: list[str] = []
    w = out.append
    w("# Reply evaluation\n")
    w(f"- Generated: {report['generated_at']}")
    w(f"- Model: {report['model']} (provider `{report['provider']}`, temperature {report['temperature']})")
    subset = f"subset of {len(report['conversations_run'])}" if report.get("subset") else "all"
    w(f"- Conversations: {len(report['conversations_run'])} of {report['conversations_total']} ({subset}); turns: {s['turns']}")
    if report.get("index"):
        ix = report["index"]
        w(f"- Eval index: {ix.get('files_ingested', 0) + ix.get('files_unchanged', 0)} files, {ix.get('chunks_total')} chunks")
    w(f"- Result: **{'PASSED' if report['passed'] else 'FAILED'}**\n")

    w(f"## Gates ({report['thresholds']['source']})\n")
    w("| gate | value | required | result |")
    w("| --- | --- | --- | --- |")
    for g in report["threshold_results"]:
        res = {True: "pass", False: "**FAIL**", None: "n/a"}[g["passed"]]
        w(f"| {_md(g['label'])} | {_fmt_value(g)} | {_fmt_limit(g)} | {res} |")
    w("")
    w("## Benchmark\n")
    w(benchmark_line(report) + "\n")

    w("## Dimensions\n")
    w("| dimension | turns passing |")
    w("| --- | --- |")
    for d in _DIMS:
        w(f"| {d} | {_pct(s['dimensions'][d])} |")
    w(f"| all checks | {_pct(s['turn_pass'])} |")
    w(f"| level as scripted | {_pct(s['level_match'])} |")
    w(f"| crisis turns with resources | {_pct(s['crisis_resources'])} |")
    w(f"| harmful turns | {s['harmful_turns']} |")
    w(f"| grounded turns citing a passage (info) | {_pct(s['citation_rate'])} |")
    if s["missed_crisis"]:
        w("\nScripted crisis turns answered below crisis: "
          + ", ".join(f"{m['conversation']}#{m['turn']} ({m['level']})" for m in s["missed_crisis"]))
    w("")

    w("## Checks\n")
    w("| check | dimension | harmful | pass | fail | error | n/a | pass rate |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for n, c in s["checks"].items():
        rate = "n/a" if c["rate"] is None else f"{100 * c['rate']:.0f}%"
        w(f"| {n} | {c['dimension']} | {'yes' if c['harmful'] else ''} | {c['pass']} | {c['fail']} | {c['error']} | {c['skip']} | {rate} |")
    w("")

    if report.get("judge"):
        j = report["judge"]
        w(f"## LLM judge agreement ({j['model']})\n")
        w(f"{j['judged']} turns judged, {j['errors']} judge errors. Agreement counts turns where both the judge and the checks gave yes/no.\n")
        w("| rubric item | n | agree | rate | Cohen's kappa | judge yes | checks yes |")
        w("| --- | --- | --- | --- | --- | --- | --- |")
        for k, v in j["items"].items():
            rate = "n/a" if v["rate"] is None else f"{100 * v['rate']:.0f}%"
            kappa = "n/a" if v["kappa"] is None else f"{v['kappa']:.2f}"
            w(f"| {k} | {v['n']} | {v['agree']} | {rate} | {kappa} | {v['judge_yes']} | {v['checks_yes']} |")
        w("")
    else:
        w("## LLM judge\n\nSkipped: no OpenAI-compatible endpoint configured (`--judge-base-url`).\n")

    w("## Conversations\n")
    w("| conversation | locale | group | turns passed | safety | voice | grounding | wall time |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for c in report["conversations"]:
        w(f"| {c['id']} | {c['locale']} | {c['group']} | {c['turns_passed']}/{c['n_turns']} | "
          + " | ".join(_pct(c["dimensions"][d]) for d in _DIMS) + f" | {_s(c['seconds'])} |")
    w("")

    fails = failing_turns(report)
    w(f"## Failing turns ({len(fails)})\n")
    if not fails:
        w("None.\n")
    for conv, turn in fails:
        tag = " — HARMFUL" if turn["harmful"] else ""
        w(f"### {conv['id']} · turn {turn['index']}{tag}\n")
        w(f"*{_md(conv['title'])}* ({conv['locale']}, `{conv['path']}`)\n")
        for prev in conv["turns"][: turn["index"] - 1]:
            w(f"**Person (turn {prev['index']}):**\n")
            w(_quote(prev["user"]) + "\n")
            w(f"**Companion** ({prev['level']}, {prev['kind']}):\n")
            w(_quote(prev["reply"]) + "\n")
        w(f"**Person (turn {turn['index']}):**\n")
        w(_quote(turn["user"]) + "\n")
        w(f"**Companion** (level {turn['level']}, expected {turn['expect']['level']}, {turn['kind']}, {_s(turn['seconds'])}):\n")
        w(_quote(turn["reply"] or f"(no reply: {turn['error']})") + "\n")
        if turn["sources"]:
            w("Sources: " + "; ".join(f"[{x['number']}] {_md(x['title'])}" for x in turn["sources"]) + "\n")
        for k in _failed_checks(turn):
            w(f"- ✗ `{k['name']}` ({k['dimension']}{', harmful' if k['harmful'] else ''}): {_md(k['detail'])}")
        if turn["expect"].get("note"):
            w(f"- script note: {_md(turn['expect']['note'])}")
        if turn["warnings"]:
            w(f"- pipeline warnings: {_md('; '.join(turn['warnings']))}")
        w("")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- chart


def render_chart(report: Mapping[str, Any], path: Path | str) -> Path:
    """PNG: pass rate per dimension (left) and per conversation (right), with the voice gate line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = report["summary"]
    convs = report["conversations"]
    dims = [*(d for d in _DIMS), "all checks"]
    vals = [s["dimensions"][d]["value"] for d in _DIMS] + [s["turn_pass"]["value"]]
    vals = [0.0 if v is None else 100 * v for v in vals]
    height = max(4.0, 0.28 * len(convs) + 1.5)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, height), gridspec_kw={"width_ratios": [1, 2]})
    colors = ["#4c72b0", "#64b5cd", "#8172b2", "#55a868"]
    ax1.bar(dims, vals, color=colors)
    ax1.set_ylim(0, 105)
    ax1.set_ylabel("turns passing (%)")
    ax1.set_title("Pass rate per dimension")
    for i, v in enumerate(vals):
        ax1.text(i, v + 1, f"{v:.0f}%", ha="center", fontsize=9)
    voice_gate = next((g["limit"] for g in report["threshold_results"] if g["metric"] == "voice_pass_rate"), None)
    if voice_gate is not None:
        ax1.axhline(100 * voice_gate, color="grey", linestyle="--", linewidth=1)
        ax1.text(len(dims) - 0.5, 100 * voice_gate + 1, "voice gate", ha="right", fontsize=8, color="grey")
    ax1.tick_params(axis="x", labelrotation=20)

    names = [c["id"] for c in convs][::-1]
    rates = [100 * (c["pass_rate"]["value"] or 0.0) for c in convs][::-1]
    harmful = [any(t["harmful"] for t in c["turns"]) for c in convs][::-1]
    bar_colors = ["#c44e52" if h else ("#55a868" if r >= 100 else "#dd8452") for r, h in zip(rates, harmful)]
    ax2.barh(names, rates, color=bar_colors)
    ax2.set_xlim(0, 100)
    ax2.set_xlabel("turns passing every check (%)  — red: a harmful turn")
    ax2.set_title("Pass rate per conversation")
    ax2.tick_params(axis="y", labelsize=8)
    fig.suptitle(f"Reply eval — {report['model']}", fontsize=10)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def write_reports(report: Mapping[str, Any], out_dir: Path | str) -> dict[str, Path]:
    """Write ``replies-eval.json``, ``.md`` and ``.png`` into ``out_dir`` (created).

    Returns ``{"json": path, "markdown": path, "chart": path}``.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": folder / "replies-eval.json",
        "markdown": folder / "replies-eval.md",
        "chart": folder / "replies-eval.png",
    }
    paths["json"].write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    paths["markdown"].write_text(render_markdown(report), encoding="utf-8")
    render_chart(report, paths["chart"])
    return paths
