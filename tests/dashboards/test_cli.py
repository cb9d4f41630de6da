"""``bess-twin dashboard`` refuses bad options before it starts anything (exit 2, naming the option)."""

from __future__ import annotations

from typer.testing import CliRunner

from api.cli import app as cli


def test_bad_options_exit_2_before_streamlit_starts(tmp_path):
    result = CliRunner().invoke(cli, ["dashboard", "--runs", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "--runs" in result.output and "no --api" in result.output
    result = CliRunner().invoke(cli, ["dashboard", "--runs", str(tmp_path), "--api", "127.0.0.1:8000"])
    assert result.exit_code == 2 and "--api" in result.output and "http://127.0.0.1:8000" in result.output
    result = CliRunner().invoke(cli, ["dashboard", "--runs", str(tmp_path), "--refresh-s", "0.1"])
    assert result.exit_code == 2 and "--refresh-s" in result.output
