"""A script that never builds a Trainer: trainjob exec must run it unchanged and say so."""

import os
import sys

print("PLAIN SCRIPT", sys.argv[1:], "hook config set:", "TRAINJOB_EXEC_CONFIG" in os.environ)
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
