"""A run folder ``runs/<name>/``: its layout, creation, recognition and atomic writes.

Layout::

    runs/<name>/
      config.yaml            the resolved AgentConfig (every env field written down) + marker
      status.json            running / incomplete (with the reason) / complete
      tensorboard/           SB3 and market metrics
      checkpoints/           step_<N>/ {model.zip, vecnormalize.pkl, replay_buffer.pkl}
      best_model.zip         best on the held-out evaluation seeds (+ best_vecnormalize.pkl)
      final_model.zip        at the end of training (+ vecnormalize.pkl)
      eval/ compare/         CSV tables and PNG plots; report.md

A folder is a run when its ``config.yaml`` carries ``mm_gym_run``. A new run creates its
folder with ``mkdir`` (which fails when it exists), so two runs never share a folder;
``resume`` reopens an existing run. Model, checkpoint and normalisation files are written to a
temporary file in the same folder and moved into place with ``os.replace``.

``status.json`` says whether training finished: ``running`` while it trains, ``incomplete``
when it crashed or was interrupted (``train --resume`` continues it), ``complete`` once the
final model is saved. A run killed outright stays ``running``; anything but ``complete`` is
unfinished.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from mm_gym.errors import ConfigError, RunError
from mm_gym_agents.config import AgentConfig

MARKER = "mm_gym_run"
RUNNING, INCOMPLETE, COMPLETE = "running", "incomplete", "complete"
FORMAT_VERSION = 1
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_STEP_RE = re.compile(r"^step_(\d+)$")


def check_run_name(name: str) -> str:
    """A run name is a plain folder name: letters, digits, ``.``, ``_``, ``-``."""
    if not isinstance(name, str) or not _NAME_RE.match(name) or name in (".", ".."):
        raise ConfigError(
            f"run name {name!r}: use letters, digits, '.', '_' or '-' (at most 128, no '/')"
        )
    return name


class RunDir:
    """Paths and files of one run folder."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    # ------------------------------------------------------------------ paths
    @property
    def name(self) -> str:
        return self.path.name

    @property
    def config_path(self) -> Path:
        return self.path / "config.yaml"

    @property
    def tensorboard(self) -> Path:
        return self.path / "tensorboard"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def status_path(self) -> Path:
        return self.path / "status.json"

    def model_path(self, which: str = "final") -> Path:
        return self.path / f"{which}_model.zip"

    def vecnormalize_path(self, which: str = "final") -> Path:
        return self.path / ("vecnormalize.pkl" if which == "final" else f"{which}_vecnormalize.pkl")

    # ------------------------------------------------------------------ creation / opening
    @classmethod
    def create(cls, runs_dir: str | Path, name: str, config: AgentConfig) -> RunDir:
        """Make a new run folder (error if the name is taken) and write its config."""
        check_run_name(name)
        root = Path(runs_dir)
        root.mkdir(parents=True, exist_ok=True)
        path = root / name
        try:
            path.mkdir()
        except FileExistsError:
            raise RunError(
                f"run {str(path)!r} already exists: pass --resume to continue it, "
                "or choose another --run-name"
            ) from None
        run = cls(path)
        run.tensorboard.mkdir()
        run.checkpoints.mkdir()
        run.write_config(config)
        return run

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """An existing run folder; RunError when ``path`` is not one."""
        p = Path(path)
        if not p.is_dir():
            raise RunError(f"run {str(p)!r}: no such folder")
        cfg = p / "config.yaml"
        if not cfg.is_file():
            raise RunError(f"{str(p)!r} is not a run folder (no config.yaml)")
        try:
            data = yaml.safe_load(cfg.read_text())
        except yaml.YAMLError as err:
            raise RunError(f"{str(cfg)!r}: not valid YAML ({err})") from None
        if not isinstance(data, dict) or MARKER not in data or "agent" not in data:
            raise RunError(f"{str(p)!r} is not a run folder (config.yaml lacks '{MARKER}')")
        return cls(p)

    @staticmethod
    def unique_name(runs_dir: str | Path, config: AgentConfig) -> str:
        """``<algo>_<env>_<YYYYmmdd-HHMMSS>`` plus a counter when taken."""
        env = config.env_id.split("-")[0].lower()
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        base = f"{config.algo}_{env}_{stamp}"
        name, k = base, 1
        while (Path(runs_dir) / name).exists():
            k += 1
            name = f"{base}_{k}"
        return name

    # ------------------------------------------------------------------ config
    def write_config(self, config: AgentConfig) -> None:
        data = {
            MARKER: FORMAT_VERSION,
            "created": _dt.datetime.now().isoformat(timespec="seconds"),
            "agent": config.resolved().to_dict(),
        }
        text = yaml.safe_dump(data, sort_keys=False)
        atomic_write(self.config_path, lambda tmp: Path(tmp).write_text(text), suffix=".yaml")

    def config(self) -> AgentConfig:
        data = yaml.safe_load(self.config_path.read_text())
        try:
            return AgentConfig.from_dict(data["agent"])
        except ConfigError as err:
            raise RunError(f"{str(self.config_path)!r}: {err}") from None

    # ------------------------------------------------------------------ status
    def set_status(self, state: str, **details: Any) -> None:
        """Write ``status.json``: ``state`` (running, incomplete, complete) and details."""
        data = {
            "state": state,
            "updated": _dt.datetime.now().isoformat(timespec="seconds"),
            **details,
        }
        text = json.dumps(data, indent=1) + "\n"
        atomic_write(self.status_path, lambda tmp: Path(tmp).write_text(text), suffix=".json")

    def status(self) -> dict[str, Any]:
        """The run's status; a folder without ``status.json`` is complete when it holds a
        final model."""
        try:
            data = json.loads(self.status_path.read_text())
        except FileNotFoundError:
            return {"state": COMPLETE if self.model_path("final").is_file() else INCOMPLETE}
        except (OSError, ValueError):
            return {"state": INCOMPLETE, "reason": "status.json unreadable"}
        return data if isinstance(data, dict) and "state" in data else {"state": INCOMPLETE}

    @property
    def is_complete(self) -> bool:
        return self.status().get("state") == COMPLETE

    # ------------------------------------------------------------------ checkpoints
    def checkpoint_dir(self, steps: int) -> Path:
        return self.checkpoints / f"step_{steps:012d}"

    def list_checkpoints(self) -> list[tuple[int, Path]]:
        """Complete checkpoints (their model.zip exists), oldest first."""
        if not self.checkpoints.is_dir():
            return []
        found = []
        for p in self.checkpoints.iterdir():
            m = _STEP_RE.match(p.name)
            if m and (p / "model.zip").is_file():
                found.append((int(m.group(1)), p))
        return sorted(found)

    def latest_checkpoint(self) -> tuple[int, Path] | None:
        found = self.list_checkpoints()
        return found[-1] if found else None

    def prune_checkpoints(self, keep: int) -> None:
        for _, p in self.list_checkpoints()[:-keep]:
            shutil.rmtree(p, ignore_errors=True)


