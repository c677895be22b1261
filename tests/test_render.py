"""The effect on pixels: pass-through, changes confined to the eyes, the iris where it was sent, steadiness."""

import cv2
import numpy as np
import pytest

from glare.capture import VideoFileSource
from glare.engine import AnalysisSettings, Engine, EngineSettings
from glare.eyes import Eye, EyeShape
from glare.faces import TrackerSettings
from glare.gaze import Gaze, GazeSettings
from glare.iris import _sclera_edge, fit_iris
from glare.openness import CLOSED_OPENNESS
from glare.render import IRIS_ROOM_TUCK, EyeRedraw, eye_region, iris_target, render_face
from glare.render_kernels import _extent, _square_mean, _weighted_sums, fit_sclera, sclera_colour
from tests.conftest import covered, synthetic_eye_frame


def _move(frame, landmarks, source, target, radius, squint=0.0, roll_deg=0.0):
    eye = Eye("right", landmarks)
    redraw = EyeRedraw(eye, EyeShape.of(eye), np.array(source, float), np.array(target, float))
    return eye, render_face(frame, [redraw], radius, squint)


def _darkness_centre(image, dark_below=160):
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(float)
    darkness = np.clip(dark_below - gray, 0, None)
    ys, xs = np.mgrid[0 : gray.shape[0], 0 : gray.shape[1]]
    return np.array([(xs * darkness).sum(), (ys * darkness).sum()]) / darkness.sum(), gray


@pytest.fixture(scope="module")
def woman_frames(woman_video):
    source = VideoFileSource(woman_video)
    frames = {c.index: c for c in source.frames() if c.index in range(280, 320)}
    source.close()
    return [frames[i] for i in sorted(frames)]


def test_effect_none_passes_frames_through(woman_frames):
    engine = Engine(EngineSettings(gaze=GazeSettings(effect="none")))
    for captured in woman_frames[:10]:
        output, result = engine.process(captured.image, captured.time_s)
        assert result.faces
        assert np.array_equal(output, captured.image)


def test_glare_changes_pixels_only_inside_the_dilated_eyes(woman_frames):
    engine = Engine(EngineSettings(gaze=GazeSettings(effect="glare", squint=0.6)))
    changed_somewhere = False
    for captured in woman_frames:
        output, result = engine.process(captured.image, captured.time_s)
        allowed = np.zeros(captured.image.shape[:2], np.uint8)
        for face in result.faces:
            for eye_result in face.eyes:
                eye = eye_result.eye
                cv2.fillPoly(allowed, [np.round(eye.contour).astype(np.int32)], 255)
                margin = int(np.ceil(0.5 * eye.width_px))
                allowed = np.maximum(allowed, cv2.dilate(
                    cv2.fillPoly(np.zeros_like(allowed), [np.round(eye.contour).astype(np.int32)], 255),
                    cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))))
        changed = np.any(output != captured.image, axis=2)
        changed_somewhere |= changed.any()
        assert not (changed & (allowed == 0)).any()
    assert changed_somewhere


def test_drawing_in_place_gives_the_copying_output(woman_frames):
    copying, drawing = (Engine(EngineSettings(gaze=GazeSettings(effect="glare"))) for _ in range(2))
    drawn_any = False
    for captured in woman_frames[:12]:
        expected, _ = copying.process(captured.image, captured.time_s)
        frame = captured.image.copy()
        output, result = drawing.process(frame, captured.time_s, in_place=True)
        assert output is frame and np.array_equal(output, expected)
        drawn_any |= any(eye.iris.rendered for face in result.faces for eye in face.eyes if eye.iris)
    assert drawn_any
    read_only = woman_frames[0].image.copy()
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        drawing.process(read_only, 1.0, in_place=True)


@pytest.mark.parametrize("source, target, roll_deg", [((100.0, 60.0), (86.0, 60.0), 0.0), ((96.0, 60.5), (110.3, 59.6), 0.0),
                                                      ((103.0, 59.0), (91.4, 61.2), 0.0), ((100.0, 60.0), (88.0, 55.0), 20.0)])
