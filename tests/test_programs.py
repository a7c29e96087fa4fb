"""A test that needs a missing program says so plainly, and CI does not let it skip (issue 14, item 7)."""

from __future__ import annotations

import pytest

import programs


def test_a_missing_program_skips_with_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(programs.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(
        pytest.skip.Exception, match="tmux not installed; install with: apt-get install -y tmux"
    ):
        programs.require("tmux")
    assert "tmux MISSING" in programs.header()


def test_under_ci_a_missing_program_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(programs.shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and chromium and chromedriver not installed"):
        programs.require("chromium", "chromedriver")


def test_a_present_program_lets_the_test_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(programs.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setenv("CI", "true")
    programs.require("tmux")
    assert "MISSING" not in programs.header()
