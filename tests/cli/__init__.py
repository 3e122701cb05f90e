"""Tests of venvsyncd.cli: the commands as a user runs them."""