def test_the_moved_iris_lands_on_its_target_and_leaves_no_ghost(source, target, roll_deg):
    frame, landmarks = synthetic_eye_frame(source, iris_radius=7.0, roll_deg=roll_deg)
    output = frame.copy()
    _, moved = _move(output, landmarks, source, target, 7.0)
    assert moved
    centre, gray = _darkness_centre(output)
    assert np.hypot(*(centre - target)) < 1.0
    # Nothing of the old iris stays: where it was, and the new one is not, is sclera (225) again.
    ys, xs = np.mgrid[0 : gray.shape[0], 0 : gray.shape[1]]
    vacated = (np.hypot(xs - source[0], ys - source[1]) <= 7.5) & (np.hypot(xs - target[0], ys - target[1]) > 8.5)
    inside = cv2.fillPoly(np.zeros(gray.shape, np.uint8), [np.round(landmarks).astype(np.int32)], 1).astype(bool)
    inside = cv2.erode(inside.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    assert (vacated & inside).sum() > 10
    assert gray[vacated & inside].min() > 205
    # The moved iris keeps its dark rim and its pupil: as dark as the original at the same offsets.
    assert gray[int(round(target[1])), int(round(target[0]))] < 60


def test_the_limbus_fit_finds_the_iris_the_locator_missed():
    frame, landmarks = synthetic_eye_frame((104.0, 60.0), iris_radius=8.0)
    shape = EyeShape.of(Eye("right", landmarks))
    fit = fit_iris(frame, shape, np.array([100.5, 60.0]), 8.0)
    assert np.hypot(*(fit.centre - (104.0, 60.0))) < 0.6
    assert fit.radius_px == pytest.approx(8.0, abs=0.8)


def test_the_sclera_edge_is_the_wide_bright_stretch_past_a_speck_a_light_iris_or_lashes():
    # From the pupil (index 0) outward: a catchlight, a light iris's middle, its dark limbal ring, the
    # sclera (from index 10), lashes across the line, then a corner's skin past them. Halfway is 100.
    profile = np.array([20, 20, 180, 20, 110, 115, 110, 105, 60, 60, 160, 200, 200, 190, 60, 30, 130, 140, 120.0])
    edge = _sclera_edge(profile, 0, len(profile), 100.0, hold=2)
    assert 9.0 < edge < 10.0


def test_an_iris_in_a_corner_keeps_the_locators_centre():
    # No sclera shows on the corner's side: the middle is not put a prior radius from the one edge seen.
    frame, landmarks = synthetic_eye_frame((124.0, 60.0), iris_radius=8.0)
    given = np.array([123.0, 60.0])
    fit = fit_iris(frame, EyeShape.of(Eye("right", landmarks)), given, 8.0)
    assert fit.radius_px is None
    assert np.array_equal(fit.centre, given)


def test_the_limbus_crossing_stays_between_its_samples_when_the_start_is_already_bright():
    # A bright speck at the iris centre: the profile starts above the halfway level and dips under it.
    # The crossing must still land on the profile (it once came out millions of pixels away, and the
    # renderer drew a black wedge from there).
    profile = np.array([120.0, 100.0, 130.0, 200.0])
    for start, stop in ((0, 4), (3, -1)):
        crossing = _sclera_edge(profile, start, stop, 100.0)
        assert min(start, stop) <= crossing <= max(start, stop)
    assert _sclera_edge(np.array([40.0, 60.0, 200.0]), 0, 3, 130.0) == pytest.approx(1.5)


def test_the_limbus_fit_is_not_fooled_by_a_catchlight_or_a_light_iris():
    # Walking out from the pupil, the catchlight and the light iris both rise past halfway to the sclera
    # before the limbus; the fit once took them for it (an iris half a radius off, or 0.7 of its size).
    # Measured against the same iris drawn plain (dark, no speck), which the fit finds (the test above).
    fits = []
    for light in (False, True):
        frame, landmarks = synthetic_eye_frame((101.3, 60.0), iris_radius=9.0, light_iris=light, catchlight=light)
        fits.append(fit_iris(frame, EyeShape.of(Eye("right", landmarks)), np.array([100.0, 60.4]), 9.0))
    plain, fooling = fits
    assert plain.radius_px == pytest.approx(9.0, abs=0.8)
    assert fooling.radius_px == pytest.approx(plain.radius_px, abs=0.5)
    assert abs(fooling.centre[0] - plain.centre[0]) < 0.3


def test_the_sclera_field_follows_shading_and_ignores_lashes():
    rng = np.random.default_rng(1)
    u, t = rng.uniform(-1, 1, 300).astype(np.float32), rng.uniform(0, 1, 300).astype(np.float32)
    true = (200 - 30 * u * u - 25 * (1 - t))[:, None] * np.ones(3, np.float32)
    colours = (true + rng.normal(0, 2, true.shape)).astype(np.float32)
    colours[:40] = 30.0  # lashes and lid shadow among the samples
    coefficients, low, high, _ = fit_sclera(u, t, colours)
    # Judged where an iris can have been: the very tips of the corners are extrapolated from few samples.
    sclera = np.arange(40, 300)[np.abs(u[40:]) < 0.9]
    error = np.array([sclera_colour(coefficients, low, high, u[k], t[k]) for k in sclera]) - true[sclera]
    assert np.abs(error).max() < 8.0
    # Lashes pull nothing down, and the field leans no more than a little to the bright side.
    assert abs(float(error.mean())) < 1.5


def test_a_face_whose_eye_cannot_be_redrawn_keeps_both_eyes():
    frame, landmarks = synthetic_eye_frame((100.0, 60.0))
    tiny = (landmarks - (100.0, 60.0)) * 0.2 + (100.0, 60.0)
    eyes = [Eye("right", landmarks), Eye("left", tiny)]
    redraws = [EyeRedraw(eye, EyeShape.of(eye), eye.centre, eye.centre - (8.0, 0.0)) for eye in eyes]
    output = frame.copy()
    assert not render_face(output, redraws, 9.0)
    assert np.array_equal(output, frame)


@pytest.mark.parametrize("source, target", [((100.0, 22.0), (92.0, 20.0)), ((100.0, 60.0), (100.0, 104.0))])
def test_an_iris_off_its_eye_is_not_drawn(source, target):
    """A pupil far past the lids (a fit thrown off the face) or a target there is no iris to move: the face is
    left alone. A target window that lay wholly outside the eye's box raised from the compiled loops."""
    frame, landmarks = synthetic_eye_frame((100.0, 60.0))
    output = frame.copy()
    _, drawn = _move(output, landmarks, source, target, 9.0)
    assert not drawn
    assert np.array_equal(output, frame)


def test_nothing_changes_outside_the_eye_region():
    frame, landmarks = synthetic_eye_frame((100.0, 60.0))
    output = frame.copy()
    eye, _ = _move(output, landmarks, (100.0, 60.0), (85.0, 60.0), 9.0, squint=1.0)
    x0, y0, x1, y1 = eye_region(eye, frame.shape)
    outside = np.ones(frame.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(output[outside], frame[outside])
    assert not np.array_equal(output, frame)


def test_a_squint_lowers_the_upper_lid_most_in_the_middle():
    def first_sclera_row(image, column):
        return int(np.argmax(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)[:, column] > 200))

    frame, landmarks = synthetic_eye_frame((100.0, 60.0))
    rows = {}
    for squint in (0.0, 1.0):
        output = frame.copy()
        _move(output, landmarks, (100.0, 60.0), (100.0, 60.0), 9.0, squint=squint)
        rows[squint] = [first_sclera_row(output, column) for column in (74, 115)]
    near_corner, off_middle = np.subtract(rows[1.0], rows[0.0])
    # The opening is 22 px high: the lid drops a third of it in the middle, less toward the corners.
    assert 3 <= off_middle <= 7 and 0 <= near_corner <= 1


def test_full_glare_puts_the_iris_near_the_corner_and_keeps_its_height():
    _, landmarks = synthetic_eye_frame((100.0, 60.0))
    eye = Eye("right", landmarks)
    target = iris_target(eye, EyeShape.of(eye), np.array([100.0, 61.0]), 9.0, Gaze((-1.0, 0.0), 1.0, 0.0))
    assert target[0] == pytest.approx(70.0 + IRIS_ROOM_TUCK * 9.0, abs=0.01)
    assert target[1] == pytest.approx(61.0, abs=0.01)
    halfway = iris_target(eye, EyeShape.of(eye), np.array([100.0, 61.0]), 9.0, Gaze((-1.0, 0.0), 0.5, 0.0))
    assert halfway[0] == pytest.approx((100.0 + target[0]) / 2, abs=0.01)


def test_a_face_lost_for_a_moment_keeps_its_effect(woman_frames):
    """A hand across the face hides it until its track is dropped: when it shows again its glare goes on
    where it was, where it used to vanish and fade in again as for a new face."""
    tracking = TrackerSettings(detect_every=3, new_faces_every=1000, search_in_thread=False)
    engine = Engine(EngineSettings(AnalysisSettings(tracking), GazeSettings(effect="glare", direction="left")))
    for index, captured in enumerate(woman_frames[:20]):
        _, result = engine.process(captured.image, index / 30)
    (before,) = result.faces
    assert before.gaze.strength == pytest.approx(1.0)
    index = 20
    while result.faces:
        assert index < 30, "the covered face was never dropped"
        _, result = engine.process(covered(woman_frames[index].image, before.face.box), index / 30)
        index += 1
    _, result = engine.process(woman_frames[index].image, index / 30)
    (after,) = result.faces
    assert after.face.track_id == before.face.track_id
    assert after.gaze.strength == pytest.approx(1.0), "the effect started over"
    assert after.gaze.offset[0] == pytest.approx(before.gaze.offset[0], abs=0.1)


def test_the_pupils_keep_up_with_a_moving_head(woman_frames):
    """A head sliding across the frame carries its pupils with it: they are smoothed where they sit in the
    eye, not where they sit in the frame, so they trail the real pupil by about a pixel at 8 px a frame
    (3.7 px on average when smoothed in the frame), and a face lost for a moment that comes back a little
    elsewhere has no pupil held where it was."""
    still = woman_frames[20].image
    engine = Engine(EngineSettings(AnalysisSettings(TrackerSettings(search_in_thread=False)),
                                   GazeSettings(effect="glare")))
    pupils = []
    for index in range(40):
        shift = 8.0 * max(index - 10, 0) - 120.0  # still for a third of a second, then 8 px a frame
        moved = cv2.warpAffine(still, np.float32([[1, 0, shift], [0, 1, 0]]), still.shape[1::-1],
                               borderMode=cv2.BORDER_REPLICATE)
        _, result = engine.process(moved, index / 30)
        (face,) = result.faces
        # Where each pupil is in the still frame the moved one was made from.
        pupils.append([eye.pupil.centre[0] - shift for eye in face.eyes])
    pupils = np.array(pupils)
    behind = np.abs(pupils[12:] - pupils[5:10].mean(axis=0))
    assert behind.mean() < 2.0


def test_the_iris_is_steady_on_a_still_face(woman_frames):
    rng = np.random.default_rng(0)
    still = woman_frames[20].image
    engine = Engine(EngineSettings(gaze=GazeSettings(effect="glare")))
    targets = []
    for index in range(90):
        noisy = np.clip(still + rng.normal(0, 2.0, still.shape), 0, 255).astype(np.uint8)
        _, result = engine.process(noisy, index / 30)
        targets.append([eye.iris.target for eye in result.faces[0].eyes])
    steady = np.array(targets[30:])
    rms = np.sqrt(np.mean(np.sum(np.diff(steady, axis=0) ** 2, axis=-1)))
    assert rms <= 0.3


def test_a_newly_found_face_starts_from_its_real_gaze(woman_frames):
    engine = Engine(EngineSettings(gaze=GazeSettings(effect="glare")))
    _, result = engine.process(woman_frames[0].image, 0.0)
    for eye in result.faces[0].eyes:
        assert np.allclose(eye.iris.target, eye.iris.source)


def test_closed_eyes_are_never_changed_and_both_eyes_move_together(woman_video):
    # Frames 20-110 of the clip hold a long close of the eyes and the blinks around it.
    engine = Engine(EngineSettings(gaze=GazeSettings(effect="glare")))
    source = VideoFileSource(woman_video)
    closed = 0
    try:
        for captured in source.frames():
            if captured.index >= 110:
                break
            output, result = engine.process(captured.image, captured.time_s)
            for face in result.faces:
                assert face.right_eye.iris.rendered == face.left_eye.iris.rendered
                for eye_result in face.eyes:
                    if eye_result.eye.openness < CLOSED_OPENNESS:
                        closed += 1
                        x0, y0, x1, y1 = eye_region(eye_result.eye, output.shape)
                        assert np.array_equal(output[y0:y1, x0:x1], captured.image[y0:y1, x0:x1])
    finally:
        source.close()
    assert closed > 20


def _large_eye(scale, iris_centre_offset=(0.0, 0.0)):
    """The synthetic eye at ``scale`` times its usual size (an eye of a 1080p face at 3), and its centre."""
    centre = (100.0 * scale, 60.0 * scale)
    frame, landmarks = synthetic_eye_frame(
        (centre[0] + iris_centre_offset[0] * scale, centre[1] + iris_centre_offset[1] * scale), eye_centre=centre,
        eye_half_width=30.0 * scale, eye_half_height=11.0 * scale, iris_radius=7.0 * scale,
        size=(int(200 * scale), int(120 * scale)))
    return frame, landmarks, np.array(centre)


@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_the_fill_keeps_the_shade_under_the_lid_and_meets_the_real_sclera_without_a_seam(scale):
    frame, landmarks, centre = _large_eye(scale)
    # The upper lid shades the sclera under it: 45 levels darker at the lid, fading over half the opening.
    ys = np.arange(frame.shape[0], dtype=np.float64)[:, None]
    lid_y = centre[1] - 11.0 * scale
    shade = 45.0 * np.clip(1.0 - (ys - lid_y) / (11.0 * scale), 0.0, 1.0)
    sclera = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) >= 220
    shaded = frame.astype(np.float64) - np.where(sclera, shade, 0.0)[..., None]
    frame = np.clip(shaded, 0, 255).astype(np.uint8)
    radius = 7.0 * scale
    target = centre - (15.0 * scale, 0.0)
    output = frame.copy()
    _, moved = _move(output, landmarks, centre, target, radius)
    assert moved
    gray_in = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(float)
    gray_out = cv2.cvtColor(output, cv2.COLOR_BGR2GRAY).astype(float)
    # Along rows through the hole, past where the new iris reaches: the fill takes each row's sclera
    # level from beside the hole (the shade under the lid included), and meets it without a step.
    for row_share in (-0.6, -0.45, -0.25, 0.0, 0.3):
        y = int(round(centre[1] + row_share * 11.0 * scale))
        beside = gray_in[y, int(centre[0] + 1.6 * radius + 2 * scale): int(centre[0] + 1.6 * radius + 4 * scale)].mean()
        filled = gray_out[y, int(centre[0] - 0.2 * radius): int(centre[0] + 1.2 * radius)]
        assert np.abs(filled - beside).max() < 8.0, (row_share, beside, filled)


