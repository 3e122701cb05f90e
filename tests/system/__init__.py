"""Tests of venvsyncd.system: the platform seam."""
