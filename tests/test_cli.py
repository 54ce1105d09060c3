"""The command line as a whole: every command loads, and click's own text is Chinese."""
import pytest
from conftest import run_policykb

from policykb.cli import COMMANDS


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_loads_and_has_chinese_help(cli, name):
    r = cli(name, "-h")
    assert r.exit_code == 0, r.output
    assert "用法：" in r.output and "显示帮助并退出。" in r.output


def test_top_level_help_lists_commands_in_chinese(cli):
    r = cli("--help")
    assert r.exit_code == 0
    assert "命令" in r.output and "检查内容是否符合内容规范" in r.output


def test_usage_errors_are_chinese_in_a_real_process():
    r = run_policykb("validate", "--bogus")
    assert r.returncode == 2
    assert "错误：没有选项 '--bogus'。" in r.stderr and "查看帮助" in r.stderr
    r = run_policykb("no-such-command")
    assert r.returncode == 2 and "没有命令 'no-such-command'" in r.stderr