@pytest.mark.parametrize("speck_offset", [(0.4, -0.3), (0.2, -0.15)], ids=["on the iris", "on the pupil"])
def test_a_catchlight_leaves_no_spot_or_ring_where_it_sat_on_the_moved_iris(speck_offset):
    scale = 3.0
    plain, landmarks, centre = _large_eye(scale)
    radius = 7.0 * scale
    # A soft catchlight, as a lens blurs it, up and to the right: beside the pupil, or on its edge (a pupil
    # surrounded by the lighter iris must not be filled grey with it).
    speck = np.zeros(plain.shape[:2], np.float32)
    speck_at = centre + np.array(speck_offset) * radius
    cv2.circle(speck, tuple(int(round(v)) for v in speck_at), int(round(0.12 * radius)), 1.0, -1)
    speck = cv2.GaussianBlur(speck, (0, 0), 0.08 * radius)
    speck /= speck.max()
    lit = np.clip(plain + speck[..., None] * (250.0 - plain), 0, 255).astype(np.uint8)
    target = centre - (1.5 * radius, 0.0)
    outputs = []
    for frame in (plain, lit):
        output = frame.copy()
        assert _move(output, landmarks, centre, target, radius)[1]
        outputs.append(cv2.cvtColor(output, cv2.COLOR_BGR2GRAY).astype(float))
    without, with_light = outputs
    # Where the catchlight sat in the iris's texture, the moved iris looks as it would without one: no
    # pale ring of its blurred rim, no dark spot filled from the far side of the iris.
    ys, xs = np.mgrid[0 : without.shape[0], 0 : without.shape[1]]
    spot = target + (speck_at - centre)
    around = np.hypot(xs - spot[0], ys - spot[1]) <= 0.25 * radius
    difference = np.abs(with_light[around] - without[around])
    assert difference.mean() < 10.0 and difference.max() < 60.0, (difference.mean(), difference.max())
    # The catchlight itself is still drawn, once, on the moved iris.
    assert with_light[np.hypot(xs - target[0], ys - target[1]) < radius].max() > 200


