# Writes WgmmaForward.g.cs, the wgmma D128 forward prototype of the probe (unrolled register tiles: ILGPU keeps scalars in
# registers, not arrays). Run: python3 tools/FlashAttention.Cuda.Probe/wgmma_forward_gen.py
L=[]
def e(s=""): L.append(s)
rows0=[f for i in range(8) for f in (4*i,4*i+1)]
rows1=[f for i in range(8) for f in (4*i+2,4*i+3)]
def maxchain(idx): 
    x=f"s.F{idx[0]}"
    for k in idx[1:]: x=f"PtxOps.Max({x}, s.F{k})"
    return x
e('''using System.Runtime.InteropServices;
using FlashAttention.Cuda.Ptx;
using ILGPU;
using ILGPU.Runtime;

namespace FlashAttention.Cuda.Probe;

/// <summary>The parameter of <see cref="WgmmaForward.Kernel"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct WgmmaForwardParams
{
    /// <summary>q, k, v, out: bf16 [B, N, H, 128]; lse: float32 [B, H, N].</summary>
    public ulong Q, K, V, O, Lse;
    public int SeqLen, Heads;
    /// <summary>softmax scale · log2(e).</summary>
    public float ScaleLog2;
}

/// <summary>
/// A prototype of a Hopper forward kernel written in C# (written by `wgmma_forward_gen.py` beside it; not part of the library): head
/// dim 128, bf16, non-causal, no options, sequence lengths that are multiples of 128. A block of two warpgroups owns
/// 128 query rows (64 each); 64-key K/V tiles stream through shared memory with cp.async, double-buffered, stored as 8×8
/// core matrices without swizzle; S = Q·Kᵀ by 8 chained SS wgmma m64n64k16, the online softmax on S's registers, and
/// O += P·V by RS wgmma with P straight from S's registers. No warp specialisation. The first three variants wait for
/// each product before the next step; the pipelined ones keep S_j and P_{j-1}·V_{j-1} in flight together and run the
/// softmax of S_j while P·V still is (FlashAttention-3's intra-warpgroup overlap, three K/V buffers).
/// Usage: probe wgmma-forward: every variant is checked against double precision (the library kernel beside it on the
/// same inputs), then timed beside the library kernel. Variants: Kernel, KernelPvN128, KernelChained, KernelPipelined,
/// KernelFused, KernelUnrolled (docs/benchmarks.md run 31), KernelFused128, KernelUnrolled128 with 128-key tiles, and KernelUnrolled3 with three warpgroups.
/// </summary>
internal static partial class WgmmaForward
{
    public const int Threads = 256, BlockM = 128, BlockN = 64, HeadDim = 128;
    private const int QBytes = BlockM * HeadDim * 2, TileBytes = BlockN * HeadDim * 2;
    public const int SharedBytes = QBytes + 4 * TileBytes;
    /// <summary>A 128-key K or V tile, and the shared memory of the 128-key kernels: Q and three K/V tile pairs.</summary>
    public const int Tile128Bytes = 128 * HeadDim * 2, SharedBytes128 = QBytes + 6 * Tile128Bytes;
    /// <summary>The three-warpgroup kernel (<see cref="KernelUnrolled3"/>): threads, query rows per block, Q bytes, shared memory.</summary>
    public const int Threads3 = 384, BlockM3 = 192, Q3Bytes = BlockM3 * HeadDim * 2, SharedBytes3 = Q3Bytes + 6 * TileBytes;
    /// <summary>The warp-specialised kernel (<see cref="KernelWs128"/>): threads, shared memory (Q, three 128-key K/V stages, six mbarriers), register budgets.</summary>
    public const int ThreadsWs = 384, SharedBytesWs = SharedBytes128 + 48, ProducerRegisters = 24, ConsumerRegisters = 240;

''')

PROLOGUE = '''    // q, k, v [B, N, H, 128] bf16 → out [B, N, H, 128] bf16, lse [B, H, N]; grid (N / 128, B·H).
    public static void Kernel(WgmmaForwardParams p)
    {
        int t = Group.IdxX, wg = t >> 7, lane = t & 31, warp = (t >> 5) & 3;
        int b = Grid.IdxY / p.Heads, h = Grid.IdxY - b * p.Heads;
        uint smem = PtxOps.SharedBase(), qs = smem, ks = smem + QBytes, vs = smem + QBytes + 2 * TileBytes;
        long rowStride = (long)p.Heads * HeadDim * 2;
        long headOffset = (long)b * p.SeqLen * rowStride + h * HeadDim * 2;
        LoadQuery(p, headOffset, rowStride, qs, t);
        LoadTile(p, headOffset, rowStride, 0, ks, vs, t);
        PtxOps.CommitGroup();
        int tiles = p.SeqLen / BlockN;
        float m0 = float.NegativeInfinity, m1 = float.NegativeInfinity, l0 = 0f, l1 = 0f;
        var o0 = default(Float32x32);
        var o1 = default(Float32x32);
        uint qw = qs + (uint)(wg * 16384);
        for (int j = 0; j < tiles; j++)
        {
            if (j + 1 < tiles)
            {
                uint next = (uint)(((j + 1) & 1) * TileBytes);
                LoadTile(p, headOffset, rowStride, j + 1, ks + next, vs + next, t);
                PtxOps.CommitGroup();
                PtxOps.WaitGroup1();
            }
            else
            {
                PtxOps.WaitGroup0();
            }
            PtxOps.FenceProxyAsyncShared();
            Group.Barrier();
            uint kb = ks + (uint)((j & 1) * TileBytes), vb = vs + (uint)((j & 1) * TileBytes);
            var s = default(Float32x32);'''

