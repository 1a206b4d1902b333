"""Lip-sync Studio entry point: `python main.py [SESSION.json]` opens the studio;
`python main.py export|validate|score SESSION.json ...` runs headless (see README)."""
import sys

from studio.cli import main

if __name__ == "__main__":
    sys.exit(main())
