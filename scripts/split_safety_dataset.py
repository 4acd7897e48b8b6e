#!/usr/bin/env python3
"""Split the hand-written safety cases into ``dev.jsonl`` and ``heldout.jsonl``.

The combined source is deliberately *not* kept in the repository (a combined
file in the tree would let the held-out cases leak into tuning). Write or keep
it elsewhere and run::

    .venv/bin/python scripts/split_safety_dataset.py --source /path/outside/repo/cases.jsonl

Split: stratified by (language, expected level, kind) where kind is the first
of ``hard_negative``, ``multi_turn``, ``obfuscated``, ``means_seeking`` found
in the tags (else ``other``). Each stratum is shuffled with a seeded RNG
(``random.Random("<seed>:<stratum>")``, ids sorted first, so the result does not
depend on input order); ``--heldout-fraction`` of all cases go to heldout,
apportioned over strata by largest remainder, so strata too small for a
held-out share stay in dev rather than being rounded away everywhere.

``--check`` re-derives the split from the union of the two files in the tree
and exits 1 if the assignment differs (reproducibility check, no source needed).
It checks the first release only: cases numbered from
:data:`DEV_ONLY_FROM` on (``en-si-201``...) are later dev-only batches written
by the screener's authors (they must never be in heldout, which would be
contaminated by them), and are left out of the re-derivation.

Exit codes: 0 ok; 1 check failed; 2 invalid input.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "evals" / "safety"
KINDS = ("hard_negative", "multi_turn", "obfuscated", "means_seeking")
#: Case numbers from here on belong to later, dev-only batches (see --check).
DEV_ONLY_FROM = 200
FIELD_ORDER = ("id", "text", "history", "locale", "expected_level", "categories", "tags", "note")


def stratum(rec: dict) -> str:
    """Stratum key ``lang|level|kind`` of one record."""
    kind = next((k for k in KINDS if k in rec["tags"]), "other")
    return f"{rec['locale'][:2]}|{rec['expected_level']}|{kind}"


def assign(records: list[dict], seed: int, fraction: float) -> set[str]:
    """Ids that go to heldout (deterministic for a given seed and set of records)."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        groups[stratum(r)].append(r)
    target = round(fraction * len(records))
    quotas = {k: int(fraction * len(v)) for k, v in groups.items()}
    rng = random.Random(seed)
    order = sorted(groups, key=lambda k: (-(fraction * len(groups[k]) - quotas[k]), rng.random(), k))
    for k in order[: max(0, target - sum(quotas.values()))]:
        quotas[k] += 1
    held: set[str] = set()
    for k in sorted(groups):
        members = sorted(groups[k], key=lambda r: r["id"])
        random.Random(f"{seed}:{k}").shuffle(members)
        held.update(r["id"] for r in members[: quotas[k]])
    return held


def dumps(rec: dict) -> str:
    """One JSON line; UTF-8 kept readable, invisible format chars (Cf) as \\uXXXX escapes."""
    ordered = {k: rec[k] for k in FIELD_ORDER if k in rec and rec[k] is not None}
    text = json.dumps(ordered, ensure_ascii=False)
    return "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) == "Cf" else ch for ch in text)


def is_dev_only(case_id: str) -> bool:
    """Whether a case id (``<lang>-<kind>-<nnn>``) belongs to a later, dev-only batch."""
    tail = case_id.rsplit("-", 1)[-1]
    return tail.isdigit() and int(tail) >= DEV_ONLY_FROM


def read_jsonl(path: Path) -> list[dict]:
    """Records of a JSONL file (blank lines skipped)."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def validate(records: list[dict]) -> list[str]:
    """Schema problems (via companion.evals.safety_eval), duplicate ids and texts."""
    sys.path.insert(0, str(REPO))
    from companion.evals.safety_eval import validate_record

    problems, ids, texts = [], set(), set()
    for r in records:
        rid = r.get("id", "?") if isinstance(r, dict) else "?"
        problems += [f"{rid}: {e}" for e in validate_record(r)]
        if rid in ids:
            problems.append(f"{rid}: duplicate id")
        key = "\x1f".join((*r.get("history", []), r.get("text", ""))).strip().casefold()
        if key in texts:
            problems.append(f"{rid}: duplicate text")
        ids.add(rid)
        texts.add(key)
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, help="combined cases JSONL, kept outside the repository")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for dev.jsonl / heldout.jsonl")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--heldout-fraction", type=float, default=0.30)
    ap.add_argument("--check", action="store_true", help="verify the files in --out follow the seeded split")
    args = ap.parse_args(argv)

    if args.check:
        dev, held = read_jsonl(args.out / "dev.jsonl"), read_jsonl(args.out / "heldout.jsonl")
        records = dev + held
        problems = validate(records)
        if problems:
            print("\n".join(problems[:50]), file=sys.stderr)
            return 2
        late_held = [r["id"] for r in held if is_dev_only(r["id"])]
        if late_held:
            print(f"dev-only batch ids in heldout: {', '.join(late_held)}", file=sys.stderr)
            return 1
        first = [r for r in records if not is_dev_only(r["id"])]
        expected = assign(first, args.seed, args.heldout_fraction)
        actual = {r["id"] for r in held}
        if expected != actual:
            print(f"split differs from seed {args.seed}: {len(expected ^ actual)} ids misplaced", file=sys.stderr)
            return 1
        n_late = len(records) - len(first)
        print(f"ok: {len(dev) - n_late} dev + {len(held)} heldout follow seed {args.seed}; "
              f"{n_late} dev-only later-batch cases")
        return 0

    if args.source is None:
        ap.error("--source is required (or use --check)")
    src = args.source.resolve()
    if REPO in src.parents:
        print(f"warning: {src} is inside the repository; keep the combined source outside it", file=sys.stderr)
    records = read_jsonl(src)
    problems = validate(records)
    if problems:
        print("\n".join(problems[:50]), file=sys.stderr)
        return 2
    held = assign(records, args.seed, args.heldout_fraction)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, keep in (("dev", lambda r: r["id"] not in held), ("heldout", lambda r: r["id"] in held)):
        chosen = sorted((r for r in records if keep(r)), key=lambda r: r["id"])
        (args.out / f"{name}.jsonl").write_text("".join(dumps(r) + "\n" for r in chosen), encoding="utf-8")
        print(f"{name}: {len(chosen)} cases -> {args.out / f'{name}.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
