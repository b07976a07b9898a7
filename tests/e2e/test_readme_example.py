"""The README's embedding example runs as written, in an empty folder (no ./config)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from cli_support import REPO


def embedding_example() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Embedding it in another service", 1)[1]
    return section.split("```python", 1)[1].split("```", 1)[0]


def test_the_embedding_example_runs_as_written(tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(embedding_example(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPLAINTS_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"CMP-\d{4}-\d{6} stage1 \d{4}-\d{2}-\d{2}\n", done.stdout)
    assert (tmp_path / "complaints.db").is_file()
