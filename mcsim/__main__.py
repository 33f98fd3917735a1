"""`python -m mcsim`: the same command line as the `mcsim` script."""

from mcsim.cli import main

raise SystemExit(main())
