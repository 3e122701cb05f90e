"""The environment: venvs, site-packages and sys.path, freeze, installed metadata, installer
detection, and running pip and uv.

May import `system` and `errors`.
"""
