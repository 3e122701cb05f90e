"""Tests of venvsyncd.service: the service files and managers, sd_notify."""
