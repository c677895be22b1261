"""The ``glare`` command: parses arguments and hands over to the modules that do the work."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from glare.pupils import DEFAULT_LOCATOR, LOCATORS, make_locator
from glare.commands import dispatch
from glare.settings import shared_data_dir


MODEL_HELP = "an eye_model.tflite made by glare-train export, instead of the bundled one"
TRIMMED_LANDMARKS_HELP = ("follow faces walking fewer of the trees of dlib's landmark model: a little faster; the "
                          "whole model reads eyes behind a hand as closed more reliably")
LANDMARK_MODEL_HELP = "a landmark predictor made by glare-train landmarks, to follow faces with instead of dlib's"


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _locate(args: argparse.Namespace) -> int:
    from glare.faces import FaceFinder
    from glare.locate import locate_all

    finder, locator = FaceFinder(), make_locator(args.method, _path(args.model))
    out = open(args.jsonl, "w") if args.jsonl else sys.stdout
    failures = 0
    try:
        for record in locate_all([Path(p) for p in args.inputs], finder, locator):
            failures += "error" in record
            out.write(json.dumps(record) + "\n")
            out.flush()
    finally:
        if out is not sys.stdout:
            out.close()
    if failures:
        print(f"{failures} input(s) could not be read; their records hold an \"error\"", file=sys.stderr)
    return 0


def _eval(args: argparse.Namespace) -> int:
    from glare.eye_labels import read_eye_centres, split_of
    from glare.evaluation import evaluate, format_table, save_cumulative_plot

    faces = read_eye_centres(Path(args.labels))
    if args.split != "all":
        faces = [face for face in faces if split_of(face.image) == args.split]
    if args.limit:
        faces = faces[: args.limit]
    if not faces:
        print(f"no labelled faces in split {args.split!r} of {args.labels}", file=sys.stderr)
        return 2
    locators = [make_locator(name, _path(args.model)) for name in args.methods]
    print(f"scoring {len(faces)} faces of split {args.split!r} from {args.labels}", file=sys.stderr)
    report = evaluate(faces, locators, progress=lambda i: i % 200 == 0 and print(f"  {i}/{len(faces)}", file=sys.stderr),
                      grayscale_copies=args.grayscale_copies)
    print(format_table(report))
    try:
        save_cumulative_plot(report, Path(args.plot), title=f"Pupil localisation, split {args.split}")
        print(f"cumulative error plot: {args.plot}")
    except ModuleNotFoundError:
        print("cumulative error plot skipped: it needs matplotlib (pip install 'glare[eval]')", file=sys.stderr)
    return 0


def _frame_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a frame size: write WIDTHxHEIGHT, e.g. 1280x720") from None
    if width < 16 or height < 16:
        raise argparse.ArgumentTypeError(f"{text} is too small: at least 16x16")
    return width, height


def _bench(args: argparse.Namespace) -> int:
    from glare.bench import FrameLayout, compare_layouts, format_comparison, format_report, run_bench
    from glare.engine import AnalysisSettings
    from glare.faces import TrackerSettings
    from glare.landmark_predictor import PredictorTrim

    tracker = TrackerSettings(landmark_model=_path(args.landmark_model),
                              landmark_trim=PredictorTrim() if args.trimmed_landmarks else None)
    settings = AnalysisSettings(tracker, args.method, _path(args.model))
    layout = FrameLayout(args.size, args.mosaic)
    if args.in_turn:
        if layout == FrameLayout():
            print("glare bench: --in-turn compares the clip with a larger layout of it: give --size WxH or "
                  "--mosaic N too", file=sys.stderr)
            return 2
        effect = args.effects[0] if args.effects else "glare"  # glare unless asked: the effect users run
        print(format_comparison(compare_layouts(Path(args.input), layout, args.in_turn, settings, effect, args.frames)))
        return 0
    effects = args.effects if args.effects is not None else ["none", "glare", "anxious"]
    report = run_bench(Path(args.input), settings, args.frames, skip_naive=args.no_naive, effects=effects,
                       layout=layout)
    print(format_report(report))
    return 0


def _eval_render(args: argparse.Namespace) -> int:
    from glare.engine import AnalysisSettings, EngineSettings
    from glare.faces import TrackerSettings
    from glare.gaze import GazeSettings
    from glare.landmark_predictor import PredictorTrim
    from glare.render_eval import RenderReport, contact_sheet, evaluate_clip, format_report, worst_picks

    report = RenderReport()
    gaze = GazeSettings(effect=args.effect, direction=args.direction, seed=args.seed)
    tracker = TrackerSettings(landmark_trim=PredictorTrim() if args.trimmed_landmarks else None)
    settings = EngineSettings(analysis=AnalysisSettings(tracker, locator=args.method))
    for clip in args.input:
        print(f"rendering {clip}", file=sys.stderr)
        evaluate_clip(Path(clip), gaze, report, settings, args.frames)
    print(format_report(report))
    picks = worst_picks(report, args.worst)
    picks += [("output", Path(clip).name, frame) for clip in args.input for frame in args.show]
    contact_sheet(report, picks, Path(args.sheet))
    print(f"contact sheet: {args.sheet}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from glare.runner import RunSettings, load_config, run

    config = load_config(Path(args.config)) if args.config else {}
    if config:
        try:
            RunSettings(**config)
        except ValueError as error:
            raise ValueError(f"config file {args.config}: {error}") from None
    given = {key: value for key, value in vars(args).items()
             if key in RunSettings.__dataclass_fields__ and value is not None}
    settings = RunSettings(**{**config, **given})
    summary = run(settings)
    print(summary.describe())
    return 0


def _apply(args: argparse.Namespace) -> int:
    from glare.engine import AnalysisSettings, Engine, EngineSettings
    from glare.gaze import GazeSettings
    from glare.photos import apply_to_files

    effect = {key: getattr(args, key) for key in ("effect", "direction", "intensity", "squint", "seed")
              if getattr(args, key) is not None}
    analysis = AnalysisSettings(locator=args.locator or DEFAULT_LOCATOR, model_path=_path(args.model))
    engine = Engine(EngineSettings(analysis=analysis, gaze=GazeSettings(**effect)))
    summary = apply_to_files(engine, [Path(p) for p in args.inputs], Path(args.out) if args.out else None,
                             Path(args.out_file) if args.out_file else None, args.overwrite)
    print(summary.describe())
    return 0 if summary.written or not summary.skipped else 2


def _demo(args: argparse.Namespace) -> int:
    from glare.demo import run_demo

    output = run_demo(Path(args.out), window=False if args.no_window else None, effect=args.effect)
    print(f"clip: {output.clip}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glare", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    locate = commands.add_parser("locate", help="pupils in images, one JSON object per image")
    locate.add_argument("inputs", nargs="+", metavar="IMAGE_OR_DIR")
    locate.add_argument("--method", choices=list(LOCATORS), default=DEFAULT_LOCATOR)
    locate.add_argument("--jsonl", metavar="OUT", help="write the JSON lines here instead of to standard output")
    locate.add_argument("--model", help=MODEL_HELP)
    locate.set_defaults(handler=_locate)

    evaluate = commands.add_parser("eval", help="accuracy against hand-labelled eye centres")
    evaluate.add_argument("--labels", default=str(shared_data_dir() / "eye-centres.txt"),
                          help="an eye-centres.txt file (default: the shared data's)")
    evaluate.add_argument("--methods", nargs="+", choices=list(LOCATORS), default=list(LOCATORS))
    evaluate.add_argument("--split", choices=["train", "val", "test", "all"], default="test",
                          help="which part of the labels to score (split by photo, fixed); default: the held-out test part")
    evaluate.add_argument("--limit", type=int, default=0, help="score at most this many faces")
    evaluate.add_argument("--grayscale-copies", action="store_true",
                          help="score grayscale JPEG copies of the photos (as LFW and dim webcams give)")
    evaluate.add_argument("--model", help=MODEL_HELP)
    evaluate.add_argument("--plot", default="eval-cumulative.png", help="where to write the cumulative-error PNG")
    evaluate.set_defaults(handler=_eval)

    bench = commands.add_parser("bench", help="milliseconds per stage against the naive loop")
    bench.add_argument("--input", required=True, metavar="VIDEO")
    bench.add_argument("--method", choices=list(LOCATORS), default=DEFAULT_LOCATOR)
    bench.add_argument("--frames", type=int, default=None, help="time at most this many frames")
    bench.add_argument("--no-naive", action="store_true", help="skip the naive loop")
    bench.add_argument("--effects", nargs="*", default=None,
                       help="time the whole engine with each of these effects (none: analysis alone; default none, "
                            "glare and anxious, or glare alone with --in-turn)")
    bench.add_argument("--model", help=MODEL_HELP)
    bench.add_argument("--landmark-model", metavar="DAT", help=LANDMARK_MODEL_HELP)
    bench.add_argument("--trimmed-landmarks", action="store_true", help=TRIMMED_LANDMARKS_HELP)
    bench.add_argument("--size", type=_frame_size, metavar="WxH",
                       help="upscale the clip's frames to this size first (untimed), e.g. 1920x1080")
    bench.add_argument("--mosaic", type=int, default=1, metavar="N",
                       help="tile each frame N x N first (untimed): 2 times four faces")
    bench.add_argument("--in-turn", type=int, default=0, metavar="ROUNDS",
                       help="with --size or --mosaic: the whole effect (the first of --effects) at the clip's own "
                            "size and at that layout, a pass of each a round, in turn, and the ratio")
    bench.set_defaults(handler=_bench)

    from glare.gaze import DIRECTIONS

    realism = commands.add_parser("eval-render", help="how real the effect looks: figures and a contact sheet")
    realism.add_argument("--input", required=True, nargs="+", metavar="VIDEO")
    realism.add_argument("--effect", choices=["glare", "anxious"], default="glare")
    realism.add_argument("--direction", choices=DIRECTIONS, default="alternate",
                         help="alternate (the default) moves the irises both ways")
    realism.add_argument("--seed", type=int, default=0)
    realism.add_argument("--method", choices=list(LOCATORS), default=DEFAULT_LOCATOR)
    realism.add_argument("--trimmed-landmarks", action="store_true", help=TRIMMED_LANDMARKS_HELP)
    realism.add_argument("--frames", type=int, default=None, help="render at most this many frames of each clip")
    realism.add_argument("--sheet", default="render-sheet.png", help="where to write the contact sheet PNG")
    realism.add_argument("--worst", type=int, default=3, help="how many of the worst frames by each figure to show")
    realism.add_argument("--show", type=int, nargs="*", default=[], metavar="FRAME",
                         help="frames to add to the sheet whatever their figures")
    realism.set_defaults(handler=_eval_render)

    # Defaults are None so that a config file's keys apply unless a flag is given.
    live = commands.add_parser("run", help="the live effect on a webcam or a video file")
    source = live.add_mutually_exclusive_group()
    source.add_argument("--camera", type=int, metavar="N", help="webcam index (default 0)")
    source.add_argument("--input", metavar="FILE", help="a video file, an image or a folder of images")
    _add_effect_flags(live)
    live.add_argument("--debug", action="store_true", default=None,
                      help="start with the debug overlay on the window (landmarks, pupils, timings); d toggles it")
    live.add_argument("--virtual-camera", action="store_true", default=None, help="send frames to a virtual camera")
    live.add_argument("--model", help=MODEL_HELP)
    live.add_argument("--landmark-model", metavar="DAT", help=LANDMARK_MODEL_HELP)
    live.add_argument("--trimmed-landmarks", action="store_true", default=None, help=TRIMMED_LANDMARKS_HELP)
    live.add_argument("--record", metavar="OUT.mp4",
                      help="record the effect to an H.264 MP4 (an existing file is kept: the clip takes OUT-2.mp4...)")
    live.add_argument("--overwrite", action="store_true", default=None, help="let --record replace an existing file")
    live.add_argument("--no-window", dest="window", action="store_false", default=None, help="show no window")
    live.add_argument("--mirror", action="store_true", default=None, help="flip the picture left to right")
    live.add_argument("--width", type=int, help="camera capture width")
    live.add_argument("--height", type=int, help="camera capture height")
    live.add_argument("--fps", type=float, help="camera frame rate (and the recording's)")
    live.add_argument("--config", metavar="FILE.toml", help="settings file with the same keys as these flags")
    live.set_defaults(handler=_run)

    photos = commands.add_parser("apply", help="the effect on photos, written at their exact size and format")
    photos.add_argument("inputs", nargs="+", metavar="PHOTO_OR_DIR")
    where = photos.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", metavar="DIR", help="folder for the outputs, each under its photo's name")
    where.add_argument("-o", dest="out_file", metavar="OUT.jpg", help="the output file, for one photo")
    _add_effect_flags(photos)
    photos.add_argument("--model", help=MODEL_HELP)
    photos.add_argument("--overwrite", action="store_true", help="let the outputs replace existing files")
    photos.set_defaults(handler=_apply)

    demo = commands.add_parser("demo", help="the effect on an embedded clip: no webcam needed")
    demo.add_argument("--out", default="glare-demo", help="folder for the clip and the before/after picture")
    demo.add_argument("--effect", choices=["glare", "anxious"], default="glare")
    demo.add_argument("--no-window", action="store_true", help="do not show a window even if a display exists")
    demo.set_defaults(handler=_demo)

    return parser


def _add_effect_flags(parser: argparse.ArgumentParser) -> None:
    """The effect's flags, the same for ``glare run`` and ``glare apply``; None where not given, so that a
    config file's keys (or the defaults) apply."""
    from glare.gaze import DIRECTIONS, EFFECTS

    parser.add_argument("--effect", choices=EFFECTS)
    parser.add_argument("--direction", choices=DIRECTIONS, help="which way the glare looks, as seen in the output")
    parser.add_argument("--intensity", type=float, help="how far the irises go, 0-1 (default 0.85)")
    parser.add_argument("--squint", type=float, help="how far the upper lids drop during a glare, 0-1 (default 0.35)")
    parser.add_argument("--seed", type=int, help="makes the anxious darting reproducible")
    parser.add_argument("--locator", choices=list(LOCATORS), help="pupil locator")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    return dispatch(build_parser().parse_args(argv), "glare")


if __name__ == "__main__":
    sys.exit(main())
