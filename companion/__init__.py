"""Gentle Companion: a grounded, safety-first conversational companion.

Importing the package turns off third-party telemetry (Chroma, guardrails,
LangSmith, Streamlit, Hugging Face) before those libraries load; values the
user set explicitly are kept.
"""

from companion.settings import disable_telemetry as _disable_telemetry

_disable_telemetry()

__version__ = "0.1.0"
