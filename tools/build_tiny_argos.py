#!/usr/bin/env python3
"""Build a tiny, meaningless Argos Translate package offline, in well under a second.

The package has the real layout (``metadata.json``, ``sentencepiece.model``, a
CTranslate2 ``model/``) so the whole argos path (install, listing, SentencePiece,
``translate_batch``) runs without network or real weights. Its output is gibberish
by design; tests use it to check the plumbing, never the quality.

    python tools/build_tiny_argos.py OUT.argosmodel [--from en] [--to ur] [--seed 7]

How it is made: SentencePiece (vocabulary ~64, identity normalisation, ``<unk> <s>
</s>`` at ids 0-2) trained on a few hundred generated lines; a one-layer, two-head
transformer from ``TransformerSpec.from_config(1, 2)`` whose variables are filled
with fixed-seed arrays of the right shapes; a positive bias on the end-of-sentence
logit of the output projection so decoding stops after a few tokens.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import tempfile
import time
import zipfile
from pathlib import Path

DIM = 32
FFN = 64
VOCAB = 64
# fmt: off
WORDS = [
    "tomorrow", "is", "pe", "day", "please", "bring", "trainers", "and", "a", "water", "bottle", "the",
    "class", "trip", "to", "museum", "on", "friday", "reading", "books", "go", "home", "every", "monday",
    "spellings", "test", "well", "done", "everyone", "for", "great", "week", "of", "learning", "our",
    "assembly", "starts", "at", "nine", "parents", "are", "welcome", "lunch", "money", "reminder",
]
# fmt: on


def _corpus(seed: int, lines: int = 300) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(lines):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 10))]
        sentence = " ".join(words).capitalize() + rng.choice([".", "!", "?"])
        out.append(sentence)
    return out


def _sentencepiece(seed: int) -> tuple[bytes, list[str]]:
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_corpus(seed)),
        model_writer=model,
        vocab_size=VOCAB,
        model_type="unigram",
        normalization_rule_name="identity",
        character_coverage=1.0,
        hard_vocab_limit=False,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=1,
        minloglevel=2,
    )
    data = model.getvalue()
    processor = spm.SentencePieceProcessor(model_proto=data)
    vocabulary = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    return data, vocabulary


def _fill(spec: object, rng: object, vocab_size: int) -> None:
    """Give every unset weight of the spec a fixed-seed array of the right shape."""
    import numpy as np
    from ctranslate2.specs import common_spec

    def normal(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.2).astype(np.float32)  # type: ignore[attr-defined]

    def linear(layer: common_spec.LinearSpec, rows: int, cols: int) -> None:
        layer.weight = normal(rows, cols)
        layer.bias = np.zeros((rows,), dtype=np.float32)

    def norm(layer: common_spec.LayerNormSpec) -> None:
        layer.gamma = np.ones((DIM,), dtype=np.float32)
        layer.beta = np.zeros((DIM,), dtype=np.float32)

    encoder = spec.encoder  # type: ignore[attr-defined]
    decoder = spec.decoder  # type: ignore[attr-defined]
    encoder.embeddings[0].weight = normal(vocab_size, DIM)
    decoder.embeddings.weight = normal(vocab_size, DIM)
    norm(encoder.layer_norm)
    norm(decoder.layer_norm)
    for layer in encoder.layer:
        norm(layer.self_attention.layer_norm)
        linear(layer.self_attention.linear[0], 3 * DIM, DIM)
        linear(layer.self_attention.linear[1], DIM, DIM)
        norm(layer.ffn.layer_norm)
        linear(layer.ffn.linear_0, FFN, DIM)
        linear(layer.ffn.linear_1, DIM, FFN)
    for layer in decoder.layer:
        norm(layer.self_attention.layer_norm)
        linear(layer.self_attention.linear[0], 3 * DIM, DIM)
        linear(layer.self_attention.linear[1], DIM, DIM)
        norm(layer.attention.layer_norm)
        linear(layer.attention.linear[0], DIM, DIM)
        linear(layer.attention.linear[1], 2 * DIM, DIM)
        linear(layer.attention.linear[2], DIM, DIM)
        norm(layer.ffn.layer_norm)
        linear(layer.ffn.linear_0, FFN, DIM)
        linear(layer.ffn.linear_1, DIM, FFN)
    linear(decoder.projection, vocab_size, DIM)
    # Make </s> (id 2) likely after a few tokens so decoding stops early.
    decoder.projection.bias[2] = 2.5


def build(out: Path, source: str = "en", target: str = "ur", seed: int = 7, version: str = "0.1") -> Path:
    """Write a tiny ``.argosmodel`` for ``source``→``target`` to ``out``; return ``out``."""
    import numpy as np
    from ctranslate2.specs import TransformerSpec

    sp_model, vocabulary = _sentencepiece(seed)
    spec = TransformerSpec.from_config(1, 2)
    _fill(spec, np.random.default_rng(seed), len(vocabulary))
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    spec.validate()
    folder = f"translate-{source}_{target}-{version.replace('.', '_')}"
    metadata = {
        "package_version": version,
        "argos_version": "1.9",
        "from_code": source,
        "from_name": source,
        "to_code": target,
        "to_name": target,
        "type": "translate",
        "links": [],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "model"
        model_dir.mkdir()
        spec.save(str(model_dir))
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{folder}/metadata.json", json.dumps(metadata, indent=2))
            archive.writestr(f"{folder}/sentencepiece.model", sp_model)
            archive.writestr(
                f"{folder}/README.md",
                "Tiny test package built by tools/build_tiny_argos.py; output is noise.\n",
            )
            for path in sorted(model_dir.rglob("*")):
                if path.is_file():
                    archive.write(path, f"{folder}/model/{path.relative_to(model_dir).as_posix()}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--from", dest="source", default="en")
    parser.add_argument("--to", dest="target", default="ur")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--version", default="0.1")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    path = build(args.out, args.source, args.target, args.seed, args.version)
    elapsed = time.perf_counter() - started
    print(f"{path} ({path.stat().st_size // 1024} KB) built in {elapsed:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
