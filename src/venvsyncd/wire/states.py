"""Project states, as the contract names them (no imports: the status client loads this)."""

IN_SYNC = "in-sync"
PENDING = "pending"  # a change seen, waiting for the installer to finish / the settle time
SYNCING = "syncing"
DRIFT = "drift"
HELD = "held"  # a file change venvsyncd will not apply without the user (`allow` / `undo`)
CONFLICT = "conflict"
ERROR = "error"
PAUSED = "paused"
STATES = (IN_SYNC, PENDING, SYNCING, DRIFT, HELD, CONFLICT, ERROR, PAUSED)
BUSY_STATES = (PENDING, SYNCING)
NEEDS_USER = (DRIFT, HELD, CONFLICT, ERROR)