# ---------------------------------------------------------------------- atomic writes
def atomic_write(path: str | Path, write: Callable[[str], Any], suffix: str = "") -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then move it into place,
    readable as a plain new file is (0666 less the umask, as the CSVs beside it).

    ``suffix`` is kept on the temporary name (SB3 appends ``.zip``/``.pkl`` when missing).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{suffix}", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save_model(model: Any, path: str | Path) -> None:
    """``model.save`` atomically."""
    atomic_write(path, model.save, suffix=".zip")


def save_vecnormalize(vecnorm: Any, path: str | Path) -> None:
    """``VecNormalize.save`` atomically."""
    atomic_write(path, vecnorm.save, suffix=".pkl")


def save_replay_buffer(model: Any, path: str | Path) -> None:
    """``model.save_replay_buffer`` atomically."""
    atomic_write(path, model.save_replay_buffer, suffix=".pkl")


def check_model_file(path: str | Path) -> Path:
    """RunError unless ``path`` is a readable SB3 zip (missing, truncated or corrupt)."""
    p = Path(path)
    if not p.is_file():
        raise RunError(f"model {str(p)!r}: no such file")
    try:
        with zipfile.ZipFile(p) as zf:
            names = set(zf.namelist())
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise RunError(f"model {str(p)!r}: corrupt or truncated ({err})") from None
    if bad is not None or "data" not in names:
        raise RunError(f"model {str(p)!r}: corrupt or not an SB3 model")
    return p


@contextlib.contextmanager
def loading(path: str | Path, what: str) -> Iterator[None]:
    """Turn a failure while loading ``path`` into one RunError naming it."""
    try:
        yield
    except RunError:
        raise
    except Exception as err:  # noqa: BLE001 - any unpickling/zip error means a bad file
        raise RunError(
            f"{what} {str(path)!r}: cannot be loaded ({type(err).__name__}: {err})"
        ) from None