@pytest.mark.parametrize("gap_px, together", [(400, True), (60, False)])
def test_large_eyes_are_drawn_on_two_threads_exactly_as_on_one(monkeypatch, gap_px, together):
    """A 1080p face's eyes are handed out one to each thread, and drawn to the same pixels as one after the
    other; eyes whose boxes meet (they would write to the same pixels) are drawn on one thread. (Which
    thread does draw is up to the scheduler: a job the helper has not begun is taken back, and a test that
    asked for two threads failed on a busy machine.)"""
    import glare.render as render

    frame, landmarks, centre = _large_eye(2.0)
    pair = np.zeros((frame.shape[0], frame.shape[1] + gap_px, 3), np.uint8)
    pair[:, :frame.shape[1]] = frame
    pair[:, gap_px:] = np.maximum(pair[:, gap_px:], frame)
    eyes = [Eye("right", landmarks), Eye("left", landmarks + (gap_px, 0.0))]
    redraws = [EyeRedraw(eye, EyeShape.of(eye), eye.centre, eye.centre - (20.0, 0.0)) for eye in eyes]
    handed_out = []
    each = render._each

    def recording(jobs, on_two_threads):
        handed_out.append((len(jobs), on_two_threads))
        return each(jobs, on_two_threads)

    monkeypatch.setattr(render, "_each", recording)
    outputs = []
    for two_threads_min_px in (10**9, render.TWO_THREADS_MIN_PX):
        monkeypatch.setattr(render, "TWO_THREADS_MIN_PX", two_threads_min_px)
        outputs.append(pair.copy())
        assert render_face(outputs[-1], redraws, 14.0, squint=0.8)
    # Each pass hands out the eyes' layers, then their drawing: two jobs each time.
    assert handed_out == [(2, False), (2, False), (2, together), (2, together)]
    assert np.array_equal(outputs[0], outputs[1])
    assert not np.array_equal(outputs[0], pair)


