# Which kernels PyTorch's SDPA backends launch, with their launch shape and resources (registers, shared memory,
# blocks per SM) as the CUDA profiler (kineto) reports them, so our kernels can be set beside them tile for tile.
# Usage on the GPU machine:  python3 peer_kernels.py [--json FILE]
import argparse, json
import torch
import torch.nn.functional as F
from torch.nn.attention import sdpa_kernel, SDPBackend
from torch.profiler import profile, ProfilerActivity

ap = argparse.ArgumentParser()
ap.add_argument("--json", default=None)
args = ap.parse_args()

rows = []
for d in (64, 128):
    for n in (1024, 16384):
        for causal in (False, True):
            b, h = 16384 // n, 2048 // d
            q = torch.randn(b, h, n, d, device="cuda", dtype=torch.bfloat16, requires_grad=True)
            k = torch.randn_like(q, requires_grad=True); v = torch.randn_like(q, requires_grad=True)
            for name, backend in (("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION)):
                with sdpa_kernel(backend):
                    for _ in range(3):
                        out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
                        out.sum().backward()
                    torch.cuda.synchronize()
                    with profile(activities=[ProfilerActivity.CUDA]) as prof:
                        out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
                        out.sum().backward()
                        torch.cuda.synchronize()
                path = f"/tmp/trace-{name}-{d}-{n}-{causal}.json"
                prof.export_chrome_trace(path)
                for e in json.load(open(path))["traceEvents"]:
                    if e.get("cat") != "kernel":
                        continue
                    a = e.get("args", {})
                    row = {"backend": name, "d": d, "n": n, "causal": causal, "kernel": e["name"][:160], "us": e.get("dur"),
                           "grid": a.get("grid"), "block": a.get("block"), "registers": a.get("registers per thread"),
                           "shared": a.get("shared memory"), "blocks/SM": a.get("blocks per SM"),
                           "occupancy %": a.get("est. achieved occupancy %")}
                    rows.append(row)
                    print(json.dumps(row))
if args.json:
    with open(args.json, "w") as f:
        json.dump(rows, f, indent=1)
