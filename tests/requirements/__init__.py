"""Tests of venvsyncd.requirements: the requirements-file model."""
