"""`policykb build`: validate -> render pages -> MkDocs (Material) -> feed -> swap into place.

The project's mkdocs.yml stays plain YAML; this module only fills in paths (docs_dir, site_dir,
custom_dir) and the nav, and writes the result beside the
generated pages, so the same site can be rebuilt by hand with `mkdocs build -f <that file>`.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from policykb.content.diagnostics import Diagnostic
from policykb.content.validate import load_valid
from policykb.ledger.stats import compute_stats, group_stats
from policykb.paths import PROJECT_ROOT
from policykb.site.feed import FEED_FILE, atom_feed
from policykb.site.generate import Figures, SiteInput, generate_docs
from policykb.site.gitdates import read_git_info
from policykb.site.sitesearch.index import write_index

PROFILES = ("public", "internal")
CONFIG_FILE = PROJECT_ROOT / "mkdocs.yml"
EDITOR_GUIDE = PROJECT_ROOT / "docs" / "editor-guide.md"
DEFAULT_OUT = {"public": PROJECT_ROOT / "build" / "site", "internal": PROJECT_ROOT / "build" / "site-internal"}


class BuildError(Exception):
    """The site was not built; the old output is untouched."""

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None):
        super().__init__(message)
        self.diagnostics = diagnostics or []


@dataclass
class BuildResult:
    out: Path
    profile: str
    pages: int
    policies: int
    seconds: float
    mkdocs_seconds: float
    search_index_bytes: int
    diagnostics: list[Diagnostic] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # build-time remarks for the person building
    search_index_seconds: float = 0.0  # writing the static search index (its own time)
    search_wait_seconds: float = 0.0  # what it added to `seconds` (it runs beside MkDocs when it can)
    search_index_cpu_seconds: float = 0.0  # its CPU time (its worker processes included)


def figures_of(issues, taxonomy, today: dt.date, profile: str) -> Figures:
    """Aggregate figures: a pure function of the problem records (numbers only, no record)."""
    order = {t: n for n, t in enumerate(taxonomy.terms("issue_categories"))}
    by_category = group_stats(issues, "category", as_of=today)
    fig = Figures(total=compute_stats(issues, as_of=today),
                  by_category=dict(sorted(by_category.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))),
                  by_month=group_stats(issues, "month", as_of=today))
    if profile == "internal":
        fig.by_department = group_stats(issues, "department", as_of=today)
        fig.by_group = group_stats(issues, "service_group", as_of=today)
    return fig


STALE_AFTER = 600  # seconds: a leftover build folder with no live owner this old is removed


def clean_stale(out: Path) -> list[Path]:
    """Remove `.<name>.tmp-*` / `.<name>.old-*` folders that killed builds left beside `out`."""
    removed = []
    if not out.parent.is_dir():
        return removed
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.(?:tmp|old)-(\d+)?")
    for entry in out.parent.iterdir():
        m = pattern.match(entry.name)
        if not m or not entry.is_dir() or entry.is_symlink():
            continue
        pid = int(m.group(1)) if m.group(1) else None
        if pid is not None and pid != os.getpid() and _alive(pid):
            continue  # another build is still writing it
        if pid is None and time.time() - entry.stat().st_mtime < STALE_AFTER:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def read_config(config_file: Path = CONFIG_FILE) -> dict:
    return yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}


def edit_base(config: dict) -> str:
    """repo_url + edit_uri, or "" when no repository is configured (then no edit links)."""
    repo = (config.get("repo_url") or "").strip()
    if not repo:
        return ""
    edit = (config.get("edit_uri") or "").strip()
    if edit.startswith(("http://", "https://")):
        return edit.rstrip("/") + "/"
    return repo.rstrip("/") + "/" + (edit.strip("/") + "/" if edit.strip("/") else "")


def derive_config(config: dict, config_dir: Path, *, docs: Path, site: Path, nav: list, profile: str,
                  build_date: dt.date | None = None) -> dict:
    """The project's config with paths filled in."""
    cfg = dict(config)
    cfg["docs_dir"], cfg["site_dir"], cfg["nav"] = str(docs), str(site), nav
    theme = dict(cfg.get("theme") or {})
    if theme.get("custom_dir"):
        theme["custom_dir"] = str((config_dir / theme["custom_dir"]).resolve())
    cfg["theme"] = theme
    if profile == "internal":
        cfg["site_name"] = f"{cfg.get('site_name', '')}（内部）"
    extra = dict(cfg.get("extra") or {})
    extra["pkb_profile"] = profile  # overrides/main.html: noindex on the internal site
    if build_date:
        extra["pkb_build_date"] = build_date.isoformat()  # "数据更新于" on every page
    cfg["extra"] = extra
    return cfg


