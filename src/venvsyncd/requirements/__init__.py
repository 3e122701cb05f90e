"""The requirements-file model: lines, files and their includes, lossless edits, and what a file
asks for.

Pure (no I/O but reading the files); may import only `errors`, packaging, and `env.dists` (the
value an installed distribution is).
"""
