#!/bin/sh
# Raises this shell's open-files soft limit to its hard limit, then runs the given command in its place, which
# inherits the limit. Node cannot raise its own limit; every connection and open file costs one descriptor
# (docs/operations.md "File descriptors"). A limit that cannot be raised is left as it is: the API warns at start-up.
hard="$(ulimit -Hn)"
if [ "$hard" = unlimited ]; then hard=1048576; fi
ulimit -n "$hard" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
exec "$@"
