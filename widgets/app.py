"""Placeholder until the studio window lands (issue 4): explains instead of failing."""
import sys


def run(session) -> int:
    print("The studio window is not built yet; use `./run export|validate|score SESSION.json`.", file=sys.stderr)
    return 1
