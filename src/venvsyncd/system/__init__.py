"""The platform seam: what differs by operating system (file locks, atomic replace, directory
fsync, who holds a file open).

Imports nothing of venvsyncd, only the standard library; nothing outside this package asks
`os.name` or `sys.platform` for these.
"""
