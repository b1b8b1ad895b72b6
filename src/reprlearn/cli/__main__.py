"""``python -m reprlearn.cli``: the same as the ``reprlearn`` command."""

from reprlearn.cli import main

main()
