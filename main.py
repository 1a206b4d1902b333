"""Lip-sync Studio entry point: `python main.py [SESSION.json]` opens the studio;
`python main.py export|validate|score SESSION.json ...` runs headless (see README)."""
import sys
from pathlib import Path

from studio.cli import DEMO_SESSION, EXIT_INVALID, main, wants_studio


def studio(argv: list[str]) -> int:
    if len(argv) > 1:
        print("main.py: error: the studio takes at most one SESSION.json", file=sys.stderr)
        return EXIT_INVALID
    from widgets.app import run  # Qt is imported only for the studio
    return run(Path(argv[0]) if argv else DEMO_SESSION)


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(studio(args) if wants_studio(args) else main(args))
