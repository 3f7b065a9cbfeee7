"""The `translate` command line: a thin layer over the stage modules.

Errors the user can fix are printed as one line on stderr ("error: FILE: problem") with exit status 1
(2 for bad usage, as typer does). `run` exits with PARTIAL (3) when it refused some inputs but stored
the others. A run stopped by SIGINT or SIGTERM says what it saved in one line and exits 130 or 143
(128 + the signal number, as shells do).
"""
# each module registers its commands on the apps, in this order in `--help`
from . import run  # noqa: F401,I001
from . import corpus  # noqa: F401
from . import alignment  # noqa: F401
from . import review  # noqa: F401
from . import models  # noqa: F401
from .common import PARTIAL, app

__all__ = ["PARTIAL", "app"]
