"""venvsyncd's benchmarks: venvsyncd beside pip and uv, measured in one run.

Entry point: `python benchmarks/run.py [--quick] [--json OUT]`. Everything runs offline in a
temporary sandbox (its own HOME, XDG dirs, pip and uv settings and a generated wheelhouse).
"""
