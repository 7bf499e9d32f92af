using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using FlashAttention.Cuda.Ptx;
using Group = ILGPU.Group;
using Xunit;

namespace FlashAttention.Cuda.Tests;

/// <summary>
/// The warpgroup MMA intrinsics compile to the PTX the H200 accepted in device run 40 (docs/benchmarks.md run 30): an
/// sm_90a module, a wgmma.fence right before every wgmma (after the accumulator moves and the A fragments, as the PTX
/// ISA requires), the accumulator as 32 registers both read and written, and no local memory. No GPU needed.
/// </summary>
public class WgmmaPtxTests
{
    [Fact]
    public void WgmmaKernel_IsRetargetedToSm90a_WithAFenceBeforeEachMma()
    {
        using var compiler = new KernelCompiler();
        var (ptx, _) = compiler.Compile(typeof(WgmmaTestKernel).GetMethod(nameof(WgmmaTestKernel.Kernel))!, 128);

        Assert.Matches(@"(?m)^\.target sm_90a$", ptx);
        Assert.Matches(@"(?m)^\.version 8\.\d$", ptx);
        Assert.True(KernelCompiler.IsSm90Only(ptx));
        var mmas = Regex.Matches(ptx, @"wgmma\.fence\.sync\.aligned; wgmma\.mma_async\.sync\.aligned\.m64n64k16\.f32\.bf16\.bf16 \{([^}]*)\}, (\{[^}]*\}, )?%rd\d+(, %rd\d+)?, %fa_p, 1, 1(, 0, 0|, 1);");
        Assert.Equal(3, mmas.Count);
        foreach (Match mma in mmas)
            Assert.Equal(32, mma.Groups[1].Value.Split(',').Length);
        Assert.Equal(2, Regex.Matches(ptx, @"wgmma\.commit_group\.sync\.aligned;").Count);
        Assert.Equal(2, Regex.Matches(ptx, @"wgmma\.wait_group\.sync\.aligned 0;").Count);
        Assert.Contains("fence.proxy.async.shared::cta;", ptx);
        Assert.DoesNotContain(".local", ptx);
        Assert.DoesNotContain("WgmmaBf16", ptx); // the intrinsic stubs are stripped
    }

