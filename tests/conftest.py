"""Test setup: headless Qt, the bundled sprites present, helpers to build sessions on disk."""
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # set by the tests themselves, not only ./test

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

if not (ROOT / "assets_min" / "front" / "mouth_close.png").exists():  # a clone without bootstrap
    subprocess.run([sys.executable, str(ROOT / "assets_min" / "generate.py")], check=True)

# the studio tests' `demo` and `window` fixtures (imports Qt; every test run collects GUI tests anyway);
# the render farm's cluster and S3 server (started only by the tests that ask for them)
pytest_plugins = ["studio_fixtures", "farm_fixtures"]