def _run_mkdocs(config_path: Path, site_dir: Path, verbose: bool) -> None:
    import jieba
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    jieba.setLogLevel(logging.WARNING)
    log = logging.getLogger("mkdocs")
    level = log.level
    handler = logging.StreamHandler()  # in-process MkDocs has no handler of its own
    handler.setFormatter(logging.Formatter("MkDocs %(levelname)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO if verbose else logging.WARNING)
    try:
        cfg = load_config(str(config_path), site_dir=str(site_dir))
        build(cfg)
    except MkDocsException as e:
        raise BuildError(f"MkDocs 生成失败：{e}") from e
    except SystemExit as e:  # mkdocs' Abort
        raise BuildError(f"MkDocs 生成失败（{e}）") from e
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


class _IndexJob:
    """The static search index, written in a forked process while MkDocs renders the pages (it
    needs only the loaded content), into its own folder beside the build; `finish` moves it into
    the site. Where fork is unavailable it is written in this process instead, at `finish`."""

    def __init__(self, content, internal: bool, scratch: Path):
        import multiprocessing as mp
        self.content, self.internal, self.scratch = content, internal, scratch
        self.proc = self.conn = None
        if os.name == "posix" and "fork" in mp.get_all_start_methods():
            ctx = mp.get_context("fork")
            self.conn, child = ctx.Pipe(duplex=False)
            self.proc = ctx.Process(target=self._child, args=(child,), daemon=False)
            self.proc.start()
            child.close()

    def _child(self, conn) -> None:
        try:
            import resource
            t, cpu = time.perf_counter(), time.process_time()
            figures = write_index(self.content, self.scratch, internal=self.internal)
            workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # its counting pool, if any
            figures["cpu_seconds"] = time.process_time() - cpu + workers.ru_utime + workers.ru_stime
            conn.send(("ok", figures, time.perf_counter() - t))
        except BaseException as e:  # reported by the parent, which stops the build
            conn.send(("error", f"{type(e).__name__}: {e}", 0.0))
        finally:
            conn.close()

    def finish(self, site: Path) -> tuple[dict, float]:
        """(write_index's figures, its own seconds); the index is then in `site`/search."""
        if self.proc is None:
            t, cpu = time.perf_counter(), time.process_time()
            figures = write_index(self.content, self.scratch, internal=self.internal)
            seconds = time.perf_counter() - t
            figures["cpu_seconds"] = time.process_time() - cpu
        else:
            try:
                status, figures, seconds = self.conn.recv()
            except EOFError:
                status, figures = "error", f"进程意外退出（退出码 {self.proc.exitcode}）"
            self.proc.join()
            self.proc = None
            if status != "ok":
                raise BuildError(f"网站搜索索引生成失败：{figures}")
        os.replace(self.scratch / "search", site / "search")
        shutil.rmtree(self.scratch, ignore_errors=True)
        return figures, seconds

    def cancel(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.join()
            self.proc = None
        shutil.rmtree(self.scratch, ignore_errors=True)


MARKER = ".policykb-site"  # written into every built site: only such a folder may be replaced


def check_out_dir(out: Path) -> None:
    """Refuse to replace a folder that is not an earlier build (`--out content` must not wipe content)."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).is_file())):
        raise BuildError(f"输出目录 {out} 已存在，且不是 policykb build 生成的网站，为免误删没有覆盖。"
                         f"请换一个输出目录，或先手工清空它。")


def _swap(tmp: Path, out: Path) -> None:
    """Put the new site in place; the old one is removed only once the new one is there."""
    (tmp / MARKER).write_text("policykb build\n", encoding="utf-8")
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def build_site(content_dir, out: Path | None = None, *, profile: str = "public", today: dt.date | None = None,
               config_file: Path = CONFIG_FILE, verbose: bool = False) -> BuildResult:
    """Build the static site. Raises ContentInvalid (invalid content) or BuildError, and leaves
    `out` as it was."""
    if profile not in PROFILES:
        raise BuildError(f"未知的 profile “{profile}”，应为 public 或 internal。")
    started = time.perf_counter()
    today = today or dt.date.today()
    root = Path(content_dir)
    out = Path(out) if out else DEFAULT_OUT[profile]
    check_out_dir(out)
    internal = profile == "internal"
    # The one gate: one load of the whole tree, one validation (links from FAQs into problem
    # records are checked on both profiles), ContentInvalid on errors; public pages then see a
    # view without problem records.
    full, diags = load_valid(root, today, what="网站未生成")
    figures = figures_of(full.issues, full.taxonomy, today, profile)
    content = full if internal else full.public()
    notices: list[str] = []
    clean_stale(out)

    config = read_config(config_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    default = out.resolve() == DEFAULT_OUT[profile].resolve()
    docs = out.parent / (f"docs-{profile}" if default else f".{out.name}-docs-{profile}")
    inp = SiteInput(content=content, profile=profile, today=today, site_name=config.get("site_name", "惠企政策"),
                    git=read_git_info(root), edit_base=edit_base(config), figures=figures,
                    issues=content.issues if internal else [],
                    editor_guide=EDITOR_GUIDE if EDITOR_GUIDE.is_file() else None, build_date=today)
    generated = generate_docs(inp, docs)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp's 0700 would hide the site from a web server
    job = None
    try:
        # The saved config names the final folder, so `mkdocs build -f` on it works by hand too.
        cfg = derive_config(config, config_file.parent, docs=docs.resolve(), site=out.resolve(),
                            nav=generated["nav"], profile=profile, build_date=today)
        cfg_path = docs.parent / f"{docs.name}.mkdocs.yml"
        cfg_path.write_text("# 由 policykb build 生成，请勿手工修改；改项目根目录的 mkdocs.yml。\n"
                            + yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
        # The static search index (policykb/site/sitesearch): from the same load as the pages,
        # so the public one never holds a problem record; written beside MkDocs.
        job = _IndexJob(content, internal, Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-search-",
                                                                  dir=out.parent)))
        t0 = time.perf_counter()
        _run_mkdocs(cfg_path, tmp.resolve(), verbose)
        mkdocs_seconds = time.perf_counter() - t0
        site_url = (config.get("site_url") or "").strip()
        (tmp / FEED_FILE).write_text(atom_feed(list(generated["views"].values()), site_name=inp.site_name,
                                               site_url=site_url, today=today),
                                     encoding="utf-8")
        if not site_url:  # MkDocs' sitemap would list no address: write none, and say so
            for name in ("sitemap.xml", "sitemap.xml.gz"):
                (tmp / name).unlink(missing_ok=True)
            notices.append("提示：mkdocs.yml 未设置 site_url，订阅源（feed.xml）只含相对链接，也没有生成站点地图"
                           "（sitemap.xml）。正式发布前请在 mkdocs.yml 中填写网站地址 site_url。")
        t1 = time.perf_counter()
        figures_ix, search_seconds = job.finish(tmp)
        size, search_cpu = figures_ix["bytes"], figures_ix["cpu_seconds"]
        search_wait = time.perf_counter() - t1
        if internal:  # the browser editor lives on the internal site only
            from policykb.site.cms import write_admin
            notices.append(write_admin(tmp, content.taxonomy, inp.git.prefix or f"{root.resolve().name}/").message)
        _swap(tmp, out)
    except BaseException:
        if job is not None:
            job.cancel()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return BuildResult(out=out, profile=profile, pages=generated["pages"], policies=len(generated["views"]),
                       seconds=time.perf_counter() - started, mkdocs_seconds=mkdocs_seconds,
                       search_index_bytes=size, diagnostics=diags, notices=notices,
                       search_index_seconds=search_seconds, search_wait_seconds=search_wait,
                       search_index_cpu_seconds=search_cpu)
