"""`policykb` command line. Subcommands live in per-area modules and load lazily,
so `policykb match` does not pay for MkDocs or scikit-learn imports."""
from __future__ import annotations

import importlib

import click

from policykb.cli import zh as cli_zh
from policykb.console import EXIT_ERRORS, fail, os_error_message, print_diagnostics
from policykb.content.diagnostics import ContentInvalid

cli_zh.install()
# command name -> (module, attribute); each area owns its module.
COMMANDS = {
    "validate": ("policykb.cli.validate", "validate"),
    "index": ("policykb.cli.search", "index_cmd"),
    "match": ("policykb.cli.search", "match_cmd"),
    "eval": ("policykb.cli.search", "eval_cmd"),
    "bench": ("policykb.cli.search", "bench_cmd"),
    "build": ("policykb.cli.site", "build_cmd"),
    "serve": ("policykb.cli.site", "serve_cmd"),
    "issue": ("policykb.cli.ledger", "issue_group"),
    "stats": ("policykb.cli.ledger", "stats_cmd"),
    "faq": ("policykb.cli.ledger", "faq_group"),
    "report": ("policykb.cli.ledger", "report_cmd"),
    "diff": ("policykb.cli.diff", "diff_cmd"),
    "schema": ("policykb.cli.schema", "schema_cmd"),
    "new": ("policykb.cli.schema", "new_cmd"),
    "eligible": ("policykb.cli.eligible", "eligible_cmd"),
}

HELP = {
    "validate": "检查内容是否符合内容规范",
    "index": "建立政策与问答的检索索引",
    "match": "为企业的问题匹配政策和问答",
    "eval": "用问题集评测匹配效果",
    "bench": "性能基准测试",
    "build": "生成静态网站",
    "serve": "生成并在本地预览网站",
    "issue": "企业诉求台账",
    "stats": "诉求统计数字",
    "faq": "常见问题维护",
    "report": "每周提醒清单",
    "diff": "比较两个版本的内容改动（供审核合并请求）",
    "schema": "生成前置元数据的 JSON Schema（编辑器补全与检查）",
    "new": "新建一条政策或问答（带全部字段的模板）",
    "eligible": "政策计算器：按企业信息逐条核对申报条件",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
        try:
            return getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise  # a real missing dependency must surface, not look like an unknown command
            return None

    def invoke(self, ctx):
        # The one place where errors become what a user reads: never a traceback.
        from policykb.content.files import ContentRootError
        try:
            return super().invoke(ctx)
        except ContentInvalid as e:  # any command that reads content stops on invalid content
            print_diagnostics(e.diagnostics, stream="err")
            fail(str(e), EXIT_ERRORS)
        except ContentRootError as e:
            fail(str(e))
        except OSError as e:
            fail(os_error_message(e), EXIT_ERRORS)
        except RecursionError:
            fail("输入嵌套过深，无法处理。请检查文件结构。", EXIT_ERRORS)
        except MemoryError:
            fail("内存不足，无法完成。请缩小输入后重试。", EXIT_ERRORS)

    def format_commands(self, ctx, formatter):
        rows = [(name, HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("命令"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="policykb")
def main():
    """policykb：惠企政策与企业诉求知识库工具。"""


if __name__ == "__main__":
    main()
