"""`buf breaking` (buf.yaml's FILE rules) against the last commit of main: the contract a change starts from.

Which commit, so that the check means the same on a branch and in CI's clean clone of main:
- on a branch: the commit of main it starts from (`git merge-base HEAD main`), so what main gained since
  does not read as a break of this branch;
- on main itself (HEAD is main, as in CI): HEAD~1, main before the commit being checked; a merge commit's
  first parent is main before the merge, so the whole merged change is checked.
A clone that lacks that commit (too shallow, no main at all) cannot tell: the check says so and passes,
rather than fail on what the clone lacks.

The mesh deploys as one, so the contract may change in one step on purpose. A commit in the checked range
declares it with a line `Contract-Break: <why>` in its message: the findings are still printed, and the
check passes. An undeclared break fails `make lint`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUF = ROOT / ".tools" / "node_modules" / ".bin" / "buf"
TRAILER = "Contract-Break:"


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
        return commit("HEAD~1"), "HEAD~1 (main before its last commit)"
    base = git("merge-base", "HEAD", main)
    if base is None or base == head:
        return commit("HEAD~1"), "HEAD~1 (main before its last commit)"
    return base, "the commit of main this branch starts from"


def main() -> int:
    base, described = base_commit()
    if base is None:
        print(f"buf breaking: skipped, this clone lacks {described} (fetch more history to check)")
        return 0
    # subdir: the module root at that commit, whether or not buf.yaml existed there yet.
    against = f".git#ref={base},subdir=protos"
    done = subprocess.run([str(BUF), "breaking", "--against", against], cwd=ROOT, text=True, check=False)
    if done.returncode == 0:
        print(f"buf breaking: no break against {base[:12]}, {described}")
        return 0
    messages = git("log", "--format=%B", f"{base}..HEAD") or ""
    declared = [line.strip() for line in messages.splitlines() if line.startswith(TRAILER)]
    if declared:
        print(f"buf breaking: the breaks above are declared by a commit since {base[:12]}:")
        print("\n".join(f"  {line}" for line in declared))
        return 0
    print(
        f"buf breaking: the contract breaks against {base[:12]} ({described}). Keep field numbers and names "
        f"(reserve what you remove), or declare a deliberate break with a '{TRAILER} <why>' line in the commit message."
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
