from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from sampledata.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def test_main_writes_the_default_files(tmp_path, capsys):
    assert main(["--studies", "200", "--out-dir", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["reports.json", "reports.xlsx", "studies.csv", "studies.xlsx"]
    for name in names:
        assert name in out
    assert openpyxl.load_workbook(tmp_path / "out" / "studies.xlsx").active.max_row == 201
    assert json.loads((tmp_path / "out" / "reports.json").read_text(encoding="utf-8"))


def test_main_formats_seed_and_end(tmp_path, capsys):
    args = ["--studies", "100", "--out-dir", str(tmp_path), "--formats", "studies.csv"]
    main([*args, "--seed", "1"])
    first = (tmp_path / "studies.csv").read_bytes()
    main([*args, "--seed", "1"])
    assert (tmp_path / "studies.csv").read_bytes() == first
    main([*args, "--seed", "2", "--end", "2024-01-01T08:00:00"])
    assert (tmp_path / "studies.csv").read_bytes() != first
    with (tmp_path / "studies.csv").open(encoding="utf-8-sig", newline="") as f:
        last = max(row["order_datetime"] for row in csv.DictReader(f))
    assert "2023-01-01" < last <= "2024-01-01 08:00:00"
    main(["--studies", "50", "--out-dir", str(tmp_path / "all"), "--formats", "all"])
    assert len(list((tmp_path / "all").iterdir())) == 5


def test_main_rejects_unknown_formats(tmp_path):
    with pytest.raises(SystemExit):
        main(["--out-dir", str(tmp_path), "--formats", "studies.parquet"])


def test_runs_as_a_module_without_django():
    code = (
        "import sys, sampledata, sampledata.__main__; "
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    done = subprocess.run(
        [sys.executable, "-m", "sampledata", "--help"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    assert "--formats" in done.stdout and "--seed" in done.stdout
