"""A character-level transformer language model (a small GPT), trained on Ember's own
documentation, which then writes samples.

    python examples/char_transformer.py            # about a minute on 2 CPU cores
    python examples/char_transformer.py --steps 20
"""
import argparse
import math
import os
import time

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim

HERE = os.path.dirname(os.path.abspath(__file__))
TEXT_FILES = [os.path.join(HERE, "..", "docs", "design.md"), os.path.join(HERE, "..", "README.md")]


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, n_head, block_size):
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        # A position may attend only to itself and earlier positions.
        self.register_buffer("mask", torch.tril(torch.ones(block_size, block_size)) == 0)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.n_head)
        att = F.softmax(att.masked_fill(self.mask[:T, :T], float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        return self.proj(y)


class Block(nn.Module):
    def __init__(self, d_model, n_head, block_size):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_head, block_size)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(),
                                 nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class CharGPT(nn.Module):
    def __init__(self, vocab_size, block_size, d_model=64, n_head=4, n_layer=2):
        super().__init__()
        self.block_size = block_size
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(block_size, d_model)
        self.blocks = nn.Sequential(*[Block(d_model, n_head, block_size) for _ in range(n_layer)])
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, idx):
        T = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(T))
        return self.head(self.ln(self.blocks(x)))

    @torch.no_grad()
    def generate(self, idx, n, temperature=0.8):
        for _ in range(n):
            logits = self(idx[:, -self.block_size:])[:, -1] / temperature
            nxt = torch.multinomial(F.softmax(logits, dim=-1), 1)
            idx = torch.cat([idx, nxt], dim=1)
        return idx


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--block-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--sample-chars", type=int, default=300)
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    text = "\n".join(open(p, encoding="utf-8").read() for p in TEXT_FILES)
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text])
    n_train = int(0.9 * len(data))
    train, val = data[:n_train], data[n_train:]
    print(f"{len(text)} characters of Ember's docs, vocabulary of {len(chars)}")

    def batch(split):
        starts = torch.randint(0, len(split) - args.block_size - 1, (args.batch_size,)).tolist()
        x = torch.stack([split[s:s + args.block_size] for s in starts])
        y = torch.stack([split[s + 1:s + 1 + args.block_size] for s in starts])
        return x, y

    model = CharGPT(len(chars), args.block_size)
    print(f"{sum(p.numel() for p in model.parameters())} parameters")
    optimizer = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=args.steps,
                                              pct_start=0.2)
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        x, y = batch(train)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if step % 100 == 0 or step == args.steps:
            print(f"step {step}: train loss {loss.item():.3f}  "
                  f"({time.perf_counter() - start:.0f} s)")
    model.eval()
    with torch.no_grad():
        x, y = batch(val)
        val_loss = F.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1)).item()
    print(f"validation loss {val_loss:.3f} (uniform guessing: {math.log(len(chars)):.3f})")
    prompt = torch.tensor([[stoi[c] for c in "The "]])
    sample = "".join(chars[i] for i in model.generate(prompt, args.sample_chars)[0].tolist())
    print("sample:\n" + sample)
    return {"val_loss": val_loss, "uniform_loss": math.log(len(chars)), "sample": sample}


if __name__ == "__main__":
    main()
