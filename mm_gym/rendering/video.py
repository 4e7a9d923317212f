"""Video files from RGB frames: MP4 through imageio's ffmpeg plugin (the ``video`` extra), GIF
through Pillow (installed with matplotlib)."""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from mm_gym.errors import ConfigError

__all__ = ["MP4_HINT", "check_video_path", "mp4_available", "write_video"]

MP4_HINT = "MP4 needs imageio and imageio-ffmpeg: pip install 'mm-gym[video]'"


def mp4_available() -> bool:
    """Whether imageio and its ffmpeg plugin are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("imageio", "imageio_ffmpeg"))


def check_video_path(path: Path, flag: str = "--out") -> Path:
    """``path`` if a video can be written there: a .mp4 (with its writer installed) or .gif
    file in a folder that exists or can be made, and that takes new files; else ConfigError."""
    suffix = path.suffix.lower()
    if suffix not in (".mp4", ".gif"):
        raise ConfigError(f"{flag} {str(path)!r}: expected a .mp4 or .gif file name")
    if suffix == ".mp4" and not mp4_available():
        raise ConfigError(f"{flag} {str(path)!r}: {MP4_HINT} (or write a .gif)")
    if path.is_dir():
        raise ConfigError(f"{flag} {str(path)!r}: is a folder; give a file name")
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except FileExistsError:
        raise ConfigError(f"{flag} {str(path)!r}: {str(folder)!r} is not a folder") from None
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ConfigError(
            f"{flag} {str(path)!r}: cannot write in {str(folder)!r} ({reason})"
        ) from None
    return path


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: float) -> int:
    """Write uint8 RGB ``frames`` of one size to ``path`` (its suffix picks MP4 or GIF);
    returns the number of frames."""
    path = Path(path)
    if path.suffix.lower() == ".gif":
        return _write_gif(path, frames, fps)
    import imageio.v2 as imageio

    count = 0
    # macro_block_size=2: keep the frame size (yuv420p only needs even sides)
    with imageio.get_writer(
        path, format="FFMPEG", fps=fps, codec="libx264", pixelformat="yuv420p", macro_block_size=2
    ) as writer:
        for frame in frames:
            writer.append_data(frame)
            count += 1
    return count


def _write_gif(path: Path, frames: Iterable[np.ndarray], fps: float) -> int:
    from PIL import Image

    # palette images (one byte a pixel) as they come: Pillow writes a GIF from all frames at once
    images = [Image.fromarray(f).convert("P", palette=Image.Palette.ADAPTIVE) for f in frames]
    images[0].save(
        path,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=round(1000 / fps),
        loop=0,
    )
    return len(images)
