"""A GPT on scalars: microgpt's transformer, its tokenizer, training, sampling and pictures.

``GPT(vocab_size)`` has microgpt's architecture (16-number embeddings, 4 heads, 1 block,
16 positions, RMSNorm, no biases, ReLU MLP; every size an argument), built from
:class:`Embedding`, :class:`RMSNorm`, :class:`CausalSelfAttention` and :class:`Linear`.
``train`` fits it one document per step; ``sample`` and ``samples`` draw new documents.
"""

from . import inspection
from .attention import CausalSelfAttention, KVCache, softmax
from .layers import Embedding, Linear, RMSNorm
from .model import GPT, Block, FeedForward
from .sampling import sample, samples
from .tokenizer import CharTokenizer
from .training import encode_documents, train, train_step

__all__ = [
    "GPT",
    "Block",
    "CausalSelfAttention",
    "CharTokenizer",
    "Embedding",
    "FeedForward",
    "KVCache",
    "Linear",
    "RMSNorm",
    "encode_documents",
    "inspection",
    "sample",
    "samples",
    "softmax",
    "train",
    "train_step",
]
