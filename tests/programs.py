"""Programs some tests drive as a person would (Chromium, tmux): found, or a printed reason to skip."""

from __future__ import annotations

import os
import shutil

import pytest

# Each program and how to install it (Debian).
PROGRAMS = {
    "chromium": "apt-get install -y chromium chromium-driver",
    "chromedriver": "apt-get install -y chromium chromium-driver",
    "tmux": "apt-get install -y tmux",
}


def require(*names: str) -> None:
    """Skip the test, with the reason printed, when a program is missing; fail instead under CI=true,
    where a skip would hide a test that never ran."""
    missing = [name for name in names if shutil.which(name) is None]
    if not missing:
        return
    reason = f"{' and '.join(missing)} not installed; install with: {PROGRAMS[missing[0]]}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def header() -> str:
    """One line for pytest's header: which programs are found, and how to install the missing ones."""
    found = {name: shutil.which(name) for name in PROGRAMS}
    state = ", ".join(f"{name} {'found' if path else 'MISSING'}" for name, path in found.items())
    missing = sorted({PROGRAMS[name] for name, path in found.items() if path is None})
    advice = f" -- their tests will be skipped; {'; '.join(missing)}" if missing else ""
    return f"programs for the browser and terminal tests: {state}{advice}"
