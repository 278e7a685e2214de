"""Decoding over a step function: greedy and beam search (every backend).

A decoder is described by one function,
`step_fn(token_ids, state, constants) -> (logits, state)`, so the same search
serves translation, captioning and music, and runs inside a SavedModel.
"""

from zoo.decoding.beam import beam_search
from zoo.decoding.beam import length_penalty
from zoo.decoding.greedy import greedy_search

__all__ = ["beam_search", "greedy_search", "length_penalty"]
