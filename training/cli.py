"""``glare-train``: prepare the eye dataset, train the keypoint model, export it to TFLite.

    glare-train prepare --images LFW_DIR --labels eye-centres.txt --out runs/eyes
    glare-train train   --dataset runs/eyes --out runs/model
    glare-train export  --model runs/model/model.keras --dataset runs/eyes --out runs/export
    glare-train calibrate --model runs/export/eye_model.tflite --dataset runs/eyes  # a model exported before the offset
    glare-train average --models runs/dense/model.keras runs/heatmap/model.keras --out runs/pair
    glare-train reproduce                   # all three on ../shared/data, then the bundled model + card
    glare-train landmarks --out runs/landmarks   # the faster landmark predictor the tracker uses
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from glare.settings import shared_data_dir

DEFAULT_SEEDS = (7, 8)
"""glare-train reproduce's seeds (glare.training.reproduce imports TensorFlow, this module must not)."""


def _prepare_settings(args: argparse.Namespace):
    from glare.training.prepare import PrepareSettings

    return PrepareSettings(out=Path(args.out), images=tuple(Path(p) for p in args.images),
                           labels=tuple(Path(p) for p in args.labels), workers=args.workers, limit=args.limit)


def _prepare(args: argparse.Namespace) -> int:
    from glare.training.prepare import prepare

    summary = prepare(_prepare_settings(args), fresh=args.fresh)
    print(summary.describe())
    print(f"dataset: {args.out} (manifest.jsonl, dataset.json)")
    return 0


def _train_settings(args: argparse.Namespace):
    from glare.training.model import ModelSettings
    from glare.training.train import StageSettings, TrainSettings

    return TrainSettings(
        dataset=Path(args.dataset), out=Path(args.out),
        model=ModelSettings(backbone=args.backbone, width_multiplier=args.width, head=args.head,
                            heatmap_stride=args.heatmap_stride),
        coarse=StageSettings(args.coarse_epochs, args.coarse_lr),
        fine=StageSettings(args.fine_epochs, args.fine_lr, patience=args.patience),
        schedule=args.schedule, loss=args.loss, batch_size=args.batch_size, seed=args.seed,
        start_from=Path(args.start_from) if args.start_from else None, verbose=2 if args.quiet_epochs else 1)