def kernel(name, pv128, chained=False):
    # pv128: O as one 64×128 accumulator (m64n128k16 P·V), else two 64×64 halves (m64n64k16).
    pro = PROLOGUE.replace("public static void Kernel(", f"public static void {name}(")
    if pv128:
        pro = pro.replace("        var o0 = default(Float32x32);\n        var o1 = default(Float32x32);\n", "        var o = default(Float32x64);\n")
    if chained:
        pro = pro.replace("            var s = default(Float32x32);", "")
    e(pro.rstrip("\n"))
    if chained:
        e("            var s = PtxOps.WgmmaBf16M64N64SSChain(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), 8, 16, 16);")
    for kk in range(0 if chained else 8):
        e(f"            s = PtxOps.WgmmaBf16M64N64K16SS(s, PtxOps.WgmmaDescriptor(qw + {kk*256}, 128, 2048), PtxOps.WgmmaDescriptor(kb + {kk*256}, 128, 2048), {min(kk,1)});")
    e('''            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();''')
    e(f"            float max0 = {maxchain(rows0)};")
    e(f"            float max1 = {maxchain(rows1)};")
    e('''            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
            float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
            float alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2), alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
            float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
            m0 = mNew0;
            m1 = mNew1;''')
    for k in range(32):
        sh = "shift0" if k in rows0 else "shift1"
        e(f"            float p{k} = PtxOps.Exp2(s.F{k} * p.ScaleLog2 - {sh});")
    e("            l0 = l0 * alpha0 + (" + " + ".join(f"p{k}" for k in rows0) + ");")
    e("            l1 = l1 * alpha1 + (" + " + ".join(f"p{k}" for k in rows1) + ");")
    for o, n in ((("o", 64),) if pv128 else (("o0", 32), ("o1", 32))):
        for k in range(n):
            e(f"            {o}.F{k} *= {'alpha0' if k % 4 < 2 else 'alpha1'};")
    for kk in range(4):
        b=8*kk
        e(f"            uint a{kk}0 = PtxOps.PackBf16(p{b}, p{b+1}), a{kk}1 = PtxOps.PackBf16(p{b+2}, p{b+3}), a{kk}2 = PtxOps.PackBf16(p{b+4}, p{b+5}), a{kk}3 = PtxOps.PackBf16(p{b+6}, p{b+7});")
    if chained:
        e("            o = PtxOps.WgmmaBf16M64N128RSTransBChain4(o, " + ", ".join(f"a{kk}{i}" for kk in range(4) for i in range(4)) + ", PtxOps.WgmmaDescriptor(vb, 2048, 128), 256);")
    for kk in range(0 if chained else 4):
        if pv128:
            e(f"            o = PtxOps.WgmmaBf16M64N128K16RSTransB(o, a{kk}0, a{kk}1, a{kk}2, a{kk}3, PtxOps.WgmmaDescriptor(vb + {kk*4096}, 2048, 128), 1);")
        else:
            for hh,o in enumerate(("o0","o1")):
                e(f"            {o} = PtxOps.WgmmaBf16M64N64K16RSTransB({o}, a{kk}0, a{kk}1, a{kk}2, a{kk}3, PtxOps.WgmmaDescriptor(vb + {kk*4096 + hh*1024}, 2048, 128), 1);")
    e('''            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
            Group.Barrier();
        }
        l0 += PtxOps.ShuffleXor(l0, 1);
        l0 += PtxOps.ShuffleXor(l0, 2);
        l1 += PtxOps.ShuffleXor(l1, 1);
        l1 += PtxOps.ShuffleXor(l1, 2);
        float inv0 = PtxOps.Reciprocal(l0), inv1 = PtxOps.Reciprocal(l1);
        int row0 = Grid.IdxX * BlockM + wg * 64 + warp * 16 + (lane >> 2), col = 2 * (lane & 3);
        ulong out0 = p.O + (ulong)(headOffset + row0 * rowStride + col * 2), out1 = out0 + (ulong)(8 * rowStride);''')
    for hh,o in enumerate(("o0","o1")):
        for i in range(8):
            off = (64*hh + 8*i)*2
            f0, oo = (4 * (8 * hh + i), "o") if pv128 else (4 * i, o)
            e(f"        PtxOps.StoreWord(out0 + {off}, PtxOps.PackBf16({oo}.F{f0} * inv0, {oo}.F{f0+1} * inv0));")
            e(f"        PtxOps.StoreWord(out1 + {off}, PtxOps.PackBf16({oo}.F{f0+2} * inv1, {oo}.F{f0+3} * inv1));")
    e('''        if ((lane & 3) == 0)
        {
            ulong lse = p.Lse + (ulong)((((long)b * p.Heads + h) * p.SeqLen + row0) * 4);
            const float Ln2 = 0.6931472f;
            PtxOps.StoreFloat(lse, (m0 * p.ScaleLog2 + PtxOps.Log2(l0)) * Ln2);
            PtxOps.StoreFloat(lse + 32, (m1 * p.ScaleLog2 + PtxOps.Log2(l1)) * Ln2);
        }
    }''')


