"""Make Solara's front-end assets local (``make venv`` runs this; see viz/assets.py).

The code lives in ``viz/assets.py`` so that it ships in the wheel, where ``mcsim app`` runs it
for pip users; this script runs that file by path, so it works from a checkout whether or not
mcsim is installed: ``.venv/bin/python tools/solara_assets.py [--check]``.
"""

from __future__ import annotations

import runpy
from pathlib import Path

if __name__ == "__main__":
    runpy.run_path(
        str(Path(__file__).resolve().parent.parent / "viz" / "assets.py"), run_name="__main__"
    )
