"""Decoding over a step function: greedy, beam search and sampling (every backend).

A decoder is described by one function,
`step_fn(token_ids, state, constants) -> (logits, state)`, so the same search
serves translation, captioning and music, and runs inside a SavedModel.
"""

from zoo.decoding.beam import beam_search
from zoo.decoding.beam import length_penalty
from zoo.decoding.beam import repeated_ngram_mask
from zoo.decoding.greedy import greedy_search
from zoo.decoding.sampling import counter_uniform
from zoo.decoding.sampling import sample_logits
from zoo.decoding.sampling import sample_search

__all__ = [
    "beam_search",
    "counter_uniform",
    "greedy_search",
    "length_penalty",
    "repeated_ngram_mask",
    "sample_logits",
    "sample_search",
]