@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_the_fill_is_shaded_under_the_upper_lid_as_the_sclera_beside_it_is(scale):
    """Lashes and the lid shade the sclera under the upper lid, more than the fit's sclera takes for shade
    rather than lash: the fill where the iris was is shaded there as the sclera beside it is, not as bright
    as mid-eye up to the lashes (a pale disc pasted on)."""
    frame, landmarks, centre = _large_eye(scale)
    # 40% darker at the lid, none from 0.4 of the opening down, along the lid's curve.
    ys, xs = np.mgrid[0:frame.shape[0], 0:frame.shape[1]].astype(np.float64)
    half_height = 11.0 * scale * np.sqrt(np.clip(1.0 - ((xs - centre[0]) / (30.0 * scale)) ** 2, 0.0, 1.0))
    below_lid = (ys - (centre[1] - half_height)) / np.maximum(2.0 * half_height, 1e-6)
    shade = 0.6 + 0.4 * np.clip(below_lid / 0.4, 0.0, 1.0)
    sclera = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) >= 220
    frame = np.where(sclera[..., None], frame * shade[..., None], frame).astype(np.uint8)
    radius = 7.0 * scale
    output = frame.copy()
    _, moved = _move(output, landmarks, centre, centre - (15.0 * scale, 0.0), radius)
    assert moved
    gray_out = cv2.cvtColor(output, cv2.COLOR_BGR2GRAY).astype(float)
    columns = slice(int(centre[0] - 0.2 * radius), int(centre[0] + 1.2 * radius))
    for share_of_opening in (0.15, 0.25, 0.6):
        y = int(round(centre[1] - 11.0 * scale + share_of_opening * 22.0 * scale))
        # What the sclera there would be: the open sclera's grey, shaded as the rest is at that depth.
        real = 225.0 * shade[y, columns]
        assert np.abs(gray_out[y, columns] - real).mean() < 15.0, (share_of_opening, gray_out[y, columns], real)


