"""venvsyncd: keep a virtual environment and its requirements file in step."""

__version__ = "0.1.0"
