"""How much disk each install step takes: a fresh virtual environment, then the core, PyTorch's CPU
build and the lab extra, measured after each step (the README's Installing section quotes it).

    python benchmarks/install_size.py [--torch "torch==2.13.0"]

--torch is what installs PyTorch's CPU build on this machine (on an ordinary Linux machine:
"torch --index-url https://download.pytorch.org/whl/cpu"). Prints MB per step and the largest
packages at the end.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def megabytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) // 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--torch", default="torch==2.13.0", help="pip arguments that install PyTorch's CPU build")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        before = megabytes(venv)
        print(f"{'an empty virtual environment':<40} {before:>6,} MB")
        for step, extra in (("the core (pip install -e .)", [str(ROOT)]),
                            ("+ PyTorch's CPU build", shlex.split(args.torch)),
                            ("+ the lab extra", ["-e", f"{ROOT}[lab]"])):
            subprocess.run(pip + (["-e"] if step.startswith("the core") else []) + extra, check=True)
            size = megabytes(venv)
            print(f"{step:<40} {size:>6,} MB  (+{size - before:,})")
            before = size
        site = next((venv / "lib").glob("python*/site-packages"))
        sizes = sorted(((megabytes(p), p.name) for p in site.iterdir() if p.is_dir()), reverse=True)[:8]
        print("largest packages: " + ", ".join(f"{name} {mb:,} MB" for mb, name in sizes))


if __name__ == "__main__":
    main()