def test_eyes_shut_behind_a_hand_are_left_alone_though_their_landmarks_call_them_open(woman_video):
    """woman_expressions.mp4 frames 150-170 (eyes open, the effect on), then 100-131 as if they came next: a
    hand at her face, both eyes shut, which dlib's points read up to 0.21 open (the effect drew a dark
    iris and a pale fill on the lids in 14 of them). Their openings show no sclera against what her open
    eyes showed, and the eyes are left alone."""
    engine = Engine(EngineSettings(analysis=AnalysisSettings(tracker=TrackerSettings(search_in_thread=False)),
                                   gaze=GazeSettings(effect="glare")))
    source = VideoFileSource(woman_video)
    frames = {captured.index: captured.image for captured in source.frames() if captured.index <= 170}
    source.close()
    drawn_open, called_open = 0, 0
    for step, index in enumerate(list(range(150, 171)) + list(range(100, 132))):
        output, result = engine.process(frames[index], step / 24.0)
        for face in result.faces:
            if index >= 150:
                drawn_open += face.right_eye.iris.rendered
                continue
            called_open += min(e.eye.openness for e in face.eyes) >= CLOSED_OPENNESS
            for eye_result in face.eyes:
                x0, y0, x1, y1 = eye_region(eye_result.eye, output.shape)
                assert np.array_equal(output[y0:y1, x0:x1], frames[index][y0:y1, x0:x1]), index
    assert drawn_open > 5 and called_open > 15


