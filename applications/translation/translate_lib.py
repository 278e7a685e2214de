"""The `translate` command (`APPLICATION.user_command`): translate texts with
the shipped (or given) weights, through the same function as the SavedModel's
`translate` signature, and note what the model could not read."""


def add_arguments(parser):
    """`--beam-size`, `--greedy` and `--no-repeat-ngram-size`."""
    parser.add_argument("--beam-size", type=int, default=None,
                        help="beam width; not given: the weights' decoding settings (5 for the shipped ones)")
    parser.add_argument("--greedy", action="store_true", help="greedy decoding (beam size 1)")
    parser.add_argument("--no-repeat-ngram-size", type=int, default=None, metavar="N",
                        help="beam search never repeats a piece n-gram of this size (0: off); not "
                        "given: the weights' setting (chosen on validation; off for the shipped "
                        "ones). 3 stops the loops a model can fall into on unfamiliar text")


def run(application, args, texts):
    """Each text's translation, with the source's length in pieces, whether it
    was truncated, and how many of its pieces the vocabulary lacks."""
    if args.beam_size is not None and args.beam_size < 1:
        raise ValueError(f"--beam-size must be >= 1. Received: beam_size={args.beam_size}")
    if args.no_repeat_ngram_size is not None and args.no_repeat_ngram_size < 0:
        raise ValueError("--no-repeat-ngram-size must be >= 0. "
                         f"Received: no_repeat_ngram_size={args.no_repeat_ngram_size}")
    import tensorflow as tf

    from applications.translation.serving import translate_function

    model, preprocessor, _ = application.from_pretrained(args.weights)
    beam = 1 if args.greedy else (args.beam_size or preprocessor.decoding["beam_size"])
    alpha = 0.0 if beam == 1 else preprocessor.decoding["length_penalty"]
    guard = preprocessor.decoding["no_repeat_ngram_size"]
    if args.no_repeat_ngram_size is not None:
        guard = args.no_repeat_ngram_size
    guard = 0 if beam == 1 else guard  # greedy search has no guard
    translate = tf.function(translate_function(model, preprocessor, beam, alpha, guard))
    # An argument that is not UTF-8 reaches Python with surrogate escapes:
    # its bytes go to the model as they are (it replaces what is invalid).
    raw = [t.encode("utf-8", "surrogateescape") for t in texts]
    out = translate(tf.constant(raw))
    rows = []
    for i, source in enumerate(raw):
        rows.append({
            "text": source.decode("utf-8", "replace"),
            "translation": out["translation"][i].numpy().decode("utf-8"),
            "source_pieces": int(out["source_tokens"][i]),
            "max_source_pieces": int(preprocessor.max_source_length),
            "truncated": bool(out["truncated"][i]),
            "unknown_pieces": int(out["unknown_tokens"][i]),
            "beam_size": int(beam),
            "length_penalty": float(alpha),
            "no_repeat_ngram_size": int(guard),
        })
    return rows


def format_row(row):
    """The translation, then in brackets the notes on an empty, truncated or
    partly out-of-vocabulary source."""
    notes = []
    n = row["source_pieces"]
    if n == 0:
        notes.append("empty source: nothing to translate")
    if row["truncated"]:
        notes.append(f"truncated: {n} source pieces, the first {row['max_source_pieces']} were read")
    if row["unknown_pieces"]:
        notes.append(f"{row['unknown_pieces']} piece(s) outside the vocabulary")
    return row["translation"] + (f"    [{'; '.join(notes)}]" if notes else "")
