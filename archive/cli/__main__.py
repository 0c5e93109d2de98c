"""``python -m archive.cli``: the command line."""

from . import main

main()
