"""Recurrent cells and layers, attention and an attention decoder, written in
`keras.ops` (TensorFlow, JAX, torch).

`project_sequence` and `check_units` are the helpers the zoo's own cells
use, public for cells written elsewhere (subclasses of `RecurrentCell`).
"""

from zoo.layers._utils import check_units
from zoo.layers._utils import project_sequence
from zoo.layers.attention_decoder import AttentionDecoder
from zoo.layers.bahdanau_attention import BahdanauAttention
from zoo.layers.conv_lstm_2d import ConvLSTM2D
from zoo.layers.conv_lstm_2d_cell import ConvLSTM2DCell
from zoo.layers.gru import GRU
from zoo.layers.gru_cell import GRUCell
from zoo.layers.lstm import LSTM
from zoo.layers.lstm_cell import LSTMCell
from zoo.layers.luong_attention import LuongAttention
from zoo.layers.recurrent_cell import RecurrentCell
from zoo.layers.rnn import RNN
from zoo.layers.simple_rnn import SimpleRNN
from zoo.layers.simple_rnn_cell import SimpleRNNCell
from zoo.layers.stacked_rnn import StackedRNN

__all__ = [
    "AttentionDecoder",
    "BahdanauAttention",
    "ConvLSTM2D",
    "ConvLSTM2DCell",
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "LuongAttention",
    "RNN",
    "RecurrentCell",
    "SimpleRNN",
    "SimpleRNNCell",
    "StackedRNN",
    "check_units",
    "project_sequence",
]
