import sys

from microq.cli import main

sys.exit(main())
