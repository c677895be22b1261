"""``glare-label`` (also ``glare label``): click pupils (and eye corners) into a JSON label file.

    glare-label FOLDER_OR_IMAGE_OR_MANIFEST [--labels FILE] [--points pupils|pupil|eye] [--predict model|meanshift|none]
                [--order name|uncertain]

``--order uncertain`` shows first the images glare's model is least sure about, so that hand labels
go where they help most; the label file feeds ``glare-train prepare --labels`` as it is.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from glare.labeler.doubt import ORDERS
from glare.labeler.labels import POINT_SETS, open_label_file
from glare.labeler.predict import PREDICTORS


def images_from(source: Path) -> list[Path]:
    """A folder's images (recursively), one image, or the source photos a prepared dataset's manifest names."""
    from glare.capture import image_paths

    if source.is_dir():
        return image_paths(source, recursive=True)
    if source.suffix == ".jsonl":
        seen: dict[str, None] = {}
        for number, line in enumerate(source.read_text().splitlines(), start=1):
            if line.strip():
                try:
                    seen.setdefault(json.loads(line)["image"], None)
                except (json.JSONDecodeError, KeyError, TypeError):
                    raise ValueError(f"{source}:{number} is not a manifest line with an \"image\"; "
                                     "pass the manifest.jsonl that 'glare-train prepare' wrote") from None
        return [Path(p) for p in seen]
    if source.is_file():
        return [source]
    raise FileNotFoundError(f"{source} does not exist: pass a folder of images, an image or a manifest.jsonl")


def default_label_path(source: Path) -> Path:
    if source.is_dir():
        return source / "labels.json"
    return source.parent / ("hand-labels.json" if source.suffix == ".jsonl" else "labels.json")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glare-label", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="a folder of images (eye crops or faces), an image, or a manifest.jsonl")
    parser.add_argument("--labels", help="the JSON label file (default: labels.json in the folder, "
                                         "hand-labels.json beside a manifest); resumed, never wiped")
    parser.add_argument("--points", choices=list(POINT_SETS), default=None,
                        help="pupils: both pupils of a face photo (default for a new file); "
                             "pupil: one pupil per eye crop; eye: pupil and both corners per eye crop")
    parser.add_argument("--predict", choices=PREDICTORS, default="model",
                        help="what pre-fills the points: glare's model, mean-shift, or nothing")
    parser.add_argument("--order", choices=ORDERS, default="name",
                        help="name: path order; uncertain: the images glare's model is least sure about first")
    return parser


def log(message: str) -> None:
    # Flushed line by line: scripts (and the tests) follow the tool's actions as they happen.
    print(message, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from glare.labeler.predict import make_predictor
        from glare.labeler.session import LabellingSession
        from glare.labeler.window import LabelWindow
        from glare.sinks import display_available

        source = Path(args.source)
        label_file = open_label_file(Path(args.labels) if args.labels else default_label_path(source), args.points)
        if not display_available():
            raise RuntimeError("no display to open the labelling window on: run it on a desktop (or under Xvfb)")
        predictor = make_predictor(args.predict, label_file.point_set)
        images = images_from(source)
        if args.order == "uncertain":
            from glare.labeler.doubt import make_doubt, most_doubtful_first

            images = most_doubtful_first(images, make_doubt(label_file.point_set), log=log)
        session = LabellingSession(images, label_file, predictor, args.predict, log=log)
        LabelWindow(session, log=log).run()
        progress = session.progress()
        print(f"{progress.confirmed} of {progress.total} images confirmed in {label_file.path}"
              + (f"; {len(session.unreadable)} unreadable images skipped" if session.unreadable else ""))
        return 0
    except (ValueError, OSError, RuntimeError) as error:
        print(f"glare-label: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
