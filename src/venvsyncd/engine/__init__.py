"""The sync engine: observe both sides, plan (pure), apply, and the per-project store (snapshot,
journal, guarded writes).

May import `requirements`, `env`, `system`, `config`, `project` and `errors`; never the daemon.
"""
