"""The daemon (`venvsyncd run`): watches, the queue, its coordinator and action threads, the
IPC operations. Imported only by the `run` command.

May import `engine`, `env`, `requirements`, `wire`, `system`, `service`, and the top-level
config, project, paths and errors modules.
"""
