"""A bounded fuzzer over real content: a few hundred seeded mutations of bundled records and the
taxonomy; no command may ever end in a traceback (issue 10: bad input gets a message, not a crash)."""
from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BUNDLED

SAMPLES = ["policies/zone/zone-tech-upgrade-2025.md", "faq/faq-broadband-unstable.md", "taxonomy.yml",
           "issues/2026/" + sorted(p.name for p in (BUNDLED / "issues" / "2026").glob("*.md"))[0]]
SNIPPETS = ["&a ", "*a", "<<: *a\n", "[", "]", "{", "}", ": ", "- ", "\t", "!!python/object:os.system ", "%YAML 1.1\n",
            "\x00", "\ufeff", "---\n", "'", '"', "#", "|\n", ">\n", "? ", "~", "2025-02-30", "2025年3月1日",
            "javascript:alert(1)", "<script>alert(1)</script>", "[[[[[[[[[[[[[[[[[[[[[[[[[[", "x" * 5000,
            "\r\n", "\u2028", "é", "\U0001f600", "null", "true", "0x1F", "1e999", ".nan", "-", "=", "\\"]


def mutate(data: bytes, rng: random.Random) -> bytes:
    op = rng.randrange(7)
    n = len(data)
    i, j = sorted((rng.randrange(n + 1), rng.randrange(n + 1)))
    if op == 0:  # delete a stretch
        return data[:i] + data[j:]
    if op == 1:  # insert a hostile snippet
        return data[:i] + rng.choice(SNIPPETS).encode("utf-8", "surrogatepass") + data[i:]
    if op == 2:  # duplicate a stretch
        return data[:j] + data[i:j] + data[j:]
    if op == 3:  # raw bytes that are not UTF-8
        return data[:i] + bytes(rng.randrange(128, 256) for _ in range(rng.randrange(1, 4))) + data[i:]
    if op == 4:  # truncate
        return data[:i]
    if op == 5:  # swap two lines
        lines = data.split(b"\n")
        a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[a], lines[b] = lines[b], lines[a]
        return b"\n".join(lines)
    return data[:i] + data[i:j].upper() + data[j:]  # change case (keys, ids, values)


COMMANDS = [["validate"], ["validate", "--strict", "--format", "json"], ["stats", "--json"], ["report"],
            ["eligible", "--profile", "{profile}"]]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    # A real but smaller tree (the zone's policies, every FAQ, this year's problems, the taxonomy),
    # so each run is quick; links out of the subset are dangling-ref errors, which is fine here.
    root = tmp_path_factory.mktemp("fuzz") / "content"
    for rel in ("policies/zone", "faq", "issues/2026"):
        shutil.copytree(BUNDLED / rel, root / rel)
    shutil.copy(BUNDLED / "taxonomy.yml", root / "taxonomy.yml")
    return root


def test_no_command_ever_prints_a_traceback(base, tmp_path, monkeypatch):
    from policykb.cli import main
    monkeypatch.setenv("POLICYKB_CACHE", str(tmp_path / "cache"))
    profile = tmp_path / "profile.yml"
    profile.write_text("region: 天津市/滨海新区/滨海高新区\nenterprise_types: [高新技术企业]\n", encoding="utf-8")
    rng = random.Random(20261202)
    runner = CliRunner()
    originals = {rel: (base / rel).read_bytes() for rel in SAMPLES}
    failures = []
    for n in range(150):
        rel = rng.choice(SAMPLES)
        data = originals[rel]
        for _ in range(rng.randrange(1, 4)):
            data = mutate(data, rng)
        (base / rel).write_bytes(data)
        args = [a.replace("{profile}", str(profile)) for a in rng.choice(COMMANDS)] + ["--content", str(base)]
        if n % 50 == 0:  # now and then the matcher too (it builds an index, so it is slower)
            args = ["match", "--content", str(base), "--json", "技改补贴"]
        result = runner.invoke(main, args)
        exc = result.exception
        if (exc is not None and not isinstance(exc, SystemExit)) or "Traceback" in result.output:
            failures.append((n, rel, args[0], repr(exc), data[:300]))
        assert result.exit_code in (0, 1, 2), (args, result.output[-500:])
        (base / rel).write_bytes(originals[rel])
    assert not failures, failures[:3]
