"""Keras serialization helpers shared by the zoo and its applications."""

import keras


def former_names(*names):
    """Class decorator: `cls` also loads from the registered names it had
    before (`"zoo>RRLCell"`), so `.keras` files saved then still load.

    Use it under `keras.saving.register_keras_serializable`, which gives the
    class its current name. Example:

    ```python
    @former_names("zoo>RRLCell")
    @keras.saving.register_keras_serializable(package="trading")
    class RRLCell(RecurrentCell): ...
    ```
    """

    def decorate(cls):
        for name in names:
            if "<" in name or ">" not in name:
                raise ValueError(f"A registered name is 'package>Class'. Received: {name!r}")
            keras.saving.get_custom_objects()[name] = cls
        return cls

    return decorate
