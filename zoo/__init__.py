"""rnn-zoo: recurrent neural networks as Keras 3 layers, and applications."""

__version__ = "0.1.0"
