"""HTTP API for clinics: ``create_app()`` builds the FastAPI app (see :mod:`companion.api.app`).

Run it with ``companion serve`` (uvicorn). Routes live under ``/v1``; errors are
RFC 9457 problem details; message text is never logged.
"""

from companion.api.app import create_app

__all__ = ["create_app"]
