"""Helpers shared by the tests, the benchmarks and the soak: real venvs and wheels built
offline, the real daemon as a process, faults, local projects. Never imported by venvsyncd."""
