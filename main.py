"""Start the dispatch board: ``python main.py --help`` lists what it can do."""

import sys

from dispatch_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
