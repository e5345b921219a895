"""``domain/text.csv_cell``: what every CSV export writes for user text (名单, 通报, 考核, 服务卡)."""
import pytest

from tongxin.domain.text import csv_cell


@pytest.mark.parametrize("text", ["=1+1", "+86 138", "-2", "@SUM(A1)", "\t=1+1", "\r=1+1"])
def test_a_cell_a_spreadsheet_would_run_is_written_as_text(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text,cell", [(None, ""), ("", ""), ("张三", "张三"), ("1+1", "1+1"), (" =1", " =1")])
def test_other_cells_are_as_given(text, cell):
    assert csv_cell(text) == cell
