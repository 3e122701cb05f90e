"""The daemon (`venvsyncd run`): watches, one worker, the IPC handlers. Imported only by `run`."""
