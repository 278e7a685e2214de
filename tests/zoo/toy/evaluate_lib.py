"""The toy metrics."""

from tests.zoo.toy.data import load_data


def evaluate(model, preprocessor, config, dataset, data_dir, split):
    result = model.evaluate(
        preprocessor.dataset(load_data(dataset, split, data_dir), 64), verbose=0, return_dict=True
    )
    return {"accuracy": float(result["accuracy"]), "loss": float(result["loss"])}
