"""Build of lipsync_native, the project's C extension (native/README.md). Installed into the
project's .venv by scripts/bootstrap.sh: pip install --no-build-isolation ./native"""
from setuptools import Extension, setup

setup(
    ext_modules=[Extension(
        "lipsync_native",
        sources=["src/module.c", "src/png.c", "src/filters.c", "src/checksum.c", "src/warp.c"],
        # No fused multiply-add: the AVX2 and portable paths must round identically.
        extra_compile_args=["-O2", "-ffp-contract=off", "-fno-strict-aliasing", "-std=c11"],
    )],
)
