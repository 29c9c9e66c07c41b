"""``python -m ecr_mock``: the same command line as ``ecr-mock``."""

import sys

from ecr_mock.cli import main

sys.exit(main())