def test_the_catchlight_tables_over_the_specks_answer_as_the_whole_windows_would():
    """The catchlight's fill reads squares round its specks from summed-area tables made over the specks' extent
    only: every square, at every speck and either reach, must sum as over the whole window, near its edges too."""
    generator = np.random.default_rng(3)
    height, width = 30, 40
    colours, weights = generator.uniform(0, 255, (height, width, 4)), generator.uniform(0, 1, (height, width))
    whole = _weighted_sums(colours, weights)
    for specks in ([(2, 3), (4, 5)], [(15, 20)], [(28, 38), (27, 1)]):
        plane = np.zeros((height, width))
        for y, x in specks:
            plane[y, x] = 0.5
        for reach in (2, 7):
            top, bottom, left, right = _extent(plane, reach)
            part = _weighted_sums(colours[top:bottom, left:right], weights[top:bottom, left:right])
            for y, x in specks:
                for square in (max(reach - 4, 1), reach):
                    for channel in range(5):
                        assert _square_mean(part, y - top, x - left, square, channel) == pytest.approx(
                            _square_mean(whole, y, x, square, channel), rel=1e-9, abs=1e-6)
    assert _extent(np.zeros((5, 5)), 2) == (0, 0, 0, 0)


def test_an_eye_that_shows_no_iris_darker_than_its_sclera_is_left_alone():
    """A painted face, a blurred or dark photo, an eye behind sunglasses: where the locator's iris is no darker
    than the sclera beside it there is no iris to move, and the redraw smeared them. The same eye with its
    iris in sight is drawn."""
    frame, landmarks = synthetic_eye_frame((100.0, 60.0))
    drawn = frame.copy()
    assert _move(drawn, landmarks, (100.0, 60.0), (88.0, 60.0), 9.0)[1]
    assert not np.array_equal(drawn, frame)
    # The iris washed out to within a few levels of the sclera (a blur, a glare on glasses).
    washed = frame.copy()
    eye_pixels = washed < 200
    washed[eye_pixels & (np.abs(washed.astype(int) - 170) > 2)] = 215
    untouched = washed.copy()
    assert not _move(untouched, landmarks, (100.0, 60.0), (88.0, 60.0), 9.0)[1]
    assert np.array_equal(untouched, washed)


