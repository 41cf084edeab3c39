"""Per-installation secrets for development: generated once under VAR_DIR, never constants.

Production settings require the real values from the environment instead.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def installation_secret(var_dir: Path, name: str, *, prefix: str = "") -> str:
    """The secret stored in ``var_dir/secrets/<name>``, created (mode 0600) on first use."""
    folder = var_dir / "secrets"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text().strip()
        if value:
            return value
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC, 0o600)
    value = prefix + secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


if __name__ == "__main__":  # used by scripts/run.sh: print one secret (created if missing)
    import sys

    print(installation_secret(Path(sys.argv[1]), sys.argv[2], prefix=sys.argv[3] if len(sys.argv) > 3 else ""))