def accumulator_rows(floats):
    # The S floats of a thread's first row (g) and of its second (g + 8): m16n8 tile i holds F[4i … 4i + 3].
    return ([f for i in range(floats // 4) for f in (4 * i, 4 * i + 1)], [f for i in range(floats // 4) for f in (4 * i + 2, 4 * i + 3)])

def softmax(ind, target="a", keys=64):
    # s (this tile's scores, keys/2 floats) → P as packed A fragments {target}{kk}{i}, new running max, alpha, l.
    first, second = accumulator_rows(keys // 2)
    e(f"{ind}float max0 = {maxchain(first)};")
    e(f"{ind}float max1 = {maxchain(second)};")
    for r in ("0", "1"):
        e(f"{ind}max{r} = PtxOps.Max(max{r}, PtxOps.ShuffleXor(max{r}, 1));")
        e(f"{ind}max{r} = PtxOps.Max(max{r}, PtxOps.ShuffleXor(max{r}, 2));")
    e(f"{ind}float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);")
    e(f"{ind}alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);")
    e(f"{ind}alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);")
    e(f"{ind}float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;")
    e(f"{ind}m0 = mNew0;")
    e(f"{ind}m1 = mNew1;")
    for k in range(keys // 2):
        e(f"{ind}float p{k} = PtxOps.Exp2(s.F{k} * p.ScaleLog2 - {'shift0' if k in first else 'shift1'});")
    e(f"{ind}l0 = l0 * alpha0 + (" + " + ".join(f"p{k}" for k in first) + ");")
    e(f"{ind}l1 = l1 * alpha1 + (" + " + ".join(f"p{k}" for k in second) + ");")
    for kk in range(keys // 16):
        b = 8 * kk
        for i in range(4):
            e(f"{ind}{target}{kk}{i} = PtxOps.PackBf16(p{b + 2 * i}, p{b + 2 * i + 1});")

# Names of the 64- and 128-key forms: tile bytes constant, tile loader, fused-step and final P·V intrinsics, S struct.
WIDTH = {64: ("TileBytes", "LoadTile", "WgmmaBf16AttentionStep", "WgmmaBf16M64N128RSTransBChain4", "Float32x32"),
         128: ("Tile128Bytes", "LoadTile128", "WgmmaBf16AttentionStep128", "WgmmaBf16M64N128RSTransBChain8", "Float32x64")}

def frags(name, keys=64): return ", ".join(f"{name}{kk}{i}" for kk in range(keys // 16) for i in range(4))

def iteration(ind, jj, source, target, keys=64):
    # One key tile jj ≥ 1 of the unrolled kernel: its S and the previous tile's P·V (P in `source`) in flight together,
    # the new P into `target`, so no register an in-flight MMA reads is written before the wait.
    tile, load, step, _, sType = WIDTH[keys]
    if WS:
        # Warp-specialised: the producer warpgroup filled stage jj % 3 and arrived on its full barrier.
        e(f"""{ind}{{
{ind}    PtxOps.MbarrierWaitParity(full + (uint)(({jj} % 3) * 8), (uint)(({jj} / 3) & 1));
{ind}    uint kb = kv + (uint)(({jj} % 3) * 2 * {tile}), vPrevious = kv + (uint)((({jj} - 1) % 3) * 2 * {tile}) + {tile};""")
    else:
        e(f"""{ind}{{
{ind}    PtxOps.WaitGroup0();
{ind}    PtxOps.FenceProxyAsyncShared();
{ind}    Group.Barrier();
{ind}    if ({jj} + 1 < tiles)
{ind}    {{
{ind}        uint next = (uint)((({jj} + 1) % 3) * 2 * {tile});
{ind}        {load}(p, headOffset, rowStride, {jj} + 1, kv + next, kv + next + {tile}, t);
{ind}        PtxOps.CommitGroup();
{ind}    }}
{ind}    uint kb = kv + (uint)(({jj} % 3) * 2 * {tile}), vPrevious = kv + (uint)((({jj} - 1) % 3) * 2 * {tile}) + {tile};""")
    if GUARD:
        # A warpgroup whose 64 rows all lie past Nq loads and waits with the others but computes nothing.
        e(f"{ind}    if (active)")
        e(f"{ind}    {{")
        ind = ind + "    "
    sFloats = keys // 2
    if PINGPONG:
        # The two consumer warpgroups take turns issuing their MMAs (named barriers 1 and 2), so one's softmax runs
        # while the other's products occupy the tensor cores (FlashAttention-3's warp scheduler barriers).
        e(f"{ind}    PtxOps.NamedBarrierSync((uint)(1 + wg), 256);")
    e(f"{ind}    var so = PtxOps.{step}(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, {frags(source, keys)}, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));")
    if PINGPONG:
        # The other warpgroup's turn; warpgroup 1 skips this on its last tile, which leaves every barrier balanced.
        e(f"{ind}    if (wg == 0 || {jj} + 1 < tiles)")
        e(f"{ind}        PtxOps.NamedBarrierArrive((uint)(2 - wg), 256);")
    e(f"{ind}    PtxOps.WgmmaWait1();")
    e(f"{ind}    var s = new {sType} {{ " + ", ".join(f"F{k} = so.F{k}" for k in range(sFloats)) + " };")
    softmax(ind + "    ", target, keys)
    e(f"{ind}    PtxOps.WgmmaWait0();")
    if WS:
        # P_{jj-1}·V_{jj-1} is done: stage (jj - 1) % 3 goes back to the producer.
        e(f"{ind}    PtxOps.MbarrierArrive(empty + (uint)((({jj} - 1) % 3) * 8));")
    e(f"{ind}    o = new Float32x64 {{ " + ", ".join(f"F{k} = so.F{sFloats + k} * {'alpha0' if k % 4 < 2 else 'alpha1'}" for k in range(64)) + " };")
    if GUARD:
        e(f"{ind}}}")
        ind = ind[:-4]
    e(f"{ind}}}")

GUARD = False
WS = False
PINGPONG = False

def final_pv(ind, source, keys=64):
    tile, _, _, chain, _ = WIDTH[keys]
    if GUARD:
        e(f"{ind}if (active)")
        e(f"{ind}{{")
        ind = ind + "    "
    e(f"{ind}uint vLast = kv + (uint)(((tiles - 1) % 3) * 2 * {tile}) + {tile};")
    e(f"{ind}o = PtxOps.{chain}(o, {frags(source, keys)}, PtxOps.WgmmaDescriptor(vLast, 2048, 128), 256);")
    e(f"{ind}PtxOps.WgmmaCommit();")
    e(f"{ind}PtxOps.WgmmaWait0();")
    if GUARD:
        e(f"{ind[:-4]}}}")

def kernel_unrolled():
    pro = PIPE_PROLOGUE
    cut = pro.index("    public static void KernelPipelined(")
    pro = "\n    // As KernelFused, two key tiles per loop trip with two sets of P fragments (a…, c…), so that the softmax never\n    // writes the registers the P·V in flight reads (ptxas C7513 in the one-set loop).\n" + pro[cut:].replace("KernelPipelined(", "KernelUnrolled(")
    pro = pro.replace("        uint a00, a01,", "        uint c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0, c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;\n        uint a00, a01,")
    if GUARD:
        pro = pro.replace("        uint a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;",
                          "        uint " + ", ".join(f"a{kk}{i} = 0" for kk in range(4) for i in range(4)) + ";")
        pro = pro.replace("l1 = 0f, alpha0, alpha1;", "l1 = 0f, alpha0 = 0f, alpha1 = 0f;")
        pro = pro.replace("        uint qw = qs + (uint)(wg * 16384);\n        {\n",
                          "        uint qw = qs + (uint)(wg * 16384);\n        bool active = Grid.IdxX * BlockM3 + wg * 64 < p.SeqLen;\n        if (active)\n        {\n")
        assert "bool active" in pro and "a00 = 0" in pro and "alpha0 = 0f" in pro
    e(pro.rstrip("\n"))
    softmax("            ")
    e("        }")
    e("        int j = 1;")
    e("        for (; j + 1 < tiles; j += 2)")
    e("        {")
    iteration("            ", "j", "a", "c")
    iteration("            ", "(j + 1)", "c", "a")
    e("        }")
    e("        if (j < tiles)")
    e("        {")
    iteration("            ", "j", "a", "c")
    final_pv("            ", "c")
    e("        }")
    e("        else")
    e("        {")
    final_pv("            ", "a")
    e("        }")
    e(EPILOGUE_PV128.rstrip("\n"))

def kernel_pipelined(fused=False):
    # FlashAttention-3's intra-warpgroup overlap: S_j = Q·K_jᵀ and O += P_{j-1}·V_{j-1} are in flight together, and the
    # softmax of S_j runs while P·V still is; three K/V buffers (the one being loaded, K_j, V_{j-1}).
    pro = PIPE_PROLOGUE
    if fused:
        cut = pro.index("    // As Kernel")
        pro = "\n    // As KernelPipelined, both products issued by one intrinsic (WgmmaBf16AttentionStep), so that no register write falls inside the MMAs' pipeline stage.\n" + pro[pro.index("    public static void KernelPipelined("):].replace("KernelPipelined(", "KernelFused(")
    e(pro.rstrip("\n"))
    softmax("            ")
    e("        }")
    e("""        for (int j = 1; j < tiles; j++)
        {
            PtxOps.WaitGroup0();
            PtxOps.FenceProxyAsyncShared();
            Group.Barrier();
            if (j + 1 < tiles)
            {
                uint next = (uint)(((j + 1) % 3) * 2 * TileBytes);
                LoadTile(p, headOffset, rowStride, j + 1, kv + next, kv + next + TileBytes, t);
                PtxOps.CommitGroup();
            }
            uint kb = kv + (uint)((j % 3) * 2 * TileBytes), vPrevious = kv + (uint)(((j - 1) % 3) * 2 * TileBytes) + TileBytes;
""")
    if fused:
        e("            var so = PtxOps.WgmmaBf16AttentionStep(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, " + ", ".join(f"a{kk}{i}" for kk in range(4) for i in range(4)) + ", PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));")
        e("            PtxOps.WgmmaWait1();")
        e("            var s = new Float32x32 { " + ", ".join(f"F{k} = so.F{k}" for k in range(32)) + " };")
        e("            o = new Float32x64 { " + ", ".join(f"F{k} = so.F{32 + k}" for k in range(64)) + " };")
    else:
        e("""            var s = PtxOps.WgmmaBf16M64N64SSChain(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), 8, 16, 16);
            PtxOps.WgmmaCommit();""")
        e("            o = PtxOps.WgmmaBf16M64N128RSTransBChain4(o, " + ", ".join(f"a{kk}{i}" for kk in range(4) for i in range(4)) + ", PtxOps.WgmmaDescriptor(vPrevious, 2048, 128), 256);")
        e("""            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait1();""")
    softmax("            ")
    e("            PtxOps.WgmmaWait0();")
    for k in range(64):
        e(f"            o.F{k} *= {'alpha0' if k % 4 < 2 else 'alpha1'};")
    e("        }")
    e("        uint vLast = kv + (uint)(((tiles - 1) % 3) * 2 * TileBytes) + TileBytes;")
    e("        o = PtxOps.WgmmaBf16M64N128RSTransBChain4(o, " + ", ".join(f"a{kk}{i}" for kk in range(4) for i in range(4)) + ", PtxOps.WgmmaDescriptor(vLast, 2048, 128), 256);")
    e("""        PtxOps.WgmmaCommit();
        PtxOps.WgmmaWait0();""")
    e(EPILOGUE_PV128.rstrip("\n"))

PIPE_PROLOGUE = """
    /// <summary>Shared memory of <see cref="KernelPipelined"/>: Q and three K/V tile pairs.</summary>
    public const int SharedBytesPipelined = QBytes + 6 * TileBytes;

    // As Kernel, with S_j and P_{j-1}·V_{j-1} in flight together (FlashAttention-3's intra-warpgroup pipelining).
    public static void KernelPipelined(WgmmaForwardParams p)
    {
        int t = Group.IdxX, wg = t >> 7, lane = t & 31, warp = (t >> 5) & 3;
        int b = Grid.IdxY / p.Heads, h = Grid.IdxY - b * p.Heads;
        uint smem = PtxOps.SharedBase(), qs = smem, kv = smem + QBytes;
        long rowStride = (long)p.Heads * HeadDim * 2;
        long headOffset = (long)b * p.SeqLen * rowStride + h * HeadDim * 2;
        LoadQuery(p, headOffset, rowStride, qs, t);
        LoadTile(p, headOffset, rowStride, 0, kv, kv + TileBytes, t);
        PtxOps.CommitGroup();
        int tiles = p.SeqLen / BlockN;
        if (tiles > 1)
        {
            LoadTile(p, headOffset, rowStride, 1, kv + 2 * TileBytes, kv + 3 * TileBytes, t);
            PtxOps.CommitGroup();
            PtxOps.WaitGroup1();
        }
        else
        {
            PtxOps.WaitGroup0();
        }
        PtxOps.FenceProxyAsyncShared();
        Group.Barrier();
        float m0 = float.NegativeInfinity, m1 = float.NegativeInfinity, l0 = 0f, l1 = 0f, alpha0, alpha1;
        uint a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
        var o = default(Float32x64);
        uint qw = qs + (uint)(wg * 16384);
        {
            var s = PtxOps.WgmmaBf16M64N64SSChain(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kv, 128, 2048), 8, 16, 16);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
"""

kernel('Kernel', False)
kernel('KernelPvN128', True)
kernel('KernelChained', True, chained=True)
_text = "\n".join(L)
_start = _text.rindex("        l0 += PtxOps.ShuffleXor(l0, 1);")
_end = len(_text)  # the chained kernel is the last one written so far: its epilogue runs to the end
EPILOGUE_PV128 = _text[_start:_end]
kernel_pipelined()
kernel_pipelined(fused=True)
kernel_unrolled()

# ---- 128-key tiles (S = m64n128, 64 floats; P = 32 packed A registers; P·V = 8 RS m64n128k16) ----
def first_tile128(two_p_sets):
    # After the running max and sum: the P fragments (two sets for the unrolled loop), O, and tile 0's S and softmax.
    if two_p_sets:
        e("        uint " + ", ".join(f"c{kk}{i} = 0" for kk in range(8) for i in range(4)) + ";")
    e("        uint " + ", ".join(f"a{kk}{i}" for kk in range(8) for i in range(4)) + ";")
    e("""        var o = default(Float32x64);
        uint qw = qs + (uint)(wg * 16384);
        {
            var s = PtxOps.WgmmaBf16M64N128SSChain(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kv, 128, 2048), 8, 16, 16);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();""")
    softmax("            ", "a", keys=128)
    e("        }")

def unrolled_loop128():
    # Tiles 1 … tiles − 1, two per trip with the P sets a and c alternating, then the last tile's P·V.
    e("        int j = 1;")
    e("        for (; j + 1 < tiles; j += 2)")
    e("        {")
    iteration("            ", "j", "a", "c", keys=128)
    iteration("            ", "(j + 1)", "c", "a", keys=128)
    e("        }")
    e("        if (j < tiles)")
    e("        {")
    iteration("            ", "j", "a", "c", keys=128)
    final_pv("            ", "c", keys=128)
    e("        }")
    e("        else")
    e("        {")
    final_pv("            ", "a", keys=128)
    e("        }")

def kernel128(name, unrolled):
    e(f"""
    // As {'KernelUnrolled' if unrolled else 'KernelFused'} with 128-key K/V tiles: S is 64×128 per warpgroup (m64n128k16), half the
    // softmax reductions, O rescales and barriers per key; three K/V tile pairs (192 KiB) and Q (32 KiB) in shared memory.
    public static void {name}(WgmmaForwardParams p)
    {{
        int t = Group.IdxX, wg = t >> 7, lane = t & 31, warp = (t >> 5) & 3;
        int b = Grid.IdxY / p.Heads, h = Grid.IdxY - b * p.Heads;
        uint smem = PtxOps.SharedBase(), qs = smem, kv = smem + QBytes;
        long rowStride = (long)p.Heads * HeadDim * 2;
        long headOffset = (long)b * p.SeqLen * rowStride + h * HeadDim * 2;
        LoadQuery(p, headOffset, rowStride, qs, t);
        LoadTile128(p, headOffset, rowStride, 0, kv, kv + Tile128Bytes, t);
        PtxOps.CommitGroup();
        int tiles = p.SeqLen / 128;
        if (tiles > 1)
        {{
            LoadTile128(p, headOffset, rowStride, 1, kv + 2 * Tile128Bytes, kv + 3 * Tile128Bytes, t);
            PtxOps.CommitGroup();
            PtxOps.WaitGroup1();
        }}
        else
        {{
            PtxOps.WaitGroup0();
        }}
        PtxOps.FenceProxyAsyncShared();
        Group.Barrier();
        float m0 = float.NegativeInfinity, m1 = float.NegativeInfinity, l0 = 0f, l1 = 0f, alpha0, alpha1;""")
    first_tile128(unrolled)
    if unrolled:
        unrolled_loop128()
    else:
        e("        for (int j = 1; j < tiles; j++)")
        iteration("        ", "j", "a", "a", keys=128)
        final_pv("        ", "a", keys=128)
    e(EPILOGUE_PV128.rstrip("\n"))

# ---- three consumer warpgroups (192 query rows, 384 threads, 64-key tiles): KernelUnrolled with rows past N clamped ----
# GUARD_IDLE_WARPGROUPS: a warpgroup whose rows all lie past Nq skips its MMAs behind `if (active)`. Measured slower
# (device run 48: 162 instead of 149 registers, 3–4 % slower at every length, 1k included), so it is off.
GUARD_IDLE_WARPGROUPS = False

def kernel_unrolled3():
    global GUARD
    start = len(L)
    GUARD = GUARD_IDLE_WARPGROUPS
    kernel_unrolled()
    GUARD = False
    text = "\n".join(L[start:])
    del L[start:]
    head = text.index("    public static void KernelUnrolled(")
    text = ("\n    // As KernelUnrolled with three warpgroups (192 query rows, 384 threads, at most 168 registers): 12 warps per SM\n"
            "    // instead of 8. Query rows past the sequence are loaded clamped to its last row and not stored.\n" + text[head:])
    text = text.replace("KernelUnrolled(", "KernelUnrolled3(").replace("LoadQuery(", "LoadQuery3(").replace("LoadTile(", "LoadTile3(")
    text = text.replace("kv = smem + QBytes;", "kv = smem + Q3Bytes;").replace("Grid.IdxX * BlockM +", "Grid.IdxX * BlockM3 +")
    L.extend(guard_rows(text).split("\n"))

def guard_rows(text):
    # The epilogue's stores of O and LSE only for rows inside the sequence (blocks whose rows run past Nq).
    lines = text.split("\n")
    first = next(i for i, l in enumerate(lines) if "PtxOps.StoreWord(out" in l)
    last = max(i for i, l in enumerate(lines) if "PtxOps.StoreWord(out" in l)
    stores = lines[first:last + 1]
    i = lines[first][:len(lines[first]) - len(lines[first].lstrip())]
    guarded = [f"{i}if (row0 < p.SeqLen)", f"{i}{{"] + ["    " + l for l in stores if "(out0" in l] + [f"{i}}}",
               f"{i}if (row0 + 8 < p.SeqLen)", f"{i}{{"] + ["    " + l for l in stores if "(out1" in l] + [f"{i}}}"]
    lines[first:last + 1] = guarded
    text = "\n".join(lines)
    text = text.replace(f"{i}    PtxOps.StoreFloat(lse, ", f"{i}    if (row0 < p.SeqLen)\n{i}        PtxOps.StoreFloat(lse, ")
    text = text.replace(f"{i}    PtxOps.StoreFloat(lse + 32, ", f"{i}    if (row0 + 8 < p.SeqLen)\n{i}        PtxOps.StoreFloat(lse + 32, ")
    return text

kernel_unrolled3()

# ---- the library's sm_90a forward (src/FlashAttention.Cuda/Kernels/Sm90ForwardKernel.g.cs): KernelUnrolled3 with the
# library's shapes (Nq ≠ Nk, GQA, any Nq; Nk a multiple of 64) and partial query blocks ordered last ----
# The library kernels' block → (head, query block) map: full query blocks head by head, then every head's partial one.
LIBRARY_BLOCK_MAP = """        // Full query blocks head by head (adjacent blocks share K/V in L2), then the last, partial block of every head.
        int block = Grid.IdxX, fullBlocks = p.QueryBlocks - 1, bh, qb;
        if (block < fullBlocks * p.BatchHeads)
        {
            bh = block / fullBlocks;
            qb = block - bh * fullBlocks;
        }
        else
        {
            bh = block - fullBlocks * p.BatchHeads;
            qb = fullBlocks;
        }
        int b = bh / p.Heads, h = bh - b * p.Heads;
"""

def library_kernel():
    start = len(L)
    kernel_unrolled3()
    text = "\n".join(L[start:])
    del L[start:]
    text = text[text.index("    public static void KernelUnrolled3("):]
    def sub(old, new, count=None):
        nonlocal text
        n = text.count(old)
        assert n > 0 and (count is None or n == count), (old, n)
        text = text.replace(old, new)
    sub("    public static void KernelUnrolled3(WgmmaForwardParams p)",
        "    // q [B, Nq, H, 128], k/v [B, Nk, Hkv, 128] bf16 → out [B, Nq, H, 128] bf16, lse [B, H, Nq]; grid (QueryBlocks · B · H).\n"
        "    public static void Kernel(Sm90ForwardParams p)", 1)
    sub("""        int b = Grid.IdxY / p.Heads, h = Grid.IdxY - b * p.Heads;
        uint smem = PtxOps.SharedBase(), qs = smem, kv = smem + Q3Bytes;
        long rowStride = (long)p.Heads * HeadDim * 2;
        long headOffset = (long)b * p.SeqLen * rowStride + h * HeadDim * 2;
""", LIBRARY_BLOCK_MAP + """        uint smem = PtxOps.SharedBase(), qs = smem, kv = smem + QBytes;
        long qRowStride = (long)p.Heads * HeadDim * 2, kvRowStride = (long)p.KvHeads * HeadDim * 2;
        long qHead = (long)b * p.SeqQ * qRowStride + h * HeadDim * 2;
        long kvHead = (long)b * p.SeqK * kvRowStride + h / p.GroupSize * HeadDim * 2;
""", 1)
    sub("LoadQuery3(p, headOffset, rowStride, qs, t)", "LoadQuery(p, qHead, qRowStride, qb, qs, t)", 1)
    sub("LoadTile3(p, headOffset, rowStride,", "LoadTile(p, kvHead, kvRowStride,")
    sub("int tiles = p.SeqLen / BlockN;", "int tiles = p.SeqK / BlockN;", 1)
    sub("Grid.IdxX * BlockM3 +", "qb * BlockM +", 2 if GUARD_IDLE_WARPGROUPS else 1)
    sub("headOffset + row0 * rowStride", "qHead + row0 * qRowStride", 1)
    sub("(8 * rowStride)", "(8 * qRowStride)", 1)
    sub("p.SeqLen", "p.SeqQ")
    for gone in ("headOffset", " rowStride", "SeqLen", "Q3Bytes", "BlockM3", "Threads3", "LoadTile3", "LoadQuery3"):
        assert gone not in text, gone
    out = ["// <auto-generated> by tools/FlashAttention.Cuda.Probe/wgmma_forward_gen.py; edit the generator, not this file. </auto-generated>",
           "using FlashAttention.Cuda.Ptx;", "using ILGPU;", "", "namespace FlashAttention.Cuda.Kernels;", "",
           "internal static partial class Sm90Forward", "{"]
    out.append(text.rstrip("\n"))
    out.append(library_ws_kernel(False))
    out.append(library_ws_kernel(True))
    out.append("""
    /// <summary>
    /// The block's 192 query rows into core-matrix layout at <paramref name="q"/> (chunk idx → row group idx / 128, chunk
    /// (idx / 8) mod 16, row idx mod 8); rows past Nq are loaded clamped to the last row, their results never stored.
    /// </summary>
    private static void LoadQuery(Sm90ForwardParams p, long qHead, long qRowStride, int qb, uint q, int t)
    {
        ulong qBase = p.Q + (ulong)qHead;
        int first = qb * BlockM;
        for (int i = 0; i < 8; i++)
        {
            int idx = t + Threads * i, r = ((idx >> 7) << 3) + (idx & 7), c = (idx >> 3) & 15;
            long row = Math.Min(first + r, p.SeqQ - 1);
            PtxOps.CopyAsync16(q + (uint)(((idx >> 7) * 16 + c) * 128 + (idx & 7) * 16), qBase + (ulong)(row * qRowStride + c * 16));
        }
    }

    /// <summary>Key/value tile j (64 rows × 16 chunks each) into core-matrix layout at <paramref name="k"/> and <paramref name="v"/>.</summary>
    private static void LoadTile(Sm90ForwardParams p, long kvHead, long kvRowStride, int j, uint k, uint v, int t)
    {
        ulong kBase = p.K + (ulong)(kvHead + (long)j * BlockN * kvRowStride), vBase = p.V + (ulong)(kvHead + (long)j * BlockN * kvRowStride);
        for (int idx = t; idx < BlockN * 16; idx += Threads)
        {
            int r = ((idx >> 7) << 3) + (idx & 7), c = (idx >> 3) & 15;
            uint offset = (uint)(((idx >> 7) * 16 + c) * 128 + (idx & 7) * 16);
            ulong source = (ulong)(r * kvRowStride + c * 16);
            PtxOps.CopyAsync16(k + offset, kBase + source);
            PtxOps.CopyAsync16(v + offset, vBase + source);
        }
    }

    /// <summary>
    /// The warp-specialised kernels' 128 query rows by the producer warpgroup's 128 threads (<paramref name="pt"/> 0–127),
    /// in the layout of <see cref="LoadQuery"/>; rows past Nq are loaded clamped to the last row, their results never stored.
    /// </summary>
    private static void LoadQueryWs(Sm90ForwardParams p, long qHead, long qRowStride, int qb, uint q, int pt)
    {
        ulong qBase = p.Q + (ulong)qHead;
        int first = qb * BlockMWs;
        for (int i = 0; i < 16; i++)
        {
            int idx = pt + 128 * i, r = ((idx >> 7) << 3) + (idx & 7), c = (idx >> 3) & 15;
            long row = Math.Min(first + r, p.SeqQ - 1);
            PtxOps.CopyAsync16(q + (uint)(((idx >> 7) * 16 + c) * 128 + (idx & 7) * 16), qBase + (ulong)(row * qRowStride + c * 16));
        }
    }

    /// <summary>Key/value tile j (128 rows × 16 chunks each) by the producer warpgroup, in the layout of <see cref="LoadTile"/>.</summary>
    private static void LoadTileWs(Sm90ForwardParams p, long kvHead, long kvRowStride, int j, uint k, uint v, int pt)
    {
        ulong kBase = p.K + (ulong)(kvHead + (long)j * BlockNWs * kvRowStride), vBase = p.V + (ulong)(kvHead + (long)j * BlockNWs * kvRowStride);
        for (int i = 0; i < 16; i++)
        {
            int idx = pt + 128 * i, r = ((idx >> 7) << 3) + (idx & 7), c = (idx >> 3) & 15;
            uint offset = (uint)(((idx >> 7) * 16 + c) * 128 + (idx & 7) * 16);
            ulong source = (ulong)(r * kvRowStride + c * 16);
            PtxOps.CopyAsync16(k + offset, kBase + source);
            PtxOps.CopyAsync16(v + offset, vBase + source);
        }
    }
}""")
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "FlashAttention.Cuda", "Kernels", "Sm90ForwardKernel.g.cs")
    open(root, "w").write("\n".join(out) + "\n")

# ---- the library's warp-specialised sm_90a forward: KernelWs128 (or its ping-pong form) with the library's shapes, as
# library_kernel() does for KernelUnrolled3; Nk a multiple of 128 ----
def library_ws_kernel(pingpong):
    start = len(L)
    name = "KernelWs128Pingpong" if pingpong else "KernelWs128"
    kernel_ws128(name, pingpong=pingpong)
    text = "\n".join(L[start:])
    del L[start:]
    text = guard_rows(text[text.index(f"    public static void {name}("):])
    def sub(old, new, count=None):
        nonlocal text
        n = text.count(old)
        assert n > 0 and (count is None or n == count), (old, n)
        text = text.replace(old, new)
    library_name = "KernelWarpSpecializedPingpong" if pingpong else "KernelWarpSpecialized"
    sub(f"    public static void {name}(WgmmaForwardParams p)",
        "    // q [B, Nq, H, 128], k/v [B, Nk, Hkv, 128] bf16 → out [B, Nq, H, 128] bf16, lse [B, H, Nq]; grid (QueryBlocks · B · H),\n"
        "    // 384 threads: warpgroups 0 and 1 consume 64 query rows each, warpgroup 2 loads" +
        (" (the consumers take turns issuing their MMAs)" if pingpong else "") + ".\n"
        f"    public static void {library_name}(Sm90ForwardParams p)", 1)
    sub("""        int b = Grid.IdxY / p.Heads, h = Grid.IdxY - b * p.Heads;
        uint smem = PtxOps.SharedBase(), qs = smem, kv = smem + QBytes, full = smem + QBytes + 6 * Tile128Bytes, empty = full + 24;
        long rowStride = (long)p.Heads * HeadDim * 2;
        long headOffset = (long)b * p.SeqLen * rowStride + h * HeadDim * 2;
""", LIBRARY_BLOCK_MAP + """        uint smem = PtxOps.SharedBase(), qs = smem, kv = smem + QBytesWs, full = smem + QBytesWs + 6 * Tile128Bytes, empty = full + 24;
        long qRowStride = (long)p.Heads * HeadDim * 2, kvRowStride = (long)p.KvHeads * HeadDim * 2;
        long qHead = (long)b * p.SeqQ * qRowStride + h * HeadDim * 2;
        long kvHead = (long)b * p.SeqK * kvRowStride + h / p.GroupSize * HeadDim * 2;
""", 1)
    sub("LoadQueryWs(p, headOffset, rowStride, qs, pt)", "LoadQueryWs(p, qHead, qRowStride, qb, qs, pt)", 1)
    sub("LoadTileWs(p, headOffset, rowStride,", "LoadTileWs(p, kvHead, kvRowStride,", 1)
    sub("int tiles = p.SeqLen / 128;", "int tiles = p.SeqK / BlockNWs;", 1)
    sub("Grid.IdxX * BlockM +", "qb * BlockMWs +", 1)
    sub("headOffset + row0 * rowStride", "qHead + row0 * qRowStride", 1)
    sub("(8 * rowStride)", "(8 * qRowStride)", 1)
    sub("p.SeqLen", "p.SeqQ")
    for gone in ("headOffset", " rowStride", "SeqLen", "Grid.IdxY", "QBytes,", "BlockM +"):
        assert gone not in text, gone
    return "\n" + text.rstrip("\n")


kernel128("KernelFused128", False)
kernel128("KernelUnrolled128", True)
# ---- warp specialisation (FlashAttention-3's layout, 384 threads): warpgroups 0 and 1 consume (64 query rows each,
# 128-key tiles, the unrolled loop of KernelUnrolled128), warpgroup 2 produces: it loads Q and streams K/V tiles through
# three stages with cp.async, signalling each stage on a `full` mbarrier and reusing it after the consumers arrive on
# its `empty` one. setmaxnreg moves registers from the producer to the consumers (24 + 2 × 240 per thread ≤ 168 × 3).
def kernel_ws128(name, pingpong=False):
    global WS, PINGPONG
    e(f"""
    // Warp-specialised 128-key kernel: a producer warpgroup (cp.async + mbarriers) feeding two consumer warpgroups{" that take turns issuing their MMAs" if pingpong else ""}.
    public static void {name}(WgmmaForwardParams p)
    {{
        int t = Group.IdxX, wg = t >> 7, lane = t & 31, warp = (t >> 5) & 3;
        int b = Grid.IdxY / p.Heads, h = Grid.IdxY - b * p.Heads;
        uint smem = PtxOps.SharedBase(), qs = smem, kv = smem + QBytes, full = smem + QBytes + 6 * Tile128Bytes, empty = full + 24;
        long rowStride = (long)p.Heads * HeadDim * 2;
        long headOffset = (long)b * p.SeqLen * rowStride + h * HeadDim * 2;
        int tiles = p.SeqLen / 128;
        if (t < 3)
        {{
            PtxOps.MbarrierInit(full + (uint)(t * 8), 128);
            PtxOps.MbarrierInit(empty + (uint)(t * 8), 256);
        }}
        Group.Barrier();
        if (wg == 2)
        {{
            PtxOps.SetMaxRegistersDec(ProducerRegisters);
            int pt = t - 256;
            for (int j = 0; j < tiles; j++)
            {{
                int stage = j % 3;
                if (j >= 3)
                    PtxOps.MbarrierWaitParity(empty + (uint)(stage * 8), (uint)((j / 3 - 1) & 1));
                if (j == 0)
                    LoadQueryWs(p, headOffset, rowStride, qs, pt);
                uint kt = kv + (uint)(stage * 2 * Tile128Bytes);
                LoadTileWs(p, headOffset, rowStride, j, kt, kt + Tile128Bytes, pt);
                PtxOps.CommitGroup();
                if (j > 0)
                {{
                    // The previous tile's copies (this thread's) have landed: make them visible to wgmma, then signal.
                    PtxOps.WaitGroup1();
                    PtxOps.FenceProxyAsyncShared();
                    PtxOps.MbarrierArrive(full + (uint)(((j - 1) % 3) * 8));
                }}
            }}
            PtxOps.WaitGroup0();
            PtxOps.FenceProxyAsyncShared();
            PtxOps.MbarrierArrive(full + (uint)(((tiles - 1) % 3) * 8));
        }}
        else
        {{
            PtxOps.SetMaxRegistersInc(ConsumerRegisters);
            PtxOps.MbarrierWaitParity(full, 0);""")
    start = len(L)
    e("        float m0 = float.NegativeInfinity, m1 = float.NegativeInfinity, l0 = 0f, l1 = 0f, alpha0, alpha1;")
    first_tile128(True)
    WS = True
    PINGPONG = pingpong
    if pingpong:
        e("        if (wg == 1 && tiles > 1)")
        e("            PtxOps.NamedBarrierArrive(1, 256);")
    unrolled_loop128()
    WS = False
    PINGPONG = False
    e(EPILOGUE_PV128.rstrip("\n").rstrip().rstrip("}").rstrip())
    body = "\n".join(L[start:]).split("\n")
    del L[start:]
    L.extend(("    " + l) if l else l for l in body)
    e("        }")
    e("    }")

kernel_ws128("KernelWs128")
kernel_ws128("KernelWs128Pingpong", pingpong=True)

import os
library_kernel()

e('''
    /// <summary>
    /// The block's 128 query rows (16 chunks each) into core-matrix layout at <paramref name="q"/>: chunk idx → row group
    /// idx / 128, chunk (idx / 8) mod 16, row idx mod 8, so a warp writes 512 contiguous bytes.
    /// </summary>
    private static void LoadQuery(WgmmaForwardParams p, long headOffset, long rowStride, uint q, int t)
    {
        ulong qBase = p.Q + (ulong)(headOffset + (long)Grid.IdxX * BlockM * rowStride);
        for (int i = 0; i < 8; i++)
        {
            int idx = t + Threads * i, r = ((idx >> 7) << 3) + (idx & 7), c = (idx >> 3) & 15;
            PtxOps.CopyAsync16(q + (uint)(((idx >> 7) * 16 + c) * 128 + (idx & 7) * 16), qBase + (ulong)(r * rowStride + c * 16));
        }
    }

    /// <summary>Key/value tile j (64 rows × 16 chunks each) into core-matrix layout at <paramref name="k"/> and <paramref name="v"/>.</summary>
    private static void LoadTile(WgmmaForwardParams p, long headOffset, long rowStride, int j, uint k, uint v, int t)
    {
        ulong kBase = p.K + (ulong)(headOffset + (long)j * BlockN * rowStride), vBase = p.V + (ulong)(headOffset + (long)j * BlockN * rowStride);
        for (int i = 0; i < 4; i++)
        {
            int idx = t + Threads * i, r = ((idx >> 7) << 3) + (idx & 7), c = (idx >> 3) & 15;
            uint offset = (uint)(((idx >> 7) * 16 + c) * 128 + (idx & 7) * 16);
            ulong source = (ulong)(r * rowStride + c * 16);
            PtxOps.CopyAsync16(k + offset, kBase + source);
            PtxOps.CopyAsync16(v + offset, vBase + source);
        }
    }

    /// <summary>The block's 192 query rows for <see cref="KernelUnrolled3"/> (as <see cref="LoadQuery"/>, 384 threads), rows past N clamped.</summary>
    private static void LoadQuery3(WgmmaForwardParams p, long headOffset, long rowStride, uint q, int t)
    {
        ulong qBase = p.Q + (ulong)headOffset;
        int first = Grid.IdxX * BlockM3;
        for (int i = 0; i < 8; i++)
        {
            int idx = t + Threads3 * i, r = ((idx >> 7) << 3) + (idx & 7), c = (idx >> 3) & 15;
            long row = Math.Min(first + r, p.SeqLen - 1);
            PtxOps.CopyAsync16(q + (uint)(((idx >> 7) * 16 + c) * 128 + (idx & 7) * 16), qBase + (ulong)(row * rowStride + c * 16));
        }
    }

    /// <summary>As <see cref="LoadTile"/> with 384 threads.</summary>
    private static void LoadTile3(WgmmaForwardParams p, long headOffset, long rowStride, int j, uint k, uint v, int t)
    {
        ulong kBase = p.K + (ulong)(headOffset + (long)j * BlockN * rowStride), vBase = p.V + (ulong)(headOffset + (long)j * BlockN * rowStride);
        for (int idx = t; idx < BlockN * 16; idx += Threads3)
        {
            int r = ((idx >> 7) << 3) + (idx & 7), c = (idx >> 3) & 15;
            uint offset = (uint)(((idx >> 7) * 16 + c) * 128 + (idx & 7) * 16);
            ulong source = (ulong)(r * rowStride + c * 16);
            PtxOps.CopyAsync16(k + offset, kBase + source);
            PtxOps.CopyAsync16(v + offset, vBase + source);
        }
    }

    /// <summary>As <see cref="LoadTile"/> for a 128-key tile j.</summary>
    private static void LoadTile128(WgmmaForwardParams p, long headOffset, long rowStride, int j, uint k, uint v, int t)
    {
        ulong kBase = p.K + (ulong)(headOffset + (long)j * 128 * rowStride), vBase = p.V + (ulong)(headOffset + (long)j * 128 * rowStride);
        for (int i = 0; i < 8; i++)
        {
            int idx = t + Threads * i, r = ((idx >> 7) << 3) + (idx & 7), c = (idx >> 3) & 15;
            uint offset = (uint)(((idx >> 7) * 16 + c) * 128 + (idx & 7) * 16);
            ulong source = (ulong)(r * rowStride + c * 16);
            PtxOps.CopyAsync16(k + offset, kBase + source);
            PtxOps.CopyAsync16(v + offset, vBase + source);
        }
    }

    /// <summary>As <see cref="LoadQuery"/> by the 128 threads of the producer warpgroup (<paramref name="pt"/> 0–127).</summary>
    private static void LoadQueryWs(WgmmaForwardParams p, long headOffset, long rowStride, uint q, int pt)
    {
        ulong qBase = p.Q + (ulong)(headOffset + (long)Grid.IdxX * BlockM * rowStride);
        for (int i = 0; i < 16; i++)
        {
            int idx = pt + 128 * i, r = ((idx >> 7) << 3) + (idx & 7), c = (idx >> 3) & 15;
            PtxOps.CopyAsync16(q + (uint)(((idx >> 7) * 16 + c) * 128 + (idx & 7) * 16), qBase + (ulong)(r * rowStride + c * 16));
        }
    }

    /// <summary>As <see cref="LoadTile128"/> by the 128 threads of the producer warpgroup.</summary>
    private static void LoadTileWs(WgmmaForwardParams p, long headOffset, long rowStride, int j, uint k, uint v, int pt)
    {
        ulong kBase = p.K + (ulong)(headOffset + (long)j * 128 * rowStride), vBase = p.V + (ulong)(headOffset + (long)j * 128 * rowStride);
        for (int i = 0; i < 16; i++)
        {
            int idx = pt + 128 * i, r = ((idx >> 7) << 3) + (idx & 7), c = (idx >> 3) & 15;
            uint offset = (uint)(((idx >> 7) * 16 + c) * 128 + (idx & 7) * 16);
            ulong source = (ulong)(r * rowStride + c * 16);
            PtxOps.CopyAsync16(k + offset, kBase + source);
            PtxOps.CopyAsync16(v + offset, vBase + source);
        }
    }
''')
import os
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'WgmmaForward.g.cs'), 'w').write("\n".join(L) + "\n}\n")
