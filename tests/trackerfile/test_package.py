"""The tracker-file package loads on its own: no service, no chat platform."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_package_loads_without_the_services_or_a_chat_platform() -> None:
    code = ("import sys, bot.trackerfile, bot.trackerfile.templates; "
            "print(sorted({m.split('.')[0] if not m.startswith('bot.') else '.'.join("
            "m.split('.')[:2]) for m in sys.modules if m.startswith(('bot.services', "
            "'discord', 'slack'))}))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=ROOT, check=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
