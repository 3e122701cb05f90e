"""The wire format shared by client and server: JSON-line frames over a local socket (POSIX)
or a named pipe (Windows), and the status values.

May import only `system` and `errors`, so that client commands start fast.
"""
