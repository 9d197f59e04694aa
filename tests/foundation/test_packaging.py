import configparser
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_setup_cfg_lists_every_package():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "microq").rglob("__init__.py")}
    assert found | {"microq.lua"} == listed


def test_wheel_ships_every_lua_script(tmp_path: Path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=240)
    wheel = next(tmp_path.glob("microq-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for script in (ROOT / "scripts" / "lua").rglob("*.lua"):
        assert "microq/lua/" + script.relative_to(ROOT / "scripts" / "lua").as_posix() in names
    for page in (ROOT / "microq" / "web").rglob("*.*"):
        assert page.relative_to(ROOT).as_posix() in names
