"""Tests of venvsyncd.engine: planning, syncing, the store, crash safety."""
