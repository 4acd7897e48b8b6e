"""Benchmark one turn on the embedded model, against bare llama-cpp-python in the same run.

Prints, for one grounded turn:
  * screening and retrieval time (median of repeated warm calls);
  * time to first token (TTFT) and generation tokens/s through the pipeline;
  * the same prompt through bare ``llama_cpp.Llama.create_chat_completion``:
    ratio pipeline / bare generation throughput (target >= 0.9);
  * a follow-up turn's TTFT against the first turn's (target <= 0.5, from
    KV-cache prefix reuse);
  * peak RSS of a ``companion ask`` subprocess (target <= 3 GB).

Usage: ``.venv/bin/python benches/bench_turn.py [--max-tokens 96]`` (needs the
index: run ``companion ingest`` first). Takes about two minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import companion  # noqa: F401  (telemetry off)
import safety
from companion.chat import Companion, Reply
from companion.llm import LlamaCppChat, build_chat_model
from companion.settings import get_settings

FIRST = "I feel like I'm backsliding in therapy and the old anxiety is back"
FOLLOW_UP = "It mostly hits at night, and then I can't sleep and feel like I've failed"


class TimedLlama(LlamaCppChat):
    """LlamaCppChat that records when each token arrived (for TTFT and tokens/s)."""

    def _stream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any):  # type: ignore[override]
        self.__dict__.setdefault("stamps", [])
        self.__dict__["start"] = time.perf_counter()
        self.__dict__["stamps"] = []
        for chunk in super()._stream(messages, stop, run_manager, **kwargs):
            self.__dict__["stamps"].append(time.perf_counter())
            yield chunk


def throughput(start: float, stamps: list[float]) -> tuple[float, float]:
    """(TTFT seconds, generation tokens/s after the first token)."""
    if len(stamps) < 2:
        return (stamps[0] - start if stamps else float("nan"), float("nan"))
    return stamps[0] - start, (len(stamps) - 1) / (stamps[-1] - stamps[0])


def median_ms(fn: Any, n: int = 20) -> float:
    fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def run_turn(bot: Companion, message: str, history: list[dict[str, Any]]) -> Reply:
    reply = None
    for event in bot.stream(message, history):
        if isinstance(event, Reply):
            reply = event
    assert reply is not None
    return reply


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-tokens", type=int, default=96, help="tokens generated per turn (default 96)")
    ap.add_argument("--skip-rss", action="store_true", help="skip the `companion ask` peak-RSS run")
    args = ap.parse_args()

    settings = get_settings().model_copy(update={"llm_max_tokens": args.max_tokens, "llm_temperature": 0.0})
    base = build_chat_model(settings)
    if not isinstance(base, LlamaCppChat):
        sys.exit("bench_turn measures the embedded model: unset COMPANION_LLM_PROVIDER (or set it to local).")
    llm = TimedLlama(**base.model_dump())
    bot = Companion(settings, llm=llm)
    if bot.retriever.count() == 0:
        sys.exit("the index is empty: run `companion ingest` first.")

    screen_ms = median_ms(lambda: safety.screen(FIRST, locale=settings.locale))
    retrieve_ms = median_ms(lambda: bot.retriever.retrieve(FIRST, settings.retrieval_k))

    client = llm.client
    client.reset()  # cold KV cache: the first turn reads the whole prompt
    first = run_turn(bot, FIRST, [])
    ttft1, tps_pipeline = throughput(llm.__dict__["start"], llm.__dict__["stamps"])

    history = [
        {"role": "user", "content": FIRST, "context": first.context},
        {"role": "assistant", "content": first.text},
    ]
    second = run_turn(bot, FOLLOW_UP, history)
    ttft2, _ = throughput(llm.__dict__["start"], llm.__dict__["stamps"])

    # Bare llama-cpp-python on the first turn's exact prompt, cold cache.
    messages = [
        {"role": {"system": "system", "human": "user", "ai": "assistant"}[m.type], "content": str(m.content)}
        for m in bot._messages(FIRST, first.context or "", [])
    ]
    client.reset()
    start = time.perf_counter()
    stamps = []
    for part in client.create_chat_completion(messages=messages, stream=True, max_tokens=args.max_tokens, temperature=0.0):
        if part["choices"][0].get("delta", {}).get("content"):
            stamps.append(time.perf_counter())
    ttft_bare, tps_bare = throughput(start, stamps)

    print("one turn on the embedded model (2 cores)")
    print(f"  screening (median, warm)          {screen_ms:8.2f} ms")
    print(f"  retrieval (median, warm)          {retrieve_ms:8.2f} ms")
    print(f"  first turn: time to first token   {ttft1:8.2f} s   (bare llama.cpp, same prompt: {ttft_bare:.2f} s)")
    print(f"  generation: pipeline              {tps_pipeline:8.2f} tokens/s")
    print(f"  generation: bare llama-cpp-python {tps_bare:8.2f} tokens/s")
    ratio = tps_pipeline / tps_bare if tps_bare else float("nan")
    print(f"  ratio pipeline / bare             {ratio:8.2f}     (target >= 0.9) {'OK' if ratio >= 0.9 else 'MISSED'}")
    follow = ttft2 / ttft1 if ttft1 else float("nan")
    print(f"  follow-up turn: time to first tok {ttft2:8.2f} s")
    print(f"  ratio follow-up / first turn TTFT {follow:8.2f}     (target <= 0.5) {'OK' if follow <= 0.5 else 'MISSED'}")
    print(f"  reply kinds: {first.kind}, {second.kind}; sources cited: {[s.title for s in first.sources]}")

    if not args.skip_rss:
        exe = Path(sys.executable).with_name("companion")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        subprocess.run([str(exe), "ask", FIRST], capture_output=True, check=False, timeout=600)
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        peak_gb = max(peak_kb, before) / 1024 / 1024
        print(f"  peak RSS of `companion ask`       {peak_gb:8.2f} GB  (target <= 3 GB) {'OK' if peak_gb <= 3 else 'MISSED'}")


if __name__ == "__main__":
    main()
