"""The labelling window: OpenCV draws the image, zoomed, with its points, a progress count and a help line.

Mouse: a click sets the next missing point, or moves the nearest one when all are placed; a
press on a point drags it. Keys are listed in ``HELP``. All state lives in the session; this
module only turns events into session calls and session state into pixels.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from glare.labeler.labels import LabelledPoint
from glare.labeler.session import HAND, LabellingSession

TITLE = "glare-label"
HELP = ("click: set/move point  drag: adjust  +/-: zoom",
        "n/p: next/prev  a: next unconfirmed  Enter: confirm  u: undo  c: clear  v: print  s: save  Esc: quit")
PANEL_HEIGHT = 62
MIN_CANVAS_WIDTH = 820
GRAB_RADIUS_PX = 12
"""Screen pixels: a press this close to a point drags it instead of placing a new one."""

MAGNIFIER_PX = 200
MAGNIFIER_ZOOM = 6.0
"""The magnifier shows the image round the cursor at this many screen pixels per image pixel."""

PREDICTED_COLOUR = (0, 215, 255)
HAND_COLOUR = (80, 220, 80)
CONFIRMED_COLOUR = (255, 160, 40)


def fit_zoom(width: int, height: int, box: tuple[int, int] = (900, 640)) -> float:
    """A zoom that shows the image large (small crops get big pixels), within ``box``."""
    return max(1.0, min(box[0] / width, box[1] / height))


class LabelWindow:
    def __init__(self, session: LabellingSession, log: Callable[[str], None] = print):
        self.session = session
        self.log = log
        self.zoom: float | None = None
        self._image: np.ndarray | None = None
        self._image_index = -1
        self._drag: tuple[str, tuple[float, float]] | None = None
        self._cursor: tuple[float, float] | None = None
        self._was_visible = False

    # -- coordinates ------------------------------------------------------------------------------

    def to_image(self, u: float, v: float) -> tuple[float, float]:
        """Screen pixel -> image pixel (pixel centres are integers on both)."""
        return (u + 0.5) / self.zoom - 0.5, (v + 0.5) / self.zoom - 0.5

    def to_screen(self, xy: tuple[float, float]) -> tuple[int, int]:
        return int(round((xy[0] + 0.5) * self.zoom - 0.5)), int(round((xy[1] + 0.5) * self.zoom - 0.5))

    # -- image ------------------------------------------------------------------------------------

    def _load_current(self) -> bool:
        """Reads the current image once; an unreadable one is skipped. False when none can be read."""
        while self._image_index != self.session.index:
            image = cv2.imread(str(self.session.image), cv2.IMREAD_COLOR)
            if image is None:
                try:
                    self.session.mark_unreadable()
                except ValueError as error:
                    self.log(str(error))
                    return False
                continue
            self._image, self._image_index = image, self.session.index
            self.zoom = fit_zoom(image.shape[1], image.shape[0])
        return True

    def render(self) -> np.ndarray:
        session = self.session
        image = self._image
        size = (int(round(image.shape[1] * self.zoom)), int(round(image.shape[0] * self.zoom)))
        interpolation = cv2.INTER_NEAREST if self.zoom >= 4 else cv2.INTER_LINEAR
        shown = cv2.resize(image, size, interpolation=interpolation)
        canvas = np.full((size[1] + PANEL_HEIGHT, max(size[0], MIN_CANVAS_WIDTH), 3), 32, np.uint8)
        canvas[: size[1], : size[0]] = shown
        confirmed = session.is_confirmed()
        points = session.points()
        if self._drag:
            name, xy = self._drag
            points[name] = LabelledPoint(xy, HAND, "")
        self._draw_points(canvas, points, confirmed, self.to_screen)
        if confirmed:
            cv2.rectangle(canvas, (0, 0), (size[0] - 1, size[1] - 1), CONFIRMED_COLOUR, 2)
        if self._cursor is not None and self.zoom < MAGNIFIER_ZOOM:
            self._draw_magnifier(canvas, image, points, confirmed)
        progress = session.progress()
        status = (f"{progress.confirmed} of {progress.total} confirmed   image {progress.index + 1}/{len(session.images)}: "
                  f"{session.key}   {'CONFIRMED' if confirmed else 'not confirmed'}   "
                  f"yellow: predicted ({session.predictor_name})  green: by hand")
        for row, text in enumerate((status, *HELP)):
            cv2.putText(canvas, text, (6, size[1] + 16 + 19 * row), cv2.FONT_HERSHEY_SIMPLEX, 0.42,
                        (235, 235, 235), 1, cv2.LINE_AA)
        return canvas

    @staticmethod
    def _draw_points(canvas: np.ndarray, points: dict, confirmed: bool, to_screen) -> None:
        for name, point in points.items():
            colour = CONFIRMED_COLOUR if confirmed else HAND_COLOUR if point.source == HAND else PREDICTED_COLOUR
            centre = to_screen(point.xy)
            cv2.circle(canvas, centre, 7, colour, 1, cv2.LINE_AA)
            cv2.drawMarker(canvas, centre, colour, cv2.MARKER_CROSS, 9, 1, cv2.LINE_AA)
            tag = name.replace("_pupil", "").replace("corner_image_", "")
            cv2.putText(canvas, tag, (centre[0] + 9, centre[1] - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1, cv2.LINE_AA)

    def _draw_magnifier(self, canvas: np.ndarray, image: np.ndarray, points: dict, confirmed: bool) -> None:
        """The image round the cursor, enlarged, in the window's top-right corner: pupils are a few pixels wide."""
        cx, cy = self._cursor
        half = (MAGNIFIER_PX / MAGNIFIER_ZOOM) / 2
        # Inset pixel (u, v) shows image point ((u + 0.5) / zoom - 0.5 + x0, ...), x0 the inset's left edge.
        x0, y0 = cx - half + 0.5 / MAGNIFIER_ZOOM, cy - half + 0.5 / MAGNIFIER_ZOOM
        to_inset = np.array([[MAGNIFIER_ZOOM, 0, (0.5 - x0) * MAGNIFIER_ZOOM - 0.5],
                             [0, MAGNIFIER_ZOOM, (0.5 - y0) * MAGNIFIER_ZOOM - 0.5]])
        inset = cv2.warpAffine(image, to_inset, (MAGNIFIER_PX, MAGNIFIER_PX), flags=cv2.INTER_NEAREST,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=(32, 32, 32))
        def to_inset_px(xy):
            return (int(round(to_inset[0, 0] * xy[0] + to_inset[0, 2])), int(round(to_inset[1, 1] * xy[1] + to_inset[1, 2])))
        self._draw_points(inset, points, confirmed, to_inset_px)
        middle = MAGNIFIER_PX // 2
        cv2.drawMarker(inset, (middle, middle), (255, 255, 255), cv2.MARKER_CROSS, 15, 1)
        cv2.rectangle(inset, (0, 0), (MAGNIFIER_PX - 1, MAGNIFIER_PX - 1), (235, 235, 235), 1)
        canvas[:MAGNIFIER_PX, canvas.shape[1] - MAGNIFIER_PX:] = inset

    # -- events -----------------------------------------------------------------------------------

    def on_mouse(self, event: int, u: int, v: int, flags: int, _param=None) -> None:
        if self._image is None or v >= self._image.shape[0] * self.zoom:
            return
        xy = self.to_image(u, v)
        self._cursor = xy
        session = self.session
        if event == cv2.EVENT_LBUTTONDOWN:
            nearest = session.nearest_point(xy)
            missing = session.next_point_to_set()
            if nearest and nearest[1] * self.zoom <= GRAB_RADIUS_PX:
                self._drag = (nearest[0], xy)
            elif missing:
                self._drag = (missing, xy)
            elif nearest:
                self._drag = (nearest[0], xy)
        elif event == cv2.EVENT_MOUSEMOVE and self._drag and flags & cv2.EVENT_FLAG_LBUTTON:
            self._drag = (self._drag[0], xy)
        elif event == cv2.EVENT_LBUTTONUP and self._drag:
            name = self._drag[0]
            self._drag = None
            session.set_point(name, xy)
            self.log(f"point {name} = ({xy[0]:.1f}, {xy[1]:.1f}) on {session.key}")

    def _log_position(self) -> None:
        self.log(f"image {self.session.index + 1}/{len(self.session.images)}: {self.session.key}")

    def on_key(self, key: int) -> bool:
        """Handles one key; False means quit."""
        session = self.session
        char = key & 0xFF
        if char == 27:
            self.log("quit")
            return False
        if char in (13, 10):
            if session.confirm():
                progress = session.progress()
                self.log(f"confirmed {session.key} ({progress.confirmed} of {progress.total})")
                session.jump_to_unconfirmed()
                self._log_position()
        elif char == ord("n"):
            session.next()
            self._log_position()
        elif char == ord("p"):
            session.previous()
            self._log_position()
        elif char == ord("a"):
            session.jump_to_unconfirmed()
            self._log_position()
        elif char == ord("u"):
            self.log(f"undo on {session.key}" if session.undo() else f"nothing to undo on {session.key}")
        elif char == ord("c"):
            session.clear()
            self.log(f"cleared {session.key}")
        elif char == ord("v"):
            self.log(session.describe())
        elif char == ord("s"):
            session.save()
            self.log(f"saved {session.file.path}")
        elif char in (ord("+"), ord("=")):
            self.zoom *= 1.25
            self.log(f"zoom {self.zoom:.2f}")
        elif char == ord("-"):
            self.zoom = max(0.25, self.zoom / 1.25)
            self.log(f"zoom {self.zoom:.2f}")
        return True

    def run(self) -> None:
        # GUI_NORMAL: no Qt toolbar or status bar, so the image starts at the window's top-left pixel.
        cv2.namedWindow(TITLE, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
        cv2.setMouseCallback(TITLE, self.on_mouse)
        progress = self.session.progress()
        self.log(f"labelling {len(self.session.images)} images into {self.session.file.path} "
                 f"({progress.confirmed} confirmed); image {self.session.index + 1}: {self.session.key}")
        try:
            shown = -1
            while self._load_current():
                cv2.imshow(TITLE, self.render())
                key = cv2.waitKeyEx(30)
                if shown != self.session.index:
                    # Said once the image is on screen: scripts wait for it before they click.
                    shown = self.session.index
                    self.log(f"showing image {shown + 1}/{len(self.session.images)}: {self.session.key}")
                if key != -1 and not self.on_key(key):
                    break
                visible = cv2.getWindowProperty(TITLE, cv2.WND_PROP_VISIBLE) >= 1
                if self._was_visible and not visible:
                    self.log("window closed")
                    break
                self._was_visible |= visible
        finally:
            cv2.destroyWindow(TITLE)
