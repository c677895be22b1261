"""The labelling state, apart from any window: images, points, undo, confirmation, navigation, saving.

Every change is saved at once (atomically, see ``labeler.labels``), so quitting, crashing or
being killed loses nothing. Predictions fill an image's points when it is first shown; they are
saved only once the image is touched (a point moved, or the image confirmed), and they keep the
predictor's name as their source until a hand moves them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from glare.labeler.labels import ImageLabels, LabelFile, LabelledPoint, now_iso

Predictor = Callable[[Path], dict[str, tuple[float, float]]]
"""Image path -> predicted points by name (an empty dict when it has no answer)."""

HAND = "hand"


@dataclass(frozen=True)
class Progress:
    confirmed: int
    total: int
    index: int
    """0-based position of the current image."""


class LabellingSession:
    """Labels for an ordered list of images, stored in one label file."""

    def __init__(self, images: Sequence[Path], label_file: LabelFile, predictor: Predictor | None = None,
                 predictor_name: str = "none", log: Callable[[str], None] = print):
        if not images:
            raise ValueError("no images to label: pass a folder of images, an image or a prepared dataset's manifest.jsonl")
        self.images = [Path(p) for p in images]
        self.file = label_file
        self.keys = [label_file.key_for(p) for p in self.images]
        self.predictor = predictor
        self.predictor_name = predictor_name
        self.log = log
        self.unreadable: set[int] = set()
        self._predicted: dict[int, dict[str, LabelledPoint]] = {}
        self._undo: dict[int, list[ImageLabels | None]] = {}
        self.index = 0
        self._last_move: Callable[[], None] = self.jump_to_unconfirmed
        self.index = self.first_unconfirmed(start=0)

    # -- what is shown ---------------------------------------------------------------------------

    @property
    def image(self) -> Path:
        return self.images[self.index]

    @property
    def key(self) -> str:
        return self.keys[self.index]

    @property
    def point_names(self) -> tuple[str, ...]:
        return self.file.point_names

    def is_confirmed(self, index: int | None = None) -> bool:
        labels = self.file.images.get(self.keys[self.index if index is None else index])
        return bool(labels and labels.confirmed)

    def points(self) -> dict[str, LabelledPoint]:
        """The current image's points: saved ones, else predictions (computed once per image)."""
        saved = self.file.images.get(self.key)
        if saved is not None:
            return dict(saved.points)
        if self.index not in self._predicted:
            predicted = self.predictor(self.image) if self.predictor else {}
            stamp = now_iso()
            self._predicted[self.index] = {
                name: LabelledPoint((float(xy[0]), float(xy[1])), self.predictor_name, stamp)
                for name, xy in predicted.items() if name in self.point_names
            }
        return dict(self._predicted[self.index])

    def progress(self) -> Progress:
        total = len(self.images) - len(self.unreadable)
        confirmed = sum(self.is_confirmed(i) for i in range(len(self.images)) if i not in self.unreadable)
        return Progress(confirmed, total, self.index)

    # -- editing (each change is one undo step and one save) ------------------------------------

    def set_point(self, name: str, xy: tuple[float, float]) -> None:
        """Place ``name`` at ``xy`` (image pixels) by hand; a confirmed image becomes unconfirmed until confirmed again."""
        if name not in self.point_names:
            raise ValueError(f"{name!r} is not a point of set {self.file.point_set!r}: {', '.join(self.point_names)}")
        points = self.points()
        points[name] = LabelledPoint((float(xy[0]), float(xy[1])), HAND, now_iso())
        self._change(ImageLabels(points, confirmed=False))

    def next_point_to_set(self) -> str | None:
        """The first point of the set not placed yet (neither predicted nor by hand), or None."""
        points = self.points()
        return next((name for name in self.point_names if name not in points), None)

    def nearest_point(self, xy: tuple[float, float]) -> tuple[str, float] | None:
        """The placed point closest to ``xy`` and its distance in image pixels."""
        points = self.points()
        if not points:
            return None
        name = min(points, key=lambda n: (points[n].xy[0] - xy[0]) ** 2 + (points[n].xy[1] - xy[1]) ** 2)
        distance = ((points[name].xy[0] - xy[0]) ** 2 + (points[name].xy[1] - xy[1]) ** 2) ** 0.5
        return name, distance

    def confirm(self) -> bool:
        """Confirm the current image's points as labels; False (and nothing changes) if a point is missing."""
        points = self.points()
        missing = [name for name in self.point_names if name not in points]
        if missing:
            self.log(f"cannot confirm {self.key}: missing {', '.join(missing)}")
            return False
        self._change(ImageLabels(points, confirmed=True, confirmed_at=now_iso()))
        return True

    def clear(self) -> None:
        """Remove every point of the current image (predictions too), and its confirmation."""
        self._change(ImageLabels({}, confirmed=False))

    def undo(self) -> bool:
        """Take back the current image's last change; False when there is none."""
        history = self._undo.get(self.index)
        if not history:
            return False
        previous = history.pop()
        if previous is None:
            self.file.images.pop(self.key, None)
        else:
            self.file.images[self.key] = previous
        self.save()
        return True

    def _change(self, labels: ImageLabels) -> None:
        self._undo.setdefault(self.index, []).append(copy.deepcopy(self.file.images.get(self.key)))
        self.file.images[self.key] = labels
        self.save()

    def save(self) -> None:
        self.file.save()

    # -- navigation -------------------------------------------------------------------------------

    def go(self, index: int) -> None:
        self.index = max(0, min(index, len(self.images) - 1))

    def next(self) -> None:
        self._last_move = self.next
        self._step(+1)

    def previous(self) -> None:
        self._last_move = self.previous
        self._step(-1)

    def _step(self, direction: int) -> None:
        index = self.index + direction
        while 0 <= index < len(self.images) and index in self.unreadable:
            index += direction
        if 0 <= index < len(self.images):
            self.index = index

    def first_unconfirmed(self, start: int) -> int:
        """The first unconfirmed image at or after ``start`` (wrapping round); ``start`` if all are confirmed."""
        count = len(self.images)
        for offset in range(count):
            index = (start + offset) % count
            if index not in self.unreadable and not self.is_confirmed(index):
                return index
        return start % count

    def jump_to_unconfirmed(self) -> None:
        self._last_move = self.jump_to_unconfirmed
        self.index = self.first_unconfirmed(self.index + 1)

    def mark_unreadable(self) -> None:
        """The current image cannot be read: note it, and carry on the way we came (next, previous or unconfirmed)."""
        self.unreadable.add(self.index)
        self.log(f"skipping unreadable image {self.image}")
        if len(self.unreadable) == len(self.images):
            raise ValueError("none of the images can be read")
        before = self.index
        self._last_move()
        if self.index == before:  # at the end of the list: turn round
            if self._last_move == self.next:
                self.previous()
            else:
                self.next()

    def describe(self) -> str:
        """The current image's labels as text (the 'v' key)."""
        state = "confirmed" if self.is_confirmed() else "not confirmed"
        points = self.points()
        parts = [f"{name}=({p.xy[0]:.1f}, {p.xy[1]:.1f}) [{p.source}]" for name, p in points.items()]
        return f"{self.key} ({state}): " + ("; ".join(parts) if parts else "no points")
