"""Standalone safety layer: crisis screening, routing, resources and safe replies.

Imports nothing from ``companion``. Public contract (see the design notes)::

    from safety import screen, Level
    a = screen("text", history=["earlier user message"], locale="en-US")
    a.level, a.categories, a.evidence
"""

import os as _os

# Telemetry off before guardrails / sentence-transformers are ever imported.
for _k, _v in {
    "OTEL_SDK_DISABLED": "true",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}.items():
    _os.environ.setdefault(_k, _v)

from safety.levels import CATEGORIES, Assessment, Evidence, Level  # noqa: E402
from safety.screen import screen  # noqa: E402
from safety.resources import ClinicContact, Resource, ResourceSet, resources_for  # noqa: E402
from safety.respond import CrisisReply, respond  # noqa: E402

__all__ = [
    "CATEGORIES",
    "Assessment",
    "Evidence",
    "Level",
    "screen",
    "ClinicContact",
    "Resource",
    "ResourceSet",
    "resources_for",
    "CrisisReply",
    "respond",
]
