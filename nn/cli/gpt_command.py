"""``gpt``: train microgpt's GPT on makemore's names, one name (or a batch) per step, eagerly
or compiled, and print new ones."""

from __future__ import annotations

import argparse
import itertools
import math
import random
import time
from collections import Counter

from autograd_scalar import no_grad

from ..callbacks import History
from ..data import names
from ..gpt import GPT, CharTokenizer, train
from ..gpt.sampling import DivergedModelError, check_temperature, drawn, prompt_tokens
from ..serialize import load
from .common import (
    EXIT_OK,
    GPT_SIZES,
    MAX_GPT_PARAMETERS,
    CommandFailed,
    UsageError,
    check_file_target,
    diverged,
    loss_text,
    trained,
)

SMOOTHING = 50
"""The final loss is reported as the mean over this many last steps (one name each)."""


def run_gpt(args: argparse.Namespace) -> int:
    """Check every option (sizes, --steps, --save, --temperature, --prompt) before the
    first step, so a bad one is an error at once rather than after training, with the
    model lost."""
    if args.steps == 0 and args.load is None:
        raise UsageError("--steps 0 (only sampling) is for a model given by --load; "
                         "a new model needs --steps 1 or more")
    if args.save is not None:
        check_file_target("--save", args.save)
    try:
        temperature = check_temperature(args.temperature)
    except ValueError as error:
        raise UsageError(f"--temperature: {error}") from None
    docs = names()
    if args.batch_size > len(docs):
        raise UsageError(f"--batch-size {args.batch_size:,}: a step takes at most the "
                         f"{len(docs):,} names once each")
    random.Random(args.seed).shuffle(docs)
    tokenizer = CharTokenizer.from_documents(docs)
    if args.load is None:
        model = new_gpt(args, tokenizer.vocab_size)
    else:
        model = load_gpt(args.load, tokenizer.vocab_size)
        for name in GPT_SIZES:  # sizes are the file's; one given otherwise is a mistake
            given = getattr(args, name)
            if given is not None and given != getattr(model, name):
                raise UsageError(f"--{name.replace('_', '-')} {given}: the model in "
                                 f"{args.load} has {name} {getattr(model, name)} (with "
                                 "--load the sizes are the file's; leave them out)")
    try:
        prompt_tokens(model, tokenizer, args.prompt)
    except ValueError as error:
        raise UsageError(f"--prompt {args.prompt!r}: {error}") from None
    if args.steps:
        check_memory(args, model, docs)
    print(f"names: {len(docs):,} documents, {tokenizer.vocab_size} tokens; GPT with "
          f"{len(model.parameters()):,} parameters (n_embd {model.n_embd}, {model.n_head} "
          f"heads, {model.n_layer} layer(s), block size {model.block_size})")
    if args.steps:
        start = time.perf_counter()
        history = History(metrics=("loss",))  # the steps done, if the run stops early

        def where() -> tuple[str, bool]:
            """Where a refused step came, and whether --lr can be to blame (not for a
            loaded model's first step: its gradient was computed before any update)."""
            done = len(history.loss)
            if done == 0 and args.load is not None:
                return f"at step 1, on the model as loaded from {args.load}", False
            before = "the one before it was" if done == 1 else f"the {done:,} before it were"
            return f"at step {done + 1:,} of {args.steps:,}" + (
                f" ({before} applied)" if done else ""), True

        try:
            trained(lambda: train(model, tokenizer, docs, steps=args.steps, lr=args.lr,
                                  batch_size=args.batch_size, compiled=args.compiled,
                                  progress=not args.quiet, history=history),
                    "--lr", "step", where)
        except KeyboardInterrupt:  # a long run stopped: keep what it learned
            if args.save is not None:
                model.save(args.save)  # whole steps only: train leaves no step half done
                done = len(history.loss)
                print(f"interrupted after step {done:,} of {args.steps:,}: wrote {args.save}, "
                      + ("the model as it was before training" if done == 0 else
                         "the model after that step")
                      + " (--load it to train on: a new run, its schedule and names from "
                        "the start)")
            raise
        seconds = time.perf_counter() - start
        check_logits(model, tokenizer, docs)
        tail = history.loss[-SMOOTHING:]
        each = "one name each" if args.batch_size == 1 else f"{args.batch_size:,} names each"
        how = "compiled" if args.compiled else "eagerly"
        steps = f"{args.steps:,} step{'s' if args.steps != 1 else ''}"
        print(f"trained {steps} {how}, {each}: first loss {loss_text(history.loss[0])}, "
              f"mean of the last {len(tail)} {loss_text(sum(tail) / len(tail))}; done in "
              f"{seconds:.1f} s")
    if args.save is not None:
        model.save(args.save)
        print(f"wrote {args.save}")
    names_drawn = drawn(model, tokenizer, args.samples, temperature=temperature,
                        prompt=args.prompt, seed=args.seed)
    try:  # the first: a model that diverged cannot be sampled at all
        first = next(names_drawn, None)
    except DivergedModelError as error:  # the options were right; the training diverged
        raise CommandFailed(str(error)) from None
    if args.samples:
        print(f"{args.samples:,} name{'s' if args.samples != 1 else ''} sampled at "
              f"temperature {args.temperature:g}:")
    # each shown as it is drawn, so that many names come one by one; '' for an empty one
    for name in itertools.chain([] if first is None else [first], names_drawn):
        print(f"  {name or repr(name)}", flush=True)
    return EXIT_OK


