"""``python -m intake``: the same command line as the ``intake`` script (intake/entry/cli.py)."""

from intake.entry.cli import main

if __name__ == "__main__":
    main()
