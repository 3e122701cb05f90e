"""Tests of venvsyncd.wire: the socket, its framing, hostile clients."""
