# PyTorch's SDPA backends (FlashAttention-2, cuDNN) timed the way `flashattn bench --device cuda` times our kernels:
# per point the forward, then the backward alone, each 3 warm-up calls and then REPEATS calls back to back on one stream,
# the median (and min/max) of the CUDA event intervals between them. ../shared/tools/peers_gpu.py uses triton's
# do_bench instead (25 ms of warm-up, 100 ms of timed calls, the L2 cache flushed before each, backward = fwd+bwd − fwd),
# which at 16k keeps each measurement to a few calls; this script gives the same peers under our protocol, so a
# difference between the two is the protocol's, not the kernels'.
# Grid as in peers_gpu.py: batch*seqlen = 16k tokens, model dim 2048, bf16, head dims 64 and 128, causal and not.
# Usage on the GPU machine:  python3 tools/peers_same_protocol.py [--repeats 15] [--json FILE]
# FLOP counts: forward 4*B*H*N*N*D (halved when causal), backward 2.5x forward.
import argparse, json
import torch
import torch.nn.functional as F
from torch.nn.attention import sdpa_kernel, SDPBackend

ap = argparse.ArgumentParser()
ap.add_argument("--repeats", type=int, default=15)
ap.add_argument("--warmup", type=int, default=3)
ap.add_argument("--json", default=None)
args = ap.parse_args()


def timed(fn):
    """Median, min and max ms of fn over args.repeats back-to-back calls after args.warmup, by CUDA events."""
    for _ in range(args.warmup):
        fn()
    torch.cuda.synchronize()
    events = [torch.cuda.Event(enable_timing=True) for _ in range(args.repeats + 1)]
    events[0].record()
    for i in range(args.repeats):
        fn()
        events[i + 1].record()
    events[-1].synchronize()
    ms = sorted(events[i].elapsed_time(events[i + 1]) for i in range(args.repeats))
    return ms[len(ms) // 2], ms[0], ms[-1]


rows = []
print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(), flush=True)
backends = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}
for d in (64, 128):
    for causal in (False, True):
        for n in (512, 1024, 2048, 4096, 8192, 16384):
            b, h = 16384 // n, 2048 // d
            q, k, v = (torch.randn(b, h, n, d, device="cuda", dtype=torch.bfloat16, requires_grad=True) for _ in range(3))
            flops = 4 * b * h * n * n * d / (2 if causal else 1)
            row = {"peer": "torch-sdpa", "protocol": f"flashattn-bench ({args.warmup} warm-up + {args.repeats} back-to-back calls, median of CUDA event intervals)",
                   "device": "cuda", "dtype": "bf16", "d": d, "causal": causal, "n": n, "b": b, "h": h}
            for name, backend in backends.items():
                try:
                    with sdpa_kernel([backend]):
                        fwd = timed(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal))
                        out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
                        g = torch.randn_like(out)
                        bwd = timed(lambda: torch.autograd.grad(out, (q, k, v), g, retain_graph=True))
                    row[name + "_fwd_ms"], row[name + "_fwd_min_ms"], row[name + "_fwd_max_ms"] = (round(x, 4) for x in fwd)
                    row[name + "_bwd_ms"], row[name + "_bwd_min_ms"], row[name + "_bwd_max_ms"] = (round(x, 4) for x in bwd)
                    row[name + "_fwd_tflops"] = round(flops / fwd[0] / 1e9, 1)
                    row[name + "_bwd_tflops"] = round(2.5 * flops / bwd[0] / 1e9, 1)
                except Exception as e:  # a backend may refuse a shape
                    row[name + "_error"] = str(e)[:120]
            rows.append(row)
            print(json.dumps(row), flush=True)
            del q, k, v
if args.json:
    with open(args.json, "w") as f:
        json.dump(rows, f, indent=1)