def check_logits(model: GPT, tokenizer: CharTokenizer, docs: list[str]) -> None:
    """CommandFailed (nothing saved) when the trained model's logits are not finite on
    the longest of the first names, read to the block size: the last update can blow
    the parameters up after the last loss was taken, and such a model cannot sample."""
    doc = max(docs[:100], key=len)
    with no_grad():
        logits = model.forward(tokenizer.encode(doc)[:model.block_size])
    for position, row in enumerate(logits):
        bad = next((x.data for x in row if not math.isfinite(x.data)), None)
        if bad is not None:
            raise CommandFailed(diverged(f"after the last step the logits at position "
                                         f"{position} of {doc!r} are {bad}; nothing was "
                                         "saved", "--lr"))


EAGER_BYTES_PER_OP = 1_100
"""What an eager step keeps per op node of a name's graph until backward: a Value, its
children and local derivatives (measured: peak RSS grows by 1.08 kB an op with the
batch at microgpt's sizes)."""
COMPILED_BYTES_PER_OP = 32
"""What a compiled step keeps per op node and name of its batch: the value and the
gradient, and the step's temporaries (measured: peak RSS grows by 27-32 bytes)."""


def check_memory(args: argparse.Namespace, model: GPT, docs: list[str]) -> None:
    """Refuse, before the first step, a batch whose step would exceed ``--memory-budget``:
    an eager step keeps every name's graph (``GPT.graph_ops`` of its positions, on
    average over the names), a compiled one every op of the program of the batch's
    longest name for each name."""
    def positions(doc: str) -> int:
        return min(model.block_size, len(doc) + 1)

    if args.compiled:
        ops: float = model.graph_ops(max(map(positions, docs)))
        needed = args.batch_size * ops * COMPILED_BYTES_PER_OP
        what = "a compiled step keeps a value and a gradient of every op for each name"
    else:
        ops = sum(model.graph_ops(n) * count
                  for n, count in Counter(map(positions, docs)).items()) / len(docs)
        needed = args.batch_size * ops * EAGER_BYTES_PER_OP
        what = "an eager step keeps every name's graph"
    if needed > args.memory_budget * 2**30:
        instead = ("" if args.compiled else "--compiled, ") + "a smaller --batch-size"
        raise UsageError(f"--batch-size {args.batch_size:,}: {what}, about "
                         f"{needed / 2**30:.3g} GiB for this batch, over the memory budget "
                         f"of {args.memory_budget:g} GiB; use {instead}, or raise "
                         "--memory-budget")


def sizes(args: argparse.Namespace) -> dict[str, int]:
    """The size options given, each missing one at its default (GPT_SIZES)."""
    return {name: default if getattr(args, name) is None else getattr(args, name)
            for name, default in GPT_SIZES.items()}


def new_gpt(args: argparse.Namespace, vocab_size: int) -> GPT:
    """The GPT of the size options; UsageError, before anything is built, if it would
    have more than MAX_GPT_PARAMETERS parameters."""
    config = {"vocab_size": vocab_size, **sizes(args)}
    count = GPT.parameter_count(config) or 0
    if count > MAX_GPT_PARAMETERS:
        raise UsageError(f"--n-embd {config['n_embd']} --n-layer {config['n_layer']} "
                         f"--block-size {config['block_size']} make a GPT of {count:,} "
                         f"parameters; at most "
                         f"{MAX_GPT_PARAMETERS:,} (every parameter is a Value: a larger "
                         "model needs more memory than a machine has)"[:400])
    try:
        return GPT(**config, seed=args.seed)
    except ValueError as error:  # sizes that do not fit together: in the options' names
        message = str(error)
        for name in GPT_SIZES:
            message = message.replace(name, f"--{name.replace('_', '-')}")
        raise UsageError(message) from None


def load_gpt(path: str, vocab_size: int) -> GPT:
    """The GPT saved in ``path`` (sizes from the file); UsageError if it is not one over
    ``vocab_size`` tokens."""
    if not path:
        raise UsageError("--load: the path is empty; give the path of a saved model")
    try:
        model = load(path)
    except OSError as error:
        raise CommandFailed(f"--load {path}: {error.strerror or error}") from None
    if not isinstance(model, GPT) or model.vocab_size != vocab_size:
        raise UsageError(f"--load {path}: expected a GPT over the names' {vocab_size} tokens, "
                         f"got {type(model).__name__}"
                         + (f" over {model.vocab_size}" if isinstance(model, GPT) else ""))
    return model
