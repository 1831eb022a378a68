"""Contact sheets: one row per sample, columns clean → fog → shake → rain → noise."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from degradations.compose import ORDER, Sample
from rnr.imageio import to_uint8

_LABEL_HEIGHT = 18


def labelled_tile(image: np.ndarray, label: str, cell: int, absent: bool = False) -> np.ndarray:
    """`image` (at most cell x cell) centred in a cell under a label band; uint8 RGB."""
    image = to_uint8(image)
    canvas = np.full((cell + _LABEL_HEIGHT, cell, 3), 150 if absent else 0, np.uint8)
    top, left = _LABEL_HEIGHT + (cell - image.shape[0]) // 2, (cell - image.shape[1]) // 2
    canvas[top : top + image.shape[0], left : left + image.shape[1]] = image
    colour = (60, 60, 60) if absent else (255, 255, 255)
    cv2.putText(canvas, label, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, colour, 1, cv2.LINE_AA)
    return canvas


def _tile(image: np.ndarray, label: str, thumb: int, absent: bool = False) -> np.ndarray:
    # an absent stage shows the image carried over unchanged, under a grey label
    tile = cv2.resize(to_uint8(image), (thumb, thumb), interpolation=cv2.INTER_AREA)
    return labelled_tile(tile, label, thumb, absent)


def contact_sheet(samples: Sequence[Sample], thumb: int = 160, gap: int = 4) -> np.ndarray:
    """A uint8 RGB sheet; each stage tile is labelled with its severity, absent ones with '-'."""
    rows = []
    for sample in samples:
        record = sample.record
        current = sample.clean
        tiles = [_tile(current, f"#{record.get('index', '')} clean", thumb)]
        for name in ORDER:
            if name in sample.stages:
                current = sample.stages[name]
                tiles.append(_tile(current, f"{name} {record[name]['severity']:.1f}", thumb))
            else:
                tiles.append(_tile(current, f"{name} -", thumb, absent=True))
        spacer = np.full((thumb + _LABEL_HEIGHT, gap, 3), 255, np.uint8)
        rows.append(np.concatenate([part for tile in tiles for part in (tile, spacer)][:-1], axis=1))
    if not rows:
        raise ValueError("no samples to preview")
    horizontal = np.full((gap, rows[0].shape[1], 3), 255, np.uint8)
    return np.concatenate([part for row in rows for part in (row, horizontal)][:-1], axis=0)
