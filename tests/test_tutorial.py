"""docs/tutorial.md runs: every ```python block, in order, in one namespace, and prints what
the ```text block after it shows (numbers may differ; the words and the layout may not).

    python tests/test_tutorial.py --update     # rewrite the text blocks with fresh output
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
BLOCK = re.compile(r"```python\n(.*?)```\n(?:\n```text\n(.*?)```\n)?", re.S)
NUMBER = re.compile(r"[-+]?\d[\d,]*(\.\d+)?(e[-+]\d+)?%?")
ART = set(" .:-=+*#%@")


def run_blocks(text: str, workdir: Path) -> list[tuple[re.Match, str]]:
    """Run every python block of ``text`` in ``workdir``; (match, printed output) each."""
    namespace: dict = {"__name__": "tutorial"}
    results = []
    previous = Path.cwd()
    os.chdir(workdir)
    try:
        for number, match in enumerate(BLOCK.finditer(text), start=1):
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(match.group(1), f"<tutorial block {number}>", "exec"), namespace)
            results.append((match, buffer.getvalue()))
    finally:
        os.chdir(previous)
    return results


def shape_of(output: str) -> list[str]:
    """The output with numbers masked; lines of ASCII-art pixels become one marker."""
    lines = []
    for line in output.rstrip("\n").split("\n"):
        lines.append("<art>" if set(line) <= ART else NUMBER.sub("#", line).rstrip())
    return lines


@pytest.mark.slow
def test_the_tutorial_runs_and_prints_what_it_shows(tmp_path, monkeypatch, mnist_dir):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    sys.path.insert(0, str(ROOT))
    results = run_blocks(TUTORIAL.read_text(), tmp_path)
    assert len(results) >= 7
    for match, output in results:
        documented = match.group(2)
        assert documented is not None, f"no output shown after:\n{match.group(1)}"
        assert shape_of(output) == shape_of(documented), (match.group(1), output)
    outputs = "".join(output for _, output in results)
    assert "gradcheck FAILED" in outputs and outputs.count("gradcheck passed") == 3
    assert "identical predictions: True" in outputs
    accuracy = float(re.findall(r"test accuracy ([\d.]+)%", outputs)[-1])
    assert accuracy > 93.0
    assert (tmp_path / "tutorial_model.npz").is_file()


def update() -> None:
    """Rewrite the tutorial's text blocks with the output of a fresh run."""
    import tempfile

    import conftest  # noqa: F401  (sets $MNIST_DIR)

    sys.path.insert(0, str(ROOT))
    text = TUTORIAL.read_text()
    with tempfile.TemporaryDirectory() as workdir:
        results = run_blocks(text, Path(workdir))
    pieces, last = [], 0
    for match, output in results:
        pieces.append(text[last : match.start()])
        pieces.append(f"```python\n{match.group(1)}```\n\n```text\n{output}```\n")
        last = match.end()
    pieces.append(text[last:])
    TUTORIAL.write_text("".join(pieces))
    print(f"updated {TUTORIAL}")


if __name__ == "__main__" and "--update" in sys.argv:
    update()


def test_the_readme_teachers_example_runs(tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### nnlite for teachers", 1)[1].split("\n## ", 1)[0]
    results = run_blocks(section, tmp_path)
    assert len(results) == 1
    assert results[0][1].startswith("gradcheck passed")
