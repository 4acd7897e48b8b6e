"""Tests of the HTTP API, session store, keys and widget."""
