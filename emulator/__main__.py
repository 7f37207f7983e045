"""python -m emulator"""

from .cli import main

raise SystemExit(main())