    [Fact]
    public void ChainedIntrinsics_IssueAWholeProductInOneBlock_OnOneSetOfRegisters()
    {
        using var compiler = new KernelCompiler();
        var (ptx, _) = compiler.Compile(typeof(WgmmaTestKernel).GetMethod(nameof(WgmmaTestKernel.Chained))!, 128);

        // The SS chain: 8 MMAs on the same 32 registers, the first not accumulating (%fa_p is false), descriptors 16
        // units apart; the attention step: 8 SS then 4 RS m64n128k16, two commit groups, one fence before all of them.
        var blocks = ptx.Split('\n').Where(l => l.Contains("wgmma.mma_async", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, blocks.Count);
        foreach (var block in blocks)
        {
            Assert.Single(Regex.Matches(block, @"wgmma\.fence\.sync\.aligned"));
            var ss = Regex.Matches(block, @"m64n64k16\.f32\.bf16\.bf16 \{([^}]*)\}, %fa_a, %fa_b, (%fa_p|%fa_q), 1, 1, 0, 0;");
            Assert.Equal(8, ss.Count);
            Assert.Single(ss.Select(m => m.Groups[1].Value).Distinct());
            Assert.Equal("%fa_p", ss[0].Groups[2].Value);
            Assert.All(ss.Skip(1), m => Assert.Equal("%fa_q", m.Groups[2].Value));
            Assert.Contains("add.s64 %fa_a, ", block);
            Assert.Matches(@"add\.s64 %fa_b, %rd\d+, 112;", block);
        }
        var rs = Regex.Matches(blocks[1], @"m64n128k16\.f32\.bf16\.bf16 \{([^}]*)\}, \{[^}]*\}, %fa_b, %fa_q, 1, 1, 1;");
        Assert.Equal(4, rs.Count);
        Assert.Equal(64, rs[0].Groups[1].Value.Split(',').Length);
        Assert.Equal(2, Regex.Matches(blocks[1], @"wgmma\.commit_group").Count);
        Assert.Matches(@"add\.s64 %fa_b, %rd\d+, 768;", blocks[1]);
        Assert.Contains("wgmma.wait_group.sync.aligned 1;", ptx);
    }

    [Fact]
    public void WideChains_UseM64N128_ForS_AndEightRsSteps_ForPV()
    {
        using var compiler = new KernelCompiler();
        var (ptx, _) = compiler.Compile(typeof(WgmmaTestKernel).GetMethod(nameof(WgmmaTestKernel.Wide))!, 128);

        // Blocks: the S chain (8 SS m64n128k16 on 64 registers), the 128-key attention step (8 SS, then 8 RS, two commit
        // groups) and the 8-step RS chain; one fence per block.
        var blocks = ptx.Split('\n').Where(l => l.Contains("wgmma.mma_async", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, blocks.Count);
        Assert.All(blocks, block => Assert.Single(Regex.Matches(block, @"wgmma\.fence\.sync\.aligned")));
        foreach (var block in blocks.Take(2))
        {
            var ss = Regex.Matches(block, @"m64n128k16\.f32\.bf16\.bf16 \{([^}]*)\}, %fa_a, %fa_b, (%fa_p|%fa_q), 1, 1, 0, 0;");
            Assert.Equal(8, ss.Count);
            Assert.Single(ss.Select(m => m.Groups[1].Value).Distinct());
            Assert.Equal(64, ss[0].Groups[1].Value.Split(',').Length);
            Assert.Equal("%fa_p", ss[0].Groups[2].Value);
        }
        foreach (var block in blocks.Skip(1))
        {
            var rs = Regex.Matches(block, @"m64n128k16\.f32\.bf16\.bf16 \{([^}]*)\}, \{[^}]*\}, %fa_b, %fa_q, 1, 1, 1;");
            Assert.Equal(8, rs.Count);
            Assert.Single(rs.Select(m => m.Groups[1].Value).Distinct());
            Assert.Matches(@"add\.s64 %fa_b, %rd\d+, 1792;", block); // the eighth step: 7 × 256
        }
        Assert.Equal(2, Regex.Matches(blocks[1], @"wgmma\.commit_group").Count);
        Assert.DoesNotContain(".local", ptx);
    }

    [Fact]
    public void WarpSpecialisationIntrinsics_EmitMbarriersSetmaxnregAndNamedBarriers_OnSm90a()
    {
        using var compiler = new KernelCompiler();
        var (ptx, _) = compiler.Compile(typeof(WgmmaTestKernel).GetMethod(nameof(WgmmaTestKernel.WarpSpecialised))!, 384);

        Assert.Matches(@"(?m)^\.target sm_90a$", ptx); // setmaxnreg alone needs sm_90a
        Assert.Matches(@"(?m)^\.maxntid 384, 1, 1$", ptx);
        Assert.Equal(2, Regex.Matches(ptx, @"mbarrier\.init\.shared::cta\.b64 \[%r\d+\], %r\d+;").Count);
        Assert.Single(Regex.Matches(ptx, @"setmaxnreg\.dec\.sync\.aligned\.u32 24;"));
        Assert.Single(Regex.Matches(ptx, @"setmaxnreg\.inc\.sync\.aligned\.u32 240;"));
        Assert.Equal(2, Regex.Matches(ptx, @"\{ \.reg \.b64 %fa_state; mbarrier\.arrive\.shared::cta\.b64 %fa_state, \[%r\d+\]; \}").Count);
        // Each wait spins on its own label: two in one function must not share a name.
        var waits = Regex.Matches(ptx, @"(FA_MBARRIER_WAIT_\d+): mbarrier\.try_wait\.parity\.shared::cta\.b64 %fa_done, \[%r\d+\], %r\d+; @!%fa_done bra \1;");
        Assert.Equal(2, waits.Count);
        Assert.NotEqual(waits[0].Groups[1].Value, waits[1].Groups[1].Value);
        Assert.Matches(@"bar\.sync %r\d+, %r\d+;", ptx);
        Assert.Matches(@"bar\.arrive %r\d+, %r\d+;", ptx);
        Assert.DoesNotContain("Mbarrier", ptx); // the intrinsic stubs are stripped
    }

    [Fact]
    public void SetMaxRegisters_RefusesABudgetPtxasWouldReject()
    {
        using var compiler = new KernelCompiler();
        var error = Assert.ThrowsAny<Exception>(() => compiler.Compile(typeof(WgmmaTestKernel).GetMethod(nameof(WgmmaTestKernel.OddRegisterBudget))!, 128));
        Assert.Contains("multiple of 8", Flatten(error));
    }

    private static string Flatten(Exception error) => error.InnerException is null ? error.Message : error.Message + " / " + Flatten(error.InnerException);

    [Fact]
    public void MmaSyncModules_KeepTheirPortableTarget() =>
        Assert.DoesNotContain("sm_90a", KernelCompiler.Patch(".version 7.8\n.target sm_80\n.address_size 64\n\tmma.sync.aligned.m16n8k16;\n"));

    [Fact]
    public void WgmmaIntrinsics_ThrowOnTheHost() =>
        Assert.Throws<NotSupportedException>(() => PtxOps.WgmmaBf16M64N64K16SS(default, 0, 0, 0));
}

/// <summary>A small kernel with every wgmma intrinsic, for <see cref="WgmmaPtxTests"/>.</summary>
internal static class WgmmaTestKernel
{
    [StructLayout(LayoutKind.Sequential)]
    public struct Args
    {
        public ulong A, B, Output;
    }

    // A, B [64, 64] bf16 in shared memory (8×8 core matrices) → Output [64, 64] fp32: S = A·Bᵀ, then O = bf16(S)·B.
    public static void Kernel(Args p)
    {
        uint smem = PtxOps.SharedBase();
        PtxOps.CopyAsync16(smem + (uint)(Group.IdxX * 16), p.A + (ulong)(Group.IdxX * 16));
        PtxOps.CommitGroup();
        PtxOps.WaitGroup0();
        PtxOps.FenceProxyAsyncShared();
        Group.Barrier();
        var s = default(Float32x32);
        s = PtxOps.WgmmaBf16M64N64K16SS(s, smem >> 4, (smem + 8192) >> 4, 0);
        s = PtxOps.WgmmaBf16M64N64K16SS(s, (smem + 256) >> 4, (smem + 8448) >> 4, 1);
        PtxOps.WgmmaCommit();
        PtxOps.WgmmaWait0();
        var o = PtxOps.WgmmaBf16M64N64K16RSTransB(default, PtxOps.PackBf16(s.F0, s.F1), PtxOps.PackBf16(s.F2, s.F3),
            PtxOps.PackBf16(s.F4, s.F5), PtxOps.PackBf16(s.F6, s.F7), (smem + 8192) >> 4, 0);
        PtxOps.WgmmaCommit();
        PtxOps.WgmmaWait0();
        PtxOps.StoreFloat(p.Output + (ulong)(Group.IdxX * 4), o.F0 + o.F31 + s.F31);
    }

    // The chained forms: S = A·Bᵀ as one intrinsic, then one fused step S' = A·Bᵀ, O' = O + P·B.
    public static void Chained(Args p)
    {
        uint smem = PtxOps.SharedBase();
        var s = PtxOps.WgmmaBf16M64N64SSChain(smem >> 4, (smem + 8192) >> 4, 8, 16, 16);
        PtxOps.WgmmaCommit();
        PtxOps.WgmmaWait0();
        uint a = PtxOps.PackBf16(s.F0, s.F1), b = PtxOps.PackBf16(s.F2, s.F3);
        var step = PtxOps.WgmmaBf16AttentionStep(smem >> 4, (smem + 8192) >> 4, default, a, b, a, b, b, a, b, a, a, a, b, b, b, b, a, a, (smem + 16384) >> 4);
        PtxOps.WgmmaWait1();
        float x = step.F0;
        PtxOps.WgmmaWait0();
        PtxOps.StoreFloat(p.Output + (ulong)(Group.IdxX * 4), x + step.F95);
    }

    // A producer warpgroup (2) signals a full barrier; the consumers (0, 1) wait on it, take turns on named barrier
    // 1 + wg and release an empty barrier.
    public static void WarpSpecialised(Args p)
    {
        int t = Group.IdxX, wg = t >> 7;
        uint full = PtxOps.SharedBase(), empty = full + 8;
        if (t == 0)
        {
            PtxOps.MbarrierInit(full, 128);
            PtxOps.MbarrierInit(empty, 256);
        }
        Group.Barrier();
        if (wg == 2)
        {
            PtxOps.SetMaxRegistersDec(24);
            PtxOps.StoreShared(full + 16 + (uint)(t * 4), (uint)t);
            PtxOps.MbarrierArrive(full);
            PtxOps.MbarrierWaitParity(empty, 0);
        }
        else
        {
            PtxOps.SetMaxRegistersInc(240);
            PtxOps.MbarrierWaitParity(full, 0);
            PtxOps.NamedBarrierSync((uint)(1 + wg), 256);
            uint x = PtxOps.LoadShared(full + 16 + (uint)((t + 256) * 4 % 512));
            PtxOps.NamedBarrierArrive((uint)(2 - wg), 256);
            PtxOps.MbarrierArrive(empty);
            PtxOps.StoreWord(p.Output + (ulong)(t * 4), x);
        }
    }

    // 20 registers: not a budget setmaxnreg accepts, so the generator refuses it.
    public static void OddRegisterBudget(Args p) => PtxOps.SetMaxRegistersInc(20);

    // The 128-key forms: S = A·Bᵀ (64×128), one fused 128-key step, then O += P·B over 8 k-steps.
    public static void Wide(Args p)
    {
        uint smem = PtxOps.SharedBase();
        var s = PtxOps.WgmmaBf16M64N128SSChain(smem >> 4, (smem + 16384) >> 4, 8, 16, 16);
        PtxOps.WgmmaCommit();
        PtxOps.WgmmaWait0();
        uint a = PtxOps.PackBf16(s.F0, s.F1), b = PtxOps.PackBf16(s.F62, s.F63);
        var step = PtxOps.WgmmaBf16AttentionStep128(smem >> 4, (smem + 16384) >> 4, default, b, a, a, b, a, a, b, a, a, b, a, a, b, a, a, b, a, a, b, a, a, b, a, a, b, a, a, b, a, a, b, a, (smem + 49152) >> 4);
        PtxOps.WgmmaWait1();
        float x = step.F0 + step.F63;
        PtxOps.WgmmaWait0();
        var o = new Float32x64 { F0 = step.F64, F63 = step.F127 };
        o = PtxOps.WgmmaBf16M64N128RSTransBChain8(o, b, a, a, b, a, a, b, a, a, b, a, a, b, a, a, b, a, a, b, a, a, b, a, a, b, a, a, b, a, a, b, a, (smem + 49152) >> 4, 256);
        PtxOps.WgmmaCommit();
        PtxOps.WgmmaWait0();
        PtxOps.StoreFloat(p.Output + (ulong)(Group.IdxX * 4), x + o.F0 + o.F63);
    }
}
