"""`buf breaking` for `make lint`: the contract may change only compatibly, unless a commit says it breaks it.

What is compared, so that the check means the same on a branch and in CI's clean clone of main:
- the range: on a branch, from the commit of main it starts from (`git merge-base HEAD main`), so what main
  gained since does not read as a break of this branch; on main itself (HEAD is main, as in CI), the last
  commit (HEAD~1..HEAD; for a merge commit, everything it merged);
- every commit in the range that touches protos/ or buf.yaml, against its (first) parent, with buf.yaml's
  breaking rules (FILE): a commit that breaks the contract must say so itself, with a line
  `Contract-Break: <why>` in its message (for a merge commit, in a commit it merges). The mesh deploys as one,
  so a deliberate break is allowed, but never a silent one;
- the working tree against HEAD: an uncommitted change must not break the contract (commit it, declared).
A clone that lacks a commit the comparison needs (too shallow) cannot tell: the check says so and skips that
comparison, rather than fail on what the clone lacks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUF = ROOT / ".tools" / "node_modules" / ".bin" / "buf"
TRAILER = "Contract-Break:"
WATCHED = ("protos", "buf.yaml")


def git(*args: str) -> str | None:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def commit(ref: str) -> str | None:
    return git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")


def base_commit() -> tuple[str | None, str]:
    head = commit("HEAD")
    main = commit("refs/heads/main") or commit("refs/remotes/origin/main")
    if head is None:
        return None, "no commit yet"
    if main is None or main == head:
        return commit("HEAD~1"), "main before its last commit"
    base = git("merge-base", "HEAD", main)
    if base is None or base == head:
        return commit("HEAD~1"), "main before its last commit"
    return base, "the commit of main this branch starts from"


FINDINGS = 100  # buf's exit code when it found breaking changes (other non-zero codes: it could not check)


class CannotCheck(Exception):
    pass


def module_config() -> str:
    """buf.yaml's breaking rules for a module rooted at protos/ (how a commit without buf.yaml is read)."""
    config = yaml.safe_load((ROOT / "buf.yaml").read_text())
    return json.dumps({"version": "v2", "breaking": config.get("breaking", {})})


def git_input(ref: str) -> tuple[str, bool]:
    """buf's input for the contract at `ref`, and whether it carries its own buf.yaml (else: the module is protos/)."""
    if git("cat-file", "-e", f"{ref}:buf.yaml") is not None:
        return f".git#ref={ref}", True
    return f".git#ref={ref},subdir=protos", False


def breaks(against: tuple[str, bool], source: tuple[str, bool] = (".", True)) -> bool:
    """True when `source` breaks the contract of `against` (buf prints each finding)."""
    argv = [str(BUF), "breaking", source[0], "--against", against[0]]
    if not source[1]:
        argv += ["--config", module_config()]
    code = subprocess.run(argv, cwd=ROOT, check=False).returncode
    if code not in (0, FINDINGS):
        raise CannotCheck(f"buf could not compare {source[0]} with {against[0]} (exit code {code})")
    return code == FINDINGS


def declared(parent: str, child: str) -> list[str]:
    messages = git("log", "--format=%B", f"{parent}..{child}") or ""
    return [line.strip() for line in messages.splitlines() if line.startswith(TRAILER)]


def main() -> int:
    try:
        return check()
    except CannotCheck as exc:
        print(f"buf breaking: {exc}")
        return 1


def check() -> int:
    base, described = base_commit()
    failed = False
    if base is None:
        print(f"buf breaking: commits not compared, this clone lacks {described} (fetch more history to check)")
    else:
        changed = (git("rev-list", "--reverse", f"{base}..HEAD", "--", *WATCHED) or "").split()
        for sha in changed:
            parent = commit(f"{sha}~1")
            if parent is None:
                print(f"buf breaking: {sha[:12]} not compared, this clone lacks its parent")
                continue
            if not breaks(git_input(parent), git_input(sha)):
                continue
            reasons = declared(parent, sha)
            if reasons:
                print(f"buf breaking: {sha[:12]} breaks the contract as it declares: " + " / ".join(reasons))
            else:
                failed = True
                print(f"buf breaking: {sha[:12]} breaks the contract without a '{TRAILER} <why>' line")
        print(f"buf breaking: {len(changed)} commit(s) changing the contract since {base[:12]} ({described})")
    if breaks(git_input("HEAD")):
        failed = True
        print("buf breaking: the uncommitted changes break the contract (commit them with a 'Contract-Break:' line)")
    if failed:
        print("Keep field numbers and names (reserve what you remove), or declare a deliberate break.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
