import shutil

import pytest

from tests.hardware.rigs import KINDS


def pytest_generate_tests(metafunc):
    if "device_kind" in metafunc.fixturenames:
        params = [
            pytest.param(kind, marks=pytest.mark.skipif(
                kind == "mqtt-mosquitto" and shutil.which("mosquitto") is None,
                reason="mosquitto not on PATH (CI installs Debian's mosquitto)"))
            for kind in KINDS
        ]
        metafunc.parametrize("device_kind", params)