def test_the_holes_feathered_edge_is_drawn_all_the_way_round():
    """The fill blends into the real sclera over the same width at every angle round the old iris: at the
    hole's left and right ends as on its diagonals. (Its square of pixels once stopped half a pixel past the
    hole, short of the feather: at 1080p a seam where the fill met the sclera beside it.)"""
    from glare.render_kernels import HOLE_FEATHER_PX, edge_scale, hole_radius

    scale = 5.0  # an eye of a close 1080p face: the feather over 5 px
    frame, landmarks, centre = _large_eye(scale)
    # Veined sclera: the smooth fill differs from it, so that every pixel the fill's edge blends over changes.
    rng = np.random.default_rng(0)
    sclera = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) >= 220
    veins = rng.integers(-60, 1, frame.shape[:2])
    frame = np.clip(frame.astype(int) + np.where(sclera, veins, 0)[..., None], 0, 255).astype(np.uint8)
    radius = 7.0 * scale
    output = frame.copy()
    _, moved = _move(output, landmarks, centre, centre, radius)
    assert moved
    hole, width = hole_radius(radius), HOLE_FEATHER_PX * edge_scale(radius)
    ys, xs = np.mgrid[0:frame.shape[0], 0:frame.shape[1]]
    offset_x, offset_y = xs - centre[0], ys - centre[1]
    # The feather's outer part (from 1.6 px past the hole, where the weight is still a twentieth), on the darker
    # veins: the fill keeps to the bright sclera, and blends them at least 2 levels lighter.
    distance = np.hypot(offset_x, offset_y)
    ring = (distance > hole + 1.6) & (distance < hole + 0.45 * width) & sclera & (veins < -40)
    changed = np.abs(output.astype(int) - frame.astype(int)).max(axis=2) > 0
    angle = np.degrees(np.arctan2(offset_y, offset_x))
    for side, (low, high) in {"right": (-25, 25), "upper right": (-60, -30), "upper left": (-150, -120)}.items():
        pixels = ring & (angle > low) & (angle < high)
        assert pixels.sum() >= 3, side
        assert changed[pixels].mean() > 0.8, side
    left = ring & ((angle > 155) | (angle < -155))
    assert left.sum() >= 3 and changed[left].mean() > 0.8


def test_the_holes_edges_strided_walk_stops_where_single_steps_stop():
    """``_hole_edge`` strides while well inside the hole, then steps: it must end where a walk of single
    steps from the old iris ends, on every line across the eye, for irises in the middle, near a corner and
    past it, and for a line whose first point already lies outside the hole."""
    import math

    from glare.render_kernels import _distance, _hole_edge, _point_at
    from glare.render_kernels import IrisPath

    frame, landmarks, centre = _large_eye(3.0)
    eye = Eye("right", landmarks)
    numbers = EyeShape.of(eye).numbers((0, 0))

    def single_steps(path, t, source_u, step, reach):
        u = source_u
        while abs(u) < 1.0:
            x, y = _point_at(numbers, u, t)
            if _distance(x - path.source_x, y - path.source_y) > reach:
                return u
            u += step
        return math.nan

    step = 0.5 / numbers.half_width
    walks = 0
    # Off round numbers: on the synthetic eye's round ones a point can lie exactly at the reach, where the last
    # bit of the arithmetic decides, and compiled and Python arithmetic differ there.
    for offset_x, offset_y in ((0.0, 0.0), (-60.0, 5.0), (70.0, -8.0), (91.0, 0.0), (0.0, 40.0)):
        source = (centre[0] + offset_x + 0.137, centre[1] + offset_y + 0.291)
        path = IrisPath(source[0], source[1], source[0], source[1])
        source_u = ((source[0] - numbers.origin_x) * numbers.along_x
                    + (source[1] - numbers.origin_y) * numbers.along_y) / numbers.half_width
        for t in np.linspace(0.0, 1.0, 9):
            for direction in (-1.0, 1.0):
                for reach in (5.13, 25.37, 60.71):
                    expected = single_steps(path, t, source_u, direction * step, reach)
                    found = _hole_edge(numbers, path, t, source_u, direction * step, reach)
                    assert (math.isnan(expected) and math.isnan(found)) or abs(found - expected) < 1e-9, (
                        offset_x, offset_y, t, direction, reach, expected, found)
                    walks += not math.isnan(expected)
    assert walks > 100


def test_the_squints_fixed_point_maps_are_the_ones_opencv_converts_from_float_maps():
    """The squint's maps are made in OpenCV's fixed point directly; a point converts exactly as
    ``cv2.convertMaps`` converts a float32 map, halves, negatives and the pixel's edges included."""
    from glare.render_kernels import to_fixed_point

    steps = np.arange(-64, 64, dtype=np.float32) / np.float32(64.0)  # every half of a 1/32 pixel
    xs = np.concatenate([steps, steps + np.float32(17.0), np.float32([3.2, -0.01, 120.999, 0.015625])])
    ys = np.roll(xs, 7)
    whole, fractions = cv2.convertMaps(xs[None, :], ys[None, :], cv2.CV_16SC2)
    converted = [to_fixed_point(float(x), float(y)) for x, y in zip(xs, ys)]
    assert [(int(a), int(b)) for a, b in whole[0]] == [(x, y) for x, y, _ in converted]
    assert fractions[0].tolist() == [f for _, _, f in converted]
