"""A plain arbitrage backtest never builds a cvxpy problem, so its processes never import cvxpy (about 1 s each)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
from api.cli import main
sys.argv = ["bess-twin", "backtest", {scenario!r}, "--runtime", "local", "--start", "2023-01-03",
            "--end", "2023-01-05", "--out", {out!r}]
try:
    main()
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
print(sorted(m for m in sys.modules if m.startswith("cvxpy.")))
"""


def _loaded(scenario: Path, out: Path) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE.format(scenario=str(scenario), out=str(out))],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_the_quickstart_backtest_does_not_import_cvxpy(tmp_path):
    assert _loaded(ROOT / "scenarios" / "quickstart.yaml", tmp_path / "run") == "[]"


def test_the_cvxpy_models_still_load_it_on_first_use():
    probe = (
        "import sys; from twin.ems.dispatch_model import CvxpyDispatchModel; from twin.config import BatterySpec;"
        "assert 'cvxpy.problems' not in sys.modules;"
        "CvxpyDispatchModel(BatterySpec(energy_kwh=10, p_charge_max_kw=5, p_discharge_max_kw=5), 4, 1.0, None);"
        "print('cvxpy.problems' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True"
