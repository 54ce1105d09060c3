"""Hostile content trees: every case ends in `path:line` diagnostics and an exit code, never a
traceback, a hang or a silently skipped file (issue 10: resource limits, containment, validation
everywhere). Each tree is built in a temp dir; the CLI runs in a real subprocess with a timeout."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PROJECT

from policykb.content.diagnostics import ERROR
from policykb.content.loader import MAX_DEPTH, MAX_FILE_BYTES, MAX_VALUE_CHARS, fingerprint, load_content
from policykb.content.validate import validate

POLICY = "---\ntitle: 技术改造补助\n---\n正文\n"
FAQ = "---\nquestion: 设备补贴怎么申请？\npolicies:\n  - {ref}\n---\n答案。\n"


def found(content, *, rules: bool = False) -> set[tuple]:
    diags = validate(content) if rules else content.diagnostics
    return {(Path(d.path).relative_to(content.shown_root).as_posix(), d.line, d.severity, d.code)
            for d in diags if d.severity != "info"}


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return root


def run_cli(*args, timeout: float = 60) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "policykb"
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=env, errors="backslashreplace")


def no_traceback(r: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in r.stderr and "Error:" not in r.stderr.replace("错误", ""), r.stderr[-3000:]


# ---------------------------------------------------------------- YAML: aliases, merge keys, depth, size

BOMB = ("---\ntitle: 炸弹\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
        + "---\n正文\n")


def test_an_alias_bomb_is_refused_quickly_at_its_line(tmp_path):
    root = write(tmp_path / "c", {"policies/bomb.md": BOMB, "policies/ok.md": POLICY})
    started = time.perf_counter()
    content = load_content(root)
    assert time.perf_counter() - started < 5
    assert found(content) == {("policies/bomb.md", 3, ERROR, "yaml-alias")}
    assert "&" in content.diagnostics[0].message
    assert {p.id for p in content.policies} == {"bomb", "ok"}  # still exists for references


def test_a_single_anchor_or_alias_is_refused_and_taxonomy_too(tmp_path):
    root = write(tmp_path / "c", {
        "taxonomy.yml": "categories: &c [产业发展]\nsupport: *c\n",
        "policies/a.md": "---\ntitle: &t 甲\nsummary: 乙\n---\n正文\n",
        "policies/b.md": "---\ntitle: 甲\nsummary: \"*不是别名* & 也不是锚点\"\nissuer: R&D 中心\n---\n正文\n",
    })
    content = load_content(root)
    assert found(content) == {("taxonomy.yml", 1, ERROR, "yaml-alias"), ("policies/a.md", 2, ERROR, "yaml-alias")}
    assert next(p for p in content.policies if p.id == "b").issuer == ["R&D 中心"]


def test_merge_keys_are_reported_as_such_not_as_duplicates(tmp_path):
    root = write(tmp_path / "c", {"policies/m.md": "---\ntitle: 甲\n<<: {summary: 一}\n<<: {region: 天津市}\n---\n正文\n"})
    content = load_content(root)
    assert found(content) == {("policies/m.md", 3, ERROR, "merge-key"), ("policies/m.md", 4, ERROR, "merge-key")}
    [p] = content.policies
    assert p.title == "甲" and p.summary is None and p.region is None  # the merged values are not used


@pytest.mark.parametrize("shape", ["flow", "block", "compact", "huge-flow"])
def test_deep_nesting_is_refused_not_a_crash(tmp_path, shape):
    n = {"flow": 500, "block": 500, "compact": 500, "huge-flow": 100_000}[shape]  # 100k crashes libyaml
    value = {"flow": lambda: "[" * n + "]" * n, "huge-flow": lambda: "[" * n + "]" * n,
             "block": lambda: "\n" + "".join(" " * (i + 1) + "k:\n" for i in range(n)) + " " * (n + 1) + "v",
             "compact": lambda: "\n  " + "- " * n + "a"}[shape]()
    root = write(tmp_path / "c", {"policies/deep.md": f"---\ntitle: 甲\nx: {value}\n---\n正文\n"})
    r = run_cli("validate", "--content", root)
    no_traceback(r)
    assert r.returncode == 1 and "错误[too-deep]" in r.stdout, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert f"{MAX_DEPTH} 层" in r.stdout


def test_moderate_nesting_beyond_the_bound_is_refused_too(tmp_path):
    value = "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2)  # below the pre-check's threshold
    root = write(tmp_path / "c", {"policies/deep.md": f"---\ntitle: 甲\nx: {value}\n---\n正文\n"})
    assert found(load_content(root)) == {("policies/deep.md", 3, ERROR, "too-deep")}


def test_file_size_and_value_length_are_bounded(tmp_path):
    root = write(tmp_path / "c", {
        "policies/big.md": POLICY + "正文" * (MAX_FILE_BYTES // 4),
        "policies/long.md": f"---\ntitle: 甲\nsummary: {'长' * (MAX_VALUE_CHARS + 1)}\n---\n正文\n",
        "policies/long-title.md": f"---\ntitle: {'长' * (MAX_VALUE_CHARS + 1)}\n---\n正文\n",
    })
    content = load_content(root)
    assert found(content, rules=True) == {("policies/big.md", 1, ERROR, "file-too-large"),
                                          ("policies/long.md", 3, ERROR, "field-too-long"),
                                          ("policies/long-title.md", 2, ERROR, "field-too-long")}  # not also "missing"
    long = next(p for p in content.policies if p.id == "long")
    assert long.title == "甲" and long.summary is None


# ---------------------------------------------------------------- the tree: links, special files, permissions

def test_symlinks_leaving_the_tree_are_refused_and_never_loaded(tmp_path):
    secret = write(tmp_path / "outside", {"secret.md": "---\ntitle: 内部材料\n---\n不应发布\n", "dir/x.md": POLICY})
    root = write(tmp_path / "c", {"policies/ok.md": POLICY})
    os.symlink(secret / "secret.md", root / "policies" / "leak.md")
    os.symlink(secret / "dir", root / "policies" / "linked-dir")
    os.symlink(root / "policies" / "ok.md", root / "policies" / "inside.md")  # inside the tree: fine
    content = load_content(root)
    assert found(content) == {("policies/leak.md", 1, ERROR, "symlink-outside"),
                              ("policies/linked-dir", 1, ERROR, "symlink-outside")}
    assert {p.id for p in content.policies} == {"ok", "inside"}
    assert all(p.title != "内部材料" for p in content.policies)


def test_broken_and_looping_symlinks_are_reported_never_a_traceback(tmp_path):
    root = write(tmp_path / "c", {"policies/ok.md": POLICY, "faq/q.md": FAQ.format(ref="gone")})
    os.symlink(root / "policies" / "nothing-here.md", root / "policies" / "gone.md")
    os.symlink(root / "policies" / "loop-b.md", root / "policies" / "loop-a.md")
    os.symlink(root / "policies" / "loop-a.md", root / "policies" / "loop-b.md")
    content = load_content(root)
    assert found(content, rules=True) == {("policies/gone.md", 1, ERROR, "broken-link"),
                                          ("policies/loop-a.md", 1, ERROR, "broken-link"),
                                          ("policies/loop-b.md", 1, ERROR, "broken-link")}  # no dangling-ref in q.md
    fingerprint(root)  # the matcher's freshness check must not trip over them either
    r = run_cli("validate", "--content", root)
    no_traceback(r)
    assert r.returncode == 1 and r.stdout.count("错误[broken-link]") == 3


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_named_md_is_skipped_with_a_warning_never_opened(tmp_path):
    root = write(tmp_path / "c", {"policies/ok.md": POLICY})
    os.mkfifo(root / "policies" / "pipe.md")
    os.mkfifo(root / "taxonomy.yml")
    r = run_cli("validate", "--content", root, timeout=60)  # opening the FIFO would hang here
    no_traceback(r)
    assert "警告[not-a-file]" in r.stdout and "pipe.md:1" in r.stdout
    assert "taxonomy.yml:1: 错误[not-a-file]" in r.stdout and r.returncode == 1
    content = load_content(root)
    assert [p.id for p in content.policies] == ["ok"]
    fingerprint(root)  # returns: the FIFO is not read


def test_a_taxonomy_that_is_a_folder_is_an_error(tmp_path):
    root = write(tmp_path / "c", {"policies/ok.md": POLICY, "taxonomy.yml/readme.txt": "x"})
    assert found(load_content(root)) == {("taxonomy.yml", 1, ERROR, "not-a-file")}


def test_file_names_that_are_not_utf8_are_reported(tmp_path):
    root = write(tmp_path / "c", {"policies/ok.md": POLICY})
    bad = os.path.join(os.fsencode(root / "policies"), b"caf\xe9.md")
    with open(bad, "wb") as f:
        f.write(POLICY.encode())
    r = run_cli("validate", "--content", root)
    no_traceback(r)
    assert r.returncode == 1 and "错误[bad-filename]" in r.stdout and "caf\\xe9.md:1" in r.stdout
    assert [p.id for p in load_content(root).policies] == ["ok"]


def test_one_bad_encoding_is_reported_once_at_its_file(tmp_path):
    root = write(tmp_path / "c", {
        "policies/gbk.md": "---\ntitle: 技术改造补助办法\n---\n正文\n".encode("gbk"),
        **{f"faq/q{i}.md": FAQ.format(ref="gbk") for i in range(8)},
    })
    assert found(load_content(root), rules=True) == {("policies/gbk.md", 2, ERROR, "encoding")}


def _refused_prefix() -> list[str]:
    """A command prefix under which mode 000 really refuses access. Root reads anything through
    its capabilities, so as root drop them (setpriv); as anyone else nothing is needed."""
    if os.geteuid() != 0:
        return []
    import shutil
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: mode 000 cannot refuse access")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


@pytest.mark.parametrize("target", ["folder", "file", "taxonomy"])
def test_an_unreadable_folder_or_file_is_an_error_not_silently_skipped(tmp_path, target):
    root = write(tmp_path / "c", {"policies/ok.md": POLICY, "issues/sub/2026-0001.md": "---\ntitle: 甲\n---\n正文\n",
                                  "issues/2026-0002.md": "---\ntitle: 乙\n---\n正文\n",
                                  "taxonomy.yml": "categories: [产业发展]\n"})
    rel = {"folder": "issues/sub", "file": "issues/2026-0002.md", "taxonomy": "taxonomy.yml"}[target]
    victim = root / rel
    prefix = _refused_prefix()
    os.chmod(victim, 0)
    try:
        probe = subprocess.run([*prefix, sys.executable, "-c", f"import os; print(os.access({str(victim)!r}, os.R_OK))"],
                               capture_output=True, text=True)
        assert probe.stdout.strip() == "False", ("the test cannot make the victim unreadable", probe)
        r = subprocess.run([*prefix, str(Path(sys.executable).parent / "policykb"), "validate", "--content", str(root)],
                           capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(PROJECT)})
        no_traceback(r)
        assert r.returncode == 1 and f"{rel}:1: 错误[unreadable]" in r.stdout, (r.returncode, r.stdout, r.stderr)
        # the matcher's freshness check reads the same files: no traceback there either
        fp = subprocess.run([*prefix, sys.executable, "-c", "import sys; from policykb.content.files import fingerprint;"
                             f" print(len(fingerprint({str(root)!r})))"], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(PROJECT)})
        assert fp.returncode == 0 and fp.stdout.strip() == "64", fp.stderr[-2000:]
    finally:
        os.chmod(victim, 0o755)


# ---------------------------------------------------------------- references

def test_supersedes_cycles_and_self_references_are_errors(tmp_path):
    pol = "---\ntitle: {t}\nsupersedes: [{s}]\nsuperseded_by: [{b}]\n---\n正文\n"
    root = write(tmp_path / "c", {
        "policies/a.md": pol.format(t="甲", s="b", b="b"),
        "policies/b.md": pol.format(t="乙", s="a", b="a"),
        "policies/x.md": pol.format(t="丙", s="z", b="y"),
        "policies/y.md": pol.format(t="丁", s="x", b="z"),
        "policies/z.md": pol.format(t="戊", s="y", b="x"),
        "policies/self.md": "---\ntitle: 己\nsupersedes: [self]\n---\n正文\n",
        "policies/old.md": "---\ntitle: 旧\nsuperseded_by: [new]\nstatus: expired\n---\n正文\n",
        "policies/new.md": "---\ntitle: 新\nsupersedes: [old]\n---\n正文\n",
    })
    got = found(load_content(root), rules=True)
    cycles = {(rel, sev) for rel, _, sev, code in got if code == "supersedes-cycle"}
    assert cycles == {(f"policies/{n}.md", ERROR) for n in ("a", "b", "x", "y", "z")}
    assert ("policies/self.md", 3, ERROR, "self-ref") in got
    assert not {g for g in got if g[0] in ("policies/old.md", "policies/new.md")}  # a plain chain is fine


def test_public_view_has_no_problem_records_or_links_to_them(tmp_path):
    root = write(tmp_path / "c", {
        "policies/p.md": POLICY,
        "faq/q.md": "---\nquestion: 问？\nissues: [2026-0001]\n---\n答。\n",
        "issues/2026-0001.md": "---\ntitle: 甲\nenterprise: 某公司\n---\n正文\n",
    })
    full = load_content(root)
    public = full.public()
    assert [i.id for i in full.issues] == ["2026-0001"] and full.faqs[0].issues == ["2026-0001"]
    assert public.issues == [] and public.faqs[0].issues == [] and not public.include_issues
    assert all("issues/" not in d.path for d in public.diagnostics)
    assert "某公司" not in repr([r.model_dump() for r in public.records()])


# ---------------------------------------------------------------- a bounded fuzzer over real content

_TOKENS = ["[", "]", "{", "}", ":", "- ", "\t", "'", '"', "&a ", "*a", "<<: ", "!!python/object ", "? ", "|", ">",
           "#", "\n", "  ", "---\n", "%YAML 1.1\n", "\x00", "\ufeff", "2025-02-30", "~", "[]", "{}", "!!binary ",
           "!!set ", "!!timestamp ", "1e3", "0x1F", ".inf", "yes", "\u2028", "? [a]: b\n", "2025年2月30日"]


def test_mutated_real_content_never_breaks_the_loader(tmp_path):
    """A few hundred random edits of the bundled records' front matter: every outcome is records
    plus registered, printable diagnostics; never an exception."""
    import datetime as dt
    import random
    import shutil

    from conftest import BUNDLED
    sources = sorted(BUNDLED.rglob("*.md"))
    rng = random.Random(20261202)
    root = tmp_path / "c"
    for round_ in range(150):
        shutil.rmtree(root, ignore_errors=True)
        for src in rng.sample(sources, 4):
            text = src.read_text(encoding="utf-8")
            end = max(text.find("\n---", 3) + 4, 1)
            for _ in range(rng.randint(1, 4)):
                i, op = rng.randrange(end), rng.random()
                if op < 0.5:
                    text = text[:i] + rng.choice(_TOKENS) + text[i:]
                elif op < 0.8:
                    text = text[:i] + text[i + rng.randint(1, 5):]
                else:
                    j = rng.randrange(end)
                    text = text[:i] + text[j:j + 20] + text[i:]
            dest = root / src.relative_to(BUNDLED).parts[0] / src.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(text.encode("gbk", "replace") if rng.random() < 0.05 else text.encode("utf-8"))
        content = load_content(root)
        for d in validate(content, dt.date(2026, 12, 1)):
            assert d.format().encode("utf-8") and d.line >= 1, (round_, d)


def test_a_content_folder_linking_out_of_the_tree_is_refused(tmp_path):
    elsewhere = write(tmp_path / "elsewhere", {"secret.md": "---\ntitle: 内部材料\n---\n不应发布\n"})
    root = write(tmp_path / "c", {"policies/ok.md": POLICY})
    os.symlink(elsewhere, root / "faq")
    content = load_content(root)
    assert found(content) == {("faq", 1, ERROR, "symlink-outside")} and content.faqs == []


def test_a_root_whose_name_is_not_utf8_still_prints(tmp_path):
    root = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"inhalt-\xff")))
    write(root, {"policies/ok.md": "---\ntitle: 甲\ncategories: [不存在]\n---\n正文\n"})
    [d] = [d for d in validate(load_content(root)) if d.severity == ERROR]
    assert d.format().encode("utf-8") and "inhalt-\\xff" in d.path
