# FA2 (SDPA flash backend) and cuDNN forward at head dim 128, bf16, 16k tokens, model dim 2048; median of do_bench.
import json, sys, torch
import torch.nn.functional as F
from torch.nn.attention import sdpa_kernel, SDPBackend
from triton.testing import do_bench
lens = [int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "1024,2048,4096").split(",")]
for causal in [False, True]:
    for n in lens:
        b, h, d = 16384 // n, 16, 128
        q, k, v = (torch.randn(b, h, n, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        row = {"n": n, "causal": causal}
        for name, be in {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}.items():
            with sdpa_kernel([be]):
                t = do_bench(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal), warmup=50, rep=300, return_mode="median")
            row[name] = round(4 * b * h * n * n * d / (2 if causal else 1) / t / 1e9, 1)
        print(json.dumps(row), flush=True)