def _train(args: argparse.Namespace) -> int:
    from glare.training.train import train

    result = train(_train_settings(args))
    print(f"model: {result.model_path}\ncurves: {result.curves_png}\n"
          f"pupil error on hand-labelled eyes (crop px): val {result.val_pupil_error_px:.2f}, test {result.test_pupil_error_px:.2f}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from glare.training.data import load_samples, select
    from glare.training.export import export

    everything = load_samples(Path(args.dataset))
    samples = select(everything, "val", fine=True)
    if not len(samples):
        samples = everything
    labelled = select(everything, "train", fine=True)
    check = export(Path(args.model), Path(args.out), samples.crops[: args.parity_samples], offset_samples=labelled)
    print(f"parity with Keras on {check.samples} crops: max {check.max_abs_px:.4f} px, mean {check.mean_abs_px:.4f} px")
    if not len(labelled):
        print("no hand-labelled training eyes in the dataset: exported without the labels' offset")
    print(f"exported to {args.out}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from glare.training.data import load_samples, select
    from glare.training.export import label_offset, write_label_offset

    model = Path(args.model)
    if not model.is_file() or not model.with_suffix(".json").is_file():
        raise FileNotFoundError(f"{model} (and its .json beside it) must exist: pass an eye_model.tflite made by 'glare-train export'")
    offset = label_offset(model.read_bytes(), select(load_samples(Path(args.dataset)), "train", fine=True))
    write_label_offset(model, offset)
    print(f"labels' offset: {offset.pupil_x_px:+.3f} crop px on {offset.eyes} hand-labelled training eyes, "
          f"written to {model.with_suffix('.json')}")
    return 0


def _average(args: argparse.Namespace) -> int:
    from glare.training.average import save_average

    model_path = save_average([Path(path) for path in args.models], Path(args.out))
    print(f"model: {model_path} (the mean of {len(args.models)} models' points; export it as any model)")
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    from glare.training.reproduce import reproduce

    card = reproduce(Path(args.data), Path(args.work), Path(args.install_to) if args.install_to else None,
                     quick=args.quick, seeds=tuple(args.seeds))
    print(f"model card: {card}")
    return 0


def _add_train_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backbone", default="compact", help="'compact' (default) or 'hub:PATH' to a feature-vector SavedModel")
    parser.add_argument("--width", type=float, default=1.0, help="channel multiplier of the compact CNN")
    parser.add_argument("--head", choices=["dense", "heatmap"], default="dense",
                        help="how the compact CNN gives its points: regressed from its flattened features (default) "
                             "or as each point's expected place on a heatmap")
    parser.add_argument("--heatmap-stride", type=int, choices=[2, 4], default=2,
                        help="crop pixels per heatmap cell (--head heatmap): 2, or 4 for a cheaper head")
    parser.add_argument("--coarse-epochs", type=int, default=20)
    parser.add_argument("--coarse-lr", type=float, default=2e-3)
    parser.add_argument("--fine-epochs", type=int, default=80)
    parser.add_argument("--fine-lr", type=float, default=1e-3)
    parser.add_argument("--patience", type=int, default=80, help="early stopping patience of the fine stage (default: "
                        "its whole length, keeping its best epoch)")
    parser.add_argument("--schedule", choices=["cosine", "step"], default="cosine",
                        help="learning-rate decay per stage; 'step' halves it every 10 epochs, as the tutorial did")
    parser.add_argument("--loss", choices=["mse", "distance"], default="distance",
                        help="what the fit minimises per point: its distance to the label (default, the bundled "
                             "model's) or the squared distance")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start-from", metavar="MODEL", help="a model.keras or checkpoint to go on training "
                        "instead of new weights (with --coarse-epochs 0: the fine stage only)")
    parser.add_argument("--quiet-epochs", action="store_true", help="one line per epoch instead of a progress bar")


def _landmarks(args: argparse.Namespace) -> int:
    from glare.training.landmarks import LandmarkTrainSettings, train_landmarks

    settings = LandmarkTrainSettings(data=Path(args.data), out=Path(args.out), limit=args.limit,
                                     cascade_depth=args.cascade_depth, trees_per_level=args.trees,
                                     tree_depth=args.tree_depth, oversampling=args.oversampling)
    report = train_landmarks(settings)
    print(f"{report.labelled} of {report.photos} photos labelled by dlib's model, {report.held_out} held out; "
          f"trained in {report.train_seconds:.0f} s; {report.size_mb:.1f} MB")
    if report.eye_error:
        print("eye points against dlib's model, held out (inter-ocular distances): "
              + ", ".join(f"{name} {value:.4f}" for name, value in report.eye_error.items()))
    print(f"model: {Path(args.out) / 'face_landmarks_fast.dat'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glare-train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    data = shared_data_dir()

    prepare = commands.add_parser("prepare", help="eye crops with coarse and fine labels, split by person")
    prepare.add_argument("--images", nargs="*", default=[], metavar="DIR", help="folders of face photos (searched recursively)")
    prepare.add_argument("--labels", nargs="*", default=[], metavar="FILE",
                         help="hand labels: eye-centres.txt files and glare-label JSON files")
    prepare.add_argument("--out", required=True)
    prepare.add_argument("--workers", type=int, default=0, help="processes (default: one per core)")
    prepare.add_argument("--limit", type=int, default=0, help="use at most this many images")
    prepare.add_argument("--fresh", action="store_true", help="rebuild instead of resuming")
    prepare.set_defaults(handler=_prepare)

    train = commands.add_parser("train", help="coarse-to-fine training of the eye keypoint model")
    train.add_argument("--dataset", required=True)
    train.add_argument("--out", required=True)
    _add_train_options(train)
    train.set_defaults(handler=_train)

    export = commands.add_parser("export", help="TFLite export with a parity check")
    export.add_argument("--model", required=True, help="a model.keras from 'train'")
    export.add_argument("--dataset", required=True, help="the prepared dataset (crops for the parity check)")
    export.add_argument("--out", required=True)
    export.add_argument("--parity-samples", type=int, default=500)
    export.set_defaults(handler=_export)

    calibrate = commands.add_parser("calibrate", help="measure the hand labels' horizontal offset for an exported model "
                                                      "('export' does it too) and record it in its JSON")
    calibrate.add_argument("--model", required=True, help="an eye_model.tflite made by 'export'")
    calibrate.add_argument("--dataset", required=True, help="the prepared dataset it was trained on")
    calibrate.set_defaults(handler=_calibrate)

    average = commands.add_parser("average", help="several trained models as one whose points are their mean")
    average.add_argument("--models", nargs="+", required=True, metavar="MODEL",
                         help="model.keras files (or checkpoints) that 'train' wrote on one dataset")
    average.add_argument("--out", required=True, help="folder for the averaged model.keras")
    average.set_defaults(handler=_average)

    reproduce = commands.add_parser("reproduce", help="the bundled model from the shared data: prepare, train, export, score")
    reproduce.add_argument("--data", default=str(data), help=f"the shared data folder (default {data})")
    reproduce.add_argument("--work", default="runs/reproduce", help="folder for the dataset, checkpoints and exports")
    reproduce.add_argument("--install-to", default=None,
                           help="copy the model and its card here (glare/assets to replace the bundled one)")
    reproduce.add_argument("--quick", action="store_true", help="a few images and epochs: checks the pipeline, not a model")
    reproduce.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS), metavar="SEED",
                           help="one training run per seed: the spread goes in the model card, the run with the lowest "
                                "validation error is shipped (default: %(default)s)")
    reproduce.set_defaults(handler=_reproduce)

    landmarks = commands.add_parser("landmarks", help="a faster 68-point landmark predictor, distilled from dlib's")
    landmarks.add_argument("--data", default=str(data), help=f"the shared data folder (default {data})")
    landmarks.add_argument("--out", required=True)
    landmarks.add_argument("--limit", type=int, default=0, help="use at most this many photos")
    landmarks.add_argument("--cascade-depth", type=int, default=10)
    landmarks.add_argument("--trees", type=int, default=200, help="trees per cascade level")
    landmarks.add_argument("--tree-depth", type=int, default=5)
    landmarks.add_argument("--oversampling", type=int, default=20)
    landmarks.set_defaults(handler=_landmarks)
    return parser


def main(argv: list[str] | None = None) -> int:
    from glare.commands import dispatch

    return dispatch(build_parser().parse_args(argv), "glare-train")


if __name__ == "__main__":
    sys.exit(main())
