using System.Runtime.InteropServices;
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


    // q, k, v [B, N, H, 128] bf16 → out [B, N, H, 128] bf16, lse [B, H, N]; grid (N / 128, B·H).
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
            var s = default(Float32x32);
            s = PtxOps.WgmmaBf16M64N64K16SS(s, PtxOps.WgmmaDescriptor(qw + 0, 128, 2048), PtxOps.WgmmaDescriptor(kb + 0, 128, 2048), 0);
            s = PtxOps.WgmmaBf16M64N64K16SS(s, PtxOps.WgmmaDescriptor(qw + 256, 128, 2048), PtxOps.WgmmaDescriptor(kb + 256, 128, 2048), 1);
            s = PtxOps.WgmmaBf16M64N64K16SS(s, PtxOps.WgmmaDescriptor(qw + 512, 128, 2048), PtxOps.WgmmaDescriptor(kb + 512, 128, 2048), 1);
            s = PtxOps.WgmmaBf16M64N64K16SS(s, PtxOps.WgmmaDescriptor(qw + 768, 128, 2048), PtxOps.WgmmaDescriptor(kb + 768, 128, 2048), 1);
            s = PtxOps.WgmmaBf16M64N64K16SS(s, PtxOps.WgmmaDescriptor(qw + 1024, 128, 2048), PtxOps.WgmmaDescriptor(kb + 1024, 128, 2048), 1);
            s = PtxOps.WgmmaBf16M64N64K16SS(s, PtxOps.WgmmaDescriptor(qw + 1280, 128, 2048), PtxOps.WgmmaDescriptor(kb + 1280, 128, 2048), 1);
            s = PtxOps.WgmmaBf16M64N64K16SS(s, PtxOps.WgmmaDescriptor(qw + 1536, 128, 2048), PtxOps.WgmmaDescriptor(kb + 1536, 128, 2048), 1);
            s = PtxOps.WgmmaBf16M64N64K16SS(s, PtxOps.WgmmaDescriptor(qw + 1792, 128, 2048), PtxOps.WgmmaDescriptor(kb + 1792, 128, 2048), 1);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
            float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29);
            float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31);
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
            float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
            float alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2), alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
            float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
            m0 = mNew0;
            m1 = mNew1;
            float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
            float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
            float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
            float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
            float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
            float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
            float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
            float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
            float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
            float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
            float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
            float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
            float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
            float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
            float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
            float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
            float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
            float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
            float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
            float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
            float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
            float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
            float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
            float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
            float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
            float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
            float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
            float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
            float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
            float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
            float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
            float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
            l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29);
            l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31);
            o0.F0 *= alpha0;
            o0.F1 *= alpha0;
            o0.F2 *= alpha1;
            o0.F3 *= alpha1;
            o0.F4 *= alpha0;
            o0.F5 *= alpha0;
            o0.F6 *= alpha1;
            o0.F7 *= alpha1;
            o0.F8 *= alpha0;
            o0.F9 *= alpha0;
            o0.F10 *= alpha1;
            o0.F11 *= alpha1;
            o0.F12 *= alpha0;
            o0.F13 *= alpha0;
            o0.F14 *= alpha1;
            o0.F15 *= alpha1;
            o0.F16 *= alpha0;
            o0.F17 *= alpha0;
            o0.F18 *= alpha1;
            o0.F19 *= alpha1;
            o0.F20 *= alpha0;
            o0.F21 *= alpha0;
            o0.F22 *= alpha1;
            o0.F23 *= alpha1;
            o0.F24 *= alpha0;
            o0.F25 *= alpha0;
            o0.F26 *= alpha1;
            o0.F27 *= alpha1;
            o0.F28 *= alpha0;
            o0.F29 *= alpha0;
            o0.F30 *= alpha1;
            o0.F31 *= alpha1;
            o1.F0 *= alpha0;
            o1.F1 *= alpha0;
            o1.F2 *= alpha1;
            o1.F3 *= alpha1;
            o1.F4 *= alpha0;
            o1.F5 *= alpha0;
            o1.F6 *= alpha1;
            o1.F7 *= alpha1;
            o1.F8 *= alpha0;
            o1.F9 *= alpha0;
            o1.F10 *= alpha1;
            o1.F11 *= alpha1;
            o1.F12 *= alpha0;
            o1.F13 *= alpha0;
            o1.F14 *= alpha1;
            o1.F15 *= alpha1;
            o1.F16 *= alpha0;
            o1.F17 *= alpha0;
            o1.F18 *= alpha1;
            o1.F19 *= alpha1;
            o1.F20 *= alpha0;
            o1.F21 *= alpha0;
            o1.F22 *= alpha1;
            o1.F23 *= alpha1;
            o1.F24 *= alpha0;
            o1.F25 *= alpha0;
            o1.F26 *= alpha1;
            o1.F27 *= alpha1;
            o1.F28 *= alpha0;
            o1.F29 *= alpha0;
            o1.F30 *= alpha1;
            o1.F31 *= alpha1;
            uint a00 = PtxOps.PackBf16(p0, p1), a01 = PtxOps.PackBf16(p2, p3), a02 = PtxOps.PackBf16(p4, p5), a03 = PtxOps.PackBf16(p6, p7);
            uint a10 = PtxOps.PackBf16(p8, p9), a11 = PtxOps.PackBf16(p10, p11), a12 = PtxOps.PackBf16(p12, p13), a13 = PtxOps.PackBf16(p14, p15);
            uint a20 = PtxOps.PackBf16(p16, p17), a21 = PtxOps.PackBf16(p18, p19), a22 = PtxOps.PackBf16(p20, p21), a23 = PtxOps.PackBf16(p22, p23);
            uint a30 = PtxOps.PackBf16(p24, p25), a31 = PtxOps.PackBf16(p26, p27), a32 = PtxOps.PackBf16(p28, p29), a33 = PtxOps.PackBf16(p30, p31);
            o0 = PtxOps.WgmmaBf16M64N64K16RSTransB(o0, a00, a01, a02, a03, PtxOps.WgmmaDescriptor(vb + 0, 2048, 128), 1);
            o1 = PtxOps.WgmmaBf16M64N64K16RSTransB(o1, a00, a01, a02, a03, PtxOps.WgmmaDescriptor(vb + 1024, 2048, 128), 1);
            o0 = PtxOps.WgmmaBf16M64N64K16RSTransB(o0, a10, a11, a12, a13, PtxOps.WgmmaDescriptor(vb + 4096, 2048, 128), 1);
            o1 = PtxOps.WgmmaBf16M64N64K16RSTransB(o1, a10, a11, a12, a13, PtxOps.WgmmaDescriptor(vb + 5120, 2048, 128), 1);
            o0 = PtxOps.WgmmaBf16M64N64K16RSTransB(o0, a20, a21, a22, a23, PtxOps.WgmmaDescriptor(vb + 8192, 2048, 128), 1);
            o1 = PtxOps.WgmmaBf16M64N64K16RSTransB(o1, a20, a21, a22, a23, PtxOps.WgmmaDescriptor(vb + 9216, 2048, 128), 1);
            o0 = PtxOps.WgmmaBf16M64N64K16RSTransB(o0, a30, a31, a32, a33, PtxOps.WgmmaDescriptor(vb + 12288, 2048, 128), 1);
            o1 = PtxOps.WgmmaBf16M64N64K16RSTransB(o1, a30, a31, a32, a33, PtxOps.WgmmaDescriptor(vb + 13312, 2048, 128), 1);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
            Group.Barrier();
        }
        l0 += PtxOps.ShuffleXor(l0, 1);
        l0 += PtxOps.ShuffleXor(l0, 2);
        l1 += PtxOps.ShuffleXor(l1, 1);
        l1 += PtxOps.ShuffleXor(l1, 2);
        float inv0 = PtxOps.Reciprocal(l0), inv1 = PtxOps.Reciprocal(l1);
        int row0 = Grid.IdxX * BlockM + wg * 64 + warp * 16 + (lane >> 2), col = 2 * (lane & 3);
        ulong out0 = p.O + (ulong)(headOffset + row0 * rowStride + col * 2), out1 = out0 + (ulong)(8 * rowStride);
        PtxOps.StoreWord(out0 + 0, PtxOps.PackBf16(o0.F0 * inv0, o0.F1 * inv0));
        PtxOps.StoreWord(out1 + 0, PtxOps.PackBf16(o0.F2 * inv1, o0.F3 * inv1));
        PtxOps.StoreWord(out0 + 16, PtxOps.PackBf16(o0.F4 * inv0, o0.F5 * inv0));
        PtxOps.StoreWord(out1 + 16, PtxOps.PackBf16(o0.F6 * inv1, o0.F7 * inv1));
        PtxOps.StoreWord(out0 + 32, PtxOps.PackBf16(o0.F8 * inv0, o0.F9 * inv0));
        PtxOps.StoreWord(out1 + 32, PtxOps.PackBf16(o0.F10 * inv1, o0.F11 * inv1));
        PtxOps.StoreWord(out0 + 48, PtxOps.PackBf16(o0.F12 * inv0, o0.F13 * inv0));
        PtxOps.StoreWord(out1 + 48, PtxOps.PackBf16(o0.F14 * inv1, o0.F15 * inv1));
        PtxOps.StoreWord(out0 + 64, PtxOps.PackBf16(o0.F16 * inv0, o0.F17 * inv0));
        PtxOps.StoreWord(out1 + 64, PtxOps.PackBf16(o0.F18 * inv1, o0.F19 * inv1));
        PtxOps.StoreWord(out0 + 80, PtxOps.PackBf16(o0.F20 * inv0, o0.F21 * inv0));
        PtxOps.StoreWord(out1 + 80, PtxOps.PackBf16(o0.F22 * inv1, o0.F23 * inv1));
        PtxOps.StoreWord(out0 + 96, PtxOps.PackBf16(o0.F24 * inv0, o0.F25 * inv0));
        PtxOps.StoreWord(out1 + 96, PtxOps.PackBf16(o0.F26 * inv1, o0.F27 * inv1));
        PtxOps.StoreWord(out0 + 112, PtxOps.PackBf16(o0.F28 * inv0, o0.F29 * inv0));
        PtxOps.StoreWord(out1 + 112, PtxOps.PackBf16(o0.F30 * inv1, o0.F31 * inv1));
        PtxOps.StoreWord(out0 + 128, PtxOps.PackBf16(o1.F0 * inv0, o1.F1 * inv0));
        PtxOps.StoreWord(out1 + 128, PtxOps.PackBf16(o1.F2 * inv1, o1.F3 * inv1));
        PtxOps.StoreWord(out0 + 144, PtxOps.PackBf16(o1.F4 * inv0, o1.F5 * inv0));
        PtxOps.StoreWord(out1 + 144, PtxOps.PackBf16(o1.F6 * inv1, o1.F7 * inv1));
        PtxOps.StoreWord(out0 + 160, PtxOps.PackBf16(o1.F8 * inv0, o1.F9 * inv0));
        PtxOps.StoreWord(out1 + 160, PtxOps.PackBf16(o1.F10 * inv1, o1.F11 * inv1));
        PtxOps.StoreWord(out0 + 176, PtxOps.PackBf16(o1.F12 * inv0, o1.F13 * inv0));
        PtxOps.StoreWord(out1 + 176, PtxOps.PackBf16(o1.F14 * inv1, o1.F15 * inv1));
        PtxOps.StoreWord(out0 + 192, PtxOps.PackBf16(o1.F16 * inv0, o1.F17 * inv0));
        PtxOps.StoreWord(out1 + 192, PtxOps.PackBf16(o1.F18 * inv1, o1.F19 * inv1));
        PtxOps.StoreWord(out0 + 208, PtxOps.PackBf16(o1.F20 * inv0, o1.F21 * inv0));
        PtxOps.StoreWord(out1 + 208, PtxOps.PackBf16(o1.F22 * inv1, o1.F23 * inv1));
        PtxOps.StoreWord(out0 + 224, PtxOps.PackBf16(o1.F24 * inv0, o1.F25 * inv0));
        PtxOps.StoreWord(out1 + 224, PtxOps.PackBf16(o1.F26 * inv1, o1.F27 * inv1));
        PtxOps.StoreWord(out0 + 240, PtxOps.PackBf16(o1.F28 * inv0, o1.F29 * inv0));
        PtxOps.StoreWord(out1 + 240, PtxOps.PackBf16(o1.F30 * inv1, o1.F31 * inv1));
        if ((lane & 3) == 0)
        {
            ulong lse = p.Lse + (ulong)((((long)b * p.Heads + h) * p.SeqLen + row0) * 4);
            const float Ln2 = 0.6931472f;
            PtxOps.StoreFloat(lse, (m0 * p.ScaleLog2 + PtxOps.Log2(l0)) * Ln2);
            PtxOps.StoreFloat(lse + 32, (m1 * p.ScaleLog2 + PtxOps.Log2(l1)) * Ln2);
        }
    }
    // q, k, v [B, N, H, 128] bf16 → out [B, N, H, 128] bf16, lse [B, H, N]; grid (N / 128, B·H).
    public static void KernelPvN128(WgmmaForwardParams p)
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
        var o = default(Float32x64);
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
            var s = default(Float32x32);
            s = PtxOps.WgmmaBf16M64N64K16SS(s, PtxOps.WgmmaDescriptor(qw + 0, 128, 2048), PtxOps.WgmmaDescriptor(kb + 0, 128, 2048), 0);
            s = PtxOps.WgmmaBf16M64N64K16SS(s, PtxOps.WgmmaDescriptor(qw + 256, 128, 2048), PtxOps.WgmmaDescriptor(kb + 256, 128, 2048), 1);
            s = PtxOps.WgmmaBf16M64N64K16SS(s, PtxOps.WgmmaDescriptor(qw + 512, 128, 2048), PtxOps.WgmmaDescriptor(kb + 512, 128, 2048), 1);
            s = PtxOps.WgmmaBf16M64N64K16SS(s, PtxOps.WgmmaDescriptor(qw + 768, 128, 2048), PtxOps.WgmmaDescriptor(kb + 768, 128, 2048), 1);
            s = PtxOps.WgmmaBf16M64N64K16SS(s, PtxOps.WgmmaDescriptor(qw + 1024, 128, 2048), PtxOps.WgmmaDescriptor(kb + 1024, 128, 2048), 1);
            s = PtxOps.WgmmaBf16M64N64K16SS(s, PtxOps.WgmmaDescriptor(qw + 1280, 128, 2048), PtxOps.WgmmaDescriptor(kb + 1280, 128, 2048), 1);
            s = PtxOps.WgmmaBf16M64N64K16SS(s, PtxOps.WgmmaDescriptor(qw + 1536, 128, 2048), PtxOps.WgmmaDescriptor(kb + 1536, 128, 2048), 1);
            s = PtxOps.WgmmaBf16M64N64K16SS(s, PtxOps.WgmmaDescriptor(qw + 1792, 128, 2048), PtxOps.WgmmaDescriptor(kb + 1792, 128, 2048), 1);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
            float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29);
            float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31);
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
            float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
            float alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2), alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
            float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
            m0 = mNew0;
            m1 = mNew1;
            float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
            float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
            float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
            float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
            float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
            float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
            float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
            float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
            float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
            float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
            float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
            float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
            float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
            float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
            float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
            float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
            float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
            float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
            float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
            float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
            float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
            float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
            float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
            float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
            float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
            float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
            float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
            float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
            float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
            float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
            float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
            float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
            l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29);
            l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31);
            o.F0 *= alpha0;
            o.F1 *= alpha0;
            o.F2 *= alpha1;
            o.F3 *= alpha1;
            o.F4 *= alpha0;
            o.F5 *= alpha0;
            o.F6 *= alpha1;
            o.F7 *= alpha1;
            o.F8 *= alpha0;
            o.F9 *= alpha0;
            o.F10 *= alpha1;
            o.F11 *= alpha1;
            o.F12 *= alpha0;
            o.F13 *= alpha0;
            o.F14 *= alpha1;
            o.F15 *= alpha1;
            o.F16 *= alpha0;
            o.F17 *= alpha0;
            o.F18 *= alpha1;
            o.F19 *= alpha1;
            o.F20 *= alpha0;
            o.F21 *= alpha0;
            o.F22 *= alpha1;
            o.F23 *= alpha1;
            o.F24 *= alpha0;
            o.F25 *= alpha0;
            o.F26 *= alpha1;
            o.F27 *= alpha1;
            o.F28 *= alpha0;
            o.F29 *= alpha0;
            o.F30 *= alpha1;
            o.F31 *= alpha1;
            o.F32 *= alpha0;
            o.F33 *= alpha0;
            o.F34 *= alpha1;
            o.F35 *= alpha1;
            o.F36 *= alpha0;
            o.F37 *= alpha0;
            o.F38 *= alpha1;
            o.F39 *= alpha1;
            o.F40 *= alpha0;
            o.F41 *= alpha0;
            o.F42 *= alpha1;
            o.F43 *= alpha1;
            o.F44 *= alpha0;
            o.F45 *= alpha0;
            o.F46 *= alpha1;
            o.F47 *= alpha1;
            o.F48 *= alpha0;
            o.F49 *= alpha0;
            o.F50 *= alpha1;
            o.F51 *= alpha1;
            o.F52 *= alpha0;
            o.F53 *= alpha0;
            o.F54 *= alpha1;
            o.F55 *= alpha1;
            o.F56 *= alpha0;
            o.F57 *= alpha0;
            o.F58 *= alpha1;
            o.F59 *= alpha1;
            o.F60 *= alpha0;
            o.F61 *= alpha0;
            o.F62 *= alpha1;
            o.F63 *= alpha1;
            uint a00 = PtxOps.PackBf16(p0, p1), a01 = PtxOps.PackBf16(p2, p3), a02 = PtxOps.PackBf16(p4, p5), a03 = PtxOps.PackBf16(p6, p7);
            uint a10 = PtxOps.PackBf16(p8, p9), a11 = PtxOps.PackBf16(p10, p11), a12 = PtxOps.PackBf16(p12, p13), a13 = PtxOps.PackBf16(p14, p15);
            uint a20 = PtxOps.PackBf16(p16, p17), a21 = PtxOps.PackBf16(p18, p19), a22 = PtxOps.PackBf16(p20, p21), a23 = PtxOps.PackBf16(p22, p23);
            uint a30 = PtxOps.PackBf16(p24, p25), a31 = PtxOps.PackBf16(p26, p27), a32 = PtxOps.PackBf16(p28, p29), a33 = PtxOps.PackBf16(p30, p31);
            o = PtxOps.WgmmaBf16M64N128K16RSTransB(o, a00, a01, a02, a03, PtxOps.WgmmaDescriptor(vb + 0, 2048, 128), 1);
            o = PtxOps.WgmmaBf16M64N128K16RSTransB(o, a10, a11, a12, a13, PtxOps.WgmmaDescriptor(vb + 4096, 2048, 128), 1);
            o = PtxOps.WgmmaBf16M64N128K16RSTransB(o, a20, a21, a22, a23, PtxOps.WgmmaDescriptor(vb + 8192, 2048, 128), 1);
            o = PtxOps.WgmmaBf16M64N128K16RSTransB(o, a30, a31, a32, a33, PtxOps.WgmmaDescriptor(vb + 12288, 2048, 128), 1);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
            Group.Barrier();
        }
        l0 += PtxOps.ShuffleXor(l0, 1);
        l0 += PtxOps.ShuffleXor(l0, 2);
        l1 += PtxOps.ShuffleXor(l1, 1);
        l1 += PtxOps.ShuffleXor(l1, 2);
        float inv0 = PtxOps.Reciprocal(l0), inv1 = PtxOps.Reciprocal(l1);
        int row0 = Grid.IdxX * BlockM + wg * 64 + warp * 16 + (lane >> 2), col = 2 * (lane & 3);
        ulong out0 = p.O + (ulong)(headOffset + row0 * rowStride + col * 2), out1 = out0 + (ulong)(8 * rowStride);
        PtxOps.StoreWord(out0 + 0, PtxOps.PackBf16(o.F0 * inv0, o.F1 * inv0));
        PtxOps.StoreWord(out1 + 0, PtxOps.PackBf16(o.F2 * inv1, o.F3 * inv1));
        PtxOps.StoreWord(out0 + 16, PtxOps.PackBf16(o.F4 * inv0, o.F5 * inv0));
        PtxOps.StoreWord(out1 + 16, PtxOps.PackBf16(o.F6 * inv1, o.F7 * inv1));
        PtxOps.StoreWord(out0 + 32, PtxOps.PackBf16(o.F8 * inv0, o.F9 * inv0));
        PtxOps.StoreWord(out1 + 32, PtxOps.PackBf16(o.F10 * inv1, o.F11 * inv1));
        PtxOps.StoreWord(out0 + 48, PtxOps.PackBf16(o.F12 * inv0, o.F13 * inv0));
        PtxOps.StoreWord(out1 + 48, PtxOps.PackBf16(o.F14 * inv1, o.F15 * inv1));
        PtxOps.StoreWord(out0 + 64, PtxOps.PackBf16(o.F16 * inv0, o.F17 * inv0));
        PtxOps.StoreWord(out1 + 64, PtxOps.PackBf16(o.F18 * inv1, o.F19 * inv1));
        PtxOps.StoreWord(out0 + 80, PtxOps.PackBf16(o.F20 * inv0, o.F21 * inv0));
        PtxOps.StoreWord(out1 + 80, PtxOps.PackBf16(o.F22 * inv1, o.F23 * inv1));
        PtxOps.StoreWord(out0 + 96, PtxOps.PackBf16(o.F24 * inv0, o.F25 * inv0));
        PtxOps.StoreWord(out1 + 96, PtxOps.PackBf16(o.F26 * inv1, o.F27 * inv1));
        PtxOps.StoreWord(out0 + 112, PtxOps.PackBf16(o.F28 * inv0, o.F29 * inv0));
        PtxOps.StoreWord(out1 + 112, PtxOps.PackBf16(o.F30 * inv1, o.F31 * inv1));
        PtxOps.StoreWord(out0 + 128, PtxOps.PackBf16(o.F32 * inv0, o.F33 * inv0));
        PtxOps.StoreWord(out1 + 128, PtxOps.PackBf16(o.F34 * inv1, o.F35 * inv1));
        PtxOps.StoreWord(out0 + 144, PtxOps.PackBf16(o.F36 * inv0, o.F37 * inv0));
        PtxOps.StoreWord(out1 + 144, PtxOps.PackBf16(o.F38 * inv1, o.F39 * inv1));
        PtxOps.StoreWord(out0 + 160, PtxOps.PackBf16(o.F40 * inv0, o.F41 * inv0));
        PtxOps.StoreWord(out1 + 160, PtxOps.PackBf16(o.F42 * inv1, o.F43 * inv1));
        PtxOps.StoreWord(out0 + 176, PtxOps.PackBf16(o.F44 * inv0, o.F45 * inv0));
        PtxOps.StoreWord(out1 + 176, PtxOps.PackBf16(o.F46 * inv1, o.F47 * inv1));
        PtxOps.StoreWord(out0 + 192, PtxOps.PackBf16(o.F48 * inv0, o.F49 * inv0));
        PtxOps.StoreWord(out1 + 192, PtxOps.PackBf16(o.F50 * inv1, o.F51 * inv1));
        PtxOps.StoreWord(out0 + 208, PtxOps.PackBf16(o.F52 * inv0, o.F53 * inv0));
        PtxOps.StoreWord(out1 + 208, PtxOps.PackBf16(o.F54 * inv1, o.F55 * inv1));
        PtxOps.StoreWord(out0 + 224, PtxOps.PackBf16(o.F56 * inv0, o.F57 * inv0));
        PtxOps.StoreWord(out1 + 224, PtxOps.PackBf16(o.F58 * inv1, o.F59 * inv1));
        PtxOps.StoreWord(out0 + 240, PtxOps.PackBf16(o.F60 * inv0, o.F61 * inv0));
        PtxOps.StoreWord(out1 + 240, PtxOps.PackBf16(o.F62 * inv1, o.F63 * inv1));
        if ((lane & 3) == 0)
        {
            ulong lse = p.Lse + (ulong)((((long)b * p.Heads + h) * p.SeqLen + row0) * 4);
            const float Ln2 = 0.6931472f;
            PtxOps.StoreFloat(lse, (m0 * p.ScaleLog2 + PtxOps.Log2(l0)) * Ln2);
            PtxOps.StoreFloat(lse + 32, (m1 * p.ScaleLog2 + PtxOps.Log2(l1)) * Ln2);
        }
    }
    // q, k, v [B, N, H, 128] bf16 → out [B, N, H, 128] bf16, lse [B, H, N]; grid (N / 128, B·H).
    public static void KernelChained(WgmmaForwardParams p)
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
        var o = default(Float32x64);
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
            var s = PtxOps.WgmmaBf16M64N64SSChain(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), 8, 16, 16);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
            float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29);
            float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31);
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
            float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
            float alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2), alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
            float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
            m0 = mNew0;
            m1 = mNew1;
            float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
            float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
            float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
            float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
            float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
            float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
            float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
            float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
            float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
            float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
            float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
            float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
            float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
            float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
            float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
            float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
            float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
            float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
            float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
            float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
            float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
            float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
            float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
            float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
            float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
            float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
            float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
            float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
            float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
            float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
            float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
            float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
            l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29);
            l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31);
            o.F0 *= alpha0;
            o.F1 *= alpha0;
            o.F2 *= alpha1;
            o.F3 *= alpha1;
            o.F4 *= alpha0;
            o.F5 *= alpha0;
            o.F6 *= alpha1;
            o.F7 *= alpha1;
            o.F8 *= alpha0;
            o.F9 *= alpha0;
            o.F10 *= alpha1;
            o.F11 *= alpha1;
            o.F12 *= alpha0;
            o.F13 *= alpha0;
            o.F14 *= alpha1;
            o.F15 *= alpha1;
            o.F16 *= alpha0;
            o.F17 *= alpha0;
            o.F18 *= alpha1;
            o.F19 *= alpha1;
            o.F20 *= alpha0;
            o.F21 *= alpha0;
            o.F22 *= alpha1;
            o.F23 *= alpha1;
            o.F24 *= alpha0;
            o.F25 *= alpha0;
            o.F26 *= alpha1;
            o.F27 *= alpha1;
            o.F28 *= alpha0;
            o.F29 *= alpha0;
            o.F30 *= alpha1;
            o.F31 *= alpha1;
            o.F32 *= alpha0;
            o.F33 *= alpha0;
            o.F34 *= alpha1;
            o.F35 *= alpha1;
            o.F36 *= alpha0;
            o.F37 *= alpha0;
            o.F38 *= alpha1;
            o.F39 *= alpha1;
            o.F40 *= alpha0;
            o.F41 *= alpha0;
            o.F42 *= alpha1;
            o.F43 *= alpha1;
            o.F44 *= alpha0;
            o.F45 *= alpha0;
            o.F46 *= alpha1;
            o.F47 *= alpha1;
            o.F48 *= alpha0;
            o.F49 *= alpha0;
            o.F50 *= alpha1;
            o.F51 *= alpha1;
            o.F52 *= alpha0;
            o.F53 *= alpha0;
            o.F54 *= alpha1;
            o.F55 *= alpha1;
            o.F56 *= alpha0;
            o.F57 *= alpha0;
            o.F58 *= alpha1;
            o.F59 *= alpha1;
            o.F60 *= alpha0;
            o.F61 *= alpha0;
            o.F62 *= alpha1;
            o.F63 *= alpha1;
            uint a00 = PtxOps.PackBf16(p0, p1), a01 = PtxOps.PackBf16(p2, p3), a02 = PtxOps.PackBf16(p4, p5), a03 = PtxOps.PackBf16(p6, p7);
            uint a10 = PtxOps.PackBf16(p8, p9), a11 = PtxOps.PackBf16(p10, p11), a12 = PtxOps.PackBf16(p12, p13), a13 = PtxOps.PackBf16(p14, p15);
            uint a20 = PtxOps.PackBf16(p16, p17), a21 = PtxOps.PackBf16(p18, p19), a22 = PtxOps.PackBf16(p20, p21), a23 = PtxOps.PackBf16(p22, p23);
            uint a30 = PtxOps.PackBf16(p24, p25), a31 = PtxOps.PackBf16(p26, p27), a32 = PtxOps.PackBf16(p28, p29), a33 = PtxOps.PackBf16(p30, p31);
            o = PtxOps.WgmmaBf16M64N128RSTransBChain4(o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, PtxOps.WgmmaDescriptor(vb, 2048, 128), 256);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
            Group.Barrier();
        }
        l0 += PtxOps.ShuffleXor(l0, 1);
        l0 += PtxOps.ShuffleXor(l0, 2);
        l1 += PtxOps.ShuffleXor(l1, 1);
        l1 += PtxOps.ShuffleXor(l1, 2);
        float inv0 = PtxOps.Reciprocal(l0), inv1 = PtxOps.Reciprocal(l1);
        int row0 = Grid.IdxX * BlockM + wg * 64 + warp * 16 + (lane >> 2), col = 2 * (lane & 3);
        ulong out0 = p.O + (ulong)(headOffset + row0 * rowStride + col * 2), out1 = out0 + (ulong)(8 * rowStride);
        PtxOps.StoreWord(out0 + 0, PtxOps.PackBf16(o.F0 * inv0, o.F1 * inv0));
        PtxOps.StoreWord(out1 + 0, PtxOps.PackBf16(o.F2 * inv1, o.F3 * inv1));
        PtxOps.StoreWord(out0 + 16, PtxOps.PackBf16(o.F4 * inv0, o.F5 * inv0));
        PtxOps.StoreWord(out1 + 16, PtxOps.PackBf16(o.F6 * inv1, o.F7 * inv1));
        PtxOps.StoreWord(out0 + 32, PtxOps.PackBf16(o.F8 * inv0, o.F9 * inv0));
        PtxOps.StoreWord(out1 + 32, PtxOps.PackBf16(o.F10 * inv1, o.F11 * inv1));
        PtxOps.StoreWord(out0 + 48, PtxOps.PackBf16(o.F12 * inv0, o.F13 * inv0));
        PtxOps.StoreWord(out1 + 48, PtxOps.PackBf16(o.F14 * inv1, o.F15 * inv1));
        PtxOps.StoreWord(out0 + 64, PtxOps.PackBf16(o.F16 * inv0, o.F17 * inv0));
        PtxOps.StoreWord(out1 + 64, PtxOps.PackBf16(o.F18 * inv1, o.F19 * inv1));
        PtxOps.StoreWord(out0 + 80, PtxOps.PackBf16(o.F20 * inv0, o.F21 * inv0));
        PtxOps.StoreWord(out1 + 80, PtxOps.PackBf16(o.F22 * inv1, o.F23 * inv1));
        PtxOps.StoreWord(out0 + 96, PtxOps.PackBf16(o.F24 * inv0, o.F25 * inv0));
        PtxOps.StoreWord(out1 + 96, PtxOps.PackBf16(o.F26 * inv1, o.F27 * inv1));
        PtxOps.StoreWord(out0 + 112, PtxOps.PackBf16(o.F28 * inv0, o.F29 * inv0));
        PtxOps.StoreWord(out1 + 112, PtxOps.PackBf16(o.F30 * inv1, o.F31 * inv1));
        PtxOps.StoreWord(out0 + 128, PtxOps.PackBf16(o.F32 * inv0, o.F33 * inv0));
        PtxOps.StoreWord(out1 + 128, PtxOps.PackBf16(o.F34 * inv1, o.F35 * inv1));
        PtxOps.StoreWord(out0 + 144, PtxOps.PackBf16(o.F36 * inv0, o.F37 * inv0));
        PtxOps.StoreWord(out1 + 144, PtxOps.PackBf16(o.F38 * inv1, o.F39 * inv1));
        PtxOps.StoreWord(out0 + 160, PtxOps.PackBf16(o.F40 * inv0, o.F41 * inv0));
        PtxOps.StoreWord(out1 + 160, PtxOps.PackBf16(o.F42 * inv1, o.F43 * inv1));
        PtxOps.StoreWord(out0 + 176, PtxOps.PackBf16(o.F44 * inv0, o.F45 * inv0));
        PtxOps.StoreWord(out1 + 176, PtxOps.PackBf16(o.F46 * inv1, o.F47 * inv1));
        PtxOps.StoreWord(out0 + 192, PtxOps.PackBf16(o.F48 * inv0, o.F49 * inv0));
        PtxOps.StoreWord(out1 + 192, PtxOps.PackBf16(o.F50 * inv1, o.F51 * inv1));
        PtxOps.StoreWord(out0 + 208, PtxOps.PackBf16(o.F52 * inv0, o.F53 * inv0));
        PtxOps.StoreWord(out1 + 208, PtxOps.PackBf16(o.F54 * inv1, o.F55 * inv1));
        PtxOps.StoreWord(out0 + 224, PtxOps.PackBf16(o.F56 * inv0, o.F57 * inv0));
        PtxOps.StoreWord(out1 + 224, PtxOps.PackBf16(o.F58 * inv1, o.F59 * inv1));
        PtxOps.StoreWord(out0 + 240, PtxOps.PackBf16(o.F60 * inv0, o.F61 * inv0));
        PtxOps.StoreWord(out1 + 240, PtxOps.PackBf16(o.F62 * inv1, o.F63 * inv1));
        if ((lane & 3) == 0)
        {
            ulong lse = p.Lse + (ulong)((((long)b * p.Heads + h) * p.SeqLen + row0) * 4);
            const float Ln2 = 0.6931472f;
            PtxOps.StoreFloat(lse, (m0 * p.ScaleLog2 + PtxOps.Log2(l0)) * Ln2);
            PtxOps.StoreFloat(lse + 32, (m1 * p.ScaleLog2 + PtxOps.Log2(l1)) * Ln2);
        }
    }

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
            float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29);
            float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31);
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
            float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
            alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
            alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
            float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
            m0 = mNew0;
            m1 = mNew1;
            float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
            float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
            float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
            float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
            float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
            float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
            float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
            float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
            float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
            float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
            float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
            float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
            float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
            float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
            float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
            float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
            float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
            float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
            float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
            float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
            float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
            float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
            float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
            float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
            float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
            float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
            float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
            float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
            float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
            float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
            float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
            float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
            l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29);
            l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31);
            a00 = PtxOps.PackBf16(p0, p1);
            a01 = PtxOps.PackBf16(p2, p3);
            a02 = PtxOps.PackBf16(p4, p5);
            a03 = PtxOps.PackBf16(p6, p7);
            a10 = PtxOps.PackBf16(p8, p9);
            a11 = PtxOps.PackBf16(p10, p11);
            a12 = PtxOps.PackBf16(p12, p13);
            a13 = PtxOps.PackBf16(p14, p15);
            a20 = PtxOps.PackBf16(p16, p17);
            a21 = PtxOps.PackBf16(p18, p19);
            a22 = PtxOps.PackBf16(p20, p21);
            a23 = PtxOps.PackBf16(p22, p23);
            a30 = PtxOps.PackBf16(p24, p25);
            a31 = PtxOps.PackBf16(p26, p27);
            a32 = PtxOps.PackBf16(p28, p29);
            a33 = PtxOps.PackBf16(p30, p31);
        }
        for (int j = 1; j < tiles; j++)
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

            var s = PtxOps.WgmmaBf16M64N64SSChain(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), 8, 16, 16);
            PtxOps.WgmmaCommit();
            o = PtxOps.WgmmaBf16M64N128RSTransBChain4(o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128), 256);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait1();
            float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29);
            float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31);
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
            float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
            alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
            alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
            float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
            m0 = mNew0;
            m1 = mNew1;
            float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
            float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
            float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
            float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
            float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
            float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
            float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
            float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
            float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
            float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
            float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
            float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
            float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
            float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
            float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
            float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
            float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
            float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
            float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
            float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
            float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
            float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
            float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
            float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
            float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
            float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
            float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
            float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
            float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
            float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
            float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
            float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
            l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29);
            l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31);
            a00 = PtxOps.PackBf16(p0, p1);
            a01 = PtxOps.PackBf16(p2, p3);
            a02 = PtxOps.PackBf16(p4, p5);
            a03 = PtxOps.PackBf16(p6, p7);
            a10 = PtxOps.PackBf16(p8, p9);
            a11 = PtxOps.PackBf16(p10, p11);
            a12 = PtxOps.PackBf16(p12, p13);
            a13 = PtxOps.PackBf16(p14, p15);
            a20 = PtxOps.PackBf16(p16, p17);
            a21 = PtxOps.PackBf16(p18, p19);
            a22 = PtxOps.PackBf16(p20, p21);
            a23 = PtxOps.PackBf16(p22, p23);
            a30 = PtxOps.PackBf16(p24, p25);
            a31 = PtxOps.PackBf16(p26, p27);
            a32 = PtxOps.PackBf16(p28, p29);
            a33 = PtxOps.PackBf16(p30, p31);
            PtxOps.WgmmaWait0();
            o.F0 *= alpha0;
            o.F1 *= alpha0;
            o.F2 *= alpha1;
            o.F3 *= alpha1;
            o.F4 *= alpha0;
            o.F5 *= alpha0;
            o.F6 *= alpha1;
            o.F7 *= alpha1;
            o.F8 *= alpha0;
            o.F9 *= alpha0;
            o.F10 *= alpha1;
            o.F11 *= alpha1;
            o.F12 *= alpha0;
            o.F13 *= alpha0;
            o.F14 *= alpha1;
            o.F15 *= alpha1;
            o.F16 *= alpha0;
            o.F17 *= alpha0;
            o.F18 *= alpha1;
            o.F19 *= alpha1;
            o.F20 *= alpha0;
            o.F21 *= alpha0;
            o.F22 *= alpha1;
            o.F23 *= alpha1;
            o.F24 *= alpha0;
            o.F25 *= alpha0;
            o.F26 *= alpha1;
            o.F27 *= alpha1;
            o.F28 *= alpha0;
            o.F29 *= alpha0;
            o.F30 *= alpha1;
            o.F31 *= alpha1;
            o.F32 *= alpha0;
            o.F33 *= alpha0;
            o.F34 *= alpha1;
            o.F35 *= alpha1;
            o.F36 *= alpha0;
            o.F37 *= alpha0;
            o.F38 *= alpha1;
            o.F39 *= alpha1;
            o.F40 *= alpha0;
            o.F41 *= alpha0;
            o.F42 *= alpha1;
            o.F43 *= alpha1;
            o.F44 *= alpha0;
            o.F45 *= alpha0;
            o.F46 *= alpha1;
            o.F47 *= alpha1;
            o.F48 *= alpha0;
            o.F49 *= alpha0;
            o.F50 *= alpha1;
            o.F51 *= alpha1;
            o.F52 *= alpha0;
            o.F53 *= alpha0;
            o.F54 *= alpha1;
            o.F55 *= alpha1;
            o.F56 *= alpha0;
            o.F57 *= alpha0;
            o.F58 *= alpha1;
            o.F59 *= alpha1;
            o.F60 *= alpha0;
            o.F61 *= alpha0;
            o.F62 *= alpha1;
            o.F63 *= alpha1;
        }
        uint vLast = kv + (uint)(((tiles - 1) % 3) * 2 * TileBytes) + TileBytes;
        o = PtxOps.WgmmaBf16M64N128RSTransBChain4(o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, PtxOps.WgmmaDescriptor(vLast, 2048, 128), 256);
        PtxOps.WgmmaCommit();
        PtxOps.WgmmaWait0();
        l0 += PtxOps.ShuffleXor(l0, 1);
        l0 += PtxOps.ShuffleXor(l0, 2);
        l1 += PtxOps.ShuffleXor(l1, 1);
        l1 += PtxOps.ShuffleXor(l1, 2);
        float inv0 = PtxOps.Reciprocal(l0), inv1 = PtxOps.Reciprocal(l1);
        int row0 = Grid.IdxX * BlockM + wg * 64 + warp * 16 + (lane >> 2), col = 2 * (lane & 3);
        ulong out0 = p.O + (ulong)(headOffset + row0 * rowStride + col * 2), out1 = out0 + (ulong)(8 * rowStride);
        PtxOps.StoreWord(out0 + 0, PtxOps.PackBf16(o.F0 * inv0, o.F1 * inv0));
        PtxOps.StoreWord(out1 + 0, PtxOps.PackBf16(o.F2 * inv1, o.F3 * inv1));
        PtxOps.StoreWord(out0 + 16, PtxOps.PackBf16(o.F4 * inv0, o.F5 * inv0));
        PtxOps.StoreWord(out1 + 16, PtxOps.PackBf16(o.F6 * inv1, o.F7 * inv1));
        PtxOps.StoreWord(out0 + 32, PtxOps.PackBf16(o.F8 * inv0, o.F9 * inv0));
        PtxOps.StoreWord(out1 + 32, PtxOps.PackBf16(o.F10 * inv1, o.F11 * inv1));
        PtxOps.StoreWord(out0 + 48, PtxOps.PackBf16(o.F12 * inv0, o.F13 * inv0));
        PtxOps.StoreWord(out1 + 48, PtxOps.PackBf16(o.F14 * inv1, o.F15 * inv1));
        PtxOps.StoreWord(out0 + 64, PtxOps.PackBf16(o.F16 * inv0, o.F17 * inv0));
        PtxOps.StoreWord(out1 + 64, PtxOps.PackBf16(o.F18 * inv1, o.F19 * inv1));
        PtxOps.StoreWord(out0 + 80, PtxOps.PackBf16(o.F20 * inv0, o.F21 * inv0));
        PtxOps.StoreWord(out1 + 80, PtxOps.PackBf16(o.F22 * inv1, o.F23 * inv1));
        PtxOps.StoreWord(out0 + 96, PtxOps.PackBf16(o.F24 * inv0, o.F25 * inv0));
        PtxOps.StoreWord(out1 + 96, PtxOps.PackBf16(o.F26 * inv1, o.F27 * inv1));
        PtxOps.StoreWord(out0 + 112, PtxOps.PackBf16(o.F28 * inv0, o.F29 * inv0));
        PtxOps.StoreWord(out1 + 112, PtxOps.PackBf16(o.F30 * inv1, o.F31 * inv1));
        PtxOps.StoreWord(out0 + 128, PtxOps.PackBf16(o.F32 * inv0, o.F33 * inv0));
        PtxOps.StoreWord(out1 + 128, PtxOps.PackBf16(o.F34 * inv1, o.F35 * inv1));
        PtxOps.StoreWord(out0 + 144, PtxOps.PackBf16(o.F36 * inv0, o.F37 * inv0));
        PtxOps.StoreWord(out1 + 144, PtxOps.PackBf16(o.F38 * inv1, o.F39 * inv1));
        PtxOps.StoreWord(out0 + 160, PtxOps.PackBf16(o.F40 * inv0, o.F41 * inv0));
        PtxOps.StoreWord(out1 + 160, PtxOps.PackBf16(o.F42 * inv1, o.F43 * inv1));
        PtxOps.StoreWord(out0 + 176, PtxOps.PackBf16(o.F44 * inv0, o.F45 * inv0));
        PtxOps.StoreWord(out1 + 176, PtxOps.PackBf16(o.F46 * inv1, o.F47 * inv1));
        PtxOps.StoreWord(out0 + 192, PtxOps.PackBf16(o.F48 * inv0, o.F49 * inv0));
        PtxOps.StoreWord(out1 + 192, PtxOps.PackBf16(o.F50 * inv1, o.F51 * inv1));
        PtxOps.StoreWord(out0 + 208, PtxOps.PackBf16(o.F52 * inv0, o.F53 * inv0));
        PtxOps.StoreWord(out1 + 208, PtxOps.PackBf16(o.F54 * inv1, o.F55 * inv1));
        PtxOps.StoreWord(out0 + 224, PtxOps.PackBf16(o.F56 * inv0, o.F57 * inv0));
        PtxOps.StoreWord(out1 + 224, PtxOps.PackBf16(o.F58 * inv1, o.F59 * inv1));
        PtxOps.StoreWord(out0 + 240, PtxOps.PackBf16(o.F60 * inv0, o.F61 * inv0));
        PtxOps.StoreWord(out1 + 240, PtxOps.PackBf16(o.F62 * inv1, o.F63 * inv1));
        if ((lane & 3) == 0)
        {
            ulong lse = p.Lse + (ulong)((((long)b * p.Heads + h) * p.SeqLen + row0) * 4);
            const float Ln2 = 0.6931472f;
            PtxOps.StoreFloat(lse, (m0 * p.ScaleLog2 + PtxOps.Log2(l0)) * Ln2);
            PtxOps.StoreFloat(lse + 32, (m1 * p.ScaleLog2 + PtxOps.Log2(l1)) * Ln2);
        }
    }

    // As KernelPipelined, both products issued by one intrinsic (WgmmaBf16AttentionStep), so that no register write falls inside the MMAs' pipeline stage.
    public static void KernelFused(WgmmaForwardParams p)
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
            float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29);
            float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31);
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
            float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
            alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
            alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
            float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
            m0 = mNew0;
            m1 = mNew1;
            float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
            float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
            float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
            float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
            float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
            float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
            float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
            float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
            float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
            float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
            float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
            float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
            float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
            float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
            float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
            float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
            float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
            float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
            float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
            float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
            float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
            float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
            float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
            float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
            float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
            float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
            float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
            float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
            float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
            float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
            float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
            float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
            l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29);
            l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31);
            a00 = PtxOps.PackBf16(p0, p1);
            a01 = PtxOps.PackBf16(p2, p3);
            a02 = PtxOps.PackBf16(p4, p5);
            a03 = PtxOps.PackBf16(p6, p7);
            a10 = PtxOps.PackBf16(p8, p9);
            a11 = PtxOps.PackBf16(p10, p11);
            a12 = PtxOps.PackBf16(p12, p13);
            a13 = PtxOps.PackBf16(p14, p15);
            a20 = PtxOps.PackBf16(p16, p17);
            a21 = PtxOps.PackBf16(p18, p19);
            a22 = PtxOps.PackBf16(p20, p21);
            a23 = PtxOps.PackBf16(p22, p23);
            a30 = PtxOps.PackBf16(p24, p25);
            a31 = PtxOps.PackBf16(p26, p27);
            a32 = PtxOps.PackBf16(p28, p29);
            a33 = PtxOps.PackBf16(p30, p31);
        }
        for (int j = 1; j < tiles; j++)
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

            var so = PtxOps.WgmmaBf16AttentionStep(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));
            PtxOps.WgmmaWait1();
            var s = new Float32x32 { F0 = so.F0, F1 = so.F1, F2 = so.F2, F3 = so.F3, F4 = so.F4, F5 = so.F5, F6 = so.F6, F7 = so.F7, F8 = so.F8, F9 = so.F9, F10 = so.F10, F11 = so.F11, F12 = so.F12, F13 = so.F13, F14 = so.F14, F15 = so.F15, F16 = so.F16, F17 = so.F17, F18 = so.F18, F19 = so.F19, F20 = so.F20, F21 = so.F21, F22 = so.F22, F23 = so.F23, F24 = so.F24, F25 = so.F25, F26 = so.F26, F27 = so.F27, F28 = so.F28, F29 = so.F29, F30 = so.F30, F31 = so.F31 };
            o = new Float32x64 { F0 = so.F32, F1 = so.F33, F2 = so.F34, F3 = so.F35, F4 = so.F36, F5 = so.F37, F6 = so.F38, F7 = so.F39, F8 = so.F40, F9 = so.F41, F10 = so.F42, F11 = so.F43, F12 = so.F44, F13 = so.F45, F14 = so.F46, F15 = so.F47, F16 = so.F48, F17 = so.F49, F18 = so.F50, F19 = so.F51, F20 = so.F52, F21 = so.F53, F22 = so.F54, F23 = so.F55, F24 = so.F56, F25 = so.F57, F26 = so.F58, F27 = so.F59, F28 = so.F60, F29 = so.F61, F30 = so.F62, F31 = so.F63, F32 = so.F64, F33 = so.F65, F34 = so.F66, F35 = so.F67, F36 = so.F68, F37 = so.F69, F38 = so.F70, F39 = so.F71, F40 = so.F72, F41 = so.F73, F42 = so.F74, F43 = so.F75, F44 = so.F76, F45 = so.F77, F46 = so.F78, F47 = so.F79, F48 = so.F80, F49 = so.F81, F50 = so.F82, F51 = so.F83, F52 = so.F84, F53 = so.F85, F54 = so.F86, F55 = so.F87, F56 = so.F88, F57 = so.F89, F58 = so.F90, F59 = so.F91, F60 = so.F92, F61 = so.F93, F62 = so.F94, F63 = so.F95 };
            float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29);
            float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31);
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
            float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
            alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
            alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
            float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
            m0 = mNew0;
            m1 = mNew1;
            float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
            float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
            float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
            float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
            float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
            float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
            float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
            float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
            float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
            float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
            float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
            float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
            float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
            float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
            float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
            float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
            float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
            float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
            float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
            float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
            float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
            float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
            float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
            float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
            float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
            float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
            float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
            float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
            float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
            float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
            float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
            float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
            l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29);
            l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31);
            a00 = PtxOps.PackBf16(p0, p1);
            a01 = PtxOps.PackBf16(p2, p3);
            a02 = PtxOps.PackBf16(p4, p5);
            a03 = PtxOps.PackBf16(p6, p7);
            a10 = PtxOps.PackBf16(p8, p9);
            a11 = PtxOps.PackBf16(p10, p11);
            a12 = PtxOps.PackBf16(p12, p13);
            a13 = PtxOps.PackBf16(p14, p15);
            a20 = PtxOps.PackBf16(p16, p17);
            a21 = PtxOps.PackBf16(p18, p19);
            a22 = PtxOps.PackBf16(p20, p21);
            a23 = PtxOps.PackBf16(p22, p23);
            a30 = PtxOps.PackBf16(p24, p25);
            a31 = PtxOps.PackBf16(p26, p27);
            a32 = PtxOps.PackBf16(p28, p29);
            a33 = PtxOps.PackBf16(p30, p31);
            PtxOps.WgmmaWait0();
            o.F0 *= alpha0;
            o.F1 *= alpha0;
            o.F2 *= alpha1;
            o.F3 *= alpha1;
            o.F4 *= alpha0;
            o.F5 *= alpha0;
            o.F6 *= alpha1;
            o.F7 *= alpha1;
            o.F8 *= alpha0;
            o.F9 *= alpha0;
            o.F10 *= alpha1;
            o.F11 *= alpha1;
            o.F12 *= alpha0;
            o.F13 *= alpha0;
            o.F14 *= alpha1;
            o.F15 *= alpha1;
            o.F16 *= alpha0;
            o.F17 *= alpha0;
            o.F18 *= alpha1;
            o.F19 *= alpha1;
            o.F20 *= alpha0;
            o.F21 *= alpha0;
            o.F22 *= alpha1;
            o.F23 *= alpha1;
            o.F24 *= alpha0;
            o.F25 *= alpha0;
            o.F26 *= alpha1;
            o.F27 *= alpha1;
            o.F28 *= alpha0;
            o.F29 *= alpha0;
            o.F30 *= alpha1;
            o.F31 *= alpha1;
            o.F32 *= alpha0;
            o.F33 *= alpha0;
            o.F34 *= alpha1;
            o.F35 *= alpha1;
            o.F36 *= alpha0;
            o.F37 *= alpha0;
            o.F38 *= alpha1;
            o.F39 *= alpha1;
            o.F40 *= alpha0;
            o.F41 *= alpha0;
            o.F42 *= alpha1;
            o.F43 *= alpha1;
            o.F44 *= alpha0;
            o.F45 *= alpha0;
            o.F46 *= alpha1;
            o.F47 *= alpha1;
            o.F48 *= alpha0;
            o.F49 *= alpha0;
            o.F50 *= alpha1;
            o.F51 *= alpha1;
            o.F52 *= alpha0;
            o.F53 *= alpha0;
            o.F54 *= alpha1;
            o.F55 *= alpha1;
            o.F56 *= alpha0;
            o.F57 *= alpha0;
            o.F58 *= alpha1;
            o.F59 *= alpha1;
            o.F60 *= alpha0;
            o.F61 *= alpha0;
            o.F62 *= alpha1;
            o.F63 *= alpha1;
        }
        uint vLast = kv + (uint)(((tiles - 1) % 3) * 2 * TileBytes) + TileBytes;
        o = PtxOps.WgmmaBf16M64N128RSTransBChain4(o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, PtxOps.WgmmaDescriptor(vLast, 2048, 128), 256);
        PtxOps.WgmmaCommit();
        PtxOps.WgmmaWait0();
        l0 += PtxOps.ShuffleXor(l0, 1);
        l0 += PtxOps.ShuffleXor(l0, 2);
        l1 += PtxOps.ShuffleXor(l1, 1);
        l1 += PtxOps.ShuffleXor(l1, 2);
        float inv0 = PtxOps.Reciprocal(l0), inv1 = PtxOps.Reciprocal(l1);
        int row0 = Grid.IdxX * BlockM + wg * 64 + warp * 16 + (lane >> 2), col = 2 * (lane & 3);
        ulong out0 = p.O + (ulong)(headOffset + row0 * rowStride + col * 2), out1 = out0 + (ulong)(8 * rowStride);
        PtxOps.StoreWord(out0 + 0, PtxOps.PackBf16(o.F0 * inv0, o.F1 * inv0));
        PtxOps.StoreWord(out1 + 0, PtxOps.PackBf16(o.F2 * inv1, o.F3 * inv1));
        PtxOps.StoreWord(out0 + 16, PtxOps.PackBf16(o.F4 * inv0, o.F5 * inv0));
        PtxOps.StoreWord(out1 + 16, PtxOps.PackBf16(o.F6 * inv1, o.F7 * inv1));
        PtxOps.StoreWord(out0 + 32, PtxOps.PackBf16(o.F8 * inv0, o.F9 * inv0));
        PtxOps.StoreWord(out1 + 32, PtxOps.PackBf16(o.F10 * inv1, o.F11 * inv1));
        PtxOps.StoreWord(out0 + 48, PtxOps.PackBf16(o.F12 * inv0, o.F13 * inv0));
        PtxOps.StoreWord(out1 + 48, PtxOps.PackBf16(o.F14 * inv1, o.F15 * inv1));
        PtxOps.StoreWord(out0 + 64, PtxOps.PackBf16(o.F16 * inv0, o.F17 * inv0));
        PtxOps.StoreWord(out1 + 64, PtxOps.PackBf16(o.F18 * inv1, o.F19 * inv1));
        PtxOps.StoreWord(out0 + 80, PtxOps.PackBf16(o.F20 * inv0, o.F21 * inv0));
        PtxOps.StoreWord(out1 + 80, PtxOps.PackBf16(o.F22 * inv1, o.F23 * inv1));
        PtxOps.StoreWord(out0 + 96, PtxOps.PackBf16(o.F24 * inv0, o.F25 * inv0));
        PtxOps.StoreWord(out1 + 96, PtxOps.PackBf16(o.F26 * inv1, o.F27 * inv1));
        PtxOps.StoreWord(out0 + 112, PtxOps.PackBf16(o.F28 * inv0, o.F29 * inv0));
        PtxOps.StoreWord(out1 + 112, PtxOps.PackBf16(o.F30 * inv1, o.F31 * inv1));
        PtxOps.StoreWord(out0 + 128, PtxOps.PackBf16(o.F32 * inv0, o.F33 * inv0));
        PtxOps.StoreWord(out1 + 128, PtxOps.PackBf16(o.F34 * inv1, o.F35 * inv1));
        PtxOps.StoreWord(out0 + 144, PtxOps.PackBf16(o.F36 * inv0, o.F37 * inv0));
        PtxOps.StoreWord(out1 + 144, PtxOps.PackBf16(o.F38 * inv1, o.F39 * inv1));
        PtxOps.StoreWord(out0 + 160, PtxOps.PackBf16(o.F40 * inv0, o.F41 * inv0));
        PtxOps.StoreWord(out1 + 160, PtxOps.PackBf16(o.F42 * inv1, o.F43 * inv1));
        PtxOps.StoreWord(out0 + 176, PtxOps.PackBf16(o.F44 * inv0, o.F45 * inv0));
        PtxOps.StoreWord(out1 + 176, PtxOps.PackBf16(o.F46 * inv1, o.F47 * inv1));
        PtxOps.StoreWord(out0 + 192, PtxOps.PackBf16(o.F48 * inv0, o.F49 * inv0));
        PtxOps.StoreWord(out1 + 192, PtxOps.PackBf16(o.F50 * inv1, o.F51 * inv1));
        PtxOps.StoreWord(out0 + 208, PtxOps.PackBf16(o.F52 * inv0, o.F53 * inv0));
        PtxOps.StoreWord(out1 + 208, PtxOps.PackBf16(o.F54 * inv1, o.F55 * inv1));
        PtxOps.StoreWord(out0 + 224, PtxOps.PackBf16(o.F56 * inv0, o.F57 * inv0));
        PtxOps.StoreWord(out1 + 224, PtxOps.PackBf16(o.F58 * inv1, o.F59 * inv1));
        PtxOps.StoreWord(out0 + 240, PtxOps.PackBf16(o.F60 * inv0, o.F61 * inv0));
        PtxOps.StoreWord(out1 + 240, PtxOps.PackBf16(o.F62 * inv1, o.F63 * inv1));
        if ((lane & 3) == 0)
        {
            ulong lse = p.Lse + (ulong)((((long)b * p.Heads + h) * p.SeqLen + row0) * 4);
            const float Ln2 = 0.6931472f;
            PtxOps.StoreFloat(lse, (m0 * p.ScaleLog2 + PtxOps.Log2(l0)) * Ln2);
            PtxOps.StoreFloat(lse + 32, (m1 * p.ScaleLog2 + PtxOps.Log2(l1)) * Ln2);
        }
    }

    // As KernelFused, two key tiles per loop trip with two sets of P fragments (a…, c…), so that the softmax never
    // writes the registers the P·V in flight reads (ptxas C7513 in the one-set loop).
    public static void KernelUnrolled(WgmmaForwardParams p)
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
        uint c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0, c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        uint a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
        var o = default(Float32x64);
        uint qw = qs + (uint)(wg * 16384);
        {
            var s = PtxOps.WgmmaBf16M64N64SSChain(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kv, 128, 2048), 8, 16, 16);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
            float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29);
            float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31);
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
            float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
            alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
            alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
            float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
            m0 = mNew0;
            m1 = mNew1;
            float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
            float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
            float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
            float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
            float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
            float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
            float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
            float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
            float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
            float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
            float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
            float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
            float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
            float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
            float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
            float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
            float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
            float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
            float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
            float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
            float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
            float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
            float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
            float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
            float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
            float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
            float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
            float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
            float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
            float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
            float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
            float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
            l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29);
            l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31);
            a00 = PtxOps.PackBf16(p0, p1);
            a01 = PtxOps.PackBf16(p2, p3);
            a02 = PtxOps.PackBf16(p4, p5);
            a03 = PtxOps.PackBf16(p6, p7);
            a10 = PtxOps.PackBf16(p8, p9);
            a11 = PtxOps.PackBf16(p10, p11);
            a12 = PtxOps.PackBf16(p12, p13);
            a13 = PtxOps.PackBf16(p14, p15);
            a20 = PtxOps.PackBf16(p16, p17);
            a21 = PtxOps.PackBf16(p18, p19);
            a22 = PtxOps.PackBf16(p20, p21);
            a23 = PtxOps.PackBf16(p22, p23);
            a30 = PtxOps.PackBf16(p24, p25);
            a31 = PtxOps.PackBf16(p26, p27);
            a32 = PtxOps.PackBf16(p28, p29);
            a33 = PtxOps.PackBf16(p30, p31);
        }
        int j = 1;
        for (; j + 1 < tiles; j += 2)
        {
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
                var so = PtxOps.WgmmaBf16AttentionStep(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));
                PtxOps.WgmmaWait1();
                var s = new Float32x32 { F0 = so.F0, F1 = so.F1, F2 = so.F2, F3 = so.F3, F4 = so.F4, F5 = so.F5, F6 = so.F6, F7 = so.F7, F8 = so.F8, F9 = so.F9, F10 = so.F10, F11 = so.F11, F12 = so.F12, F13 = so.F13, F14 = so.F14, F15 = so.F15, F16 = so.F16, F17 = so.F17, F18 = so.F18, F19 = so.F19, F20 = so.F20, F21 = so.F21, F22 = so.F22, F23 = so.F23, F24 = so.F24, F25 = so.F25, F26 = so.F26, F27 = so.F27, F28 = so.F28, F29 = so.F29, F30 = so.F30, F31 = so.F31 };
                float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29);
                float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31);
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
                float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
                alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
                alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
                float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
                m0 = mNew0;
                m1 = mNew1;
                float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
                float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
                float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
                float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
                float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
                float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
                float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
                float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
                float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
                float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
                float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
                float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
                float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
                float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
                float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
                float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
                float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
                float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
                float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
                float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
                float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
                float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
                float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
                float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
                float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
                float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
                float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
                float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
                float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
                float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
                float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
                float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
                l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29);
                l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31);
                c00 = PtxOps.PackBf16(p0, p1);
                c01 = PtxOps.PackBf16(p2, p3);
                c02 = PtxOps.PackBf16(p4, p5);
                c03 = PtxOps.PackBf16(p6, p7);
                c10 = PtxOps.PackBf16(p8, p9);
                c11 = PtxOps.PackBf16(p10, p11);
                c12 = PtxOps.PackBf16(p12, p13);
                c13 = PtxOps.PackBf16(p14, p15);
                c20 = PtxOps.PackBf16(p16, p17);
                c21 = PtxOps.PackBf16(p18, p19);
                c22 = PtxOps.PackBf16(p20, p21);
                c23 = PtxOps.PackBf16(p22, p23);
                c30 = PtxOps.PackBf16(p24, p25);
                c31 = PtxOps.PackBf16(p26, p27);
                c32 = PtxOps.PackBf16(p28, p29);
                c33 = PtxOps.PackBf16(p30, p31);
                PtxOps.WgmmaWait0();
                o = new Float32x64 { F0 = so.F32 * alpha0, F1 = so.F33 * alpha0, F2 = so.F34 * alpha1, F3 = so.F35 * alpha1, F4 = so.F36 * alpha0, F5 = so.F37 * alpha0, F6 = so.F38 * alpha1, F7 = so.F39 * alpha1, F8 = so.F40 * alpha0, F9 = so.F41 * alpha0, F10 = so.F42 * alpha1, F11 = so.F43 * alpha1, F12 = so.F44 * alpha0, F13 = so.F45 * alpha0, F14 = so.F46 * alpha1, F15 = so.F47 * alpha1, F16 = so.F48 * alpha0, F17 = so.F49 * alpha0, F18 = so.F50 * alpha1, F19 = so.F51 * alpha1, F20 = so.F52 * alpha0, F21 = so.F53 * alpha0, F22 = so.F54 * alpha1, F23 = so.F55 * alpha1, F24 = so.F56 * alpha0, F25 = so.F57 * alpha0, F26 = so.F58 * alpha1, F27 = so.F59 * alpha1, F28 = so.F60 * alpha0, F29 = so.F61 * alpha0, F30 = so.F62 * alpha1, F31 = so.F63 * alpha1, F32 = so.F64 * alpha0, F33 = so.F65 * alpha0, F34 = so.F66 * alpha1, F35 = so.F67 * alpha1, F36 = so.F68 * alpha0, F37 = so.F69 * alpha0, F38 = so.F70 * alpha1, F39 = so.F71 * alpha1, F40 = so.F72 * alpha0, F41 = so.F73 * alpha0, F42 = so.F74 * alpha1, F43 = so.F75 * alpha1, F44 = so.F76 * alpha0, F45 = so.F77 * alpha0, F46 = so.F78 * alpha1, F47 = so.F79 * alpha1, F48 = so.F80 * alpha0, F49 = so.F81 * alpha0, F50 = so.F82 * alpha1, F51 = so.F83 * alpha1, F52 = so.F84 * alpha0, F53 = so.F85 * alpha0, F54 = so.F86 * alpha1, F55 = so.F87 * alpha1, F56 = so.F88 * alpha0, F57 = so.F89 * alpha0, F58 = so.F90 * alpha1, F59 = so.F91 * alpha1, F60 = so.F92 * alpha0, F61 = so.F93 * alpha0, F62 = so.F94 * alpha1, F63 = so.F95 * alpha1 };
            }
            {
                PtxOps.WaitGroup0();
                PtxOps.FenceProxyAsyncShared();
                Group.Barrier();
                if ((j + 1) + 1 < tiles)
                {
                    uint next = (uint)((((j + 1) + 1) % 3) * 2 * TileBytes);
                    LoadTile(p, headOffset, rowStride, (j + 1) + 1, kv + next, kv + next + TileBytes, t);
                    PtxOps.CommitGroup();
                }
                uint kb = kv + (uint)(((j + 1) % 3) * 2 * TileBytes), vPrevious = kv + (uint)((((j + 1) - 1) % 3) * 2 * TileBytes) + TileBytes;
                var so = PtxOps.WgmmaBf16AttentionStep(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));
                PtxOps.WgmmaWait1();
                var s = new Float32x32 { F0 = so.F0, F1 = so.F1, F2 = so.F2, F3 = so.F3, F4 = so.F4, F5 = so.F5, F6 = so.F6, F7 = so.F7, F8 = so.F8, F9 = so.F9, F10 = so.F10, F11 = so.F11, F12 = so.F12, F13 = so.F13, F14 = so.F14, F15 = so.F15, F16 = so.F16, F17 = so.F17, F18 = so.F18, F19 = so.F19, F20 = so.F20, F21 = so.F21, F22 = so.F22, F23 = so.F23, F24 = so.F24, F25 = so.F25, F26 = so.F26, F27 = so.F27, F28 = so.F28, F29 = so.F29, F30 = so.F30, F31 = so.F31 };
                float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29);
                float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31);
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
                float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
                alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
                alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
                float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
                m0 = mNew0;
                m1 = mNew1;
                float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
                float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
                float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
                float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
                float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
                float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
                float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
                float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
                float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
                float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
                float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
                float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
                float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
                float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
                float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
                float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
                float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
                float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
                float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
                float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
                float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
                float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
                float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
                float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
                float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
                float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
                float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
                float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
                float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
                float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
                float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
                float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
                l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29);
                l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31);
                a00 = PtxOps.PackBf16(p0, p1);
                a01 = PtxOps.PackBf16(p2, p3);
                a02 = PtxOps.PackBf16(p4, p5);
                a03 = PtxOps.PackBf16(p6, p7);
                a10 = PtxOps.PackBf16(p8, p9);
                a11 = PtxOps.PackBf16(p10, p11);
                a12 = PtxOps.PackBf16(p12, p13);
                a13 = PtxOps.PackBf16(p14, p15);
                a20 = PtxOps.PackBf16(p16, p17);
                a21 = PtxOps.PackBf16(p18, p19);
                a22 = PtxOps.PackBf16(p20, p21);
                a23 = PtxOps.PackBf16(p22, p23);
                a30 = PtxOps.PackBf16(p24, p25);
                a31 = PtxOps.PackBf16(p26, p27);
                a32 = PtxOps.PackBf16(p28, p29);
                a33 = PtxOps.PackBf16(p30, p31);
                PtxOps.WgmmaWait0();
                o = new Float32x64 { F0 = so.F32 * alpha0, F1 = so.F33 * alpha0, F2 = so.F34 * alpha1, F3 = so.F35 * alpha1, F4 = so.F36 * alpha0, F5 = so.F37 * alpha0, F6 = so.F38 * alpha1, F7 = so.F39 * alpha1, F8 = so.F40 * alpha0, F9 = so.F41 * alpha0, F10 = so.F42 * alpha1, F11 = so.F43 * alpha1, F12 = so.F44 * alpha0, F13 = so.F45 * alpha0, F14 = so.F46 * alpha1, F15 = so.F47 * alpha1, F16 = so.F48 * alpha0, F17 = so.F49 * alpha0, F18 = so.F50 * alpha1, F19 = so.F51 * alpha1, F20 = so.F52 * alpha0, F21 = so.F53 * alpha0, F22 = so.F54 * alpha1, F23 = so.F55 * alpha1, F24 = so.F56 * alpha0, F25 = so.F57 * alpha0, F26 = so.F58 * alpha1, F27 = so.F59 * alpha1, F28 = so.F60 * alpha0, F29 = so.F61 * alpha0, F30 = so.F62 * alpha1, F31 = so.F63 * alpha1, F32 = so.F64 * alpha0, F33 = so.F65 * alpha0, F34 = so.F66 * alpha1, F35 = so.F67 * alpha1, F36 = so.F68 * alpha0, F37 = so.F69 * alpha0, F38 = so.F70 * alpha1, F39 = so.F71 * alpha1, F40 = so.F72 * alpha0, F41 = so.F73 * alpha0, F42 = so.F74 * alpha1, F43 = so.F75 * alpha1, F44 = so.F76 * alpha0, F45 = so.F77 * alpha0, F46 = so.F78 * alpha1, F47 = so.F79 * alpha1, F48 = so.F80 * alpha0, F49 = so.F81 * alpha0, F50 = so.F82 * alpha1, F51 = so.F83 * alpha1, F52 = so.F84 * alpha0, F53 = so.F85 * alpha0, F54 = so.F86 * alpha1, F55 = so.F87 * alpha1, F56 = so.F88 * alpha0, F57 = so.F89 * alpha0, F58 = so.F90 * alpha1, F59 = so.F91 * alpha1, F60 = so.F92 * alpha0, F61 = so.F93 * alpha0, F62 = so.F94 * alpha1, F63 = so.F95 * alpha1 };
            }
        }
        if (j < tiles)
        {
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
                var so = PtxOps.WgmmaBf16AttentionStep(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));
                PtxOps.WgmmaWait1();
                var s = new Float32x32 { F0 = so.F0, F1 = so.F1, F2 = so.F2, F3 = so.F3, F4 = so.F4, F5 = so.F5, F6 = so.F6, F7 = so.F7, F8 = so.F8, F9 = so.F9, F10 = so.F10, F11 = so.F11, F12 = so.F12, F13 = so.F13, F14 = so.F14, F15 = so.F15, F16 = so.F16, F17 = so.F17, F18 = so.F18, F19 = so.F19, F20 = so.F20, F21 = so.F21, F22 = so.F22, F23 = so.F23, F24 = so.F24, F25 = so.F25, F26 = so.F26, F27 = so.F27, F28 = so.F28, F29 = so.F29, F30 = so.F30, F31 = so.F31 };
                float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29);
                float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31);
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
                float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
                alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
                alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
                float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
                m0 = mNew0;
                m1 = mNew1;
                float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
                float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
                float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
                float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
                float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
                float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
                float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
                float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
                float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
                float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
                float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
                float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
                float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
                float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
                float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
                float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
                float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
                float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
                float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
                float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
                float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
                float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
                float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
                float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
                float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
                float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
                float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
                float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
                float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
                float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
                float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
                float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
                l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29);
                l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31);
                c00 = PtxOps.PackBf16(p0, p1);
                c01 = PtxOps.PackBf16(p2, p3);
                c02 = PtxOps.PackBf16(p4, p5);
                c03 = PtxOps.PackBf16(p6, p7);
                c10 = PtxOps.PackBf16(p8, p9);
                c11 = PtxOps.PackBf16(p10, p11);
                c12 = PtxOps.PackBf16(p12, p13);
                c13 = PtxOps.PackBf16(p14, p15);
                c20 = PtxOps.PackBf16(p16, p17);
                c21 = PtxOps.PackBf16(p18, p19);
                c22 = PtxOps.PackBf16(p20, p21);
                c23 = PtxOps.PackBf16(p22, p23);
                c30 = PtxOps.PackBf16(p24, p25);
                c31 = PtxOps.PackBf16(p26, p27);
                c32 = PtxOps.PackBf16(p28, p29);
                c33 = PtxOps.PackBf16(p30, p31);
                PtxOps.WgmmaWait0();
                o = new Float32x64 { F0 = so.F32 * alpha0, F1 = so.F33 * alpha0, F2 = so.F34 * alpha1, F3 = so.F35 * alpha1, F4 = so.F36 * alpha0, F5 = so.F37 * alpha0, F6 = so.F38 * alpha1, F7 = so.F39 * alpha1, F8 = so.F40 * alpha0, F9 = so.F41 * alpha0, F10 = so.F42 * alpha1, F11 = so.F43 * alpha1, F12 = so.F44 * alpha0, F13 = so.F45 * alpha0, F14 = so.F46 * alpha1, F15 = so.F47 * alpha1, F16 = so.F48 * alpha0, F17 = so.F49 * alpha0, F18 = so.F50 * alpha1, F19 = so.F51 * alpha1, F20 = so.F52 * alpha0, F21 = so.F53 * alpha0, F22 = so.F54 * alpha1, F23 = so.F55 * alpha1, F24 = so.F56 * alpha0, F25 = so.F57 * alpha0, F26 = so.F58 * alpha1, F27 = so.F59 * alpha1, F28 = so.F60 * alpha0, F29 = so.F61 * alpha0, F30 = so.F62 * alpha1, F31 = so.F63 * alpha1, F32 = so.F64 * alpha0, F33 = so.F65 * alpha0, F34 = so.F66 * alpha1, F35 = so.F67 * alpha1, F36 = so.F68 * alpha0, F37 = so.F69 * alpha0, F38 = so.F70 * alpha1, F39 = so.F71 * alpha1, F40 = so.F72 * alpha0, F41 = so.F73 * alpha0, F42 = so.F74 * alpha1, F43 = so.F75 * alpha1, F44 = so.F76 * alpha0, F45 = so.F77 * alpha0, F46 = so.F78 * alpha1, F47 = so.F79 * alpha1, F48 = so.F80 * alpha0, F49 = so.F81 * alpha0, F50 = so.F82 * alpha1, F51 = so.F83 * alpha1, F52 = so.F84 * alpha0, F53 = so.F85 * alpha0, F54 = so.F86 * alpha1, F55 = so.F87 * alpha1, F56 = so.F88 * alpha0, F57 = so.F89 * alpha0, F58 = so.F90 * alpha1, F59 = so.F91 * alpha1, F60 = so.F92 * alpha0, F61 = so.F93 * alpha0, F62 = so.F94 * alpha1, F63 = so.F95 * alpha1 };
            }
            uint vLast = kv + (uint)(((tiles - 1) % 3) * 2 * TileBytes) + TileBytes;
            o = PtxOps.WgmmaBf16M64N128RSTransBChain4(o, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33, PtxOps.WgmmaDescriptor(vLast, 2048, 128), 256);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
        }
        else
        {
            uint vLast = kv + (uint)(((tiles - 1) % 3) * 2 * TileBytes) + TileBytes;
            o = PtxOps.WgmmaBf16M64N128RSTransBChain4(o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, PtxOps.WgmmaDescriptor(vLast, 2048, 128), 256);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
        }
        l0 += PtxOps.ShuffleXor(l0, 1);
        l0 += PtxOps.ShuffleXor(l0, 2);
        l1 += PtxOps.ShuffleXor(l1, 1);
        l1 += PtxOps.ShuffleXor(l1, 2);
        float inv0 = PtxOps.Reciprocal(l0), inv1 = PtxOps.Reciprocal(l1);
        int row0 = Grid.IdxX * BlockM + wg * 64 + warp * 16 + (lane >> 2), col = 2 * (lane & 3);
        ulong out0 = p.O + (ulong)(headOffset + row0 * rowStride + col * 2), out1 = out0 + (ulong)(8 * rowStride);
        PtxOps.StoreWord(out0 + 0, PtxOps.PackBf16(o.F0 * inv0, o.F1 * inv0));
        PtxOps.StoreWord(out1 + 0, PtxOps.PackBf16(o.F2 * inv1, o.F3 * inv1));
        PtxOps.StoreWord(out0 + 16, PtxOps.PackBf16(o.F4 * inv0, o.F5 * inv0));
        PtxOps.StoreWord(out1 + 16, PtxOps.PackBf16(o.F6 * inv1, o.F7 * inv1));
        PtxOps.StoreWord(out0 + 32, PtxOps.PackBf16(o.F8 * inv0, o.F9 * inv0));
        PtxOps.StoreWord(out1 + 32, PtxOps.PackBf16(o.F10 * inv1, o.F11 * inv1));
        PtxOps.StoreWord(out0 + 48, PtxOps.PackBf16(o.F12 * inv0, o.F13 * inv0));
        PtxOps.StoreWord(out1 + 48, PtxOps.PackBf16(o.F14 * inv1, o.F15 * inv1));
        PtxOps.StoreWord(out0 + 64, PtxOps.PackBf16(o.F16 * inv0, o.F17 * inv0));
        PtxOps.StoreWord(out1 + 64, PtxOps.PackBf16(o.F18 * inv1, o.F19 * inv1));
        PtxOps.StoreWord(out0 + 80, PtxOps.PackBf16(o.F20 * inv0, o.F21 * inv0));
        PtxOps.StoreWord(out1 + 80, PtxOps.PackBf16(o.F22 * inv1, o.F23 * inv1));
        PtxOps.StoreWord(out0 + 96, PtxOps.PackBf16(o.F24 * inv0, o.F25 * inv0));
        PtxOps.StoreWord(out1 + 96, PtxOps.PackBf16(o.F26 * inv1, o.F27 * inv1));
        PtxOps.StoreWord(out0 + 112, PtxOps.PackBf16(o.F28 * inv0, o.F29 * inv0));
        PtxOps.StoreWord(out1 + 112, PtxOps.PackBf16(o.F30 * inv1, o.F31 * inv1));
        PtxOps.StoreWord(out0 + 128, PtxOps.PackBf16(o.F32 * inv0, o.F33 * inv0));
        PtxOps.StoreWord(out1 + 128, PtxOps.PackBf16(o.F34 * inv1, o.F35 * inv1));
        PtxOps.StoreWord(out0 + 144, PtxOps.PackBf16(o.F36 * inv0, o.F37 * inv0));
        PtxOps.StoreWord(out1 + 144, PtxOps.PackBf16(o.F38 * inv1, o.F39 * inv1));
        PtxOps.StoreWord(out0 + 160, PtxOps.PackBf16(o.F40 * inv0, o.F41 * inv0));
        PtxOps.StoreWord(out1 + 160, PtxOps.PackBf16(o.F42 * inv1, o.F43 * inv1));
        PtxOps.StoreWord(out0 + 176, PtxOps.PackBf16(o.F44 * inv0, o.F45 * inv0));
        PtxOps.StoreWord(out1 + 176, PtxOps.PackBf16(o.F46 * inv1, o.F47 * inv1));
        PtxOps.StoreWord(out0 + 192, PtxOps.PackBf16(o.F48 * inv0, o.F49 * inv0));
        PtxOps.StoreWord(out1 + 192, PtxOps.PackBf16(o.F50 * inv1, o.F51 * inv1));
        PtxOps.StoreWord(out0 + 208, PtxOps.PackBf16(o.F52 * inv0, o.F53 * inv0));
        PtxOps.StoreWord(out1 + 208, PtxOps.PackBf16(o.F54 * inv1, o.F55 * inv1));
        PtxOps.StoreWord(out0 + 224, PtxOps.PackBf16(o.F56 * inv0, o.F57 * inv0));
        PtxOps.StoreWord(out1 + 224, PtxOps.PackBf16(o.F58 * inv1, o.F59 * inv1));
        PtxOps.StoreWord(out0 + 240, PtxOps.PackBf16(o.F60 * inv0, o.F61 * inv0));
        PtxOps.StoreWord(out1 + 240, PtxOps.PackBf16(o.F62 * inv1, o.F63 * inv1));
        if ((lane & 3) == 0)
        {
            ulong lse = p.Lse + (ulong)((((long)b * p.Heads + h) * p.SeqLen + row0) * 4);
            const float Ln2 = 0.6931472f;
            PtxOps.StoreFloat(lse, (m0 * p.ScaleLog2 + PtxOps.Log2(l0)) * Ln2);
            PtxOps.StoreFloat(lse + 32, (m1 * p.ScaleLog2 + PtxOps.Log2(l1)) * Ln2);
        }
    }

    // As KernelUnrolled with three warpgroups (192 query rows, 384 threads, at most 168 registers): 12 warps per SM
    // instead of 8. Query rows past the sequence are loaded clamped to its last row and not stored.
    public static void KernelUnrolled3(WgmmaForwardParams p)
    {
        int t = Group.IdxX, wg = t >> 7, lane = t & 31, warp = (t >> 5) & 3;
        int b = Grid.IdxY / p.Heads, h = Grid.IdxY - b * p.Heads;
        uint smem = PtxOps.SharedBase(), qs = smem, kv = smem + Q3Bytes;
        long rowStride = (long)p.Heads * HeadDim * 2;
        long headOffset = (long)b * p.SeqLen * rowStride + h * HeadDim * 2;
        LoadQuery3(p, headOffset, rowStride, qs, t);
        LoadTile3(p, headOffset, rowStride, 0, kv, kv + TileBytes, t);
        PtxOps.CommitGroup();
        int tiles = p.SeqLen / BlockN;
        if (tiles > 1)
        {
            LoadTile3(p, headOffset, rowStride, 1, kv + 2 * TileBytes, kv + 3 * TileBytes, t);
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
        uint c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0, c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        uint a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
        var o = default(Float32x64);
        uint qw = qs + (uint)(wg * 16384);
        {
            var s = PtxOps.WgmmaBf16M64N64SSChain(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kv, 128, 2048), 8, 16, 16);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
            float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29);
            float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31);
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
            float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
            alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
            alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
            float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
            m0 = mNew0;
            m1 = mNew1;
            float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
            float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
            float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
            float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
            float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
            float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
            float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
            float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
            float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
            float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
            float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
            float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
            float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
            float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
            float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
            float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
            float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
            float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
            float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
            float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
            float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
            float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
            float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
            float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
            float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
            float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
            float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
            float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
            float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
            float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
            float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
            float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
            l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29);
            l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31);
            a00 = PtxOps.PackBf16(p0, p1);
            a01 = PtxOps.PackBf16(p2, p3);
            a02 = PtxOps.PackBf16(p4, p5);
            a03 = PtxOps.PackBf16(p6, p7);
            a10 = PtxOps.PackBf16(p8, p9);
            a11 = PtxOps.PackBf16(p10, p11);
            a12 = PtxOps.PackBf16(p12, p13);
            a13 = PtxOps.PackBf16(p14, p15);
            a20 = PtxOps.PackBf16(p16, p17);
            a21 = PtxOps.PackBf16(p18, p19);
            a22 = PtxOps.PackBf16(p20, p21);
            a23 = PtxOps.PackBf16(p22, p23);
            a30 = PtxOps.PackBf16(p24, p25);
            a31 = PtxOps.PackBf16(p26, p27);
            a32 = PtxOps.PackBf16(p28, p29);
            a33 = PtxOps.PackBf16(p30, p31);
        }
        int j = 1;
        for (; j + 1 < tiles; j += 2)
        {
            {
                PtxOps.WaitGroup0();
                PtxOps.FenceProxyAsyncShared();
                Group.Barrier();
                if (j + 1 < tiles)
                {
                    uint next = (uint)(((j + 1) % 3) * 2 * TileBytes);
                    LoadTile3(p, headOffset, rowStride, j + 1, kv + next, kv + next + TileBytes, t);
                    PtxOps.CommitGroup();
                }
                uint kb = kv + (uint)((j % 3) * 2 * TileBytes), vPrevious = kv + (uint)(((j - 1) % 3) * 2 * TileBytes) + TileBytes;
                var so = PtxOps.WgmmaBf16AttentionStep(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));
                PtxOps.WgmmaWait1();
                var s = new Float32x32 { F0 = so.F0, F1 = so.F1, F2 = so.F2, F3 = so.F3, F4 = so.F4, F5 = so.F5, F6 = so.F6, F7 = so.F7, F8 = so.F8, F9 = so.F9, F10 = so.F10, F11 = so.F11, F12 = so.F12, F13 = so.F13, F14 = so.F14, F15 = so.F15, F16 = so.F16, F17 = so.F17, F18 = so.F18, F19 = so.F19, F20 = so.F20, F21 = so.F21, F22 = so.F22, F23 = so.F23, F24 = so.F24, F25 = so.F25, F26 = so.F26, F27 = so.F27, F28 = so.F28, F29 = so.F29, F30 = so.F30, F31 = so.F31 };
                float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29);
                float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31);
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
                float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
                alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
                alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
                float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
                m0 = mNew0;
                m1 = mNew1;
                float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
                float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
                float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
                float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
                float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
                float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
                float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
                float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
                float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
                float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
                float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
                float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
                float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
                float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
                float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
                float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
                float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
                float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
                float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
                float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
                float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
                float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
                float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
                float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
                float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
                float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
                float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
                float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
                float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
                float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
                float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
                float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
                l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29);
                l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31);
                c00 = PtxOps.PackBf16(p0, p1);
                c01 = PtxOps.PackBf16(p2, p3);
                c02 = PtxOps.PackBf16(p4, p5);
                c03 = PtxOps.PackBf16(p6, p7);
                c10 = PtxOps.PackBf16(p8, p9);
                c11 = PtxOps.PackBf16(p10, p11);
                c12 = PtxOps.PackBf16(p12, p13);
                c13 = PtxOps.PackBf16(p14, p15);
                c20 = PtxOps.PackBf16(p16, p17);
                c21 = PtxOps.PackBf16(p18, p19);
                c22 = PtxOps.PackBf16(p20, p21);
                c23 = PtxOps.PackBf16(p22, p23);
                c30 = PtxOps.PackBf16(p24, p25);
                c31 = PtxOps.PackBf16(p26, p27);
                c32 = PtxOps.PackBf16(p28, p29);
                c33 = PtxOps.PackBf16(p30, p31);
                PtxOps.WgmmaWait0();
                o = new Float32x64 { F0 = so.F32 * alpha0, F1 = so.F33 * alpha0, F2 = so.F34 * alpha1, F3 = so.F35 * alpha1, F4 = so.F36 * alpha0, F5 = so.F37 * alpha0, F6 = so.F38 * alpha1, F7 = so.F39 * alpha1, F8 = so.F40 * alpha0, F9 = so.F41 * alpha0, F10 = so.F42 * alpha1, F11 = so.F43 * alpha1, F12 = so.F44 * alpha0, F13 = so.F45 * alpha0, F14 = so.F46 * alpha1, F15 = so.F47 * alpha1, F16 = so.F48 * alpha0, F17 = so.F49 * alpha0, F18 = so.F50 * alpha1, F19 = so.F51 * alpha1, F20 = so.F52 * alpha0, F21 = so.F53 * alpha0, F22 = so.F54 * alpha1, F23 = so.F55 * alpha1, F24 = so.F56 * alpha0, F25 = so.F57 * alpha0, F26 = so.F58 * alpha1, F27 = so.F59 * alpha1, F28 = so.F60 * alpha0, F29 = so.F61 * alpha0, F30 = so.F62 * alpha1, F31 = so.F63 * alpha1, F32 = so.F64 * alpha0, F33 = so.F65 * alpha0, F34 = so.F66 * alpha1, F35 = so.F67 * alpha1, F36 = so.F68 * alpha0, F37 = so.F69 * alpha0, F38 = so.F70 * alpha1, F39 = so.F71 * alpha1, F40 = so.F72 * alpha0, F41 = so.F73 * alpha0, F42 = so.F74 * alpha1, F43 = so.F75 * alpha1, F44 = so.F76 * alpha0, F45 = so.F77 * alpha0, F46 = so.F78 * alpha1, F47 = so.F79 * alpha1, F48 = so.F80 * alpha0, F49 = so.F81 * alpha0, F50 = so.F82 * alpha1, F51 = so.F83 * alpha1, F52 = so.F84 * alpha0, F53 = so.F85 * alpha0, F54 = so.F86 * alpha1, F55 = so.F87 * alpha1, F56 = so.F88 * alpha0, F57 = so.F89 * alpha0, F58 = so.F90 * alpha1, F59 = so.F91 * alpha1, F60 = so.F92 * alpha0, F61 = so.F93 * alpha0, F62 = so.F94 * alpha1, F63 = so.F95 * alpha1 };
            }
            {
                PtxOps.WaitGroup0();
                PtxOps.FenceProxyAsyncShared();
                Group.Barrier();
                if ((j + 1) + 1 < tiles)
                {
                    uint next = (uint)((((j + 1) + 1) % 3) * 2 * TileBytes);
                    LoadTile3(p, headOffset, rowStride, (j + 1) + 1, kv + next, kv + next + TileBytes, t);
                    PtxOps.CommitGroup();
                }
                uint kb = kv + (uint)(((j + 1) % 3) * 2 * TileBytes), vPrevious = kv + (uint)((((j + 1) - 1) % 3) * 2 * TileBytes) + TileBytes;
                var so = PtxOps.WgmmaBf16AttentionStep(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));
                PtxOps.WgmmaWait1();
                var s = new Float32x32 { F0 = so.F0, F1 = so.F1, F2 = so.F2, F3 = so.F3, F4 = so.F4, F5 = so.F5, F6 = so.F6, F7 = so.F7, F8 = so.F8, F9 = so.F9, F10 = so.F10, F11 = so.F11, F12 = so.F12, F13 = so.F13, F14 = so.F14, F15 = so.F15, F16 = so.F16, F17 = so.F17, F18 = so.F18, F19 = so.F19, F20 = so.F20, F21 = so.F21, F22 = so.F22, F23 = so.F23, F24 = so.F24, F25 = so.F25, F26 = so.F26, F27 = so.F27, F28 = so.F28, F29 = so.F29, F30 = so.F30, F31 = so.F31 };
                float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29);
                float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31);
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
                float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
                alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
                alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
                float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
                m0 = mNew0;
                m1 = mNew1;
                float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
                float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
                float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
                float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
                float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
                float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
                float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
                float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
                float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
                float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
                float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
                float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
                float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
                float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
                float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
                float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
                float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
                float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
                float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
                float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
                float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
                float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
                float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
                float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
                float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
                float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
                float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
                float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
                float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
                float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
                float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
                float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
                l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29);
                l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31);
                a00 = PtxOps.PackBf16(p0, p1);
                a01 = PtxOps.PackBf16(p2, p3);
                a02 = PtxOps.PackBf16(p4, p5);
                a03 = PtxOps.PackBf16(p6, p7);
                a10 = PtxOps.PackBf16(p8, p9);
                a11 = PtxOps.PackBf16(p10, p11);
                a12 = PtxOps.PackBf16(p12, p13);
                a13 = PtxOps.PackBf16(p14, p15);
                a20 = PtxOps.PackBf16(p16, p17);
                a21 = PtxOps.PackBf16(p18, p19);
                a22 = PtxOps.PackBf16(p20, p21);
                a23 = PtxOps.PackBf16(p22, p23);
                a30 = PtxOps.PackBf16(p24, p25);
                a31 = PtxOps.PackBf16(p26, p27);
                a32 = PtxOps.PackBf16(p28, p29);
                a33 = PtxOps.PackBf16(p30, p31);
                PtxOps.WgmmaWait0();
                o = new Float32x64 { F0 = so.F32 * alpha0, F1 = so.F33 * alpha0, F2 = so.F34 * alpha1, F3 = so.F35 * alpha1, F4 = so.F36 * alpha0, F5 = so.F37 * alpha0, F6 = so.F38 * alpha1, F7 = so.F39 * alpha1, F8 = so.F40 * alpha0, F9 = so.F41 * alpha0, F10 = so.F42 * alpha1, F11 = so.F43 * alpha1, F12 = so.F44 * alpha0, F13 = so.F45 * alpha0, F14 = so.F46 * alpha1, F15 = so.F47 * alpha1, F16 = so.F48 * alpha0, F17 = so.F49 * alpha0, F18 = so.F50 * alpha1, F19 = so.F51 * alpha1, F20 = so.F52 * alpha0, F21 = so.F53 * alpha0, F22 = so.F54 * alpha1, F23 = so.F55 * alpha1, F24 = so.F56 * alpha0, F25 = so.F57 * alpha0, F26 = so.F58 * alpha1, F27 = so.F59 * alpha1, F28 = so.F60 * alpha0, F29 = so.F61 * alpha0, F30 = so.F62 * alpha1, F31 = so.F63 * alpha1, F32 = so.F64 * alpha0, F33 = so.F65 * alpha0, F34 = so.F66 * alpha1, F35 = so.F67 * alpha1, F36 = so.F68 * alpha0, F37 = so.F69 * alpha0, F38 = so.F70 * alpha1, F39 = so.F71 * alpha1, F40 = so.F72 * alpha0, F41 = so.F73 * alpha0, F42 = so.F74 * alpha1, F43 = so.F75 * alpha1, F44 = so.F76 * alpha0, F45 = so.F77 * alpha0, F46 = so.F78 * alpha1, F47 = so.F79 * alpha1, F48 = so.F80 * alpha0, F49 = so.F81 * alpha0, F50 = so.F82 * alpha1, F51 = so.F83 * alpha1, F52 = so.F84 * alpha0, F53 = so.F85 * alpha0, F54 = so.F86 * alpha1, F55 = so.F87 * alpha1, F56 = so.F88 * alpha0, F57 = so.F89 * alpha0, F58 = so.F90 * alpha1, F59 = so.F91 * alpha1, F60 = so.F92 * alpha0, F61 = so.F93 * alpha0, F62 = so.F94 * alpha1, F63 = so.F95 * alpha1 };
            }
        }
        if (j < tiles)
        {
            {
                PtxOps.WaitGroup0();
                PtxOps.FenceProxyAsyncShared();
                Group.Barrier();
                if (j + 1 < tiles)
                {
                    uint next = (uint)(((j + 1) % 3) * 2 * TileBytes);
                    LoadTile3(p, headOffset, rowStride, j + 1, kv + next, kv + next + TileBytes, t);
                    PtxOps.CommitGroup();
                }
                uint kb = kv + (uint)((j % 3) * 2 * TileBytes), vPrevious = kv + (uint)(((j - 1) % 3) * 2 * TileBytes) + TileBytes;
                var so = PtxOps.WgmmaBf16AttentionStep(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));
                PtxOps.WgmmaWait1();
                var s = new Float32x32 { F0 = so.F0, F1 = so.F1, F2 = so.F2, F3 = so.F3, F4 = so.F4, F5 = so.F5, F6 = so.F6, F7 = so.F7, F8 = so.F8, F9 = so.F9, F10 = so.F10, F11 = so.F11, F12 = so.F12, F13 = so.F13, F14 = so.F14, F15 = so.F15, F16 = so.F16, F17 = so.F17, F18 = so.F18, F19 = so.F19, F20 = so.F20, F21 = so.F21, F22 = so.F22, F23 = so.F23, F24 = so.F24, F25 = so.F25, F26 = so.F26, F27 = so.F27, F28 = so.F28, F29 = so.F29, F30 = so.F30, F31 = so.F31 };
                float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29);
                float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31);
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
                float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
                alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
                alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
                float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
                m0 = mNew0;
                m1 = mNew1;
                float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
                float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
                float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
                float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
                float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
                float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
                float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
                float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
                float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
                float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
                float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
                float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
                float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
                float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
                float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
                float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
                float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
                float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
                float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
                float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
                float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
                float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
                float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
                float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
                float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
                float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
                float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
                float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
                float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
                float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
                float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
                float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
                l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29);
                l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31);
                c00 = PtxOps.PackBf16(p0, p1);
                c01 = PtxOps.PackBf16(p2, p3);
                c02 = PtxOps.PackBf16(p4, p5);
                c03 = PtxOps.PackBf16(p6, p7);
                c10 = PtxOps.PackBf16(p8, p9);
                c11 = PtxOps.PackBf16(p10, p11);
                c12 = PtxOps.PackBf16(p12, p13);
                c13 = PtxOps.PackBf16(p14, p15);
                c20 = PtxOps.PackBf16(p16, p17);
                c21 = PtxOps.PackBf16(p18, p19);
                c22 = PtxOps.PackBf16(p20, p21);
                c23 = PtxOps.PackBf16(p22, p23);
                c30 = PtxOps.PackBf16(p24, p25);
                c31 = PtxOps.PackBf16(p26, p27);
                c32 = PtxOps.PackBf16(p28, p29);
                c33 = PtxOps.PackBf16(p30, p31);
                PtxOps.WgmmaWait0();
                o = new Float32x64 { F0 = so.F32 * alpha0, F1 = so.F33 * alpha0, F2 = so.F34 * alpha1, F3 = so.F35 * alpha1, F4 = so.F36 * alpha0, F5 = so.F37 * alpha0, F6 = so.F38 * alpha1, F7 = so.F39 * alpha1, F8 = so.F40 * alpha0, F9 = so.F41 * alpha0, F10 = so.F42 * alpha1, F11 = so.F43 * alpha1, F12 = so.F44 * alpha0, F13 = so.F45 * alpha0, F14 = so.F46 * alpha1, F15 = so.F47 * alpha1, F16 = so.F48 * alpha0, F17 = so.F49 * alpha0, F18 = so.F50 * alpha1, F19 = so.F51 * alpha1, F20 = so.F52 * alpha0, F21 = so.F53 * alpha0, F22 = so.F54 * alpha1, F23 = so.F55 * alpha1, F24 = so.F56 * alpha0, F25 = so.F57 * alpha0, F26 = so.F58 * alpha1, F27 = so.F59 * alpha1, F28 = so.F60 * alpha0, F29 = so.F61 * alpha0, F30 = so.F62 * alpha1, F31 = so.F63 * alpha1, F32 = so.F64 * alpha0, F33 = so.F65 * alpha0, F34 = so.F66 * alpha1, F35 = so.F67 * alpha1, F36 = so.F68 * alpha0, F37 = so.F69 * alpha0, F38 = so.F70 * alpha1, F39 = so.F71 * alpha1, F40 = so.F72 * alpha0, F41 = so.F73 * alpha0, F42 = so.F74 * alpha1, F43 = so.F75 * alpha1, F44 = so.F76 * alpha0, F45 = so.F77 * alpha0, F46 = so.F78 * alpha1, F47 = so.F79 * alpha1, F48 = so.F80 * alpha0, F49 = so.F81 * alpha0, F50 = so.F82 * alpha1, F51 = so.F83 * alpha1, F52 = so.F84 * alpha0, F53 = so.F85 * alpha0, F54 = so.F86 * alpha1, F55 = so.F87 * alpha1, F56 = so.F88 * alpha0, F57 = so.F89 * alpha0, F58 = so.F90 * alpha1, F59 = so.F91 * alpha1, F60 = so.F92 * alpha0, F61 = so.F93 * alpha0, F62 = so.F94 * alpha1, F63 = so.F95 * alpha1 };
            }
            uint vLast = kv + (uint)(((tiles - 1) % 3) * 2 * TileBytes) + TileBytes;
            o = PtxOps.WgmmaBf16M64N128RSTransBChain4(o, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33, PtxOps.WgmmaDescriptor(vLast, 2048, 128), 256);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
        }
        else
        {
            uint vLast = kv + (uint)(((tiles - 1) % 3) * 2 * TileBytes) + TileBytes;
            o = PtxOps.WgmmaBf16M64N128RSTransBChain4(o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, PtxOps.WgmmaDescriptor(vLast, 2048, 128), 256);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
        }
        l0 += PtxOps.ShuffleXor(l0, 1);
        l0 += PtxOps.ShuffleXor(l0, 2);
        l1 += PtxOps.ShuffleXor(l1, 1);
        l1 += PtxOps.ShuffleXor(l1, 2);
        float inv0 = PtxOps.Reciprocal(l0), inv1 = PtxOps.Reciprocal(l1);
        int row0 = Grid.IdxX * BlockM3 + wg * 64 + warp * 16 + (lane >> 2), col = 2 * (lane & 3);
        ulong out0 = p.O + (ulong)(headOffset + row0 * rowStride + col * 2), out1 = out0 + (ulong)(8 * rowStride);
        if (row0 < p.SeqLen)
        {
            PtxOps.StoreWord(out0 + 0, PtxOps.PackBf16(o.F0 * inv0, o.F1 * inv0));
            PtxOps.StoreWord(out0 + 16, PtxOps.PackBf16(o.F4 * inv0, o.F5 * inv0));
            PtxOps.StoreWord(out0 + 32, PtxOps.PackBf16(o.F8 * inv0, o.F9 * inv0));
            PtxOps.StoreWord(out0 + 48, PtxOps.PackBf16(o.F12 * inv0, o.F13 * inv0));
            PtxOps.StoreWord(out0 + 64, PtxOps.PackBf16(o.F16 * inv0, o.F17 * inv0));
            PtxOps.StoreWord(out0 + 80, PtxOps.PackBf16(o.F20 * inv0, o.F21 * inv0));
            PtxOps.StoreWord(out0 + 96, PtxOps.PackBf16(o.F24 * inv0, o.F25 * inv0));
            PtxOps.StoreWord(out0 + 112, PtxOps.PackBf16(o.F28 * inv0, o.F29 * inv0));
            PtxOps.StoreWord(out0 + 128, PtxOps.PackBf16(o.F32 * inv0, o.F33 * inv0));
            PtxOps.StoreWord(out0 + 144, PtxOps.PackBf16(o.F36 * inv0, o.F37 * inv0));
            PtxOps.StoreWord(out0 + 160, PtxOps.PackBf16(o.F40 * inv0, o.F41 * inv0));
            PtxOps.StoreWord(out0 + 176, PtxOps.PackBf16(o.F44 * inv0, o.F45 * inv0));
            PtxOps.StoreWord(out0 + 192, PtxOps.PackBf16(o.F48 * inv0, o.F49 * inv0));
            PtxOps.StoreWord(out0 + 208, PtxOps.PackBf16(o.F52 * inv0, o.F53 * inv0));
            PtxOps.StoreWord(out0 + 224, PtxOps.PackBf16(o.F56 * inv0, o.F57 * inv0));
            PtxOps.StoreWord(out0 + 240, PtxOps.PackBf16(o.F60 * inv0, o.F61 * inv0));
        }
        if (row0 + 8 < p.SeqLen)
        {
            PtxOps.StoreWord(out1 + 0, PtxOps.PackBf16(o.F2 * inv1, o.F3 * inv1));
            PtxOps.StoreWord(out1 + 16, PtxOps.PackBf16(o.F6 * inv1, o.F7 * inv1));
            PtxOps.StoreWord(out1 + 32, PtxOps.PackBf16(o.F10 * inv1, o.F11 * inv1));
            PtxOps.StoreWord(out1 + 48, PtxOps.PackBf16(o.F14 * inv1, o.F15 * inv1));
            PtxOps.StoreWord(out1 + 64, PtxOps.PackBf16(o.F18 * inv1, o.F19 * inv1));
            PtxOps.StoreWord(out1 + 80, PtxOps.PackBf16(o.F22 * inv1, o.F23 * inv1));
            PtxOps.StoreWord(out1 + 96, PtxOps.PackBf16(o.F26 * inv1, o.F27 * inv1));
            PtxOps.StoreWord(out1 + 112, PtxOps.PackBf16(o.F30 * inv1, o.F31 * inv1));
            PtxOps.StoreWord(out1 + 128, PtxOps.PackBf16(o.F34 * inv1, o.F35 * inv1));
            PtxOps.StoreWord(out1 + 144, PtxOps.PackBf16(o.F38 * inv1, o.F39 * inv1));
            PtxOps.StoreWord(out1 + 160, PtxOps.PackBf16(o.F42 * inv1, o.F43 * inv1));
            PtxOps.StoreWord(out1 + 176, PtxOps.PackBf16(o.F46 * inv1, o.F47 * inv1));
            PtxOps.StoreWord(out1 + 192, PtxOps.PackBf16(o.F50 * inv1, o.F51 * inv1));
            PtxOps.StoreWord(out1 + 208, PtxOps.PackBf16(o.F54 * inv1, o.F55 * inv1));
            PtxOps.StoreWord(out1 + 224, PtxOps.PackBf16(o.F58 * inv1, o.F59 * inv1));
            PtxOps.StoreWord(out1 + 240, PtxOps.PackBf16(o.F62 * inv1, o.F63 * inv1));
        }
        if ((lane & 3) == 0)
        {
            ulong lse = p.Lse + (ulong)((((long)b * p.Heads + h) * p.SeqLen + row0) * 4);
            const float Ln2 = 0.6931472f;
            if (row0 < p.SeqLen)
                PtxOps.StoreFloat(lse, (m0 * p.ScaleLog2 + PtxOps.Log2(l0)) * Ln2);
            if (row0 + 8 < p.SeqLen)
                PtxOps.StoreFloat(lse + 32, (m1 * p.ScaleLog2 + PtxOps.Log2(l1)) * Ln2);
        }
    }

    // As KernelFused with 128-key K/V tiles: S is 64×128 per warpgroup (m64n128k16), half the
    // softmax reductions, O rescales and barriers per key; three K/V tile pairs (192 KiB) and Q (32 KiB) in shared memory.
    public static void KernelFused128(WgmmaForwardParams p)
    {
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
        {
            LoadTile128(p, headOffset, rowStride, 1, kv + 2 * Tile128Bytes, kv + 3 * Tile128Bytes, t);
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
        uint a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53, a60, a61, a62, a63, a70, a71, a72, a73;
        var o = default(Float32x64);
        uint qw = qs + (uint)(wg * 16384);
        {
            var s = PtxOps.WgmmaBf16M64N128SSChain(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kv, 128, 2048), 8, 16, 16);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
            float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29), s.F32), s.F33), s.F36), s.F37), s.F40), s.F41), s.F44), s.F45), s.F48), s.F49), s.F52), s.F53), s.F56), s.F57), s.F60), s.F61);
            float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31), s.F34), s.F35), s.F38), s.F39), s.F42), s.F43), s.F46), s.F47), s.F50), s.F51), s.F54), s.F55), s.F58), s.F59), s.F62), s.F63);
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
            float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
            alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
            alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
            float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
            m0 = mNew0;
            m1 = mNew1;
            float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
            float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
            float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
            float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
            float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
            float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
            float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
            float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
            float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
            float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
            float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
            float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
            float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
            float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
            float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
            float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
            float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
            float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
            float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
            float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
            float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
            float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
            float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
            float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
            float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
            float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
            float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
            float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
            float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
            float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
            float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
            float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
            float p32 = PtxOps.Exp2(s.F32 * p.ScaleLog2 - shift0);
            float p33 = PtxOps.Exp2(s.F33 * p.ScaleLog2 - shift0);
            float p34 = PtxOps.Exp2(s.F34 * p.ScaleLog2 - shift1);
            float p35 = PtxOps.Exp2(s.F35 * p.ScaleLog2 - shift1);
            float p36 = PtxOps.Exp2(s.F36 * p.ScaleLog2 - shift0);
            float p37 = PtxOps.Exp2(s.F37 * p.ScaleLog2 - shift0);
            float p38 = PtxOps.Exp2(s.F38 * p.ScaleLog2 - shift1);
            float p39 = PtxOps.Exp2(s.F39 * p.ScaleLog2 - shift1);
            float p40 = PtxOps.Exp2(s.F40 * p.ScaleLog2 - shift0);
            float p41 = PtxOps.Exp2(s.F41 * p.ScaleLog2 - shift0);
            float p42 = PtxOps.Exp2(s.F42 * p.ScaleLog2 - shift1);
            float p43 = PtxOps.Exp2(s.F43 * p.ScaleLog2 - shift1);
            float p44 = PtxOps.Exp2(s.F44 * p.ScaleLog2 - shift0);
            float p45 = PtxOps.Exp2(s.F45 * p.ScaleLog2 - shift0);
            float p46 = PtxOps.Exp2(s.F46 * p.ScaleLog2 - shift1);
            float p47 = PtxOps.Exp2(s.F47 * p.ScaleLog2 - shift1);
            float p48 = PtxOps.Exp2(s.F48 * p.ScaleLog2 - shift0);
            float p49 = PtxOps.Exp2(s.F49 * p.ScaleLog2 - shift0);
            float p50 = PtxOps.Exp2(s.F50 * p.ScaleLog2 - shift1);
            float p51 = PtxOps.Exp2(s.F51 * p.ScaleLog2 - shift1);
            float p52 = PtxOps.Exp2(s.F52 * p.ScaleLog2 - shift0);
            float p53 = PtxOps.Exp2(s.F53 * p.ScaleLog2 - shift0);
            float p54 = PtxOps.Exp2(s.F54 * p.ScaleLog2 - shift1);
            float p55 = PtxOps.Exp2(s.F55 * p.ScaleLog2 - shift1);
            float p56 = PtxOps.Exp2(s.F56 * p.ScaleLog2 - shift0);
            float p57 = PtxOps.Exp2(s.F57 * p.ScaleLog2 - shift0);
            float p58 = PtxOps.Exp2(s.F58 * p.ScaleLog2 - shift1);
            float p59 = PtxOps.Exp2(s.F59 * p.ScaleLog2 - shift1);
            float p60 = PtxOps.Exp2(s.F60 * p.ScaleLog2 - shift0);
            float p61 = PtxOps.Exp2(s.F61 * p.ScaleLog2 - shift0);
            float p62 = PtxOps.Exp2(s.F62 * p.ScaleLog2 - shift1);
            float p63 = PtxOps.Exp2(s.F63 * p.ScaleLog2 - shift1);
            l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29 + p32 + p33 + p36 + p37 + p40 + p41 + p44 + p45 + p48 + p49 + p52 + p53 + p56 + p57 + p60 + p61);
            l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31 + p34 + p35 + p38 + p39 + p42 + p43 + p46 + p47 + p50 + p51 + p54 + p55 + p58 + p59 + p62 + p63);
            a00 = PtxOps.PackBf16(p0, p1);
            a01 = PtxOps.PackBf16(p2, p3);
            a02 = PtxOps.PackBf16(p4, p5);
            a03 = PtxOps.PackBf16(p6, p7);
            a10 = PtxOps.PackBf16(p8, p9);
            a11 = PtxOps.PackBf16(p10, p11);
            a12 = PtxOps.PackBf16(p12, p13);
            a13 = PtxOps.PackBf16(p14, p15);
            a20 = PtxOps.PackBf16(p16, p17);
            a21 = PtxOps.PackBf16(p18, p19);
            a22 = PtxOps.PackBf16(p20, p21);
            a23 = PtxOps.PackBf16(p22, p23);
            a30 = PtxOps.PackBf16(p24, p25);
            a31 = PtxOps.PackBf16(p26, p27);
            a32 = PtxOps.PackBf16(p28, p29);
            a33 = PtxOps.PackBf16(p30, p31);
            a40 = PtxOps.PackBf16(p32, p33);
            a41 = PtxOps.PackBf16(p34, p35);
            a42 = PtxOps.PackBf16(p36, p37);
            a43 = PtxOps.PackBf16(p38, p39);
            a50 = PtxOps.PackBf16(p40, p41);
            a51 = PtxOps.PackBf16(p42, p43);
            a52 = PtxOps.PackBf16(p44, p45);
            a53 = PtxOps.PackBf16(p46, p47);
            a60 = PtxOps.PackBf16(p48, p49);
            a61 = PtxOps.PackBf16(p50, p51);
            a62 = PtxOps.PackBf16(p52, p53);
            a63 = PtxOps.PackBf16(p54, p55);
            a70 = PtxOps.PackBf16(p56, p57);
            a71 = PtxOps.PackBf16(p58, p59);
            a72 = PtxOps.PackBf16(p60, p61);
            a73 = PtxOps.PackBf16(p62, p63);
        }
        for (int j = 1; j < tiles; j++)
        {
            PtxOps.WaitGroup0();
            PtxOps.FenceProxyAsyncShared();
            Group.Barrier();
            if (j + 1 < tiles)
            {
                uint next = (uint)(((j + 1) % 3) * 2 * Tile128Bytes);
                LoadTile128(p, headOffset, rowStride, j + 1, kv + next, kv + next + Tile128Bytes, t);
                PtxOps.CommitGroup();
            }
            uint kb = kv + (uint)((j % 3) * 2 * Tile128Bytes), vPrevious = kv + (uint)(((j - 1) % 3) * 2 * Tile128Bytes) + Tile128Bytes;
            var so = PtxOps.WgmmaBf16AttentionStep128(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53, a60, a61, a62, a63, a70, a71, a72, a73, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));
            PtxOps.WgmmaWait1();
            var s = new Float32x64 { F0 = so.F0, F1 = so.F1, F2 = so.F2, F3 = so.F3, F4 = so.F4, F5 = so.F5, F6 = so.F6, F7 = so.F7, F8 = so.F8, F9 = so.F9, F10 = so.F10, F11 = so.F11, F12 = so.F12, F13 = so.F13, F14 = so.F14, F15 = so.F15, F16 = so.F16, F17 = so.F17, F18 = so.F18, F19 = so.F19, F20 = so.F20, F21 = so.F21, F22 = so.F22, F23 = so.F23, F24 = so.F24, F25 = so.F25, F26 = so.F26, F27 = so.F27, F28 = so.F28, F29 = so.F29, F30 = so.F30, F31 = so.F31, F32 = so.F32, F33 = so.F33, F34 = so.F34, F35 = so.F35, F36 = so.F36, F37 = so.F37, F38 = so.F38, F39 = so.F39, F40 = so.F40, F41 = so.F41, F42 = so.F42, F43 = so.F43, F44 = so.F44, F45 = so.F45, F46 = so.F46, F47 = so.F47, F48 = so.F48, F49 = so.F49, F50 = so.F50, F51 = so.F51, F52 = so.F52, F53 = so.F53, F54 = so.F54, F55 = so.F55, F56 = so.F56, F57 = so.F57, F58 = so.F58, F59 = so.F59, F60 = so.F60, F61 = so.F61, F62 = so.F62, F63 = so.F63 };
            float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29), s.F32), s.F33), s.F36), s.F37), s.F40), s.F41), s.F44), s.F45), s.F48), s.F49), s.F52), s.F53), s.F56), s.F57), s.F60), s.F61);
            float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31), s.F34), s.F35), s.F38), s.F39), s.F42), s.F43), s.F46), s.F47), s.F50), s.F51), s.F54), s.F55), s.F58), s.F59), s.F62), s.F63);
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
            float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
            alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
            alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
            float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
            m0 = mNew0;
            m1 = mNew1;
            float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
            float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
            float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
            float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
            float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
            float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
            float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
            float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
            float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
            float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
            float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
            float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
            float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
            float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
            float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
            float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
            float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
            float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
            float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
            float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
            float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
            float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
            float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
            float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
            float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
            float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
            float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
            float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
            float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
            float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
            float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
            float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
            float p32 = PtxOps.Exp2(s.F32 * p.ScaleLog2 - shift0);
            float p33 = PtxOps.Exp2(s.F33 * p.ScaleLog2 - shift0);
            float p34 = PtxOps.Exp2(s.F34 * p.ScaleLog2 - shift1);
            float p35 = PtxOps.Exp2(s.F35 * p.ScaleLog2 - shift1);
            float p36 = PtxOps.Exp2(s.F36 * p.ScaleLog2 - shift0);
            float p37 = PtxOps.Exp2(s.F37 * p.ScaleLog2 - shift0);
            float p38 = PtxOps.Exp2(s.F38 * p.ScaleLog2 - shift1);
            float p39 = PtxOps.Exp2(s.F39 * p.ScaleLog2 - shift1);
            float p40 = PtxOps.Exp2(s.F40 * p.ScaleLog2 - shift0);
            float p41 = PtxOps.Exp2(s.F41 * p.ScaleLog2 - shift0);
            float p42 = PtxOps.Exp2(s.F42 * p.ScaleLog2 - shift1);
            float p43 = PtxOps.Exp2(s.F43 * p.ScaleLog2 - shift1);
            float p44 = PtxOps.Exp2(s.F44 * p.ScaleLog2 - shift0);
            float p45 = PtxOps.Exp2(s.F45 * p.ScaleLog2 - shift0);
            float p46 = PtxOps.Exp2(s.F46 * p.ScaleLog2 - shift1);
            float p47 = PtxOps.Exp2(s.F47 * p.ScaleLog2 - shift1);
            float p48 = PtxOps.Exp2(s.F48 * p.ScaleLog2 - shift0);
            float p49 = PtxOps.Exp2(s.F49 * p.ScaleLog2 - shift0);
            float p50 = PtxOps.Exp2(s.F50 * p.ScaleLog2 - shift1);
            float p51 = PtxOps.Exp2(s.F51 * p.ScaleLog2 - shift1);
            float p52 = PtxOps.Exp2(s.F52 * p.ScaleLog2 - shift0);
            float p53 = PtxOps.Exp2(s.F53 * p.ScaleLog2 - shift0);
            float p54 = PtxOps.Exp2(s.F54 * p.ScaleLog2 - shift1);
            float p55 = PtxOps.Exp2(s.F55 * p.ScaleLog2 - shift1);
            float p56 = PtxOps.Exp2(s.F56 * p.ScaleLog2 - shift0);
            float p57 = PtxOps.Exp2(s.F57 * p.ScaleLog2 - shift0);
            float p58 = PtxOps.Exp2(s.F58 * p.ScaleLog2 - shift1);
            float p59 = PtxOps.Exp2(s.F59 * p.ScaleLog2 - shift1);
            float p60 = PtxOps.Exp2(s.F60 * p.ScaleLog2 - shift0);
            float p61 = PtxOps.Exp2(s.F61 * p.ScaleLog2 - shift0);
            float p62 = PtxOps.Exp2(s.F62 * p.ScaleLog2 - shift1);
            float p63 = PtxOps.Exp2(s.F63 * p.ScaleLog2 - shift1);
            l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29 + p32 + p33 + p36 + p37 + p40 + p41 + p44 + p45 + p48 + p49 + p52 + p53 + p56 + p57 + p60 + p61);
            l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31 + p34 + p35 + p38 + p39 + p42 + p43 + p46 + p47 + p50 + p51 + p54 + p55 + p58 + p59 + p62 + p63);
            a00 = PtxOps.PackBf16(p0, p1);
            a01 = PtxOps.PackBf16(p2, p3);
            a02 = PtxOps.PackBf16(p4, p5);
            a03 = PtxOps.PackBf16(p6, p7);
            a10 = PtxOps.PackBf16(p8, p9);
            a11 = PtxOps.PackBf16(p10, p11);
            a12 = PtxOps.PackBf16(p12, p13);
            a13 = PtxOps.PackBf16(p14, p15);
            a20 = PtxOps.PackBf16(p16, p17);
            a21 = PtxOps.PackBf16(p18, p19);
            a22 = PtxOps.PackBf16(p20, p21);
            a23 = PtxOps.PackBf16(p22, p23);
            a30 = PtxOps.PackBf16(p24, p25);
            a31 = PtxOps.PackBf16(p26, p27);
            a32 = PtxOps.PackBf16(p28, p29);
            a33 = PtxOps.PackBf16(p30, p31);
            a40 = PtxOps.PackBf16(p32, p33);
            a41 = PtxOps.PackBf16(p34, p35);
            a42 = PtxOps.PackBf16(p36, p37);
            a43 = PtxOps.PackBf16(p38, p39);
            a50 = PtxOps.PackBf16(p40, p41);
            a51 = PtxOps.PackBf16(p42, p43);
            a52 = PtxOps.PackBf16(p44, p45);
            a53 = PtxOps.PackBf16(p46, p47);
            a60 = PtxOps.PackBf16(p48, p49);
            a61 = PtxOps.PackBf16(p50, p51);
            a62 = PtxOps.PackBf16(p52, p53);
            a63 = PtxOps.PackBf16(p54, p55);
            a70 = PtxOps.PackBf16(p56, p57);
            a71 = PtxOps.PackBf16(p58, p59);
            a72 = PtxOps.PackBf16(p60, p61);
            a73 = PtxOps.PackBf16(p62, p63);
            PtxOps.WgmmaWait0();
            o = new Float32x64 { F0 = so.F64 * alpha0, F1 = so.F65 * alpha0, F2 = so.F66 * alpha1, F3 = so.F67 * alpha1, F4 = so.F68 * alpha0, F5 = so.F69 * alpha0, F6 = so.F70 * alpha1, F7 = so.F71 * alpha1, F8 = so.F72 * alpha0, F9 = so.F73 * alpha0, F10 = so.F74 * alpha1, F11 = so.F75 * alpha1, F12 = so.F76 * alpha0, F13 = so.F77 * alpha0, F14 = so.F78 * alpha1, F15 = so.F79 * alpha1, F16 = so.F80 * alpha0, F17 = so.F81 * alpha0, F18 = so.F82 * alpha1, F19 = so.F83 * alpha1, F20 = so.F84 * alpha0, F21 = so.F85 * alpha0, F22 = so.F86 * alpha1, F23 = so.F87 * alpha1, F24 = so.F88 * alpha0, F25 = so.F89 * alpha0, F26 = so.F90 * alpha1, F27 = so.F91 * alpha1, F28 = so.F92 * alpha0, F29 = so.F93 * alpha0, F30 = so.F94 * alpha1, F31 = so.F95 * alpha1, F32 = so.F96 * alpha0, F33 = so.F97 * alpha0, F34 = so.F98 * alpha1, F35 = so.F99 * alpha1, F36 = so.F100 * alpha0, F37 = so.F101 * alpha0, F38 = so.F102 * alpha1, F39 = so.F103 * alpha1, F40 = so.F104 * alpha0, F41 = so.F105 * alpha0, F42 = so.F106 * alpha1, F43 = so.F107 * alpha1, F44 = so.F108 * alpha0, F45 = so.F109 * alpha0, F46 = so.F110 * alpha1, F47 = so.F111 * alpha1, F48 = so.F112 * alpha0, F49 = so.F113 * alpha0, F50 = so.F114 * alpha1, F51 = so.F115 * alpha1, F52 = so.F116 * alpha0, F53 = so.F117 * alpha0, F54 = so.F118 * alpha1, F55 = so.F119 * alpha1, F56 = so.F120 * alpha0, F57 = so.F121 * alpha0, F58 = so.F122 * alpha1, F59 = so.F123 * alpha1, F60 = so.F124 * alpha0, F61 = so.F125 * alpha0, F62 = so.F126 * alpha1, F63 = so.F127 * alpha1 };
        }
        uint vLast = kv + (uint)(((tiles - 1) % 3) * 2 * Tile128Bytes) + Tile128Bytes;
        o = PtxOps.WgmmaBf16M64N128RSTransBChain8(o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53, a60, a61, a62, a63, a70, a71, a72, a73, PtxOps.WgmmaDescriptor(vLast, 2048, 128), 256);
        PtxOps.WgmmaCommit();
        PtxOps.WgmmaWait0();
        l0 += PtxOps.ShuffleXor(l0, 1);
        l0 += PtxOps.ShuffleXor(l0, 2);
        l1 += PtxOps.ShuffleXor(l1, 1);
        l1 += PtxOps.ShuffleXor(l1, 2);
        float inv0 = PtxOps.Reciprocal(l0), inv1 = PtxOps.Reciprocal(l1);
        int row0 = Grid.IdxX * BlockM + wg * 64 + warp * 16 + (lane >> 2), col = 2 * (lane & 3);
        ulong out0 = p.O + (ulong)(headOffset + row0 * rowStride + col * 2), out1 = out0 + (ulong)(8 * rowStride);
        PtxOps.StoreWord(out0 + 0, PtxOps.PackBf16(o.F0 * inv0, o.F1 * inv0));
        PtxOps.StoreWord(out1 + 0, PtxOps.PackBf16(o.F2 * inv1, o.F3 * inv1));
        PtxOps.StoreWord(out0 + 16, PtxOps.PackBf16(o.F4 * inv0, o.F5 * inv0));
        PtxOps.StoreWord(out1 + 16, PtxOps.PackBf16(o.F6 * inv1, o.F7 * inv1));
        PtxOps.StoreWord(out0 + 32, PtxOps.PackBf16(o.F8 * inv0, o.F9 * inv0));
        PtxOps.StoreWord(out1 + 32, PtxOps.PackBf16(o.F10 * inv1, o.F11 * inv1));
        PtxOps.StoreWord(out0 + 48, PtxOps.PackBf16(o.F12 * inv0, o.F13 * inv0));
        PtxOps.StoreWord(out1 + 48, PtxOps.PackBf16(o.F14 * inv1, o.F15 * inv1));
        PtxOps.StoreWord(out0 + 64, PtxOps.PackBf16(o.F16 * inv0, o.F17 * inv0));
        PtxOps.StoreWord(out1 + 64, PtxOps.PackBf16(o.F18 * inv1, o.F19 * inv1));
        PtxOps.StoreWord(out0 + 80, PtxOps.PackBf16(o.F20 * inv0, o.F21 * inv0));
        PtxOps.StoreWord(out1 + 80, PtxOps.PackBf16(o.F22 * inv1, o.F23 * inv1));
        PtxOps.StoreWord(out0 + 96, PtxOps.PackBf16(o.F24 * inv0, o.F25 * inv0));
        PtxOps.StoreWord(out1 + 96, PtxOps.PackBf16(o.F26 * inv1, o.F27 * inv1));
        PtxOps.StoreWord(out0 + 112, PtxOps.PackBf16(o.F28 * inv0, o.F29 * inv0));
        PtxOps.StoreWord(out1 + 112, PtxOps.PackBf16(o.F30 * inv1, o.F31 * inv1));
        PtxOps.StoreWord(out0 + 128, PtxOps.PackBf16(o.F32 * inv0, o.F33 * inv0));
        PtxOps.StoreWord(out1 + 128, PtxOps.PackBf16(o.F34 * inv1, o.F35 * inv1));
        PtxOps.StoreWord(out0 + 144, PtxOps.PackBf16(o.F36 * inv0, o.F37 * inv0));
        PtxOps.StoreWord(out1 + 144, PtxOps.PackBf16(o.F38 * inv1, o.F39 * inv1));
        PtxOps.StoreWord(out0 + 160, PtxOps.PackBf16(o.F40 * inv0, o.F41 * inv0));
        PtxOps.StoreWord(out1 + 160, PtxOps.PackBf16(o.F42 * inv1, o.F43 * inv1));
        PtxOps.StoreWord(out0 + 176, PtxOps.PackBf16(o.F44 * inv0, o.F45 * inv0));
        PtxOps.StoreWord(out1 + 176, PtxOps.PackBf16(o.F46 * inv1, o.F47 * inv1));
        PtxOps.StoreWord(out0 + 192, PtxOps.PackBf16(o.F48 * inv0, o.F49 * inv0));
        PtxOps.StoreWord(out1 + 192, PtxOps.PackBf16(o.F50 * inv1, o.F51 * inv1));
        PtxOps.StoreWord(out0 + 208, PtxOps.PackBf16(o.F52 * inv0, o.F53 * inv0));
        PtxOps.StoreWord(out1 + 208, PtxOps.PackBf16(o.F54 * inv1, o.F55 * inv1));
        PtxOps.StoreWord(out0 + 224, PtxOps.PackBf16(o.F56 * inv0, o.F57 * inv0));
        PtxOps.StoreWord(out1 + 224, PtxOps.PackBf16(o.F58 * inv1, o.F59 * inv1));
        PtxOps.StoreWord(out0 + 240, PtxOps.PackBf16(o.F60 * inv0, o.F61 * inv0));
        PtxOps.StoreWord(out1 + 240, PtxOps.PackBf16(o.F62 * inv1, o.F63 * inv1));
        if ((lane & 3) == 0)
        {
            ulong lse = p.Lse + (ulong)((((long)b * p.Heads + h) * p.SeqLen + row0) * 4);
            const float Ln2 = 0.6931472f;
            PtxOps.StoreFloat(lse, (m0 * p.ScaleLog2 + PtxOps.Log2(l0)) * Ln2);
            PtxOps.StoreFloat(lse + 32, (m1 * p.ScaleLog2 + PtxOps.Log2(l1)) * Ln2);
        }
    }

    // As KernelUnrolled with 128-key K/V tiles: S is 64×128 per warpgroup (m64n128k16), half the
    // softmax reductions, O rescales and barriers per key; three K/V tile pairs (192 KiB) and Q (32 KiB) in shared memory.
    public static void KernelUnrolled128(WgmmaForwardParams p)
    {
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
        {
            LoadTile128(p, headOffset, rowStride, 1, kv + 2 * Tile128Bytes, kv + 3 * Tile128Bytes, t);
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
        uint c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0, c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0, c40 = 0, c41 = 0, c42 = 0, c43 = 0, c50 = 0, c51 = 0, c52 = 0, c53 = 0, c60 = 0, c61 = 0, c62 = 0, c63 = 0, c70 = 0, c71 = 0, c72 = 0, c73 = 0;
        uint a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53, a60, a61, a62, a63, a70, a71, a72, a73;
        var o = default(Float32x64);
        uint qw = qs + (uint)(wg * 16384);
        {
            var s = PtxOps.WgmmaBf16M64N128SSChain(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kv, 128, 2048), 8, 16, 16);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
            float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29), s.F32), s.F33), s.F36), s.F37), s.F40), s.F41), s.F44), s.F45), s.F48), s.F49), s.F52), s.F53), s.F56), s.F57), s.F60), s.F61);
            float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31), s.F34), s.F35), s.F38), s.F39), s.F42), s.F43), s.F46), s.F47), s.F50), s.F51), s.F54), s.F55), s.F58), s.F59), s.F62), s.F63);
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
            max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
            max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
            float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
            alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
            alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
            float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
            m0 = mNew0;
            m1 = mNew1;
            float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
            float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
            float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
            float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
            float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
            float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
            float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
            float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
            float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
            float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
            float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
            float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
            float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
            float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
            float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
            float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
            float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
            float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
            float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
            float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
            float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
            float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
            float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
            float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
            float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
            float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
            float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
            float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
            float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
            float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
            float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
            float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
            float p32 = PtxOps.Exp2(s.F32 * p.ScaleLog2 - shift0);
            float p33 = PtxOps.Exp2(s.F33 * p.ScaleLog2 - shift0);
            float p34 = PtxOps.Exp2(s.F34 * p.ScaleLog2 - shift1);
            float p35 = PtxOps.Exp2(s.F35 * p.ScaleLog2 - shift1);
            float p36 = PtxOps.Exp2(s.F36 * p.ScaleLog2 - shift0);
            float p37 = PtxOps.Exp2(s.F37 * p.ScaleLog2 - shift0);
            float p38 = PtxOps.Exp2(s.F38 * p.ScaleLog2 - shift1);
            float p39 = PtxOps.Exp2(s.F39 * p.ScaleLog2 - shift1);
            float p40 = PtxOps.Exp2(s.F40 * p.ScaleLog2 - shift0);
            float p41 = PtxOps.Exp2(s.F41 * p.ScaleLog2 - shift0);
            float p42 = PtxOps.Exp2(s.F42 * p.ScaleLog2 - shift1);
            float p43 = PtxOps.Exp2(s.F43 * p.ScaleLog2 - shift1);
            float p44 = PtxOps.Exp2(s.F44 * p.ScaleLog2 - shift0);
            float p45 = PtxOps.Exp2(s.F45 * p.ScaleLog2 - shift0);
            float p46 = PtxOps.Exp2(s.F46 * p.ScaleLog2 - shift1);
            float p47 = PtxOps.Exp2(s.F47 * p.ScaleLog2 - shift1);
            float p48 = PtxOps.Exp2(s.F48 * p.ScaleLog2 - shift0);
            float p49 = PtxOps.Exp2(s.F49 * p.ScaleLog2 - shift0);
            float p50 = PtxOps.Exp2(s.F50 * p.ScaleLog2 - shift1);
            float p51 = PtxOps.Exp2(s.F51 * p.ScaleLog2 - shift1);
            float p52 = PtxOps.Exp2(s.F52 * p.ScaleLog2 - shift0);
            float p53 = PtxOps.Exp2(s.F53 * p.ScaleLog2 - shift0);
            float p54 = PtxOps.Exp2(s.F54 * p.ScaleLog2 - shift1);
            float p55 = PtxOps.Exp2(s.F55 * p.ScaleLog2 - shift1);
            float p56 = PtxOps.Exp2(s.F56 * p.ScaleLog2 - shift0);
            float p57 = PtxOps.Exp2(s.F57 * p.ScaleLog2 - shift0);
            float p58 = PtxOps.Exp2(s.F58 * p.ScaleLog2 - shift1);
            float p59 = PtxOps.Exp2(s.F59 * p.ScaleLog2 - shift1);
            float p60 = PtxOps.Exp2(s.F60 * p.ScaleLog2 - shift0);
            float p61 = PtxOps.Exp2(s.F61 * p.ScaleLog2 - shift0);
            float p62 = PtxOps.Exp2(s.F62 * p.ScaleLog2 - shift1);
            float p63 = PtxOps.Exp2(s.F63 * p.ScaleLog2 - shift1);
            l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29 + p32 + p33 + p36 + p37 + p40 + p41 + p44 + p45 + p48 + p49 + p52 + p53 + p56 + p57 + p60 + p61);
            l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31 + p34 + p35 + p38 + p39 + p42 + p43 + p46 + p47 + p50 + p51 + p54 + p55 + p58 + p59 + p62 + p63);
            a00 = PtxOps.PackBf16(p0, p1);
            a01 = PtxOps.PackBf16(p2, p3);
            a02 = PtxOps.PackBf16(p4, p5);
            a03 = PtxOps.PackBf16(p6, p7);
            a10 = PtxOps.PackBf16(p8, p9);
            a11 = PtxOps.PackBf16(p10, p11);
            a12 = PtxOps.PackBf16(p12, p13);
            a13 = PtxOps.PackBf16(p14, p15);
            a20 = PtxOps.PackBf16(p16, p17);
            a21 = PtxOps.PackBf16(p18, p19);
            a22 = PtxOps.PackBf16(p20, p21);
            a23 = PtxOps.PackBf16(p22, p23);
            a30 = PtxOps.PackBf16(p24, p25);
            a31 = PtxOps.PackBf16(p26, p27);
            a32 = PtxOps.PackBf16(p28, p29);
            a33 = PtxOps.PackBf16(p30, p31);
            a40 = PtxOps.PackBf16(p32, p33);
            a41 = PtxOps.PackBf16(p34, p35);
            a42 = PtxOps.PackBf16(p36, p37);
            a43 = PtxOps.PackBf16(p38, p39);
            a50 = PtxOps.PackBf16(p40, p41);
            a51 = PtxOps.PackBf16(p42, p43);
            a52 = PtxOps.PackBf16(p44, p45);
            a53 = PtxOps.PackBf16(p46, p47);
            a60 = PtxOps.PackBf16(p48, p49);
            a61 = PtxOps.PackBf16(p50, p51);
            a62 = PtxOps.PackBf16(p52, p53);
            a63 = PtxOps.PackBf16(p54, p55);
            a70 = PtxOps.PackBf16(p56, p57);
            a71 = PtxOps.PackBf16(p58, p59);
            a72 = PtxOps.PackBf16(p60, p61);
            a73 = PtxOps.PackBf16(p62, p63);
        }
        int j = 1;
        for (; j + 1 < tiles; j += 2)
        {
            {
                PtxOps.WaitGroup0();
                PtxOps.FenceProxyAsyncShared();
                Group.Barrier();
                if (j + 1 < tiles)
                {
                    uint next = (uint)(((j + 1) % 3) * 2 * Tile128Bytes);
                    LoadTile128(p, headOffset, rowStride, j + 1, kv + next, kv + next + Tile128Bytes, t);
                    PtxOps.CommitGroup();
                }
                uint kb = kv + (uint)((j % 3) * 2 * Tile128Bytes), vPrevious = kv + (uint)(((j - 1) % 3) * 2 * Tile128Bytes) + Tile128Bytes;
                var so = PtxOps.WgmmaBf16AttentionStep128(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53, a60, a61, a62, a63, a70, a71, a72, a73, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));
                PtxOps.WgmmaWait1();
                var s = new Float32x64 { F0 = so.F0, F1 = so.F1, F2 = so.F2, F3 = so.F3, F4 = so.F4, F5 = so.F5, F6 = so.F6, F7 = so.F7, F8 = so.F8, F9 = so.F9, F10 = so.F10, F11 = so.F11, F12 = so.F12, F13 = so.F13, F14 = so.F14, F15 = so.F15, F16 = so.F16, F17 = so.F17, F18 = so.F18, F19 = so.F19, F20 = so.F20, F21 = so.F21, F22 = so.F22, F23 = so.F23, F24 = so.F24, F25 = so.F25, F26 = so.F26, F27 = so.F27, F28 = so.F28, F29 = so.F29, F30 = so.F30, F31 = so.F31, F32 = so.F32, F33 = so.F33, F34 = so.F34, F35 = so.F35, F36 = so.F36, F37 = so.F37, F38 = so.F38, F39 = so.F39, F40 = so.F40, F41 = so.F41, F42 = so.F42, F43 = so.F43, F44 = so.F44, F45 = so.F45, F46 = so.F46, F47 = so.F47, F48 = so.F48, F49 = so.F49, F50 = so.F50, F51 = so.F51, F52 = so.F52, F53 = so.F53, F54 = so.F54, F55 = so.F55, F56 = so.F56, F57 = so.F57, F58 = so.F58, F59 = so.F59, F60 = so.F60, F61 = so.F61, F62 = so.F62, F63 = so.F63 };
                float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29), s.F32), s.F33), s.F36), s.F37), s.F40), s.F41), s.F44), s.F45), s.F48), s.F49), s.F52), s.F53), s.F56), s.F57), s.F60), s.F61);
                float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31), s.F34), s.F35), s.F38), s.F39), s.F42), s.F43), s.F46), s.F47), s.F50), s.F51), s.F54), s.F55), s.F58), s.F59), s.F62), s.F63);
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
                float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
                alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
                alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
                float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
                m0 = mNew0;
                m1 = mNew1;
                float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
                float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
                float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
                float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
                float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
                float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
                float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
                float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
                float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
                float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
                float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
                float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
                float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
                float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
                float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
                float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
                float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
                float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
                float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
                float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
                float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
                float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
                float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
                float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
                float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
                float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
                float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
                float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
                float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
                float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
                float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
                float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
                float p32 = PtxOps.Exp2(s.F32 * p.ScaleLog2 - shift0);
                float p33 = PtxOps.Exp2(s.F33 * p.ScaleLog2 - shift0);
                float p34 = PtxOps.Exp2(s.F34 * p.ScaleLog2 - shift1);
                float p35 = PtxOps.Exp2(s.F35 * p.ScaleLog2 - shift1);
                float p36 = PtxOps.Exp2(s.F36 * p.ScaleLog2 - shift0);
                float p37 = PtxOps.Exp2(s.F37 * p.ScaleLog2 - shift0);
                float p38 = PtxOps.Exp2(s.F38 * p.ScaleLog2 - shift1);
                float p39 = PtxOps.Exp2(s.F39 * p.ScaleLog2 - shift1);
                float p40 = PtxOps.Exp2(s.F40 * p.ScaleLog2 - shift0);
                float p41 = PtxOps.Exp2(s.F41 * p.ScaleLog2 - shift0);
                float p42 = PtxOps.Exp2(s.F42 * p.ScaleLog2 - shift1);
                float p43 = PtxOps.Exp2(s.F43 * p.ScaleLog2 - shift1);
                float p44 = PtxOps.Exp2(s.F44 * p.ScaleLog2 - shift0);
                float p45 = PtxOps.Exp2(s.F45 * p.ScaleLog2 - shift0);
                float p46 = PtxOps.Exp2(s.F46 * p.ScaleLog2 - shift1);
                float p47 = PtxOps.Exp2(s.F47 * p.ScaleLog2 - shift1);
                float p48 = PtxOps.Exp2(s.F48 * p.ScaleLog2 - shift0);
                float p49 = PtxOps.Exp2(s.F49 * p.ScaleLog2 - shift0);
                float p50 = PtxOps.Exp2(s.F50 * p.ScaleLog2 - shift1);
                float p51 = PtxOps.Exp2(s.F51 * p.ScaleLog2 - shift1);
                float p52 = PtxOps.Exp2(s.F52 * p.ScaleLog2 - shift0);
                float p53 = PtxOps.Exp2(s.F53 * p.ScaleLog2 - shift0);
                float p54 = PtxOps.Exp2(s.F54 * p.ScaleLog2 - shift1);
                float p55 = PtxOps.Exp2(s.F55 * p.ScaleLog2 - shift1);
                float p56 = PtxOps.Exp2(s.F56 * p.ScaleLog2 - shift0);
                float p57 = PtxOps.Exp2(s.F57 * p.ScaleLog2 - shift0);
                float p58 = PtxOps.Exp2(s.F58 * p.ScaleLog2 - shift1);
                float p59 = PtxOps.Exp2(s.F59 * p.ScaleLog2 - shift1);
                float p60 = PtxOps.Exp2(s.F60 * p.ScaleLog2 - shift0);
                float p61 = PtxOps.Exp2(s.F61 * p.ScaleLog2 - shift0);
                float p62 = PtxOps.Exp2(s.F62 * p.ScaleLog2 - shift1);
                float p63 = PtxOps.Exp2(s.F63 * p.ScaleLog2 - shift1);
                l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29 + p32 + p33 + p36 + p37 + p40 + p41 + p44 + p45 + p48 + p49 + p52 + p53 + p56 + p57 + p60 + p61);
                l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31 + p34 + p35 + p38 + p39 + p42 + p43 + p46 + p47 + p50 + p51 + p54 + p55 + p58 + p59 + p62 + p63);
                c00 = PtxOps.PackBf16(p0, p1);
                c01 = PtxOps.PackBf16(p2, p3);
                c02 = PtxOps.PackBf16(p4, p5);
                c03 = PtxOps.PackBf16(p6, p7);
                c10 = PtxOps.PackBf16(p8, p9);
                c11 = PtxOps.PackBf16(p10, p11);
                c12 = PtxOps.PackBf16(p12, p13);
                c13 = PtxOps.PackBf16(p14, p15);
                c20 = PtxOps.PackBf16(p16, p17);
                c21 = PtxOps.PackBf16(p18, p19);
                c22 = PtxOps.PackBf16(p20, p21);
                c23 = PtxOps.PackBf16(p22, p23);
                c30 = PtxOps.PackBf16(p24, p25);
                c31 = PtxOps.PackBf16(p26, p27);
                c32 = PtxOps.PackBf16(p28, p29);
                c33 = PtxOps.PackBf16(p30, p31);
                c40 = PtxOps.PackBf16(p32, p33);
                c41 = PtxOps.PackBf16(p34, p35);
                c42 = PtxOps.PackBf16(p36, p37);
                c43 = PtxOps.PackBf16(p38, p39);
                c50 = PtxOps.PackBf16(p40, p41);
                c51 = PtxOps.PackBf16(p42, p43);
                c52 = PtxOps.PackBf16(p44, p45);
                c53 = PtxOps.PackBf16(p46, p47);
                c60 = PtxOps.PackBf16(p48, p49);
                c61 = PtxOps.PackBf16(p50, p51);
                c62 = PtxOps.PackBf16(p52, p53);
                c63 = PtxOps.PackBf16(p54, p55);
                c70 = PtxOps.PackBf16(p56, p57);
                c71 = PtxOps.PackBf16(p58, p59);
                c72 = PtxOps.PackBf16(p60, p61);
                c73 = PtxOps.PackBf16(p62, p63);
                PtxOps.WgmmaWait0();
                o = new Float32x64 { F0 = so.F64 * alpha0, F1 = so.F65 * alpha0, F2 = so.F66 * alpha1, F3 = so.F67 * alpha1, F4 = so.F68 * alpha0, F5 = so.F69 * alpha0, F6 = so.F70 * alpha1, F7 = so.F71 * alpha1, F8 = so.F72 * alpha0, F9 = so.F73 * alpha0, F10 = so.F74 * alpha1, F11 = so.F75 * alpha1, F12 = so.F76 * alpha0, F13 = so.F77 * alpha0, F14 = so.F78 * alpha1, F15 = so.F79 * alpha1, F16 = so.F80 * alpha0, F17 = so.F81 * alpha0, F18 = so.F82 * alpha1, F19 = so.F83 * alpha1, F20 = so.F84 * alpha0, F21 = so.F85 * alpha0, F22 = so.F86 * alpha1, F23 = so.F87 * alpha1, F24 = so.F88 * alpha0, F25 = so.F89 * alpha0, F26 = so.F90 * alpha1, F27 = so.F91 * alpha1, F28 = so.F92 * alpha0, F29 = so.F93 * alpha0, F30 = so.F94 * alpha1, F31 = so.F95 * alpha1, F32 = so.F96 * alpha0, F33 = so.F97 * alpha0, F34 = so.F98 * alpha1, F35 = so.F99 * alpha1, F36 = so.F100 * alpha0, F37 = so.F101 * alpha0, F38 = so.F102 * alpha1, F39 = so.F103 * alpha1, F40 = so.F104 * alpha0, F41 = so.F105 * alpha0, F42 = so.F106 * alpha1, F43 = so.F107 * alpha1, F44 = so.F108 * alpha0, F45 = so.F109 * alpha0, F46 = so.F110 * alpha1, F47 = so.F111 * alpha1, F48 = so.F112 * alpha0, F49 = so.F113 * alpha0, F50 = so.F114 * alpha1, F51 = so.F115 * alpha1, F52 = so.F116 * alpha0, F53 = so.F117 * alpha0, F54 = so.F118 * alpha1, F55 = so.F119 * alpha1, F56 = so.F120 * alpha0, F57 = so.F121 * alpha0, F58 = so.F122 * alpha1, F59 = so.F123 * alpha1, F60 = so.F124 * alpha0, F61 = so.F125 * alpha0, F62 = so.F126 * alpha1, F63 = so.F127 * alpha1 };
            }
            {
                PtxOps.WaitGroup0();
                PtxOps.FenceProxyAsyncShared();
                Group.Barrier();
                if ((j + 1) + 1 < tiles)
                {
                    uint next = (uint)((((j + 1) + 1) % 3) * 2 * Tile128Bytes);
                    LoadTile128(p, headOffset, rowStride, (j + 1) + 1, kv + next, kv + next + Tile128Bytes, t);
                    PtxOps.CommitGroup();
                }
                uint kb = kv + (uint)(((j + 1) % 3) * 2 * Tile128Bytes), vPrevious = kv + (uint)((((j + 1) - 1) % 3) * 2 * Tile128Bytes) + Tile128Bytes;
                var so = PtxOps.WgmmaBf16AttentionStep128(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33, c40, c41, c42, c43, c50, c51, c52, c53, c60, c61, c62, c63, c70, c71, c72, c73, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));
                PtxOps.WgmmaWait1();
                var s = new Float32x64 { F0 = so.F0, F1 = so.F1, F2 = so.F2, F3 = so.F3, F4 = so.F4, F5 = so.F5, F6 = so.F6, F7 = so.F7, F8 = so.F8, F9 = so.F9, F10 = so.F10, F11 = so.F11, F12 = so.F12, F13 = so.F13, F14 = so.F14, F15 = so.F15, F16 = so.F16, F17 = so.F17, F18 = so.F18, F19 = so.F19, F20 = so.F20, F21 = so.F21, F22 = so.F22, F23 = so.F23, F24 = so.F24, F25 = so.F25, F26 = so.F26, F27 = so.F27, F28 = so.F28, F29 = so.F29, F30 = so.F30, F31 = so.F31, F32 = so.F32, F33 = so.F33, F34 = so.F34, F35 = so.F35, F36 = so.F36, F37 = so.F37, F38 = so.F38, F39 = so.F39, F40 = so.F40, F41 = so.F41, F42 = so.F42, F43 = so.F43, F44 = so.F44, F45 = so.F45, F46 = so.F46, F47 = so.F47, F48 = so.F48, F49 = so.F49, F50 = so.F50, F51 = so.F51, F52 = so.F52, F53 = so.F53, F54 = so.F54, F55 = so.F55, F56 = so.F56, F57 = so.F57, F58 = so.F58, F59 = so.F59, F60 = so.F60, F61 = so.F61, F62 = so.F62, F63 = so.F63 };
                float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29), s.F32), s.F33), s.F36), s.F37), s.F40), s.F41), s.F44), s.F45), s.F48), s.F49), s.F52), s.F53), s.F56), s.F57), s.F60), s.F61);
                float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31), s.F34), s.F35), s.F38), s.F39), s.F42), s.F43), s.F46), s.F47), s.F50), s.F51), s.F54), s.F55), s.F58), s.F59), s.F62), s.F63);
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
                float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
                alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
                alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
                float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
                m0 = mNew0;
                m1 = mNew1;
                float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
                float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
                float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
                float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
                float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
                float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
                float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
                float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
                float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
                float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
                float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
                float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
                float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
                float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
                float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
                float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
                float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
                float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
                float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
                float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
                float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
                float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
                float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
                float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
                float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
                float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
                float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
                float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
                float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
                float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
                float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
                float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
                float p32 = PtxOps.Exp2(s.F32 * p.ScaleLog2 - shift0);
                float p33 = PtxOps.Exp2(s.F33 * p.ScaleLog2 - shift0);
                float p34 = PtxOps.Exp2(s.F34 * p.ScaleLog2 - shift1);
                float p35 = PtxOps.Exp2(s.F35 * p.ScaleLog2 - shift1);
                float p36 = PtxOps.Exp2(s.F36 * p.ScaleLog2 - shift0);
                float p37 = PtxOps.Exp2(s.F37 * p.ScaleLog2 - shift0);
                float p38 = PtxOps.Exp2(s.F38 * p.ScaleLog2 - shift1);
                float p39 = PtxOps.Exp2(s.F39 * p.ScaleLog2 - shift1);
                float p40 = PtxOps.Exp2(s.F40 * p.ScaleLog2 - shift0);
                float p41 = PtxOps.Exp2(s.F41 * p.ScaleLog2 - shift0);
                float p42 = PtxOps.Exp2(s.F42 * p.ScaleLog2 - shift1);
                float p43 = PtxOps.Exp2(s.F43 * p.ScaleLog2 - shift1);
                float p44 = PtxOps.Exp2(s.F44 * p.ScaleLog2 - shift0);
                float p45 = PtxOps.Exp2(s.F45 * p.ScaleLog2 - shift0);
                float p46 = PtxOps.Exp2(s.F46 * p.ScaleLog2 - shift1);
                float p47 = PtxOps.Exp2(s.F47 * p.ScaleLog2 - shift1);
                float p48 = PtxOps.Exp2(s.F48 * p.ScaleLog2 - shift0);
                float p49 = PtxOps.Exp2(s.F49 * p.ScaleLog2 - shift0);
                float p50 = PtxOps.Exp2(s.F50 * p.ScaleLog2 - shift1);
                float p51 = PtxOps.Exp2(s.F51 * p.ScaleLog2 - shift1);
                float p52 = PtxOps.Exp2(s.F52 * p.ScaleLog2 - shift0);
                float p53 = PtxOps.Exp2(s.F53 * p.ScaleLog2 - shift0);
                float p54 = PtxOps.Exp2(s.F54 * p.ScaleLog2 - shift1);
                float p55 = PtxOps.Exp2(s.F55 * p.ScaleLog2 - shift1);
                float p56 = PtxOps.Exp2(s.F56 * p.ScaleLog2 - shift0);
                float p57 = PtxOps.Exp2(s.F57 * p.ScaleLog2 - shift0);
                float p58 = PtxOps.Exp2(s.F58 * p.ScaleLog2 - shift1);
                float p59 = PtxOps.Exp2(s.F59 * p.ScaleLog2 - shift1);
                float p60 = PtxOps.Exp2(s.F60 * p.ScaleLog2 - shift0);
                float p61 = PtxOps.Exp2(s.F61 * p.ScaleLog2 - shift0);
                float p62 = PtxOps.Exp2(s.F62 * p.ScaleLog2 - shift1);
                float p63 = PtxOps.Exp2(s.F63 * p.ScaleLog2 - shift1);
                l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29 + p32 + p33 + p36 + p37 + p40 + p41 + p44 + p45 + p48 + p49 + p52 + p53 + p56 + p57 + p60 + p61);
                l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31 + p34 + p35 + p38 + p39 + p42 + p43 + p46 + p47 + p50 + p51 + p54 + p55 + p58 + p59 + p62 + p63);
                a00 = PtxOps.PackBf16(p0, p1);
                a01 = PtxOps.PackBf16(p2, p3);
                a02 = PtxOps.PackBf16(p4, p5);
                a03 = PtxOps.PackBf16(p6, p7);
                a10 = PtxOps.PackBf16(p8, p9);
                a11 = PtxOps.PackBf16(p10, p11);
                a12 = PtxOps.PackBf16(p12, p13);
                a13 = PtxOps.PackBf16(p14, p15);
                a20 = PtxOps.PackBf16(p16, p17);
                a21 = PtxOps.PackBf16(p18, p19);
                a22 = PtxOps.PackBf16(p20, p21);
                a23 = PtxOps.PackBf16(p22, p23);
                a30 = PtxOps.PackBf16(p24, p25);
                a31 = PtxOps.PackBf16(p26, p27);
                a32 = PtxOps.PackBf16(p28, p29);
                a33 = PtxOps.PackBf16(p30, p31);
                a40 = PtxOps.PackBf16(p32, p33);
                a41 = PtxOps.PackBf16(p34, p35);
                a42 = PtxOps.PackBf16(p36, p37);
                a43 = PtxOps.PackBf16(p38, p39);
                a50 = PtxOps.PackBf16(p40, p41);
                a51 = PtxOps.PackBf16(p42, p43);
                a52 = PtxOps.PackBf16(p44, p45);
                a53 = PtxOps.PackBf16(p46, p47);
                a60 = PtxOps.PackBf16(p48, p49);
                a61 = PtxOps.PackBf16(p50, p51);
                a62 = PtxOps.PackBf16(p52, p53);
                a63 = PtxOps.PackBf16(p54, p55);
                a70 = PtxOps.PackBf16(p56, p57);
                a71 = PtxOps.PackBf16(p58, p59);
                a72 = PtxOps.PackBf16(p60, p61);
                a73 = PtxOps.PackBf16(p62, p63);
                PtxOps.WgmmaWait0();
                o = new Float32x64 { F0 = so.F64 * alpha0, F1 = so.F65 * alpha0, F2 = so.F66 * alpha1, F3 = so.F67 * alpha1, F4 = so.F68 * alpha0, F5 = so.F69 * alpha0, F6 = so.F70 * alpha1, F7 = so.F71 * alpha1, F8 = so.F72 * alpha0, F9 = so.F73 * alpha0, F10 = so.F74 * alpha1, F11 = so.F75 * alpha1, F12 = so.F76 * alpha0, F13 = so.F77 * alpha0, F14 = so.F78 * alpha1, F15 = so.F79 * alpha1, F16 = so.F80 * alpha0, F17 = so.F81 * alpha0, F18 = so.F82 * alpha1, F19 = so.F83 * alpha1, F20 = so.F84 * alpha0, F21 = so.F85 * alpha0, F22 = so.F86 * alpha1, F23 = so.F87 * alpha1, F24 = so.F88 * alpha0, F25 = so.F89 * alpha0, F26 = so.F90 * alpha1, F27 = so.F91 * alpha1, F28 = so.F92 * alpha0, F29 = so.F93 * alpha0, F30 = so.F94 * alpha1, F31 = so.F95 * alpha1, F32 = so.F96 * alpha0, F33 = so.F97 * alpha0, F34 = so.F98 * alpha1, F35 = so.F99 * alpha1, F36 = so.F100 * alpha0, F37 = so.F101 * alpha0, F38 = so.F102 * alpha1, F39 = so.F103 * alpha1, F40 = so.F104 * alpha0, F41 = so.F105 * alpha0, F42 = so.F106 * alpha1, F43 = so.F107 * alpha1, F44 = so.F108 * alpha0, F45 = so.F109 * alpha0, F46 = so.F110 * alpha1, F47 = so.F111 * alpha1, F48 = so.F112 * alpha0, F49 = so.F113 * alpha0, F50 = so.F114 * alpha1, F51 = so.F115 * alpha1, F52 = so.F116 * alpha0, F53 = so.F117 * alpha0, F54 = so.F118 * alpha1, F55 = so.F119 * alpha1, F56 = so.F120 * alpha0, F57 = so.F121 * alpha0, F58 = so.F122 * alpha1, F59 = so.F123 * alpha1, F60 = so.F124 * alpha0, F61 = so.F125 * alpha0, F62 = so.F126 * alpha1, F63 = so.F127 * alpha1 };
            }
        }
        if (j < tiles)
        {
            {
                PtxOps.WaitGroup0();
                PtxOps.FenceProxyAsyncShared();
                Group.Barrier();
                if (j + 1 < tiles)
                {
                    uint next = (uint)(((j + 1) % 3) * 2 * Tile128Bytes);
                    LoadTile128(p, headOffset, rowStride, j + 1, kv + next, kv + next + Tile128Bytes, t);
                    PtxOps.CommitGroup();
                }
                uint kb = kv + (uint)((j % 3) * 2 * Tile128Bytes), vPrevious = kv + (uint)(((j - 1) % 3) * 2 * Tile128Bytes) + Tile128Bytes;
                var so = PtxOps.WgmmaBf16AttentionStep128(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53, a60, a61, a62, a63, a70, a71, a72, a73, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));
                PtxOps.WgmmaWait1();
                var s = new Float32x64 { F0 = so.F0, F1 = so.F1, F2 = so.F2, F3 = so.F3, F4 = so.F4, F5 = so.F5, F6 = so.F6, F7 = so.F7, F8 = so.F8, F9 = so.F9, F10 = so.F10, F11 = so.F11, F12 = so.F12, F13 = so.F13, F14 = so.F14, F15 = so.F15, F16 = so.F16, F17 = so.F17, F18 = so.F18, F19 = so.F19, F20 = so.F20, F21 = so.F21, F22 = so.F22, F23 = so.F23, F24 = so.F24, F25 = so.F25, F26 = so.F26, F27 = so.F27, F28 = so.F28, F29 = so.F29, F30 = so.F30, F31 = so.F31, F32 = so.F32, F33 = so.F33, F34 = so.F34, F35 = so.F35, F36 = so.F36, F37 = so.F37, F38 = so.F38, F39 = so.F39, F40 = so.F40, F41 = so.F41, F42 = so.F42, F43 = so.F43, F44 = so.F44, F45 = so.F45, F46 = so.F46, F47 = so.F47, F48 = so.F48, F49 = so.F49, F50 = so.F50, F51 = so.F51, F52 = so.F52, F53 = so.F53, F54 = so.F54, F55 = so.F55, F56 = so.F56, F57 = so.F57, F58 = so.F58, F59 = so.F59, F60 = so.F60, F61 = so.F61, F62 = so.F62, F63 = so.F63 };
                float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29), s.F32), s.F33), s.F36), s.F37), s.F40), s.F41), s.F44), s.F45), s.F48), s.F49), s.F52), s.F53), s.F56), s.F57), s.F60), s.F61);
                float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31), s.F34), s.F35), s.F38), s.F39), s.F42), s.F43), s.F46), s.F47), s.F50), s.F51), s.F54), s.F55), s.F58), s.F59), s.F62), s.F63);
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
                float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
                alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
                alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
                float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
                m0 = mNew0;
                m1 = mNew1;
                float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
                float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
                float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
                float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
                float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
                float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
                float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
                float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
                float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
                float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
                float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
                float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
                float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
                float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
                float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
                float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
                float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
                float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
                float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
                float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
                float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
                float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
                float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
                float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
                float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
                float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
                float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
                float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
                float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
                float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
                float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
                float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
                float p32 = PtxOps.Exp2(s.F32 * p.ScaleLog2 - shift0);
                float p33 = PtxOps.Exp2(s.F33 * p.ScaleLog2 - shift0);
                float p34 = PtxOps.Exp2(s.F34 * p.ScaleLog2 - shift1);
                float p35 = PtxOps.Exp2(s.F35 * p.ScaleLog2 - shift1);
                float p36 = PtxOps.Exp2(s.F36 * p.ScaleLog2 - shift0);
                float p37 = PtxOps.Exp2(s.F37 * p.ScaleLog2 - shift0);
                float p38 = PtxOps.Exp2(s.F38 * p.ScaleLog2 - shift1);
                float p39 = PtxOps.Exp2(s.F39 * p.ScaleLog2 - shift1);
                float p40 = PtxOps.Exp2(s.F40 * p.ScaleLog2 - shift0);
                float p41 = PtxOps.Exp2(s.F41 * p.ScaleLog2 - shift0);
                float p42 = PtxOps.Exp2(s.F42 * p.ScaleLog2 - shift1);
                float p43 = PtxOps.Exp2(s.F43 * p.ScaleLog2 - shift1);
                float p44 = PtxOps.Exp2(s.F44 * p.ScaleLog2 - shift0);
                float p45 = PtxOps.Exp2(s.F45 * p.ScaleLog2 - shift0);
                float p46 = PtxOps.Exp2(s.F46 * p.ScaleLog2 - shift1);
                float p47 = PtxOps.Exp2(s.F47 * p.ScaleLog2 - shift1);
                float p48 = PtxOps.Exp2(s.F48 * p.ScaleLog2 - shift0);
                float p49 = PtxOps.Exp2(s.F49 * p.ScaleLog2 - shift0);
                float p50 = PtxOps.Exp2(s.F50 * p.ScaleLog2 - shift1);
                float p51 = PtxOps.Exp2(s.F51 * p.ScaleLog2 - shift1);
                float p52 = PtxOps.Exp2(s.F52 * p.ScaleLog2 - shift0);
                float p53 = PtxOps.Exp2(s.F53 * p.ScaleLog2 - shift0);
                float p54 = PtxOps.Exp2(s.F54 * p.ScaleLog2 - shift1);
                float p55 = PtxOps.Exp2(s.F55 * p.ScaleLog2 - shift1);
                float p56 = PtxOps.Exp2(s.F56 * p.ScaleLog2 - shift0);
                float p57 = PtxOps.Exp2(s.F57 * p.ScaleLog2 - shift0);
                float p58 = PtxOps.Exp2(s.F58 * p.ScaleLog2 - shift1);
                float p59 = PtxOps.Exp2(s.F59 * p.ScaleLog2 - shift1);
                float p60 = PtxOps.Exp2(s.F60 * p.ScaleLog2 - shift0);
                float p61 = PtxOps.Exp2(s.F61 * p.ScaleLog2 - shift0);
                float p62 = PtxOps.Exp2(s.F62 * p.ScaleLog2 - shift1);
                float p63 = PtxOps.Exp2(s.F63 * p.ScaleLog2 - shift1);
                l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29 + p32 + p33 + p36 + p37 + p40 + p41 + p44 + p45 + p48 + p49 + p52 + p53 + p56 + p57 + p60 + p61);
                l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31 + p34 + p35 + p38 + p39 + p42 + p43 + p46 + p47 + p50 + p51 + p54 + p55 + p58 + p59 + p62 + p63);
                c00 = PtxOps.PackBf16(p0, p1);
                c01 = PtxOps.PackBf16(p2, p3);
                c02 = PtxOps.PackBf16(p4, p5);
                c03 = PtxOps.PackBf16(p6, p7);
                c10 = PtxOps.PackBf16(p8, p9);
                c11 = PtxOps.PackBf16(p10, p11);
                c12 = PtxOps.PackBf16(p12, p13);
                c13 = PtxOps.PackBf16(p14, p15);
                c20 = PtxOps.PackBf16(p16, p17);
                c21 = PtxOps.PackBf16(p18, p19);
                c22 = PtxOps.PackBf16(p20, p21);
                c23 = PtxOps.PackBf16(p22, p23);
                c30 = PtxOps.PackBf16(p24, p25);
                c31 = PtxOps.PackBf16(p26, p27);
                c32 = PtxOps.PackBf16(p28, p29);
                c33 = PtxOps.PackBf16(p30, p31);
                c40 = PtxOps.PackBf16(p32, p33);
                c41 = PtxOps.PackBf16(p34, p35);
                c42 = PtxOps.PackBf16(p36, p37);
                c43 = PtxOps.PackBf16(p38, p39);
                c50 = PtxOps.PackBf16(p40, p41);
                c51 = PtxOps.PackBf16(p42, p43);
                c52 = PtxOps.PackBf16(p44, p45);
                c53 = PtxOps.PackBf16(p46, p47);
                c60 = PtxOps.PackBf16(p48, p49);
                c61 = PtxOps.PackBf16(p50, p51);
                c62 = PtxOps.PackBf16(p52, p53);
                c63 = PtxOps.PackBf16(p54, p55);
                c70 = PtxOps.PackBf16(p56, p57);
                c71 = PtxOps.PackBf16(p58, p59);
                c72 = PtxOps.PackBf16(p60, p61);
                c73 = PtxOps.PackBf16(p62, p63);
                PtxOps.WgmmaWait0();
                o = new Float32x64 { F0 = so.F64 * alpha0, F1 = so.F65 * alpha0, F2 = so.F66 * alpha1, F3 = so.F67 * alpha1, F4 = so.F68 * alpha0, F5 = so.F69 * alpha0, F6 = so.F70 * alpha1, F7 = so.F71 * alpha1, F8 = so.F72 * alpha0, F9 = so.F73 * alpha0, F10 = so.F74 * alpha1, F11 = so.F75 * alpha1, F12 = so.F76 * alpha0, F13 = so.F77 * alpha0, F14 = so.F78 * alpha1, F15 = so.F79 * alpha1, F16 = so.F80 * alpha0, F17 = so.F81 * alpha0, F18 = so.F82 * alpha1, F19 = so.F83 * alpha1, F20 = so.F84 * alpha0, F21 = so.F85 * alpha0, F22 = so.F86 * alpha1, F23 = so.F87 * alpha1, F24 = so.F88 * alpha0, F25 = so.F89 * alpha0, F26 = so.F90 * alpha1, F27 = so.F91 * alpha1, F28 = so.F92 * alpha0, F29 = so.F93 * alpha0, F30 = so.F94 * alpha1, F31 = so.F95 * alpha1, F32 = so.F96 * alpha0, F33 = so.F97 * alpha0, F34 = so.F98 * alpha1, F35 = so.F99 * alpha1, F36 = so.F100 * alpha0, F37 = so.F101 * alpha0, F38 = so.F102 * alpha1, F39 = so.F103 * alpha1, F40 = so.F104 * alpha0, F41 = so.F105 * alpha0, F42 = so.F106 * alpha1, F43 = so.F107 * alpha1, F44 = so.F108 * alpha0, F45 = so.F109 * alpha0, F46 = so.F110 * alpha1, F47 = so.F111 * alpha1, F48 = so.F112 * alpha0, F49 = so.F113 * alpha0, F50 = so.F114 * alpha1, F51 = so.F115 * alpha1, F52 = so.F116 * alpha0, F53 = so.F117 * alpha0, F54 = so.F118 * alpha1, F55 = so.F119 * alpha1, F56 = so.F120 * alpha0, F57 = so.F121 * alpha0, F58 = so.F122 * alpha1, F59 = so.F123 * alpha1, F60 = so.F124 * alpha0, F61 = so.F125 * alpha0, F62 = so.F126 * alpha1, F63 = so.F127 * alpha1 };
            }
            uint vLast = kv + (uint)(((tiles - 1) % 3) * 2 * Tile128Bytes) + Tile128Bytes;
            o = PtxOps.WgmmaBf16M64N128RSTransBChain8(o, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33, c40, c41, c42, c43, c50, c51, c52, c53, c60, c61, c62, c63, c70, c71, c72, c73, PtxOps.WgmmaDescriptor(vLast, 2048, 128), 256);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
        }
        else
        {
            uint vLast = kv + (uint)(((tiles - 1) % 3) * 2 * Tile128Bytes) + Tile128Bytes;
            o = PtxOps.WgmmaBf16M64N128RSTransBChain8(o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53, a60, a61, a62, a63, a70, a71, a72, a73, PtxOps.WgmmaDescriptor(vLast, 2048, 128), 256);
            PtxOps.WgmmaCommit();
            PtxOps.WgmmaWait0();
        }
        l0 += PtxOps.ShuffleXor(l0, 1);
        l0 += PtxOps.ShuffleXor(l0, 2);
        l1 += PtxOps.ShuffleXor(l1, 1);
        l1 += PtxOps.ShuffleXor(l1, 2);
        float inv0 = PtxOps.Reciprocal(l0), inv1 = PtxOps.Reciprocal(l1);
        int row0 = Grid.IdxX * BlockM + wg * 64 + warp * 16 + (lane >> 2), col = 2 * (lane & 3);
        ulong out0 = p.O + (ulong)(headOffset + row0 * rowStride + col * 2), out1 = out0 + (ulong)(8 * rowStride);
        PtxOps.StoreWord(out0 + 0, PtxOps.PackBf16(o.F0 * inv0, o.F1 * inv0));
        PtxOps.StoreWord(out1 + 0, PtxOps.PackBf16(o.F2 * inv1, o.F3 * inv1));
        PtxOps.StoreWord(out0 + 16, PtxOps.PackBf16(o.F4 * inv0, o.F5 * inv0));
        PtxOps.StoreWord(out1 + 16, PtxOps.PackBf16(o.F6 * inv1, o.F7 * inv1));
        PtxOps.StoreWord(out0 + 32, PtxOps.PackBf16(o.F8 * inv0, o.F9 * inv0));
        PtxOps.StoreWord(out1 + 32, PtxOps.PackBf16(o.F10 * inv1, o.F11 * inv1));
        PtxOps.StoreWord(out0 + 48, PtxOps.PackBf16(o.F12 * inv0, o.F13 * inv0));
        PtxOps.StoreWord(out1 + 48, PtxOps.PackBf16(o.F14 * inv1, o.F15 * inv1));
        PtxOps.StoreWord(out0 + 64, PtxOps.PackBf16(o.F16 * inv0, o.F17 * inv0));
        PtxOps.StoreWord(out1 + 64, PtxOps.PackBf16(o.F18 * inv1, o.F19 * inv1));
        PtxOps.StoreWord(out0 + 80, PtxOps.PackBf16(o.F20 * inv0, o.F21 * inv0));
        PtxOps.StoreWord(out1 + 80, PtxOps.PackBf16(o.F22 * inv1, o.F23 * inv1));
        PtxOps.StoreWord(out0 + 96, PtxOps.PackBf16(o.F24 * inv0, o.F25 * inv0));
        PtxOps.StoreWord(out1 + 96, PtxOps.PackBf16(o.F26 * inv1, o.F27 * inv1));
        PtxOps.StoreWord(out0 + 112, PtxOps.PackBf16(o.F28 * inv0, o.F29 * inv0));
        PtxOps.StoreWord(out1 + 112, PtxOps.PackBf16(o.F30 * inv1, o.F31 * inv1));
        PtxOps.StoreWord(out0 + 128, PtxOps.PackBf16(o.F32 * inv0, o.F33 * inv0));
        PtxOps.StoreWord(out1 + 128, PtxOps.PackBf16(o.F34 * inv1, o.F35 * inv1));
        PtxOps.StoreWord(out0 + 144, PtxOps.PackBf16(o.F36 * inv0, o.F37 * inv0));
        PtxOps.StoreWord(out1 + 144, PtxOps.PackBf16(o.F38 * inv1, o.F39 * inv1));
        PtxOps.StoreWord(out0 + 160, PtxOps.PackBf16(o.F40 * inv0, o.F41 * inv0));
        PtxOps.StoreWord(out1 + 160, PtxOps.PackBf16(o.F42 * inv1, o.F43 * inv1));
        PtxOps.StoreWord(out0 + 176, PtxOps.PackBf16(o.F44 * inv0, o.F45 * inv0));
        PtxOps.StoreWord(out1 + 176, PtxOps.PackBf16(o.F46 * inv1, o.F47 * inv1));
        PtxOps.StoreWord(out0 + 192, PtxOps.PackBf16(o.F48 * inv0, o.F49 * inv0));
        PtxOps.StoreWord(out1 + 192, PtxOps.PackBf16(o.F50 * inv1, o.F51 * inv1));
        PtxOps.StoreWord(out0 + 208, PtxOps.PackBf16(o.F52 * inv0, o.F53 * inv0));
        PtxOps.StoreWord(out1 + 208, PtxOps.PackBf16(o.F54 * inv1, o.F55 * inv1));
        PtxOps.StoreWord(out0 + 224, PtxOps.PackBf16(o.F56 * inv0, o.F57 * inv0));
        PtxOps.StoreWord(out1 + 224, PtxOps.PackBf16(o.F58 * inv1, o.F59 * inv1));
        PtxOps.StoreWord(out0 + 240, PtxOps.PackBf16(o.F60 * inv0, o.F61 * inv0));
        PtxOps.StoreWord(out1 + 240, PtxOps.PackBf16(o.F62 * inv1, o.F63 * inv1));
        if ((lane & 3) == 0)
        {
            ulong lse = p.Lse + (ulong)((((long)b * p.Heads + h) * p.SeqLen + row0) * 4);
            const float Ln2 = 0.6931472f;
            PtxOps.StoreFloat(lse, (m0 * p.ScaleLog2 + PtxOps.Log2(l0)) * Ln2);
            PtxOps.StoreFloat(lse + 32, (m1 * p.ScaleLog2 + PtxOps.Log2(l1)) * Ln2);
        }
    }

    // Warp-specialised 128-key kernel: a producer warpgroup (cp.async + mbarriers) feeding two consumer warpgroups.
    public static void KernelWs128(WgmmaForwardParams p)
    {
        int t = Group.IdxX, wg = t >> 7, lane = t & 31, warp = (t >> 5) & 3;
        int b = Grid.IdxY / p.Heads, h = Grid.IdxY - b * p.Heads;
        uint smem = PtxOps.SharedBase(), qs = smem, kv = smem + QBytes, full = smem + QBytes + 6 * Tile128Bytes, empty = full + 24;
        long rowStride = (long)p.Heads * HeadDim * 2;
        long headOffset = (long)b * p.SeqLen * rowStride + h * HeadDim * 2;
        int tiles = p.SeqLen / 128;
        if (t < 3)
        {
            PtxOps.MbarrierInit(full + (uint)(t * 8), 128);
            PtxOps.MbarrierInit(empty + (uint)(t * 8), 256);
        }
        Group.Barrier();
        if (wg == 2)
        {
            PtxOps.SetMaxRegistersDec(ProducerRegisters);
            int pt = t - 256;
            for (int j = 0; j < tiles; j++)
            {
                int stage = j % 3;
                if (j >= 3)
                    PtxOps.MbarrierWaitParity(empty + (uint)(stage * 8), (uint)((j / 3 - 1) & 1));
                if (j == 0)
                    LoadQueryWs(p, headOffset, rowStride, qs, pt);
                uint kt = kv + (uint)(stage * 2 * Tile128Bytes);
                LoadTileWs(p, headOffset, rowStride, j, kt, kt + Tile128Bytes, pt);
                PtxOps.CommitGroup();
                if (j > 0)
                {
                    // The previous tile's copies (this thread's) have landed: make them visible to wgmma, then signal.
                    PtxOps.WaitGroup1();
                    PtxOps.FenceProxyAsyncShared();
                    PtxOps.MbarrierArrive(full + (uint)(((j - 1) % 3) * 8));
                }
            }
            PtxOps.WaitGroup0();
            PtxOps.FenceProxyAsyncShared();
            PtxOps.MbarrierArrive(full + (uint)(((tiles - 1) % 3) * 8));
        }
        else
        {
            PtxOps.SetMaxRegistersInc(ConsumerRegisters);
            PtxOps.MbarrierWaitParity(full, 0);
            float m0 = float.NegativeInfinity, m1 = float.NegativeInfinity, l0 = 0f, l1 = 0f, alpha0, alpha1;
            uint c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0, c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0, c40 = 0, c41 = 0, c42 = 0, c43 = 0, c50 = 0, c51 = 0, c52 = 0, c53 = 0, c60 = 0, c61 = 0, c62 = 0, c63 = 0, c70 = 0, c71 = 0, c72 = 0, c73 = 0;
            uint a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53, a60, a61, a62, a63, a70, a71, a72, a73;
            var o = default(Float32x64);
            uint qw = qs + (uint)(wg * 16384);
            {
                var s = PtxOps.WgmmaBf16M64N128SSChain(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kv, 128, 2048), 8, 16, 16);
                PtxOps.WgmmaCommit();
                PtxOps.WgmmaWait0();
                float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29), s.F32), s.F33), s.F36), s.F37), s.F40), s.F41), s.F44), s.F45), s.F48), s.F49), s.F52), s.F53), s.F56), s.F57), s.F60), s.F61);
                float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31), s.F34), s.F35), s.F38), s.F39), s.F42), s.F43), s.F46), s.F47), s.F50), s.F51), s.F54), s.F55), s.F58), s.F59), s.F62), s.F63);
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
                float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
                alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
                alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
                float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
                m0 = mNew0;
                m1 = mNew1;
                float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
                float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
                float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
                float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
                float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
                float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
                float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
                float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
                float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
                float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
                float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
                float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
                float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
                float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
                float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
                float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
                float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
                float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
                float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
                float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
                float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
                float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
                float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
                float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
                float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
                float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
                float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
                float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
                float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
                float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
                float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
                float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
                float p32 = PtxOps.Exp2(s.F32 * p.ScaleLog2 - shift0);
                float p33 = PtxOps.Exp2(s.F33 * p.ScaleLog2 - shift0);
                float p34 = PtxOps.Exp2(s.F34 * p.ScaleLog2 - shift1);
                float p35 = PtxOps.Exp2(s.F35 * p.ScaleLog2 - shift1);
                float p36 = PtxOps.Exp2(s.F36 * p.ScaleLog2 - shift0);
                float p37 = PtxOps.Exp2(s.F37 * p.ScaleLog2 - shift0);
                float p38 = PtxOps.Exp2(s.F38 * p.ScaleLog2 - shift1);
                float p39 = PtxOps.Exp2(s.F39 * p.ScaleLog2 - shift1);
                float p40 = PtxOps.Exp2(s.F40 * p.ScaleLog2 - shift0);
                float p41 = PtxOps.Exp2(s.F41 * p.ScaleLog2 - shift0);
                float p42 = PtxOps.Exp2(s.F42 * p.ScaleLog2 - shift1);
                float p43 = PtxOps.Exp2(s.F43 * p.ScaleLog2 - shift1);
                float p44 = PtxOps.Exp2(s.F44 * p.ScaleLog2 - shift0);
                float p45 = PtxOps.Exp2(s.F45 * p.ScaleLog2 - shift0);
                float p46 = PtxOps.Exp2(s.F46 * p.ScaleLog2 - shift1);
                float p47 = PtxOps.Exp2(s.F47 * p.ScaleLog2 - shift1);
                float p48 = PtxOps.Exp2(s.F48 * p.ScaleLog2 - shift0);
                float p49 = PtxOps.Exp2(s.F49 * p.ScaleLog2 - shift0);
                float p50 = PtxOps.Exp2(s.F50 * p.ScaleLog2 - shift1);
                float p51 = PtxOps.Exp2(s.F51 * p.ScaleLog2 - shift1);
                float p52 = PtxOps.Exp2(s.F52 * p.ScaleLog2 - shift0);
                float p53 = PtxOps.Exp2(s.F53 * p.ScaleLog2 - shift0);
                float p54 = PtxOps.Exp2(s.F54 * p.ScaleLog2 - shift1);
                float p55 = PtxOps.Exp2(s.F55 * p.ScaleLog2 - shift1);
                float p56 = PtxOps.Exp2(s.F56 * p.ScaleLog2 - shift0);
                float p57 = PtxOps.Exp2(s.F57 * p.ScaleLog2 - shift0);
                float p58 = PtxOps.Exp2(s.F58 * p.ScaleLog2 - shift1);
                float p59 = PtxOps.Exp2(s.F59 * p.ScaleLog2 - shift1);
                float p60 = PtxOps.Exp2(s.F60 * p.ScaleLog2 - shift0);
                float p61 = PtxOps.Exp2(s.F61 * p.ScaleLog2 - shift0);
                float p62 = PtxOps.Exp2(s.F62 * p.ScaleLog2 - shift1);
                float p63 = PtxOps.Exp2(s.F63 * p.ScaleLog2 - shift1);
                l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29 + p32 + p33 + p36 + p37 + p40 + p41 + p44 + p45 + p48 + p49 + p52 + p53 + p56 + p57 + p60 + p61);
                l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31 + p34 + p35 + p38 + p39 + p42 + p43 + p46 + p47 + p50 + p51 + p54 + p55 + p58 + p59 + p62 + p63);
                a00 = PtxOps.PackBf16(p0, p1);
                a01 = PtxOps.PackBf16(p2, p3);
                a02 = PtxOps.PackBf16(p4, p5);
                a03 = PtxOps.PackBf16(p6, p7);
                a10 = PtxOps.PackBf16(p8, p9);
                a11 = PtxOps.PackBf16(p10, p11);
                a12 = PtxOps.PackBf16(p12, p13);
                a13 = PtxOps.PackBf16(p14, p15);
                a20 = PtxOps.PackBf16(p16, p17);
                a21 = PtxOps.PackBf16(p18, p19);
                a22 = PtxOps.PackBf16(p20, p21);
                a23 = PtxOps.PackBf16(p22, p23);
                a30 = PtxOps.PackBf16(p24, p25);
                a31 = PtxOps.PackBf16(p26, p27);
                a32 = PtxOps.PackBf16(p28, p29);
                a33 = PtxOps.PackBf16(p30, p31);
                a40 = PtxOps.PackBf16(p32, p33);
                a41 = PtxOps.PackBf16(p34, p35);
                a42 = PtxOps.PackBf16(p36, p37);
                a43 = PtxOps.PackBf16(p38, p39);
                a50 = PtxOps.PackBf16(p40, p41);
                a51 = PtxOps.PackBf16(p42, p43);
                a52 = PtxOps.PackBf16(p44, p45);
                a53 = PtxOps.PackBf16(p46, p47);
                a60 = PtxOps.PackBf16(p48, p49);
                a61 = PtxOps.PackBf16(p50, p51);
                a62 = PtxOps.PackBf16(p52, p53);
                a63 = PtxOps.PackBf16(p54, p55);
                a70 = PtxOps.PackBf16(p56, p57);
                a71 = PtxOps.PackBf16(p58, p59);
                a72 = PtxOps.PackBf16(p60, p61);
                a73 = PtxOps.PackBf16(p62, p63);
            }
            int j = 1;
            for (; j + 1 < tiles; j += 2)
            {
                {
                    PtxOps.MbarrierWaitParity(full + (uint)((j % 3) * 8), (uint)((j / 3) & 1));
                    uint kb = kv + (uint)((j % 3) * 2 * Tile128Bytes), vPrevious = kv + (uint)(((j - 1) % 3) * 2 * Tile128Bytes) + Tile128Bytes;
                    var so = PtxOps.WgmmaBf16AttentionStep128(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53, a60, a61, a62, a63, a70, a71, a72, a73, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));
                    PtxOps.WgmmaWait1();
                    var s = new Float32x64 { F0 = so.F0, F1 = so.F1, F2 = so.F2, F3 = so.F3, F4 = so.F4, F5 = so.F5, F6 = so.F6, F7 = so.F7, F8 = so.F8, F9 = so.F9, F10 = so.F10, F11 = so.F11, F12 = so.F12, F13 = so.F13, F14 = so.F14, F15 = so.F15, F16 = so.F16, F17 = so.F17, F18 = so.F18, F19 = so.F19, F20 = so.F20, F21 = so.F21, F22 = so.F22, F23 = so.F23, F24 = so.F24, F25 = so.F25, F26 = so.F26, F27 = so.F27, F28 = so.F28, F29 = so.F29, F30 = so.F30, F31 = so.F31, F32 = so.F32, F33 = so.F33, F34 = so.F34, F35 = so.F35, F36 = so.F36, F37 = so.F37, F38 = so.F38, F39 = so.F39, F40 = so.F40, F41 = so.F41, F42 = so.F42, F43 = so.F43, F44 = so.F44, F45 = so.F45, F46 = so.F46, F47 = so.F47, F48 = so.F48, F49 = so.F49, F50 = so.F50, F51 = so.F51, F52 = so.F52, F53 = so.F53, F54 = so.F54, F55 = so.F55, F56 = so.F56, F57 = so.F57, F58 = so.F58, F59 = so.F59, F60 = so.F60, F61 = so.F61, F62 = so.F62, F63 = so.F63 };
                    float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29), s.F32), s.F33), s.F36), s.F37), s.F40), s.F41), s.F44), s.F45), s.F48), s.F49), s.F52), s.F53), s.F56), s.F57), s.F60), s.F61);
                    float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31), s.F34), s.F35), s.F38), s.F39), s.F42), s.F43), s.F46), s.F47), s.F50), s.F51), s.F54), s.F55), s.F58), s.F59), s.F62), s.F63);
                    max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
                    max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
                    max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
                    max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
                    float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
                    alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
                    alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
                    float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
                    m0 = mNew0;
                    m1 = mNew1;
                    float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
                    float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
                    float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
                    float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
                    float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
                    float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
                    float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
                    float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
                    float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
                    float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
                    float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
                    float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
                    float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
                    float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
                    float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
                    float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
                    float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
                    float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
                    float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
                    float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
                    float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
                    float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
                    float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
                    float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
                    float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
                    float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
                    float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
                    float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
                    float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
                    float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
                    float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
                    float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
                    float p32 = PtxOps.Exp2(s.F32 * p.ScaleLog2 - shift0);
                    float p33 = PtxOps.Exp2(s.F33 * p.ScaleLog2 - shift0);
                    float p34 = PtxOps.Exp2(s.F34 * p.ScaleLog2 - shift1);
                    float p35 = PtxOps.Exp2(s.F35 * p.ScaleLog2 - shift1);
                    float p36 = PtxOps.Exp2(s.F36 * p.ScaleLog2 - shift0);
                    float p37 = PtxOps.Exp2(s.F37 * p.ScaleLog2 - shift0);
                    float p38 = PtxOps.Exp2(s.F38 * p.ScaleLog2 - shift1);
                    float p39 = PtxOps.Exp2(s.F39 * p.ScaleLog2 - shift1);
                    float p40 = PtxOps.Exp2(s.F40 * p.ScaleLog2 - shift0);
                    float p41 = PtxOps.Exp2(s.F41 * p.ScaleLog2 - shift0);
                    float p42 = PtxOps.Exp2(s.F42 * p.ScaleLog2 - shift1);
                    float p43 = PtxOps.Exp2(s.F43 * p.ScaleLog2 - shift1);
                    float p44 = PtxOps.Exp2(s.F44 * p.ScaleLog2 - shift0);
                    float p45 = PtxOps.Exp2(s.F45 * p.ScaleLog2 - shift0);
                    float p46 = PtxOps.Exp2(s.F46 * p.ScaleLog2 - shift1);
                    float p47 = PtxOps.Exp2(s.F47 * p.ScaleLog2 - shift1);
                    float p48 = PtxOps.Exp2(s.F48 * p.ScaleLog2 - shift0);
                    float p49 = PtxOps.Exp2(s.F49 * p.ScaleLog2 - shift0);
                    float p50 = PtxOps.Exp2(s.F50 * p.ScaleLog2 - shift1);
                    float p51 = PtxOps.Exp2(s.F51 * p.ScaleLog2 - shift1);
                    float p52 = PtxOps.Exp2(s.F52 * p.ScaleLog2 - shift0);
                    float p53 = PtxOps.Exp2(s.F53 * p.ScaleLog2 - shift0);
                    float p54 = PtxOps.Exp2(s.F54 * p.ScaleLog2 - shift1);
                    float p55 = PtxOps.Exp2(s.F55 * p.ScaleLog2 - shift1);
                    float p56 = PtxOps.Exp2(s.F56 * p.ScaleLog2 - shift0);
                    float p57 = PtxOps.Exp2(s.F57 * p.ScaleLog2 - shift0);
                    float p58 = PtxOps.Exp2(s.F58 * p.ScaleLog2 - shift1);
                    float p59 = PtxOps.Exp2(s.F59 * p.ScaleLog2 - shift1);
                    float p60 = PtxOps.Exp2(s.F60 * p.ScaleLog2 - shift0);
                    float p61 = PtxOps.Exp2(s.F61 * p.ScaleLog2 - shift0);
                    float p62 = PtxOps.Exp2(s.F62 * p.ScaleLog2 - shift1);
                    float p63 = PtxOps.Exp2(s.F63 * p.ScaleLog2 - shift1);
                    l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29 + p32 + p33 + p36 + p37 + p40 + p41 + p44 + p45 + p48 + p49 + p52 + p53 + p56 + p57 + p60 + p61);
                    l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31 + p34 + p35 + p38 + p39 + p42 + p43 + p46 + p47 + p50 + p51 + p54 + p55 + p58 + p59 + p62 + p63);
                    c00 = PtxOps.PackBf16(p0, p1);
                    c01 = PtxOps.PackBf16(p2, p3);
                    c02 = PtxOps.PackBf16(p4, p5);
                    c03 = PtxOps.PackBf16(p6, p7);
                    c10 = PtxOps.PackBf16(p8, p9);
                    c11 = PtxOps.PackBf16(p10, p11);
                    c12 = PtxOps.PackBf16(p12, p13);
                    c13 = PtxOps.PackBf16(p14, p15);
                    c20 = PtxOps.PackBf16(p16, p17);
                    c21 = PtxOps.PackBf16(p18, p19);
                    c22 = PtxOps.PackBf16(p20, p21);
                    c23 = PtxOps.PackBf16(p22, p23);
                    c30 = PtxOps.PackBf16(p24, p25);
                    c31 = PtxOps.PackBf16(p26, p27);
                    c32 = PtxOps.PackBf16(p28, p29);
                    c33 = PtxOps.PackBf16(p30, p31);
                    c40 = PtxOps.PackBf16(p32, p33);
                    c41 = PtxOps.PackBf16(p34, p35);
                    c42 = PtxOps.PackBf16(p36, p37);
                    c43 = PtxOps.PackBf16(p38, p39);
                    c50 = PtxOps.PackBf16(p40, p41);
                    c51 = PtxOps.PackBf16(p42, p43);
                    c52 = PtxOps.PackBf16(p44, p45);
                    c53 = PtxOps.PackBf16(p46, p47);
                    c60 = PtxOps.PackBf16(p48, p49);
                    c61 = PtxOps.PackBf16(p50, p51);
                    c62 = PtxOps.PackBf16(p52, p53);
                    c63 = PtxOps.PackBf16(p54, p55);
                    c70 = PtxOps.PackBf16(p56, p57);
                    c71 = PtxOps.PackBf16(p58, p59);
                    c72 = PtxOps.PackBf16(p60, p61);
                    c73 = PtxOps.PackBf16(p62, p63);
                    PtxOps.WgmmaWait0();
                    PtxOps.MbarrierArrive(empty + (uint)(((j - 1) % 3) * 8));
                    o = new Float32x64 { F0 = so.F64 * alpha0, F1 = so.F65 * alpha0, F2 = so.F66 * alpha1, F3 = so.F67 * alpha1, F4 = so.F68 * alpha0, F5 = so.F69 * alpha0, F6 = so.F70 * alpha1, F7 = so.F71 * alpha1, F8 = so.F72 * alpha0, F9 = so.F73 * alpha0, F10 = so.F74 * alpha1, F11 = so.F75 * alpha1, F12 = so.F76 * alpha0, F13 = so.F77 * alpha0, F14 = so.F78 * alpha1, F15 = so.F79 * alpha1, F16 = so.F80 * alpha0, F17 = so.F81 * alpha0, F18 = so.F82 * alpha1, F19 = so.F83 * alpha1, F20 = so.F84 * alpha0, F21 = so.F85 * alpha0, F22 = so.F86 * alpha1, F23 = so.F87 * alpha1, F24 = so.F88 * alpha0, F25 = so.F89 * alpha0, F26 = so.F90 * alpha1, F27 = so.F91 * alpha1, F28 = so.F92 * alpha0, F29 = so.F93 * alpha0, F30 = so.F94 * alpha1, F31 = so.F95 * alpha1, F32 = so.F96 * alpha0, F33 = so.F97 * alpha0, F34 = so.F98 * alpha1, F35 = so.F99 * alpha1, F36 = so.F100 * alpha0, F37 = so.F101 * alpha0, F38 = so.F102 * alpha1, F39 = so.F103 * alpha1, F40 = so.F104 * alpha0, F41 = so.F105 * alpha0, F42 = so.F106 * alpha1, F43 = so.F107 * alpha1, F44 = so.F108 * alpha0, F45 = so.F109 * alpha0, F46 = so.F110 * alpha1, F47 = so.F111 * alpha1, F48 = so.F112 * alpha0, F49 = so.F113 * alpha0, F50 = so.F114 * alpha1, F51 = so.F115 * alpha1, F52 = so.F116 * alpha0, F53 = so.F117 * alpha0, F54 = so.F118 * alpha1, F55 = so.F119 * alpha1, F56 = so.F120 * alpha0, F57 = so.F121 * alpha0, F58 = so.F122 * alpha1, F59 = so.F123 * alpha1, F60 = so.F124 * alpha0, F61 = so.F125 * alpha0, F62 = so.F126 * alpha1, F63 = so.F127 * alpha1 };
                }
                {
                    PtxOps.MbarrierWaitParity(full + (uint)(((j + 1) % 3) * 8), (uint)(((j + 1) / 3) & 1));
                    uint kb = kv + (uint)(((j + 1) % 3) * 2 * Tile128Bytes), vPrevious = kv + (uint)((((j + 1) - 1) % 3) * 2 * Tile128Bytes) + Tile128Bytes;
                    var so = PtxOps.WgmmaBf16AttentionStep128(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33, c40, c41, c42, c43, c50, c51, c52, c53, c60, c61, c62, c63, c70, c71, c72, c73, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));
                    PtxOps.WgmmaWait1();
                    var s = new Float32x64 { F0 = so.F0, F1 = so.F1, F2 = so.F2, F3 = so.F3, F4 = so.F4, F5 = so.F5, F6 = so.F6, F7 = so.F7, F8 = so.F8, F9 = so.F9, F10 = so.F10, F11 = so.F11, F12 = so.F12, F13 = so.F13, F14 = so.F14, F15 = so.F15, F16 = so.F16, F17 = so.F17, F18 = so.F18, F19 = so.F19, F20 = so.F20, F21 = so.F21, F22 = so.F22, F23 = so.F23, F24 = so.F24, F25 = so.F25, F26 = so.F26, F27 = so.F27, F28 = so.F28, F29 = so.F29, F30 = so.F30, F31 = so.F31, F32 = so.F32, F33 = so.F33, F34 = so.F34, F35 = so.F35, F36 = so.F36, F37 = so.F37, F38 = so.F38, F39 = so.F39, F40 = so.F40, F41 = so.F41, F42 = so.F42, F43 = so.F43, F44 = so.F44, F45 = so.F45, F46 = so.F46, F47 = so.F47, F48 = so.F48, F49 = so.F49, F50 = so.F50, F51 = so.F51, F52 = so.F52, F53 = so.F53, F54 = so.F54, F55 = so.F55, F56 = so.F56, F57 = so.F57, F58 = so.F58, F59 = so.F59, F60 = so.F60, F61 = so.F61, F62 = so.F62, F63 = so.F63 };
                    float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29), s.F32), s.F33), s.F36), s.F37), s.F40), s.F41), s.F44), s.F45), s.F48), s.F49), s.F52), s.F53), s.F56), s.F57), s.F60), s.F61);
                    float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31), s.F34), s.F35), s.F38), s.F39), s.F42), s.F43), s.F46), s.F47), s.F50), s.F51), s.F54), s.F55), s.F58), s.F59), s.F62), s.F63);
                    max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
                    max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
                    max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
                    max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
                    float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
                    alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
                    alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
                    float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
                    m0 = mNew0;
                    m1 = mNew1;
                    float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
                    float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
                    float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
                    float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
                    float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
                    float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
                    float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
                    float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
                    float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
                    float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
                    float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
                    float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
                    float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
                    float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
                    float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
                    float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
                    float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
                    float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
                    float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
                    float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
                    float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
                    float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
                    float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
                    float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
                    float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
                    float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
                    float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
                    float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
                    float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
                    float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
                    float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
                    float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
                    float p32 = PtxOps.Exp2(s.F32 * p.ScaleLog2 - shift0);
                    float p33 = PtxOps.Exp2(s.F33 * p.ScaleLog2 - shift0);
                    float p34 = PtxOps.Exp2(s.F34 * p.ScaleLog2 - shift1);
                    float p35 = PtxOps.Exp2(s.F35 * p.ScaleLog2 - shift1);
                    float p36 = PtxOps.Exp2(s.F36 * p.ScaleLog2 - shift0);
                    float p37 = PtxOps.Exp2(s.F37 * p.ScaleLog2 - shift0);
                    float p38 = PtxOps.Exp2(s.F38 * p.ScaleLog2 - shift1);
                    float p39 = PtxOps.Exp2(s.F39 * p.ScaleLog2 - shift1);
                    float p40 = PtxOps.Exp2(s.F40 * p.ScaleLog2 - shift0);
                    float p41 = PtxOps.Exp2(s.F41 * p.ScaleLog2 - shift0);
                    float p42 = PtxOps.Exp2(s.F42 * p.ScaleLog2 - shift1);
                    float p43 = PtxOps.Exp2(s.F43 * p.ScaleLog2 - shift1);
                    float p44 = PtxOps.Exp2(s.F44 * p.ScaleLog2 - shift0);
                    float p45 = PtxOps.Exp2(s.F45 * p.ScaleLog2 - shift0);
                    float p46 = PtxOps.Exp2(s.F46 * p.ScaleLog2 - shift1);
                    float p47 = PtxOps.Exp2(s.F47 * p.ScaleLog2 - shift1);
                    float p48 = PtxOps.Exp2(s.F48 * p.ScaleLog2 - shift0);
                    float p49 = PtxOps.Exp2(s.F49 * p.ScaleLog2 - shift0);
                    float p50 = PtxOps.Exp2(s.F50 * p.ScaleLog2 - shift1);
                    float p51 = PtxOps.Exp2(s.F51 * p.ScaleLog2 - shift1);
                    float p52 = PtxOps.Exp2(s.F52 * p.ScaleLog2 - shift0);
                    float p53 = PtxOps.Exp2(s.F53 * p.ScaleLog2 - shift0);
                    float p54 = PtxOps.Exp2(s.F54 * p.ScaleLog2 - shift1);
                    float p55 = PtxOps.Exp2(s.F55 * p.ScaleLog2 - shift1);
                    float p56 = PtxOps.Exp2(s.F56 * p.ScaleLog2 - shift0);
                    float p57 = PtxOps.Exp2(s.F57 * p.ScaleLog2 - shift0);
                    float p58 = PtxOps.Exp2(s.F58 * p.ScaleLog2 - shift1);
                    float p59 = PtxOps.Exp2(s.F59 * p.ScaleLog2 - shift1);
                    float p60 = PtxOps.Exp2(s.F60 * p.ScaleLog2 - shift0);
                    float p61 = PtxOps.Exp2(s.F61 * p.ScaleLog2 - shift0);
                    float p62 = PtxOps.Exp2(s.F62 * p.ScaleLog2 - shift1);
                    float p63 = PtxOps.Exp2(s.F63 * p.ScaleLog2 - shift1);
                    l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29 + p32 + p33 + p36 + p37 + p40 + p41 + p44 + p45 + p48 + p49 + p52 + p53 + p56 + p57 + p60 + p61);
                    l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31 + p34 + p35 + p38 + p39 + p42 + p43 + p46 + p47 + p50 + p51 + p54 + p55 + p58 + p59 + p62 + p63);
                    a00 = PtxOps.PackBf16(p0, p1);
                    a01 = PtxOps.PackBf16(p2, p3);
                    a02 = PtxOps.PackBf16(p4, p5);
                    a03 = PtxOps.PackBf16(p6, p7);
                    a10 = PtxOps.PackBf16(p8, p9);
                    a11 = PtxOps.PackBf16(p10, p11);
                    a12 = PtxOps.PackBf16(p12, p13);
                    a13 = PtxOps.PackBf16(p14, p15);
                    a20 = PtxOps.PackBf16(p16, p17);
                    a21 = PtxOps.PackBf16(p18, p19);
                    a22 = PtxOps.PackBf16(p20, p21);
                    a23 = PtxOps.PackBf16(p22, p23);
                    a30 = PtxOps.PackBf16(p24, p25);
                    a31 = PtxOps.PackBf16(p26, p27);
                    a32 = PtxOps.PackBf16(p28, p29);
                    a33 = PtxOps.PackBf16(p30, p31);
                    a40 = PtxOps.PackBf16(p32, p33);
                    a41 = PtxOps.PackBf16(p34, p35);
                    a42 = PtxOps.PackBf16(p36, p37);
                    a43 = PtxOps.PackBf16(p38, p39);
                    a50 = PtxOps.PackBf16(p40, p41);
                    a51 = PtxOps.PackBf16(p42, p43);
                    a52 = PtxOps.PackBf16(p44, p45);
                    a53 = PtxOps.PackBf16(p46, p47);
                    a60 = PtxOps.PackBf16(p48, p49);
                    a61 = PtxOps.PackBf16(p50, p51);
                    a62 = PtxOps.PackBf16(p52, p53);
                    a63 = PtxOps.PackBf16(p54, p55);
                    a70 = PtxOps.PackBf16(p56, p57);
                    a71 = PtxOps.PackBf16(p58, p59);
                    a72 = PtxOps.PackBf16(p60, p61);
                    a73 = PtxOps.PackBf16(p62, p63);
                    PtxOps.WgmmaWait0();
                    PtxOps.MbarrierArrive(empty + (uint)((((j + 1) - 1) % 3) * 8));
                    o = new Float32x64 { F0 = so.F64 * alpha0, F1 = so.F65 * alpha0, F2 = so.F66 * alpha1, F3 = so.F67 * alpha1, F4 = so.F68 * alpha0, F5 = so.F69 * alpha0, F6 = so.F70 * alpha1, F7 = so.F71 * alpha1, F8 = so.F72 * alpha0, F9 = so.F73 * alpha0, F10 = so.F74 * alpha1, F11 = so.F75 * alpha1, F12 = so.F76 * alpha0, F13 = so.F77 * alpha0, F14 = so.F78 * alpha1, F15 = so.F79 * alpha1, F16 = so.F80 * alpha0, F17 = so.F81 * alpha0, F18 = so.F82 * alpha1, F19 = so.F83 * alpha1, F20 = so.F84 * alpha0, F21 = so.F85 * alpha0, F22 = so.F86 * alpha1, F23 = so.F87 * alpha1, F24 = so.F88 * alpha0, F25 = so.F89 * alpha0, F26 = so.F90 * alpha1, F27 = so.F91 * alpha1, F28 = so.F92 * alpha0, F29 = so.F93 * alpha0, F30 = so.F94 * alpha1, F31 = so.F95 * alpha1, F32 = so.F96 * alpha0, F33 = so.F97 * alpha0, F34 = so.F98 * alpha1, F35 = so.F99 * alpha1, F36 = so.F100 * alpha0, F37 = so.F101 * alpha0, F38 = so.F102 * alpha1, F39 = so.F103 * alpha1, F40 = so.F104 * alpha0, F41 = so.F105 * alpha0, F42 = so.F106 * alpha1, F43 = so.F107 * alpha1, F44 = so.F108 * alpha0, F45 = so.F109 * alpha0, F46 = so.F110 * alpha1, F47 = so.F111 * alpha1, F48 = so.F112 * alpha0, F49 = so.F113 * alpha0, F50 = so.F114 * alpha1, F51 = so.F115 * alpha1, F52 = so.F116 * alpha0, F53 = so.F117 * alpha0, F54 = so.F118 * alpha1, F55 = so.F119 * alpha1, F56 = so.F120 * alpha0, F57 = so.F121 * alpha0, F58 = so.F122 * alpha1, F59 = so.F123 * alpha1, F60 = so.F124 * alpha0, F61 = so.F125 * alpha0, F62 = so.F126 * alpha1, F63 = so.F127 * alpha1 };
                }
            }
            if (j < tiles)
            {
                {
                    PtxOps.MbarrierWaitParity(full + (uint)((j % 3) * 8), (uint)((j / 3) & 1));
                    uint kb = kv + (uint)((j % 3) * 2 * Tile128Bytes), vPrevious = kv + (uint)(((j - 1) % 3) * 2 * Tile128Bytes) + Tile128Bytes;
                    var so = PtxOps.WgmmaBf16AttentionStep128(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53, a60, a61, a62, a63, a70, a71, a72, a73, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));
                    PtxOps.WgmmaWait1();
                    var s = new Float32x64 { F0 = so.F0, F1 = so.F1, F2 = so.F2, F3 = so.F3, F4 = so.F4, F5 = so.F5, F6 = so.F6, F7 = so.F7, F8 = so.F8, F9 = so.F9, F10 = so.F10, F11 = so.F11, F12 = so.F12, F13 = so.F13, F14 = so.F14, F15 = so.F15, F16 = so.F16, F17 = so.F17, F18 = so.F18, F19 = so.F19, F20 = so.F20, F21 = so.F21, F22 = so.F22, F23 = so.F23, F24 = so.F24, F25 = so.F25, F26 = so.F26, F27 = so.F27, F28 = so.F28, F29 = so.F29, F30 = so.F30, F31 = so.F31, F32 = so.F32, F33 = so.F33, F34 = so.F34, F35 = so.F35, F36 = so.F36, F37 = so.F37, F38 = so.F38, F39 = so.F39, F40 = so.F40, F41 = so.F41, F42 = so.F42, F43 = so.F43, F44 = so.F44, F45 = so.F45, F46 = so.F46, F47 = so.F47, F48 = so.F48, F49 = so.F49, F50 = so.F50, F51 = so.F51, F52 = so.F52, F53 = so.F53, F54 = so.F54, F55 = so.F55, F56 = so.F56, F57 = so.F57, F58 = so.F58, F59 = so.F59, F60 = so.F60, F61 = so.F61, F62 = so.F62, F63 = so.F63 };
                    float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29), s.F32), s.F33), s.F36), s.F37), s.F40), s.F41), s.F44), s.F45), s.F48), s.F49), s.F52), s.F53), s.F56), s.F57), s.F60), s.F61);
                    float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31), s.F34), s.F35), s.F38), s.F39), s.F42), s.F43), s.F46), s.F47), s.F50), s.F51), s.F54), s.F55), s.F58), s.F59), s.F62), s.F63);
                    max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
                    max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
                    max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
                    max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
                    float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
                    alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
                    alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
                    float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
                    m0 = mNew0;
                    m1 = mNew1;
                    float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
                    float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
                    float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
                    float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
                    float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
                    float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
                    float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
                    float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
                    float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
                    float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
                    float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
                    float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
                    float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
                    float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
                    float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
                    float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
                    float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
                    float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
                    float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
                    float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
                    float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
                    float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
                    float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
                    float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
                    float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
                    float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
                    float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
                    float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
                    float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
                    float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
                    float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
                    float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
                    float p32 = PtxOps.Exp2(s.F32 * p.ScaleLog2 - shift0);
                    float p33 = PtxOps.Exp2(s.F33 * p.ScaleLog2 - shift0);
                    float p34 = PtxOps.Exp2(s.F34 * p.ScaleLog2 - shift1);
                    float p35 = PtxOps.Exp2(s.F35 * p.ScaleLog2 - shift1);
                    float p36 = PtxOps.Exp2(s.F36 * p.ScaleLog2 - shift0);
                    float p37 = PtxOps.Exp2(s.F37 * p.ScaleLog2 - shift0);
                    float p38 = PtxOps.Exp2(s.F38 * p.ScaleLog2 - shift1);
                    float p39 = PtxOps.Exp2(s.F39 * p.ScaleLog2 - shift1);
                    float p40 = PtxOps.Exp2(s.F40 * p.ScaleLog2 - shift0);
                    float p41 = PtxOps.Exp2(s.F41 * p.ScaleLog2 - shift0);
                    float p42 = PtxOps.Exp2(s.F42 * p.ScaleLog2 - shift1);
                    float p43 = PtxOps.Exp2(s.F43 * p.ScaleLog2 - shift1);
                    float p44 = PtxOps.Exp2(s.F44 * p.ScaleLog2 - shift0);
                    float p45 = PtxOps.Exp2(s.F45 * p.ScaleLog2 - shift0);
                    float p46 = PtxOps.Exp2(s.F46 * p.ScaleLog2 - shift1);
                    float p47 = PtxOps.Exp2(s.F47 * p.ScaleLog2 - shift1);
                    float p48 = PtxOps.Exp2(s.F48 * p.ScaleLog2 - shift0);
                    float p49 = PtxOps.Exp2(s.F49 * p.ScaleLog2 - shift0);
                    float p50 = PtxOps.Exp2(s.F50 * p.ScaleLog2 - shift1);
                    float p51 = PtxOps.Exp2(s.F51 * p.ScaleLog2 - shift1);
                    float p52 = PtxOps.Exp2(s.F52 * p.ScaleLog2 - shift0);
                    float p53 = PtxOps.Exp2(s.F53 * p.ScaleLog2 - shift0);
                    float p54 = PtxOps.Exp2(s.F54 * p.ScaleLog2 - shift1);
                    float p55 = PtxOps.Exp2(s.F55 * p.ScaleLog2 - shift1);
                    float p56 = PtxOps.Exp2(s.F56 * p.ScaleLog2 - shift0);
                    float p57 = PtxOps.Exp2(s.F57 * p.ScaleLog2 - shift0);
                    float p58 = PtxOps.Exp2(s.F58 * p.ScaleLog2 - shift1);
                    float p59 = PtxOps.Exp2(s.F59 * p.ScaleLog2 - shift1);
                    float p60 = PtxOps.Exp2(s.F60 * p.ScaleLog2 - shift0);
                    float p61 = PtxOps.Exp2(s.F61 * p.ScaleLog2 - shift0);
                    float p62 = PtxOps.Exp2(s.F62 * p.ScaleLog2 - shift1);
                    float p63 = PtxOps.Exp2(s.F63 * p.ScaleLog2 - shift1);
                    l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29 + p32 + p33 + p36 + p37 + p40 + p41 + p44 + p45 + p48 + p49 + p52 + p53 + p56 + p57 + p60 + p61);
                    l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31 + p34 + p35 + p38 + p39 + p42 + p43 + p46 + p47 + p50 + p51 + p54 + p55 + p58 + p59 + p62 + p63);
                    c00 = PtxOps.PackBf16(p0, p1);
                    c01 = PtxOps.PackBf16(p2, p3);
                    c02 = PtxOps.PackBf16(p4, p5);
                    c03 = PtxOps.PackBf16(p6, p7);
                    c10 = PtxOps.PackBf16(p8, p9);
                    c11 = PtxOps.PackBf16(p10, p11);
                    c12 = PtxOps.PackBf16(p12, p13);
                    c13 = PtxOps.PackBf16(p14, p15);
                    c20 = PtxOps.PackBf16(p16, p17);
                    c21 = PtxOps.PackBf16(p18, p19);
                    c22 = PtxOps.PackBf16(p20, p21);
                    c23 = PtxOps.PackBf16(p22, p23);
                    c30 = PtxOps.PackBf16(p24, p25);
                    c31 = PtxOps.PackBf16(p26, p27);
                    c32 = PtxOps.PackBf16(p28, p29);
                    c33 = PtxOps.PackBf16(p30, p31);
                    c40 = PtxOps.PackBf16(p32, p33);
                    c41 = PtxOps.PackBf16(p34, p35);
                    c42 = PtxOps.PackBf16(p36, p37);
                    c43 = PtxOps.PackBf16(p38, p39);
                    c50 = PtxOps.PackBf16(p40, p41);
                    c51 = PtxOps.PackBf16(p42, p43);
                    c52 = PtxOps.PackBf16(p44, p45);
                    c53 = PtxOps.PackBf16(p46, p47);
                    c60 = PtxOps.PackBf16(p48, p49);
                    c61 = PtxOps.PackBf16(p50, p51);
                    c62 = PtxOps.PackBf16(p52, p53);
                    c63 = PtxOps.PackBf16(p54, p55);
                    c70 = PtxOps.PackBf16(p56, p57);
                    c71 = PtxOps.PackBf16(p58, p59);
                    c72 = PtxOps.PackBf16(p60, p61);
                    c73 = PtxOps.PackBf16(p62, p63);
                    PtxOps.WgmmaWait0();
                    PtxOps.MbarrierArrive(empty + (uint)(((j - 1) % 3) * 8));
                    o = new Float32x64 { F0 = so.F64 * alpha0, F1 = so.F65 * alpha0, F2 = so.F66 * alpha1, F3 = so.F67 * alpha1, F4 = so.F68 * alpha0, F5 = so.F69 * alpha0, F6 = so.F70 * alpha1, F7 = so.F71 * alpha1, F8 = so.F72 * alpha0, F9 = so.F73 * alpha0, F10 = so.F74 * alpha1, F11 = so.F75 * alpha1, F12 = so.F76 * alpha0, F13 = so.F77 * alpha0, F14 = so.F78 * alpha1, F15 = so.F79 * alpha1, F16 = so.F80 * alpha0, F17 = so.F81 * alpha0, F18 = so.F82 * alpha1, F19 = so.F83 * alpha1, F20 = so.F84 * alpha0, F21 = so.F85 * alpha0, F22 = so.F86 * alpha1, F23 = so.F87 * alpha1, F24 = so.F88 * alpha0, F25 = so.F89 * alpha0, F26 = so.F90 * alpha1, F27 = so.F91 * alpha1, F28 = so.F92 * alpha0, F29 = so.F93 * alpha0, F30 = so.F94 * alpha1, F31 = so.F95 * alpha1, F32 = so.F96 * alpha0, F33 = so.F97 * alpha0, F34 = so.F98 * alpha1, F35 = so.F99 * alpha1, F36 = so.F100 * alpha0, F37 = so.F101 * alpha0, F38 = so.F102 * alpha1, F39 = so.F103 * alpha1, F40 = so.F104 * alpha0, F41 = so.F105 * alpha0, F42 = so.F106 * alpha1, F43 = so.F107 * alpha1, F44 = so.F108 * alpha0, F45 = so.F109 * alpha0, F46 = so.F110 * alpha1, F47 = so.F111 * alpha1, F48 = so.F112 * alpha0, F49 = so.F113 * alpha0, F50 = so.F114 * alpha1, F51 = so.F115 * alpha1, F52 = so.F116 * alpha0, F53 = so.F117 * alpha0, F54 = so.F118 * alpha1, F55 = so.F119 * alpha1, F56 = so.F120 * alpha0, F57 = so.F121 * alpha0, F58 = so.F122 * alpha1, F59 = so.F123 * alpha1, F60 = so.F124 * alpha0, F61 = so.F125 * alpha0, F62 = so.F126 * alpha1, F63 = so.F127 * alpha1 };
                }
                uint vLast = kv + (uint)(((tiles - 1) % 3) * 2 * Tile128Bytes) + Tile128Bytes;
                o = PtxOps.WgmmaBf16M64N128RSTransBChain8(o, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33, c40, c41, c42, c43, c50, c51, c52, c53, c60, c61, c62, c63, c70, c71, c72, c73, PtxOps.WgmmaDescriptor(vLast, 2048, 128), 256);
                PtxOps.WgmmaCommit();
                PtxOps.WgmmaWait0();
            }
            else
            {
                uint vLast = kv + (uint)(((tiles - 1) % 3) * 2 * Tile128Bytes) + Tile128Bytes;
                o = PtxOps.WgmmaBf16M64N128RSTransBChain8(o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53, a60, a61, a62, a63, a70, a71, a72, a73, PtxOps.WgmmaDescriptor(vLast, 2048, 128), 256);
                PtxOps.WgmmaCommit();
                PtxOps.WgmmaWait0();
            }
            l0 += PtxOps.ShuffleXor(l0, 1);
            l0 += PtxOps.ShuffleXor(l0, 2);
            l1 += PtxOps.ShuffleXor(l1, 1);
            l1 += PtxOps.ShuffleXor(l1, 2);
            float inv0 = PtxOps.Reciprocal(l0), inv1 = PtxOps.Reciprocal(l1);
            int row0 = Grid.IdxX * BlockM + wg * 64 + warp * 16 + (lane >> 2), col = 2 * (lane & 3);
            ulong out0 = p.O + (ulong)(headOffset + row0 * rowStride + col * 2), out1 = out0 + (ulong)(8 * rowStride);
            PtxOps.StoreWord(out0 + 0, PtxOps.PackBf16(o.F0 * inv0, o.F1 * inv0));
            PtxOps.StoreWord(out1 + 0, PtxOps.PackBf16(o.F2 * inv1, o.F3 * inv1));
            PtxOps.StoreWord(out0 + 16, PtxOps.PackBf16(o.F4 * inv0, o.F5 * inv0));
            PtxOps.StoreWord(out1 + 16, PtxOps.PackBf16(o.F6 * inv1, o.F7 * inv1));
            PtxOps.StoreWord(out0 + 32, PtxOps.PackBf16(o.F8 * inv0, o.F9 * inv0));
            PtxOps.StoreWord(out1 + 32, PtxOps.PackBf16(o.F10 * inv1, o.F11 * inv1));
            PtxOps.StoreWord(out0 + 48, PtxOps.PackBf16(o.F12 * inv0, o.F13 * inv0));
            PtxOps.StoreWord(out1 + 48, PtxOps.PackBf16(o.F14 * inv1, o.F15 * inv1));
            PtxOps.StoreWord(out0 + 64, PtxOps.PackBf16(o.F16 * inv0, o.F17 * inv0));
            PtxOps.StoreWord(out1 + 64, PtxOps.PackBf16(o.F18 * inv1, o.F19 * inv1));
            PtxOps.StoreWord(out0 + 80, PtxOps.PackBf16(o.F20 * inv0, o.F21 * inv0));
            PtxOps.StoreWord(out1 + 80, PtxOps.PackBf16(o.F22 * inv1, o.F23 * inv1));
            PtxOps.StoreWord(out0 + 96, PtxOps.PackBf16(o.F24 * inv0, o.F25 * inv0));
            PtxOps.StoreWord(out1 + 96, PtxOps.PackBf16(o.F26 * inv1, o.F27 * inv1));
            PtxOps.StoreWord(out0 + 112, PtxOps.PackBf16(o.F28 * inv0, o.F29 * inv0));
            PtxOps.StoreWord(out1 + 112, PtxOps.PackBf16(o.F30 * inv1, o.F31 * inv1));
            PtxOps.StoreWord(out0 + 128, PtxOps.PackBf16(o.F32 * inv0, o.F33 * inv0));
            PtxOps.StoreWord(out1 + 128, PtxOps.PackBf16(o.F34 * inv1, o.F35 * inv1));
            PtxOps.StoreWord(out0 + 144, PtxOps.PackBf16(o.F36 * inv0, o.F37 * inv0));
            PtxOps.StoreWord(out1 + 144, PtxOps.PackBf16(o.F38 * inv1, o.F39 * inv1));
            PtxOps.StoreWord(out0 + 160, PtxOps.PackBf16(o.F40 * inv0, o.F41 * inv0));
            PtxOps.StoreWord(out1 + 160, PtxOps.PackBf16(o.F42 * inv1, o.F43 * inv1));
            PtxOps.StoreWord(out0 + 176, PtxOps.PackBf16(o.F44 * inv0, o.F45 * inv0));
            PtxOps.StoreWord(out1 + 176, PtxOps.PackBf16(o.F46 * inv1, o.F47 * inv1));
            PtxOps.StoreWord(out0 + 192, PtxOps.PackBf16(o.F48 * inv0, o.F49 * inv0));
            PtxOps.StoreWord(out1 + 192, PtxOps.PackBf16(o.F50 * inv1, o.F51 * inv1));
            PtxOps.StoreWord(out0 + 208, PtxOps.PackBf16(o.F52 * inv0, o.F53 * inv0));
            PtxOps.StoreWord(out1 + 208, PtxOps.PackBf16(o.F54 * inv1, o.F55 * inv1));
            PtxOps.StoreWord(out0 + 224, PtxOps.PackBf16(o.F56 * inv0, o.F57 * inv0));
            PtxOps.StoreWord(out1 + 224, PtxOps.PackBf16(o.F58 * inv1, o.F59 * inv1));
            PtxOps.StoreWord(out0 + 240, PtxOps.PackBf16(o.F60 * inv0, o.F61 * inv0));
            PtxOps.StoreWord(out1 + 240, PtxOps.PackBf16(o.F62 * inv1, o.F63 * inv1));
            if ((lane & 3) == 0)
            {
                ulong lse = p.Lse + (ulong)((((long)b * p.Heads + h) * p.SeqLen + row0) * 4);
                const float Ln2 = 0.6931472f;
                PtxOps.StoreFloat(lse, (m0 * p.ScaleLog2 + PtxOps.Log2(l0)) * Ln2);
                PtxOps.StoreFloat(lse + 32, (m1 * p.ScaleLog2 + PtxOps.Log2(l1)) * Ln2);
            }
        }
    }

    // Warp-specialised 128-key kernel: a producer warpgroup (cp.async + mbarriers) feeding two consumer warpgroups that take turns issuing their MMAs.
    public static void KernelWs128Pingpong(WgmmaForwardParams p)
    {
        int t = Group.IdxX, wg = t >> 7, lane = t & 31, warp = (t >> 5) & 3;
        int b = Grid.IdxY / p.Heads, h = Grid.IdxY - b * p.Heads;
        uint smem = PtxOps.SharedBase(), qs = smem, kv = smem + QBytes, full = smem + QBytes + 6 * Tile128Bytes, empty = full + 24;
        long rowStride = (long)p.Heads * HeadDim * 2;
        long headOffset = (long)b * p.SeqLen * rowStride + h * HeadDim * 2;
        int tiles = p.SeqLen / 128;
        if (t < 3)
        {
            PtxOps.MbarrierInit(full + (uint)(t * 8), 128);
            PtxOps.MbarrierInit(empty + (uint)(t * 8), 256);
        }
        Group.Barrier();
        if (wg == 2)
        {
            PtxOps.SetMaxRegistersDec(ProducerRegisters);
            int pt = t - 256;
            for (int j = 0; j < tiles; j++)
            {
                int stage = j % 3;
                if (j >= 3)
                    PtxOps.MbarrierWaitParity(empty + (uint)(stage * 8), (uint)((j / 3 - 1) & 1));
                if (j == 0)
                    LoadQueryWs(p, headOffset, rowStride, qs, pt);
                uint kt = kv + (uint)(stage * 2 * Tile128Bytes);
                LoadTileWs(p, headOffset, rowStride, j, kt, kt + Tile128Bytes, pt);
                PtxOps.CommitGroup();
                if (j > 0)
                {
                    // The previous tile's copies (this thread's) have landed: make them visible to wgmma, then signal.
                    PtxOps.WaitGroup1();
                    PtxOps.FenceProxyAsyncShared();
                    PtxOps.MbarrierArrive(full + (uint)(((j - 1) % 3) * 8));
                }
            }
            PtxOps.WaitGroup0();
            PtxOps.FenceProxyAsyncShared();
            PtxOps.MbarrierArrive(full + (uint)(((tiles - 1) % 3) * 8));
        }
        else
        {
            PtxOps.SetMaxRegistersInc(ConsumerRegisters);
            PtxOps.MbarrierWaitParity(full, 0);
            float m0 = float.NegativeInfinity, m1 = float.NegativeInfinity, l0 = 0f, l1 = 0f, alpha0, alpha1;
            uint c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0, c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0, c40 = 0, c41 = 0, c42 = 0, c43 = 0, c50 = 0, c51 = 0, c52 = 0, c53 = 0, c60 = 0, c61 = 0, c62 = 0, c63 = 0, c70 = 0, c71 = 0, c72 = 0, c73 = 0;
            uint a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53, a60, a61, a62, a63, a70, a71, a72, a73;
            var o = default(Float32x64);
            uint qw = qs + (uint)(wg * 16384);
            {
                var s = PtxOps.WgmmaBf16M64N128SSChain(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kv, 128, 2048), 8, 16, 16);
                PtxOps.WgmmaCommit();
                PtxOps.WgmmaWait0();
                float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29), s.F32), s.F33), s.F36), s.F37), s.F40), s.F41), s.F44), s.F45), s.F48), s.F49), s.F52), s.F53), s.F56), s.F57), s.F60), s.F61);
                float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31), s.F34), s.F35), s.F38), s.F39), s.F42), s.F43), s.F46), s.F47), s.F50), s.F51), s.F54), s.F55), s.F58), s.F59), s.F62), s.F63);
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
                max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
                max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
                float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
                alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
                alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
                float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
                m0 = mNew0;
                m1 = mNew1;
                float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
                float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
                float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
                float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
                float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
                float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
                float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
                float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
                float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
                float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
                float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
                float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
                float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
                float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
                float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
                float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
                float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
                float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
                float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
                float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
                float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
                float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
                float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
                float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
                float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
                float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
                float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
                float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
                float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
                float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
                float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
                float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
                float p32 = PtxOps.Exp2(s.F32 * p.ScaleLog2 - shift0);
                float p33 = PtxOps.Exp2(s.F33 * p.ScaleLog2 - shift0);
                float p34 = PtxOps.Exp2(s.F34 * p.ScaleLog2 - shift1);
                float p35 = PtxOps.Exp2(s.F35 * p.ScaleLog2 - shift1);
                float p36 = PtxOps.Exp2(s.F36 * p.ScaleLog2 - shift0);
                float p37 = PtxOps.Exp2(s.F37 * p.ScaleLog2 - shift0);
                float p38 = PtxOps.Exp2(s.F38 * p.ScaleLog2 - shift1);
                float p39 = PtxOps.Exp2(s.F39 * p.ScaleLog2 - shift1);
                float p40 = PtxOps.Exp2(s.F40 * p.ScaleLog2 - shift0);
                float p41 = PtxOps.Exp2(s.F41 * p.ScaleLog2 - shift0);
                float p42 = PtxOps.Exp2(s.F42 * p.ScaleLog2 - shift1);
                float p43 = PtxOps.Exp2(s.F43 * p.ScaleLog2 - shift1);
                float p44 = PtxOps.Exp2(s.F44 * p.ScaleLog2 - shift0);
                float p45 = PtxOps.Exp2(s.F45 * p.ScaleLog2 - shift0);
                float p46 = PtxOps.Exp2(s.F46 * p.ScaleLog2 - shift1);
                float p47 = PtxOps.Exp2(s.F47 * p.ScaleLog2 - shift1);
                float p48 = PtxOps.Exp2(s.F48 * p.ScaleLog2 - shift0);
                float p49 = PtxOps.Exp2(s.F49 * p.ScaleLog2 - shift0);
                float p50 = PtxOps.Exp2(s.F50 * p.ScaleLog2 - shift1);
                float p51 = PtxOps.Exp2(s.F51 * p.ScaleLog2 - shift1);
                float p52 = PtxOps.Exp2(s.F52 * p.ScaleLog2 - shift0);
                float p53 = PtxOps.Exp2(s.F53 * p.ScaleLog2 - shift0);
                float p54 = PtxOps.Exp2(s.F54 * p.ScaleLog2 - shift1);
                float p55 = PtxOps.Exp2(s.F55 * p.ScaleLog2 - shift1);
                float p56 = PtxOps.Exp2(s.F56 * p.ScaleLog2 - shift0);
                float p57 = PtxOps.Exp2(s.F57 * p.ScaleLog2 - shift0);
                float p58 = PtxOps.Exp2(s.F58 * p.ScaleLog2 - shift1);
                float p59 = PtxOps.Exp2(s.F59 * p.ScaleLog2 - shift1);
                float p60 = PtxOps.Exp2(s.F60 * p.ScaleLog2 - shift0);
                float p61 = PtxOps.Exp2(s.F61 * p.ScaleLog2 - shift0);
                float p62 = PtxOps.Exp2(s.F62 * p.ScaleLog2 - shift1);
                float p63 = PtxOps.Exp2(s.F63 * p.ScaleLog2 - shift1);
                l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29 + p32 + p33 + p36 + p37 + p40 + p41 + p44 + p45 + p48 + p49 + p52 + p53 + p56 + p57 + p60 + p61);
                l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31 + p34 + p35 + p38 + p39 + p42 + p43 + p46 + p47 + p50 + p51 + p54 + p55 + p58 + p59 + p62 + p63);
                a00 = PtxOps.PackBf16(p0, p1);
                a01 = PtxOps.PackBf16(p2, p3);
                a02 = PtxOps.PackBf16(p4, p5);
                a03 = PtxOps.PackBf16(p6, p7);
                a10 = PtxOps.PackBf16(p8, p9);
                a11 = PtxOps.PackBf16(p10, p11);
                a12 = PtxOps.PackBf16(p12, p13);
                a13 = PtxOps.PackBf16(p14, p15);
                a20 = PtxOps.PackBf16(p16, p17);
                a21 = PtxOps.PackBf16(p18, p19);
                a22 = PtxOps.PackBf16(p20, p21);
                a23 = PtxOps.PackBf16(p22, p23);
                a30 = PtxOps.PackBf16(p24, p25);
                a31 = PtxOps.PackBf16(p26, p27);
                a32 = PtxOps.PackBf16(p28, p29);
                a33 = PtxOps.PackBf16(p30, p31);
                a40 = PtxOps.PackBf16(p32, p33);
                a41 = PtxOps.PackBf16(p34, p35);
                a42 = PtxOps.PackBf16(p36, p37);
                a43 = PtxOps.PackBf16(p38, p39);
                a50 = PtxOps.PackBf16(p40, p41);
                a51 = PtxOps.PackBf16(p42, p43);
                a52 = PtxOps.PackBf16(p44, p45);
                a53 = PtxOps.PackBf16(p46, p47);
                a60 = PtxOps.PackBf16(p48, p49);
                a61 = PtxOps.PackBf16(p50, p51);
                a62 = PtxOps.PackBf16(p52, p53);
                a63 = PtxOps.PackBf16(p54, p55);
                a70 = PtxOps.PackBf16(p56, p57);
                a71 = PtxOps.PackBf16(p58, p59);
                a72 = PtxOps.PackBf16(p60, p61);
                a73 = PtxOps.PackBf16(p62, p63);
            }
            if (wg == 1 && tiles > 1)
                PtxOps.NamedBarrierArrive(1, 256);
            int j = 1;
            for (; j + 1 < tiles; j += 2)
            {
                {
                    PtxOps.MbarrierWaitParity(full + (uint)((j % 3) * 8), (uint)((j / 3) & 1));
                    uint kb = kv + (uint)((j % 3) * 2 * Tile128Bytes), vPrevious = kv + (uint)(((j - 1) % 3) * 2 * Tile128Bytes) + Tile128Bytes;
                    PtxOps.NamedBarrierSync((uint)(1 + wg), 256);
                    var so = PtxOps.WgmmaBf16AttentionStep128(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53, a60, a61, a62, a63, a70, a71, a72, a73, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));
                    if (wg == 0 || j + 1 < tiles)
                        PtxOps.NamedBarrierArrive((uint)(2 - wg), 256);
                    PtxOps.WgmmaWait1();
                    var s = new Float32x64 { F0 = so.F0, F1 = so.F1, F2 = so.F2, F3 = so.F3, F4 = so.F4, F5 = so.F5, F6 = so.F6, F7 = so.F7, F8 = so.F8, F9 = so.F9, F10 = so.F10, F11 = so.F11, F12 = so.F12, F13 = so.F13, F14 = so.F14, F15 = so.F15, F16 = so.F16, F17 = so.F17, F18 = so.F18, F19 = so.F19, F20 = so.F20, F21 = so.F21, F22 = so.F22, F23 = so.F23, F24 = so.F24, F25 = so.F25, F26 = so.F26, F27 = so.F27, F28 = so.F28, F29 = so.F29, F30 = so.F30, F31 = so.F31, F32 = so.F32, F33 = so.F33, F34 = so.F34, F35 = so.F35, F36 = so.F36, F37 = so.F37, F38 = so.F38, F39 = so.F39, F40 = so.F40, F41 = so.F41, F42 = so.F42, F43 = so.F43, F44 = so.F44, F45 = so.F45, F46 = so.F46, F47 = so.F47, F48 = so.F48, F49 = so.F49, F50 = so.F50, F51 = so.F51, F52 = so.F52, F53 = so.F53, F54 = so.F54, F55 = so.F55, F56 = so.F56, F57 = so.F57, F58 = so.F58, F59 = so.F59, F60 = so.F60, F61 = so.F61, F62 = so.F62, F63 = so.F63 };
                    float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29), s.F32), s.F33), s.F36), s.F37), s.F40), s.F41), s.F44), s.F45), s.F48), s.F49), s.F52), s.F53), s.F56), s.F57), s.F60), s.F61);
                    float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31), s.F34), s.F35), s.F38), s.F39), s.F42), s.F43), s.F46), s.F47), s.F50), s.F51), s.F54), s.F55), s.F58), s.F59), s.F62), s.F63);
                    max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
                    max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
                    max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
                    max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
                    float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
                    alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
                    alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
                    float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
                    m0 = mNew0;
                    m1 = mNew1;
                    float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
                    float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
                    float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
                    float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
                    float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
                    float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
                    float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
                    float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
                    float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
                    float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
                    float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
                    float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
                    float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
                    float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
                    float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
                    float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
                    float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
                    float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
                    float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
                    float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
                    float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
                    float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
                    float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
                    float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
                    float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
                    float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
                    float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
                    float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
                    float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
                    float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
                    float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
                    float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
                    float p32 = PtxOps.Exp2(s.F32 * p.ScaleLog2 - shift0);
                    float p33 = PtxOps.Exp2(s.F33 * p.ScaleLog2 - shift0);
                    float p34 = PtxOps.Exp2(s.F34 * p.ScaleLog2 - shift1);
                    float p35 = PtxOps.Exp2(s.F35 * p.ScaleLog2 - shift1);
                    float p36 = PtxOps.Exp2(s.F36 * p.ScaleLog2 - shift0);
                    float p37 = PtxOps.Exp2(s.F37 * p.ScaleLog2 - shift0);
                    float p38 = PtxOps.Exp2(s.F38 * p.ScaleLog2 - shift1);
                    float p39 = PtxOps.Exp2(s.F39 * p.ScaleLog2 - shift1);
                    float p40 = PtxOps.Exp2(s.F40 * p.ScaleLog2 - shift0);
                    float p41 = PtxOps.Exp2(s.F41 * p.ScaleLog2 - shift0);
                    float p42 = PtxOps.Exp2(s.F42 * p.ScaleLog2 - shift1);
                    float p43 = PtxOps.Exp2(s.F43 * p.ScaleLog2 - shift1);
                    float p44 = PtxOps.Exp2(s.F44 * p.ScaleLog2 - shift0);
                    float p45 = PtxOps.Exp2(s.F45 * p.ScaleLog2 - shift0);
                    float p46 = PtxOps.Exp2(s.F46 * p.ScaleLog2 - shift1);
                    float p47 = PtxOps.Exp2(s.F47 * p.ScaleLog2 - shift1);
                    float p48 = PtxOps.Exp2(s.F48 * p.ScaleLog2 - shift0);
                    float p49 = PtxOps.Exp2(s.F49 * p.ScaleLog2 - shift0);
                    float p50 = PtxOps.Exp2(s.F50 * p.ScaleLog2 - shift1);
                    float p51 = PtxOps.Exp2(s.F51 * p.ScaleLog2 - shift1);
                    float p52 = PtxOps.Exp2(s.F52 * p.ScaleLog2 - shift0);
                    float p53 = PtxOps.Exp2(s.F53 * p.ScaleLog2 - shift0);
                    float p54 = PtxOps.Exp2(s.F54 * p.ScaleLog2 - shift1);
                    float p55 = PtxOps.Exp2(s.F55 * p.ScaleLog2 - shift1);
                    float p56 = PtxOps.Exp2(s.F56 * p.ScaleLog2 - shift0);
                    float p57 = PtxOps.Exp2(s.F57 * p.ScaleLog2 - shift0);
                    float p58 = PtxOps.Exp2(s.F58 * p.ScaleLog2 - shift1);
                    float p59 = PtxOps.Exp2(s.F59 * p.ScaleLog2 - shift1);
                    float p60 = PtxOps.Exp2(s.F60 * p.ScaleLog2 - shift0);
                    float p61 = PtxOps.Exp2(s.F61 * p.ScaleLog2 - shift0);
                    float p62 = PtxOps.Exp2(s.F62 * p.ScaleLog2 - shift1);
                    float p63 = PtxOps.Exp2(s.F63 * p.ScaleLog2 - shift1);
                    l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29 + p32 + p33 + p36 + p37 + p40 + p41 + p44 + p45 + p48 + p49 + p52 + p53 + p56 + p57 + p60 + p61);
                    l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31 + p34 + p35 + p38 + p39 + p42 + p43 + p46 + p47 + p50 + p51 + p54 + p55 + p58 + p59 + p62 + p63);
                    c00 = PtxOps.PackBf16(p0, p1);
                    c01 = PtxOps.PackBf16(p2, p3);
                    c02 = PtxOps.PackBf16(p4, p5);
                    c03 = PtxOps.PackBf16(p6, p7);
                    c10 = PtxOps.PackBf16(p8, p9);
                    c11 = PtxOps.PackBf16(p10, p11);
                    c12 = PtxOps.PackBf16(p12, p13);
                    c13 = PtxOps.PackBf16(p14, p15);
                    c20 = PtxOps.PackBf16(p16, p17);
                    c21 = PtxOps.PackBf16(p18, p19);
                    c22 = PtxOps.PackBf16(p20, p21);
                    c23 = PtxOps.PackBf16(p22, p23);
                    c30 = PtxOps.PackBf16(p24, p25);
                    c31 = PtxOps.PackBf16(p26, p27);
                    c32 = PtxOps.PackBf16(p28, p29);
                    c33 = PtxOps.PackBf16(p30, p31);
                    c40 = PtxOps.PackBf16(p32, p33);
                    c41 = PtxOps.PackBf16(p34, p35);
                    c42 = PtxOps.PackBf16(p36, p37);
                    c43 = PtxOps.PackBf16(p38, p39);
                    c50 = PtxOps.PackBf16(p40, p41);
                    c51 = PtxOps.PackBf16(p42, p43);
                    c52 = PtxOps.PackBf16(p44, p45);
                    c53 = PtxOps.PackBf16(p46, p47);
                    c60 = PtxOps.PackBf16(p48, p49);
                    c61 = PtxOps.PackBf16(p50, p51);
                    c62 = PtxOps.PackBf16(p52, p53);
                    c63 = PtxOps.PackBf16(p54, p55);
                    c70 = PtxOps.PackBf16(p56, p57);
                    c71 = PtxOps.PackBf16(p58, p59);
                    c72 = PtxOps.PackBf16(p60, p61);
                    c73 = PtxOps.PackBf16(p62, p63);
                    PtxOps.WgmmaWait0();
                    PtxOps.MbarrierArrive(empty + (uint)(((j - 1) % 3) * 8));
                    o = new Float32x64 { F0 = so.F64 * alpha0, F1 = so.F65 * alpha0, F2 = so.F66 * alpha1, F3 = so.F67 * alpha1, F4 = so.F68 * alpha0, F5 = so.F69 * alpha0, F6 = so.F70 * alpha1, F7 = so.F71 * alpha1, F8 = so.F72 * alpha0, F9 = so.F73 * alpha0, F10 = so.F74 * alpha1, F11 = so.F75 * alpha1, F12 = so.F76 * alpha0, F13 = so.F77 * alpha0, F14 = so.F78 * alpha1, F15 = so.F79 * alpha1, F16 = so.F80 * alpha0, F17 = so.F81 * alpha0, F18 = so.F82 * alpha1, F19 = so.F83 * alpha1, F20 = so.F84 * alpha0, F21 = so.F85 * alpha0, F22 = so.F86 * alpha1, F23 = so.F87 * alpha1, F24 = so.F88 * alpha0, F25 = so.F89 * alpha0, F26 = so.F90 * alpha1, F27 = so.F91 * alpha1, F28 = so.F92 * alpha0, F29 = so.F93 * alpha0, F30 = so.F94 * alpha1, F31 = so.F95 * alpha1, F32 = so.F96 * alpha0, F33 = so.F97 * alpha0, F34 = so.F98 * alpha1, F35 = so.F99 * alpha1, F36 = so.F100 * alpha0, F37 = so.F101 * alpha0, F38 = so.F102 * alpha1, F39 = so.F103 * alpha1, F40 = so.F104 * alpha0, F41 = so.F105 * alpha0, F42 = so.F106 * alpha1, F43 = so.F107 * alpha1, F44 = so.F108 * alpha0, F45 = so.F109 * alpha0, F46 = so.F110 * alpha1, F47 = so.F111 * alpha1, F48 = so.F112 * alpha0, F49 = so.F113 * alpha0, F50 = so.F114 * alpha1, F51 = so.F115 * alpha1, F52 = so.F116 * alpha0, F53 = so.F117 * alpha0, F54 = so.F118 * alpha1, F55 = so.F119 * alpha1, F56 = so.F120 * alpha0, F57 = so.F121 * alpha0, F58 = so.F122 * alpha1, F59 = so.F123 * alpha1, F60 = so.F124 * alpha0, F61 = so.F125 * alpha0, F62 = so.F126 * alpha1, F63 = so.F127 * alpha1 };
                }
                {
                    PtxOps.MbarrierWaitParity(full + (uint)(((j + 1) % 3) * 8), (uint)(((j + 1) / 3) & 1));
                    uint kb = kv + (uint)(((j + 1) % 3) * 2 * Tile128Bytes), vPrevious = kv + (uint)((((j + 1) - 1) % 3) * 2 * Tile128Bytes) + Tile128Bytes;
                    PtxOps.NamedBarrierSync((uint)(1 + wg), 256);
                    var so = PtxOps.WgmmaBf16AttentionStep128(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33, c40, c41, c42, c43, c50, c51, c52, c53, c60, c61, c62, c63, c70, c71, c72, c73, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));
                    if (wg == 0 || (j + 1) + 1 < tiles)
                        PtxOps.NamedBarrierArrive((uint)(2 - wg), 256);
                    PtxOps.WgmmaWait1();
                    var s = new Float32x64 { F0 = so.F0, F1 = so.F1, F2 = so.F2, F3 = so.F3, F4 = so.F4, F5 = so.F5, F6 = so.F6, F7 = so.F7, F8 = so.F8, F9 = so.F9, F10 = so.F10, F11 = so.F11, F12 = so.F12, F13 = so.F13, F14 = so.F14, F15 = so.F15, F16 = so.F16, F17 = so.F17, F18 = so.F18, F19 = so.F19, F20 = so.F20, F21 = so.F21, F22 = so.F22, F23 = so.F23, F24 = so.F24, F25 = so.F25, F26 = so.F26, F27 = so.F27, F28 = so.F28, F29 = so.F29, F30 = so.F30, F31 = so.F31, F32 = so.F32, F33 = so.F33, F34 = so.F34, F35 = so.F35, F36 = so.F36, F37 = so.F37, F38 = so.F38, F39 = so.F39, F40 = so.F40, F41 = so.F41, F42 = so.F42, F43 = so.F43, F44 = so.F44, F45 = so.F45, F46 = so.F46, F47 = so.F47, F48 = so.F48, F49 = so.F49, F50 = so.F50, F51 = so.F51, F52 = so.F52, F53 = so.F53, F54 = so.F54, F55 = so.F55, F56 = so.F56, F57 = so.F57, F58 = so.F58, F59 = so.F59, F60 = so.F60, F61 = so.F61, F62 = so.F62, F63 = so.F63 };
                    float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29), s.F32), s.F33), s.F36), s.F37), s.F40), s.F41), s.F44), s.F45), s.F48), s.F49), s.F52), s.F53), s.F56), s.F57), s.F60), s.F61);
                    float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31), s.F34), s.F35), s.F38), s.F39), s.F42), s.F43), s.F46), s.F47), s.F50), s.F51), s.F54), s.F55), s.F58), s.F59), s.F62), s.F63);
                    max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
                    max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
                    max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
                    max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
                    float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
                    alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
                    alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
                    float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
                    m0 = mNew0;
                    m1 = mNew1;
                    float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
                    float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
                    float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
                    float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
                    float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
                    float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
                    float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
                    float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
                    float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
                    float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
                    float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
                    float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
                    float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
                    float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
                    float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
                    float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
                    float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
                    float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
                    float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
                    float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
                    float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
                    float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
                    float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
                    float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
                    float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
                    float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
                    float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
                    float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
                    float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
                    float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
                    float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
                    float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
                    float p32 = PtxOps.Exp2(s.F32 * p.ScaleLog2 - shift0);
                    float p33 = PtxOps.Exp2(s.F33 * p.ScaleLog2 - shift0);
                    float p34 = PtxOps.Exp2(s.F34 * p.ScaleLog2 - shift1);
                    float p35 = PtxOps.Exp2(s.F35 * p.ScaleLog2 - shift1);
                    float p36 = PtxOps.Exp2(s.F36 * p.ScaleLog2 - shift0);
                    float p37 = PtxOps.Exp2(s.F37 * p.ScaleLog2 - shift0);
                    float p38 = PtxOps.Exp2(s.F38 * p.ScaleLog2 - shift1);
                    float p39 = PtxOps.Exp2(s.F39 * p.ScaleLog2 - shift1);
                    float p40 = PtxOps.Exp2(s.F40 * p.ScaleLog2 - shift0);
                    float p41 = PtxOps.Exp2(s.F41 * p.ScaleLog2 - shift0);
                    float p42 = PtxOps.Exp2(s.F42 * p.ScaleLog2 - shift1);
                    float p43 = PtxOps.Exp2(s.F43 * p.ScaleLog2 - shift1);
                    float p44 = PtxOps.Exp2(s.F44 * p.ScaleLog2 - shift0);
                    float p45 = PtxOps.Exp2(s.F45 * p.ScaleLog2 - shift0);
                    float p46 = PtxOps.Exp2(s.F46 * p.ScaleLog2 - shift1);
                    float p47 = PtxOps.Exp2(s.F47 * p.ScaleLog2 - shift1);
                    float p48 = PtxOps.Exp2(s.F48 * p.ScaleLog2 - shift0);
                    float p49 = PtxOps.Exp2(s.F49 * p.ScaleLog2 - shift0);
                    float p50 = PtxOps.Exp2(s.F50 * p.ScaleLog2 - shift1);
                    float p51 = PtxOps.Exp2(s.F51 * p.ScaleLog2 - shift1);
                    float p52 = PtxOps.Exp2(s.F52 * p.ScaleLog2 - shift0);
                    float p53 = PtxOps.Exp2(s.F53 * p.ScaleLog2 - shift0);
                    float p54 = PtxOps.Exp2(s.F54 * p.ScaleLog2 - shift1);
                    float p55 = PtxOps.Exp2(s.F55 * p.ScaleLog2 - shift1);
                    float p56 = PtxOps.Exp2(s.F56 * p.ScaleLog2 - shift0);
                    float p57 = PtxOps.Exp2(s.F57 * p.ScaleLog2 - shift0);
                    float p58 = PtxOps.Exp2(s.F58 * p.ScaleLog2 - shift1);
                    float p59 = PtxOps.Exp2(s.F59 * p.ScaleLog2 - shift1);
                    float p60 = PtxOps.Exp2(s.F60 * p.ScaleLog2 - shift0);
                    float p61 = PtxOps.Exp2(s.F61 * p.ScaleLog2 - shift0);
                    float p62 = PtxOps.Exp2(s.F62 * p.ScaleLog2 - shift1);
                    float p63 = PtxOps.Exp2(s.F63 * p.ScaleLog2 - shift1);
                    l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29 + p32 + p33 + p36 + p37 + p40 + p41 + p44 + p45 + p48 + p49 + p52 + p53 + p56 + p57 + p60 + p61);
                    l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31 + p34 + p35 + p38 + p39 + p42 + p43 + p46 + p47 + p50 + p51 + p54 + p55 + p58 + p59 + p62 + p63);
                    a00 = PtxOps.PackBf16(p0, p1);
                    a01 = PtxOps.PackBf16(p2, p3);
                    a02 = PtxOps.PackBf16(p4, p5);
                    a03 = PtxOps.PackBf16(p6, p7);
                    a10 = PtxOps.PackBf16(p8, p9);
                    a11 = PtxOps.PackBf16(p10, p11);
                    a12 = PtxOps.PackBf16(p12, p13);
                    a13 = PtxOps.PackBf16(p14, p15);
                    a20 = PtxOps.PackBf16(p16, p17);
                    a21 = PtxOps.PackBf16(p18, p19);
                    a22 = PtxOps.PackBf16(p20, p21);
                    a23 = PtxOps.PackBf16(p22, p23);
                    a30 = PtxOps.PackBf16(p24, p25);
                    a31 = PtxOps.PackBf16(p26, p27);
                    a32 = PtxOps.PackBf16(p28, p29);
                    a33 = PtxOps.PackBf16(p30, p31);
                    a40 = PtxOps.PackBf16(p32, p33);
                    a41 = PtxOps.PackBf16(p34, p35);
                    a42 = PtxOps.PackBf16(p36, p37);
                    a43 = PtxOps.PackBf16(p38, p39);
                    a50 = PtxOps.PackBf16(p40, p41);
                    a51 = PtxOps.PackBf16(p42, p43);
                    a52 = PtxOps.PackBf16(p44, p45);
                    a53 = PtxOps.PackBf16(p46, p47);
                    a60 = PtxOps.PackBf16(p48, p49);
                    a61 = PtxOps.PackBf16(p50, p51);
                    a62 = PtxOps.PackBf16(p52, p53);
                    a63 = PtxOps.PackBf16(p54, p55);
                    a70 = PtxOps.PackBf16(p56, p57);
                    a71 = PtxOps.PackBf16(p58, p59);
                    a72 = PtxOps.PackBf16(p60, p61);
                    a73 = PtxOps.PackBf16(p62, p63);
                    PtxOps.WgmmaWait0();
                    PtxOps.MbarrierArrive(empty + (uint)((((j + 1) - 1) % 3) * 8));
                    o = new Float32x64 { F0 = so.F64 * alpha0, F1 = so.F65 * alpha0, F2 = so.F66 * alpha1, F3 = so.F67 * alpha1, F4 = so.F68 * alpha0, F5 = so.F69 * alpha0, F6 = so.F70 * alpha1, F7 = so.F71 * alpha1, F8 = so.F72 * alpha0, F9 = so.F73 * alpha0, F10 = so.F74 * alpha1, F11 = so.F75 * alpha1, F12 = so.F76 * alpha0, F13 = so.F77 * alpha0, F14 = so.F78 * alpha1, F15 = so.F79 * alpha1, F16 = so.F80 * alpha0, F17 = so.F81 * alpha0, F18 = so.F82 * alpha1, F19 = so.F83 * alpha1, F20 = so.F84 * alpha0, F21 = so.F85 * alpha0, F22 = so.F86 * alpha1, F23 = so.F87 * alpha1, F24 = so.F88 * alpha0, F25 = so.F89 * alpha0, F26 = so.F90 * alpha1, F27 = so.F91 * alpha1, F28 = so.F92 * alpha0, F29 = so.F93 * alpha0, F30 = so.F94 * alpha1, F31 = so.F95 * alpha1, F32 = so.F96 * alpha0, F33 = so.F97 * alpha0, F34 = so.F98 * alpha1, F35 = so.F99 * alpha1, F36 = so.F100 * alpha0, F37 = so.F101 * alpha0, F38 = so.F102 * alpha1, F39 = so.F103 * alpha1, F40 = so.F104 * alpha0, F41 = so.F105 * alpha0, F42 = so.F106 * alpha1, F43 = so.F107 * alpha1, F44 = so.F108 * alpha0, F45 = so.F109 * alpha0, F46 = so.F110 * alpha1, F47 = so.F111 * alpha1, F48 = so.F112 * alpha0, F49 = so.F113 * alpha0, F50 = so.F114 * alpha1, F51 = so.F115 * alpha1, F52 = so.F116 * alpha0, F53 = so.F117 * alpha0, F54 = so.F118 * alpha1, F55 = so.F119 * alpha1, F56 = so.F120 * alpha0, F57 = so.F121 * alpha0, F58 = so.F122 * alpha1, F59 = so.F123 * alpha1, F60 = so.F124 * alpha0, F61 = so.F125 * alpha0, F62 = so.F126 * alpha1, F63 = so.F127 * alpha1 };
                }
            }
            if (j < tiles)
            {
                {
                    PtxOps.MbarrierWaitParity(full + (uint)((j % 3) * 8), (uint)((j / 3) & 1));
                    uint kb = kv + (uint)((j % 3) * 2 * Tile128Bytes), vPrevious = kv + (uint)(((j - 1) % 3) * 2 * Tile128Bytes) + Tile128Bytes;
                    PtxOps.NamedBarrierSync((uint)(1 + wg), 256);
                    var so = PtxOps.WgmmaBf16AttentionStep128(PtxOps.WgmmaDescriptor(qw, 128, 2048), PtxOps.WgmmaDescriptor(kb, 128, 2048), o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53, a60, a61, a62, a63, a70, a71, a72, a73, PtxOps.WgmmaDescriptor(vPrevious, 2048, 128));
                    if (wg == 0 || j + 1 < tiles)
                        PtxOps.NamedBarrierArrive((uint)(2 - wg), 256);
                    PtxOps.WgmmaWait1();
                    var s = new Float32x64 { F0 = so.F0, F1 = so.F1, F2 = so.F2, F3 = so.F3, F4 = so.F4, F5 = so.F5, F6 = so.F6, F7 = so.F7, F8 = so.F8, F9 = so.F9, F10 = so.F10, F11 = so.F11, F12 = so.F12, F13 = so.F13, F14 = so.F14, F15 = so.F15, F16 = so.F16, F17 = so.F17, F18 = so.F18, F19 = so.F19, F20 = so.F20, F21 = so.F21, F22 = so.F22, F23 = so.F23, F24 = so.F24, F25 = so.F25, F26 = so.F26, F27 = so.F27, F28 = so.F28, F29 = so.F29, F30 = so.F30, F31 = so.F31, F32 = so.F32, F33 = so.F33, F34 = so.F34, F35 = so.F35, F36 = so.F36, F37 = so.F37, F38 = so.F38, F39 = so.F39, F40 = so.F40, F41 = so.F41, F42 = so.F42, F43 = so.F43, F44 = so.F44, F45 = so.F45, F46 = so.F46, F47 = so.F47, F48 = so.F48, F49 = so.F49, F50 = so.F50, F51 = so.F51, F52 = so.F52, F53 = so.F53, F54 = so.F54, F55 = so.F55, F56 = so.F56, F57 = so.F57, F58 = so.F58, F59 = so.F59, F60 = so.F60, F61 = so.F61, F62 = so.F62, F63 = so.F63 };
                    float max0 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F0, s.F1), s.F4), s.F5), s.F8), s.F9), s.F12), s.F13), s.F16), s.F17), s.F20), s.F21), s.F24), s.F25), s.F28), s.F29), s.F32), s.F33), s.F36), s.F37), s.F40), s.F41), s.F44), s.F45), s.F48), s.F49), s.F52), s.F53), s.F56), s.F57), s.F60), s.F61);
                    float max1 = PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(PtxOps.Max(s.F2, s.F3), s.F6), s.F7), s.F10), s.F11), s.F14), s.F15), s.F18), s.F19), s.F22), s.F23), s.F26), s.F27), s.F30), s.F31), s.F34), s.F35), s.F38), s.F39), s.F42), s.F43), s.F46), s.F47), s.F50), s.F51), s.F54), s.F55), s.F58), s.F59), s.F62), s.F63);
                    max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 1));
                    max0 = PtxOps.Max(max0, PtxOps.ShuffleXor(max0, 2));
                    max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 1));
                    max1 = PtxOps.Max(max1, PtxOps.ShuffleXor(max1, 2));
                    float mNew0 = PtxOps.Max(m0, max0), mNew1 = PtxOps.Max(m1, max1);
                    alpha0 = PtxOps.Exp2((m0 - mNew0) * p.ScaleLog2);
                    alpha1 = PtxOps.Exp2((m1 - mNew1) * p.ScaleLog2);
                    float shift0 = mNew0 * p.ScaleLog2, shift1 = mNew1 * p.ScaleLog2;
                    m0 = mNew0;
                    m1 = mNew1;
                    float p0 = PtxOps.Exp2(s.F0 * p.ScaleLog2 - shift0);
                    float p1 = PtxOps.Exp2(s.F1 * p.ScaleLog2 - shift0);
                    float p2 = PtxOps.Exp2(s.F2 * p.ScaleLog2 - shift1);
                    float p3 = PtxOps.Exp2(s.F3 * p.ScaleLog2 - shift1);
                    float p4 = PtxOps.Exp2(s.F4 * p.ScaleLog2 - shift0);
                    float p5 = PtxOps.Exp2(s.F5 * p.ScaleLog2 - shift0);
                    float p6 = PtxOps.Exp2(s.F6 * p.ScaleLog2 - shift1);
                    float p7 = PtxOps.Exp2(s.F7 * p.ScaleLog2 - shift1);
                    float p8 = PtxOps.Exp2(s.F8 * p.ScaleLog2 - shift0);
                    float p9 = PtxOps.Exp2(s.F9 * p.ScaleLog2 - shift0);
                    float p10 = PtxOps.Exp2(s.F10 * p.ScaleLog2 - shift1);
                    float p11 = PtxOps.Exp2(s.F11 * p.ScaleLog2 - shift1);
                    float p12 = PtxOps.Exp2(s.F12 * p.ScaleLog2 - shift0);
                    float p13 = PtxOps.Exp2(s.F13 * p.ScaleLog2 - shift0);
                    float p14 = PtxOps.Exp2(s.F14 * p.ScaleLog2 - shift1);
                    float p15 = PtxOps.Exp2(s.F15 * p.ScaleLog2 - shift1);
                    float p16 = PtxOps.Exp2(s.F16 * p.ScaleLog2 - shift0);
                    float p17 = PtxOps.Exp2(s.F17 * p.ScaleLog2 - shift0);
                    float p18 = PtxOps.Exp2(s.F18 * p.ScaleLog2 - shift1);
                    float p19 = PtxOps.Exp2(s.F19 * p.ScaleLog2 - shift1);
                    float p20 = PtxOps.Exp2(s.F20 * p.ScaleLog2 - shift0);
                    float p21 = PtxOps.Exp2(s.F21 * p.ScaleLog2 - shift0);
                    float p22 = PtxOps.Exp2(s.F22 * p.ScaleLog2 - shift1);
                    float p23 = PtxOps.Exp2(s.F23 * p.ScaleLog2 - shift1);
                    float p24 = PtxOps.Exp2(s.F24 * p.ScaleLog2 - shift0);
                    float p25 = PtxOps.Exp2(s.F25 * p.ScaleLog2 - shift0);
                    float p26 = PtxOps.Exp2(s.F26 * p.ScaleLog2 - shift1);
                    float p27 = PtxOps.Exp2(s.F27 * p.ScaleLog2 - shift1);
                    float p28 = PtxOps.Exp2(s.F28 * p.ScaleLog2 - shift0);
                    float p29 = PtxOps.Exp2(s.F29 * p.ScaleLog2 - shift0);
                    float p30 = PtxOps.Exp2(s.F30 * p.ScaleLog2 - shift1);
                    float p31 = PtxOps.Exp2(s.F31 * p.ScaleLog2 - shift1);
                    float p32 = PtxOps.Exp2(s.F32 * p.ScaleLog2 - shift0);
                    float p33 = PtxOps.Exp2(s.F33 * p.ScaleLog2 - shift0);
                    float p34 = PtxOps.Exp2(s.F34 * p.ScaleLog2 - shift1);
                    float p35 = PtxOps.Exp2(s.F35 * p.ScaleLog2 - shift1);
                    float p36 = PtxOps.Exp2(s.F36 * p.ScaleLog2 - shift0);
                    float p37 = PtxOps.Exp2(s.F37 * p.ScaleLog2 - shift0);
                    float p38 = PtxOps.Exp2(s.F38 * p.ScaleLog2 - shift1);
                    float p39 = PtxOps.Exp2(s.F39 * p.ScaleLog2 - shift1);
                    float p40 = PtxOps.Exp2(s.F40 * p.ScaleLog2 - shift0);
                    float p41 = PtxOps.Exp2(s.F41 * p.ScaleLog2 - shift0);
                    float p42 = PtxOps.Exp2(s.F42 * p.ScaleLog2 - shift1);
                    float p43 = PtxOps.Exp2(s.F43 * p.ScaleLog2 - shift1);
                    float p44 = PtxOps.Exp2(s.F44 * p.ScaleLog2 - shift0);
                    float p45 = PtxOps.Exp2(s.F45 * p.ScaleLog2 - shift0);
                    float p46 = PtxOps.Exp2(s.F46 * p.ScaleLog2 - shift1);
                    float p47 = PtxOps.Exp2(s.F47 * p.ScaleLog2 - shift1);
                    float p48 = PtxOps.Exp2(s.F48 * p.ScaleLog2 - shift0);
                    float p49 = PtxOps.Exp2(s.F49 * p.ScaleLog2 - shift0);
                    float p50 = PtxOps.Exp2(s.F50 * p.ScaleLog2 - shift1);
                    float p51 = PtxOps.Exp2(s.F51 * p.ScaleLog2 - shift1);
                    float p52 = PtxOps.Exp2(s.F52 * p.ScaleLog2 - shift0);
                    float p53 = PtxOps.Exp2(s.F53 * p.ScaleLog2 - shift0);
                    float p54 = PtxOps.Exp2(s.F54 * p.ScaleLog2 - shift1);
                    float p55 = PtxOps.Exp2(s.F55 * p.ScaleLog2 - shift1);
                    float p56 = PtxOps.Exp2(s.F56 * p.ScaleLog2 - shift0);
                    float p57 = PtxOps.Exp2(s.F57 * p.ScaleLog2 - shift0);
                    float p58 = PtxOps.Exp2(s.F58 * p.ScaleLog2 - shift1);
                    float p59 = PtxOps.Exp2(s.F59 * p.ScaleLog2 - shift1);
                    float p60 = PtxOps.Exp2(s.F60 * p.ScaleLog2 - shift0);
                    float p61 = PtxOps.Exp2(s.F61 * p.ScaleLog2 - shift0);
                    float p62 = PtxOps.Exp2(s.F62 * p.ScaleLog2 - shift1);
                    float p63 = PtxOps.Exp2(s.F63 * p.ScaleLog2 - shift1);
                    l0 = l0 * alpha0 + (p0 + p1 + p4 + p5 + p8 + p9 + p12 + p13 + p16 + p17 + p20 + p21 + p24 + p25 + p28 + p29 + p32 + p33 + p36 + p37 + p40 + p41 + p44 + p45 + p48 + p49 + p52 + p53 + p56 + p57 + p60 + p61);
                    l1 = l1 * alpha1 + (p2 + p3 + p6 + p7 + p10 + p11 + p14 + p15 + p18 + p19 + p22 + p23 + p26 + p27 + p30 + p31 + p34 + p35 + p38 + p39 + p42 + p43 + p46 + p47 + p50 + p51 + p54 + p55 + p58 + p59 + p62 + p63);
                    c00 = PtxOps.PackBf16(p0, p1);
                    c01 = PtxOps.PackBf16(p2, p3);
                    c02 = PtxOps.PackBf16(p4, p5);
                    c03 = PtxOps.PackBf16(p6, p7);
                    c10 = PtxOps.PackBf16(p8, p9);
                    c11 = PtxOps.PackBf16(p10, p11);
                    c12 = PtxOps.PackBf16(p12, p13);
                    c13 = PtxOps.PackBf16(p14, p15);
                    c20 = PtxOps.PackBf16(p16, p17);
                    c21 = PtxOps.PackBf16(p18, p19);
                    c22 = PtxOps.PackBf16(p20, p21);
                    c23 = PtxOps.PackBf16(p22, p23);
                    c30 = PtxOps.PackBf16(p24, p25);
                    c31 = PtxOps.PackBf16(p26, p27);
                    c32 = PtxOps.PackBf16(p28, p29);
                    c33 = PtxOps.PackBf16(p30, p31);
                    c40 = PtxOps.PackBf16(p32, p33);
                    c41 = PtxOps.PackBf16(p34, p35);
                    c42 = PtxOps.PackBf16(p36, p37);
                    c43 = PtxOps.PackBf16(p38, p39);
                    c50 = PtxOps.PackBf16(p40, p41);
                    c51 = PtxOps.PackBf16(p42, p43);
                    c52 = PtxOps.PackBf16(p44, p45);
                    c53 = PtxOps.PackBf16(p46, p47);
                    c60 = PtxOps.PackBf16(p48, p49);
                    c61 = PtxOps.PackBf16(p50, p51);
                    c62 = PtxOps.PackBf16(p52, p53);
                    c63 = PtxOps.PackBf16(p54, p55);
                    c70 = PtxOps.PackBf16(p56, p57);
                    c71 = PtxOps.PackBf16(p58, p59);
                    c72 = PtxOps.PackBf16(p60, p61);
                    c73 = PtxOps.PackBf16(p62, p63);
                    PtxOps.WgmmaWait0();
                    PtxOps.MbarrierArrive(empty + (uint)(((j - 1) % 3) * 8));
                    o = new Float32x64 { F0 = so.F64 * alpha0, F1 = so.F65 * alpha0, F2 = so.F66 * alpha1, F3 = so.F67 * alpha1, F4 = so.F68 * alpha0, F5 = so.F69 * alpha0, F6 = so.F70 * alpha1, F7 = so.F71 * alpha1, F8 = so.F72 * alpha0, F9 = so.F73 * alpha0, F10 = so.F74 * alpha1, F11 = so.F75 * alpha1, F12 = so.F76 * alpha0, F13 = so.F77 * alpha0, F14 = so.F78 * alpha1, F15 = so.F79 * alpha1, F16 = so.F80 * alpha0, F17 = so.F81 * alpha0, F18 = so.F82 * alpha1, F19 = so.F83 * alpha1, F20 = so.F84 * alpha0, F21 = so.F85 * alpha0, F22 = so.F86 * alpha1, F23 = so.F87 * alpha1, F24 = so.F88 * alpha0, F25 = so.F89 * alpha0, F26 = so.F90 * alpha1, F27 = so.F91 * alpha1, F28 = so.F92 * alpha0, F29 = so.F93 * alpha0, F30 = so.F94 * alpha1, F31 = so.F95 * alpha1, F32 = so.F96 * alpha0, F33 = so.F97 * alpha0, F34 = so.F98 * alpha1, F35 = so.F99 * alpha1, F36 = so.F100 * alpha0, F37 = so.F101 * alpha0, F38 = so.F102 * alpha1, F39 = so.F103 * alpha1, F40 = so.F104 * alpha0, F41 = so.F105 * alpha0, F42 = so.F106 * alpha1, F43 = so.F107 * alpha1, F44 = so.F108 * alpha0, F45 = so.F109 * alpha0, F46 = so.F110 * alpha1, F47 = so.F111 * alpha1, F48 = so.F112 * alpha0, F49 = so.F113 * alpha0, F50 = so.F114 * alpha1, F51 = so.F115 * alpha1, F52 = so.F116 * alpha0, F53 = so.F117 * alpha0, F54 = so.F118 * alpha1, F55 = so.F119 * alpha1, F56 = so.F120 * alpha0, F57 = so.F121 * alpha0, F58 = so.F122 * alpha1, F59 = so.F123 * alpha1, F60 = so.F124 * alpha0, F61 = so.F125 * alpha0, F62 = so.F126 * alpha1, F63 = so.F127 * alpha1 };
                }
                uint vLast = kv + (uint)(((tiles - 1) % 3) * 2 * Tile128Bytes) + Tile128Bytes;
                o = PtxOps.WgmmaBf16M64N128RSTransBChain8(o, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33, c40, c41, c42, c43, c50, c51, c52, c53, c60, c61, c62, c63, c70, c71, c72, c73, PtxOps.WgmmaDescriptor(vLast, 2048, 128), 256);
                PtxOps.WgmmaCommit();
                PtxOps.WgmmaWait0();
            }
            else
            {
                uint vLast = kv + (uint)(((tiles - 1) % 3) * 2 * Tile128Bytes) + Tile128Bytes;
                o = PtxOps.WgmmaBf16M64N128RSTransBChain8(o, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53, a60, a61, a62, a63, a70, a71, a72, a73, PtxOps.WgmmaDescriptor(vLast, 2048, 128), 256);
                PtxOps.WgmmaCommit();
                PtxOps.WgmmaWait0();
            }
            l0 += PtxOps.ShuffleXor(l0, 1);
            l0 += PtxOps.ShuffleXor(l0, 2);
            l1 += PtxOps.ShuffleXor(l1, 1);
            l1 += PtxOps.ShuffleXor(l1, 2);
            float inv0 = PtxOps.Reciprocal(l0), inv1 = PtxOps.Reciprocal(l1);
            int row0 = Grid.IdxX * BlockM + wg * 64 + warp * 16 + (lane >> 2), col = 2 * (lane & 3);
            ulong out0 = p.O + (ulong)(headOffset + row0 * rowStride + col * 2), out1 = out0 + (ulong)(8 * rowStride);
            PtxOps.StoreWord(out0 + 0, PtxOps.PackBf16(o.F0 * inv0, o.F1 * inv0));
            PtxOps.StoreWord(out1 + 0, PtxOps.PackBf16(o.F2 * inv1, o.F3 * inv1));
            PtxOps.StoreWord(out0 + 16, PtxOps.PackBf16(o.F4 * inv0, o.F5 * inv0));
            PtxOps.StoreWord(out1 + 16, PtxOps.PackBf16(o.F6 * inv1, o.F7 * inv1));
            PtxOps.StoreWord(out0 + 32, PtxOps.PackBf16(o.F8 * inv0, o.F9 * inv0));
            PtxOps.StoreWord(out1 + 32, PtxOps.PackBf16(o.F10 * inv1, o.F11 * inv1));
            PtxOps.StoreWord(out0 + 48, PtxOps.PackBf16(o.F12 * inv0, o.F13 * inv0));
            PtxOps.StoreWord(out1 + 48, PtxOps.PackBf16(o.F14 * inv1, o.F15 * inv1));
            PtxOps.StoreWord(out0 + 64, PtxOps.PackBf16(o.F16 * inv0, o.F17 * inv0));
            PtxOps.StoreWord(out1 + 64, PtxOps.PackBf16(o.F18 * inv1, o.F19 * inv1));
            PtxOps.StoreWord(out0 + 80, PtxOps.PackBf16(o.F20 * inv0, o.F21 * inv0));
            PtxOps.StoreWord(out1 + 80, PtxOps.PackBf16(o.F22 * inv1, o.F23 * inv1));
            PtxOps.StoreWord(out0 + 96, PtxOps.PackBf16(o.F24 * inv0, o.F25 * inv0));
            PtxOps.StoreWord(out1 + 96, PtxOps.PackBf16(o.F26 * inv1, o.F27 * inv1));
            PtxOps.StoreWord(out0 + 112, PtxOps.PackBf16(o.F28 * inv0, o.F29 * inv0));
            PtxOps.StoreWord(out1 + 112, PtxOps.PackBf16(o.F30 * inv1, o.F31 * inv1));
            PtxOps.StoreWord(out0 + 128, PtxOps.PackBf16(o.F32 * inv0, o.F33 * inv0));
            PtxOps.StoreWord(out1 + 128, PtxOps.PackBf16(o.F34 * inv1, o.F35 * inv1));
            PtxOps.StoreWord(out0 + 144, PtxOps.PackBf16(o.F36 * inv0, o.F37 * inv0));
            PtxOps.StoreWord(out1 + 144, PtxOps.PackBf16(o.F38 * inv1, o.F39 * inv1));
            PtxOps.StoreWord(out0 + 160, PtxOps.PackBf16(o.F40 * inv0, o.F41 * inv0));
            PtxOps.StoreWord(out1 + 160, PtxOps.PackBf16(o.F42 * inv1, o.F43 * inv1));
            PtxOps.StoreWord(out0 + 176, PtxOps.PackBf16(o.F44 * inv0, o.F45 * inv0));
            PtxOps.StoreWord(out1 + 176, PtxOps.PackBf16(o.F46 * inv1, o.F47 * inv1));
            PtxOps.StoreWord(out0 + 192, PtxOps.PackBf16(o.F48 * inv0, o.F49 * inv0));
            PtxOps.StoreWord(out1 + 192, PtxOps.PackBf16(o.F50 * inv1, o.F51 * inv1));
            PtxOps.StoreWord(out0 + 208, PtxOps.PackBf16(o.F52 * inv0, o.F53 * inv0));
            PtxOps.StoreWord(out1 + 208, PtxOps.PackBf16(o.F54 * inv1, o.F55 * inv1));
            PtxOps.StoreWord(out0 + 224, PtxOps.PackBf16(o.F56 * inv0, o.F57 * inv0));
            PtxOps.StoreWord(out1 + 224, PtxOps.PackBf16(o.F58 * inv1, o.F59 * inv1));
            PtxOps.StoreWord(out0 + 240, PtxOps.PackBf16(o.F60 * inv0, o.F61 * inv0));
            PtxOps.StoreWord(out1 + 240, PtxOps.PackBf16(o.F62 * inv1, o.F63 * inv1));
            if ((lane & 3) == 0)
            {
                ulong lse = p.Lse + (ulong)((((long)b * p.Heads + h) * p.SeqLen + row0) * 4);
                const float Ln2 = 0.6931472f;
                PtxOps.StoreFloat(lse, (m0 * p.ScaleLog2 + PtxOps.Log2(l0)) * Ln2);
                PtxOps.StoreFloat(lse + 32, (m1 * p.ScaleLog2 + PtxOps.Log2(l1)) * Ln2);
            }
        }
    }

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

}
