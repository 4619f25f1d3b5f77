"""Run pytest, treating exit code 5 (no tests collected) as a failure with a clear message.

The suite always has tests, so collecting none means a path or a conftest broke, not a pass.
"""

import sys

import pytest

code = pytest.main(sys.argv[1:])
if code == pytest.ExitCode.NO_TESTS_COLLECTED:
    print("pytest collected no tests: the test paths or conftest are broken", file=sys.stderr)
    sys.exit(1)
sys.exit(int(code))
