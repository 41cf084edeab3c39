"""Run localstripe bound to 127.0.0.1 only (its own `localstripe` command listens on all interfaces).

Usage (with the interpreter of .venv-localstripe): python scripts/localstripe_loopback.py [PORT]
Always starts from scratch (no state reloaded from /tmp/localstripe.pickle).
"""

import sys

from aiohttp import web
from localstripe.server import app

if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8420
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)
