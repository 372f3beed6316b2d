"""Passages are embedded in bfloat16 where the CPU multiplies it in hardware.

Ingest's cost is the two encoders' matrix products. Under torch's CPU autocast to bfloat16
they run 2.3x (MiniLM) and 1.7-2.1x (E5 through torch) faster than in float32 on AVX512-BF16,
and the vectors agree with float32's at cosine >= 0.9999 (`python -m bench.e5_runtime`);
LayerNorm, softmax and the pooling stay in float32. Where the CPU only emulates bfloat16 it
is slower than float32, so there it is not used.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from functools import cache


@cache
def native_bfloat16() -> bool:
    """Whether the CPU has AVX512-BF16 or AMX: torch's own capability table (private, hence read defensively)."""
    import torch

    try:
        capability = torch._C._cpu._get_cpu_capability()
    except AttributeError:
        return False
    return bool(capability.get("avx512_bf16") or capability.get("amx_bf16"))


def passage_precision(bfloat16: bool | None = None) -> AbstractContextManager:
    """The context passages are embedded in: bfloat16 autocast if asked (or, by default, where native)."""
    import torch

    wanted = native_bfloat16() if bfloat16 is None else bfloat16
    return torch.autocast("cpu", dtype=torch.bfloat16) if wanted else nullcontext()
