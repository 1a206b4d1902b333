"""Lip-sync Studio entry point: `python main.py [SESSION.json]` opens the studio;
`python main.py export|validate|score SESSION.json ...` runs headless (see README)."""
import sys
from pathlib import Path

from studio.cli import DEMO_SESSION, EXIT_INVALID, main, say, text_error, wants_studio


def studio(argv: list[str]) -> int:
    if len(argv) > 1:
        print("main.py: error: the studio takes at most one SESSION.json", file=sys.stderr)
        return EXIT_INVALID
    err = text_error("the SESSION.json argument", argv[0]) if argv else None
    if err is not None:
        say(f"error: {err}", sys.stderr)
        return EXIT_INVALID
    from contracts.native import quiet_native_stderr
    from widgets.app import run  # Qt is imported only for the studio
    with quiet_native_stderr():  # Qt, libpng and codec chatter stay off the terminal (SPEC §12)
        return run(Path(argv[0]) if argv else DEMO_SESSION)


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(studio(args) if wants_studio(args) else main(args))
