"""``python -m benchmarks [--quick] [--out DIR]``: the benchmark report."""

import sys

from benchmarks.suite import main

sys.exit(main())
