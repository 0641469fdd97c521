"""An encoder-decoder Transformer for the machine-translation phase diagram (Yang et al., App. B.2 and D.4:
"a six-layer Transformer with eight attention heads", width = the embedding dimension; after Vaswani et al.
2017 and Nakkiran et al.'s double-descent runs), built from ``torch.nn`` pieces.

Post-LayerNorm layers (``nn.TransformerEncoderLayer`` / ``nn.TransformerDecoderLayer``, ReLU, no dropout: the
paper trains without it), token embeddings scaled by ``sqrt(width)`` plus sinusoidal positions, an untied
output projection. Built by name through ``nets.build`` (``{"name": "transformer", ...}``).

One input tensor, so the taxonomy metrics that see a network as ``model(x)`` (Hessian, curves, loss and
accuracy) serve it unchanged: ``x`` is ``(B, S + T)`` token ids, the source (``S = source_len`` tokens,
``data.translation.PAD``-padded) followed by the decoder input (``T`` tokens, ``BOS y_1 ...``); floats
holding integers are accepted (the Hessian casts its inputs to float64). The output is the logits
``(B, target_vocab, T)`` -- the class dimension second, as ``cross_entropy`` takes it for a sequence, so
the targets are ``(B, T)`` with padding ``-100`` (ignored).

Decoder position ``t`` attends to decoder positions ``<= t`` only (causal mask) and to the non-padding
source tokens; attention runs on PyTorch's math kernel, which forward-mode AD (the Hessian's HVPs) supports.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn.attention import SDPBackend, sdpa_kernel

PAD = 0  # data.translation.PAD (nets import no data module)


def sinusoidal_positions(length: int, width: int) -> Tensor:
    """Vaswani et al.'s positional encodings ``(length, width)``: sin on even, cos on odd features."""
    position = torch.arange(length, dtype=torch.float64).unsqueeze(1)
    frequency = torch.exp(torch.arange(0, width, 2, dtype=torch.float64) * (-math.log(10000.0) / width))
    table = torch.zeros(length, width, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)[:, : width // 2]
    return table.float()


class Seq2SeqTransformer(nn.Module):
    """Encoder-decoder Transformer on packed ``(B, source_len + T)`` inputs (module docstring)."""

    def __init__(self, width: int, source_vocab: int, target_vocab: int, source_len: int, target_len: int,
                 layers: int = 1, heads: int = 2, ff_multiplier: int = 2) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"transformer width {width} must be a multiple of its {heads} heads")
        self.width, self.source_len, self.target_len = width, source_len, target_len
        self.source_embedding = nn.Embedding(source_vocab, width, padding_idx=PAD)
        self.target_embedding = nn.Embedding(target_vocab, width, padding_idx=PAD)
        self.register_buffer("positions", sinusoidal_positions(max(source_len, target_len), width),
                             persistent=False)
        self.transformer = nn.Transformer(d_model=width, nhead=heads, num_encoder_layers=layers,
                                          num_decoder_layers=layers, dim_feedforward=ff_multiplier * width,
                                          dropout=0.0, batch_first=True)
        # the same (padded) computation in every mode: no nested-tensor fast path
        self.transformer.encoder.enable_nested_tensor = self.transformer.encoder.use_nested_tensor = False
        self.output = nn.Linear(width, target_vocab)

    def _embed(self, embedding: nn.Embedding, tokens: Tensor) -> Tensor:
        scaled = embedding(tokens) * math.sqrt(self.width)
        return scaled + self.positions[: tokens.shape[1]].to(scaled.dtype)

    def forward(self, x: Tensor) -> Tensor:
        tokens = x.long() if x.is_floating_point() else x
        source, decoder_input = tokens[:, : self.source_len], tokens[:, self.source_len :]
        length = decoder_input.shape[1]
        causal = torch.triu(torch.full((length, length), float("-inf"), device=x.device), diagonal=1)
        source_padding = source == PAD
        with sdpa_kernel(SDPBackend.MATH):
            hidden = self.transformer(
                self._embed(self.source_embedding, source), self._embed(self.target_embedding, decoder_input),
                tgt_mask=causal.to(self.output.weight.dtype), src_key_padding_mask=source_padding,
                memory_key_padding_mask=source_padding, tgt_is_causal=True)
        return self.output(hidden).transpose(1, 2)


@torch.no_grad()
def greedy_decode(model: Seq2SeqTransformer, source: Tensor, bos: int, eos: int, max_len: int | None = None,
                  batch_size: int = 500) -> Tensor:
    """Greedy translations ``(N, max_len)`` of the padded ``source`` ``(N, source_len)``: from ``BOS``, the
    argmax token at each step until every sentence has produced ``EOS`` (later tokens are ``PAD``).
    Evaluation mode; the model's mode is restored."""
    max_len = model.target_len if max_len is None else max_len
    was_training = model.training
    model.eval()
    try:
        parts = []
        for start in range(0, len(source), batch_size):
            src = source[start : start + batch_size]
            decoded = torch.full((len(src), max_len + 1), PAD, dtype=torch.long, device=src.device)
            decoded[:, 0] = bos
            done = torch.zeros(len(src), dtype=torch.bool, device=src.device)
            for t in range(max_len):
                logits = model(torch.cat([src, decoded[:, : t + 1]], dim=1))[:, :, -1]
                token = torch.where(done, torch.full_like(done, PAD, dtype=torch.long), logits.argmax(1))
                decoded[:, t + 1] = token
                done |= token == eos
                if bool(done.all()):
                    break
            parts.append(decoded[:, 1:])
        return torch.cat(parts)
    finally:
        model.train(was_training)
