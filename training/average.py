"""average: several trained eye models as one, each crop through every model and the points averaged.

Models of different heads (``--head dense`` and ``heatmap``) err on partly different eyes, so their mean
places pupils better than either (docs/measurements.md, "A dense and a heatmap model averaged"). The
average is one Keras model, so it exports to one TFLite file and the runtime still makes one model call
a frame: no change at the runtime's side, the members' cost added up.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import keras

from glare.training.model import load_trained_model, saved_by_keras_2


def average_models(paths: Sequence[Path]) -> keras.Model:
    """One model whose points are the mean of the given trained models' points (each a ``model.keras`` or
    checkpoint that ``glare-train train`` wrote, all for crops of one size)."""
    if len(paths) < 2:
        raise ValueError("averaging needs at least two models")
    hub_made = [str(path) for path in paths if saved_by_keras_2(Path(path))]
    if hub_made:
        raise ValueError(f"{', '.join(hub_made)}: a hub backbone's model is a tf-keras model and cannot be averaged "
                         "with others; average compact models (--backbone compact, either --head)")
    members = [load_trained_model(Path(path)) for path in paths]
    shapes = {member.input_shape for member in members}
    if len(shapes) > 1:
        raise ValueError(f"the models take crops of different sizes ({sorted(shapes)}): average models trained on "
                         "one dataset")
    crops = keras.Input(members[0].input_shape[1:], name="crops")
    # Each member is renamed, so two of one architecture (same layer and model names) can sit side by side.
    points = [keras.Model(member.inputs[0], member.outputs[0], name=f"member_{index}")(crops)
              for index, member in enumerate(members)]
    return keras.Model(crops, keras.layers.Average(name="points")(points), name="glare_eye_average")


def save_average(paths: Sequence[Path], out: Path) -> Path:
    """``average_models`` saved as ``out/model.keras``, ready for ``glare-train export``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / "model.keras"
    average_models(paths).save(model_path)
    return model_path
