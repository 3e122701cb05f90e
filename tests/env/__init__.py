"""Tests of venvsyncd.env: venvs, freeze, installed metadata, installer detection."""
