"""The tour that `make demo` runs: each tutorial network, its numbers beside the engine's."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import worked_example_222  # noqa: E402


def main() -> int:
    print("=== 2-2-2 sigmoid network, the worked example ===")
    return worked_example_222.main()


if __name__ == "__main__":
    sys.exit(main())
