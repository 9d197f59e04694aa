"""The house rule "a part never imports another part", checked on the source: lines, work and
topics import only the foundation (microq/*.py) and themselves; security, the layer work
stands on, imports no part. Shared code (e.g. microq/key_digests.py) lives in the foundation."""

from __future__ import annotations

import ast
from pathlib import Path

MICROQ = Path(__file__).resolve().parents[2] / "microq"
PARTS = ("lines", "work", "topics", "security")
MAY_USE = {"work": {"security"}}  #: work's admission checks are the security layer


def _imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_part_imports_another():
    wrong = []
    for part in PARTS:
        for path in sorted((MICROQ / part).rglob("*.py")):
            for module in _imported(path):
                head = module.split(".")
                if head[0] == "microq" and len(head) > 1 and head[1] in PARTS and head[1] != part \
                        and head[1] not in MAY_USE.get(part, set()):
                    wrong.append(f"{path.relative_to(MICROQ.parent)} imports {module}")
    assert not wrong, "\n".join(wrong)
