"""Fixtures shared by every test folder."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
GOOG_SLICE = DATA / "LOBSTER_GOOG_2012-06-21_0930-0932_10.zip"
AAPL_SLICE = DATA / "LOBSTER_AAPL_2012-06-21_0930-0935_1.zip"


@pytest.fixture(scope="session")
def recordings(tmp_path_factory) -> dict[str, Path]:
    """The shipped LOBSTER slices converted into the event schema: ``{"AAPL": path, "GOOG":
    path}`` (AAPL level 1, 5 min; GOOG level 10, 2 min)."""
    from mm_gym.data.convert import convert

    folder = tmp_path_factory.mktemp("recordings")
    return {
        name: convert([src], folder / f"{name}.parquet")["path"]
        for name, src in (("AAPL", AAPL_SLICE), ("GOOG", GOOG_SLICE))
    }
