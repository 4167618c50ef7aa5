"""Driving the real ``git`` and ``git-lfs`` binaries against a live hub, each test in a home of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

GIT = shutil.which("git")
GIT_LFS = shutil.which("git-lfs")

needs_git = pytest.mark.skipif(
    GIT is None or GIT_LFS is None, reason="needs the git and git-lfs binaries (.ci/run installs them)"
)


@dataclass
class GitUser:
    """A person at a terminal: ``git`` with their own global config and credential helper."""

    home: Path
    env: dict[str, str]

    def run(self, *args: str, cwd: Path | None = None, check: bool = True, input: str | None = None):
        result = subprocess.run(
            [GIT, *args], cwd=cwd, env=self.env, capture_output=True, text=True, timeout=300, input=input
        )
        if check and result.returncode != 0:
            command = " ".join(args)
            raise AssertionError(f"git {command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def out(self, *args: str, cwd: Path | None = None) -> str:
        return self.run(*args, cwd=cwd).stdout.strip()


def git_user(
    root: Path,
    *,
    name: str = "Alice Example",
    email: str = "alice@example.org",
    username: str | None = None,
    token: str | None = None,
) -> GitUser:
    """A git user whose credential helper answers ``username``/``token`` (none: anonymous)."""
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
    )
    lines = [
        "[user]",
        f"\tname = {name}",
        f"\temail = {email}",
        "[init]",
        "\tdefaultBranch = main",
        # Django's test server (wsgiref) cannot read chunked request bodies; uvicorn, which serves
        # the hub in production and in benchmarks/git.py, can. A large buffer keeps bodies sized.
        "[http]",
        "\tpostBuffer = 524288000",
        "[advice]",
        "\tdetachedHead = false",
    ]
    if token is not None:
        helper = f"!f() {{ echo username={username or 'user'}; echo password={token}; }}; f"
        lines += ["[credential]", f'\thelper = "{helper}"']
    (home / ".gitconfig").write_text("\n".join(lines) + "\n")
    user = GitUser(home=home, env=env)
    user.run("lfs", "install", "--skip-repo")
    return user
