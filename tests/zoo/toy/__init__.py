"""A tiny application used to test `zoo.cli` end to end (seconds, no data files).

Task: is the sum of a sequence of numbers positive? An LSTM from zoo.layers.
It is written as every application is: this declaration, and one file per
concern (`data`, `preprocessing`, `model`, `evaluate_lib`, `serving`), plus
one-line entry points (`python -m tests.zoo.toy.train`, `.evaluate`,
`.export`, `.predict`). The README's "Add an application" walks through it.
"""

from zoo.application import Application
from zoo.application import UserCommand

APPLICATION = Application(
    name="toy",
    description="Toy application for tests.",
    presets={"quick": {"units": 8, "epochs": 2, "batch_size": 32},
             "full": {"units": 16, "epochs": 4, "batch_size": 32}},
    datasets=("toy", "toy_long"),
    package="tests.zoo.toy",  # data:load_data, model:build_model, ... are found there
    monitor="val_accuracy",
    monitor_mode="max",
    user_command=UserCommand(
        name="predict",
        description="The probability that each sequence (numbers separated by commas) sums to > 0.",
        run="tests.zoo.toy.serving:predict",
        format="tests.zoo.toy.serving:format_prediction",
    ),
)
