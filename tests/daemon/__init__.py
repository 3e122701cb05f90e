"""Tests of venvsyncd.daemon: the real daemon process end to end, under faults and at scale."""
