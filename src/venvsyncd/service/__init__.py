"""The per-user service: unit, agent and task files rendered from templates, the service managers
that load them, and sd_notify.

May import `system`, `env` (to run the managers' commands), `paths` and `errors`.
"""
