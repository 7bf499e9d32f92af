using System.Text.RegularExpressions;
using FlashAttention.Cuda.Kernels;
using FlashAttention.Cuda.Ptx;
using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace FlashAttention.Cuda.Tests;

/// <summary>A fact that needs an sm_90 (Hopper) CUDA device: skipped, with the reason shown, elsewhere.</summary>
public sealed class Sm90FactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> without an sm_90 device.</summary>
    public Sm90FactAttribute()
    {
        if (!CudaAttention.IsAvailable)
            Skip = $"needs an sm_90 CUDA device ({CudaAttention.UnavailableReason})";
        else
        {
            using var cuda = new CudaAttention();
            if (!cuda.IsSm90)
                Skip = "needs an sm_90 CUDA device (Hopper); this one is older";
        }
    }
}

/// <summary>The Hopper wgmma forward kernel (<see cref="Sm90Forward"/>): when it is taken, its PTX, and its results.</summary>
public class Sm90ForwardTests
{
    private static AttentionShape Shape(int nq, int nk, int d = 128) => new(2, nq, nk, 4, 2, d);

    private static bool Applies(int nq, int nk, int d = 128, AttentionOptions? options = null, bool bf16 = true, bool userMods = false,
        bool softmax = false, int minSeqQ = 4096) =>
        Sm90Forward.Applies(Shape(nq, nk, d), options, bf16, userMods, softmax, minSeqQ);

    [Fact]
    public void Applies_OnlyToThePlainBf16HeadDim128Case()
    {
        Assert.True(Applies(4096, 4096));
        Assert.True(Applies(5000, 640, options: new AttentionOptions { Scale = 0.3f }));
        // Every option it does not implement, another element type, another head dim, a key length off the 64-key
        // tiles, the packed layout, a short query length: the mma.sync kernels.
        Assert.False(Applies(4096, 4096, bf16: false));
        Assert.False(Applies(4096, 4096, userMods: true));
        Assert.False(Applies(4096, 4096, softmax: true));
        Assert.False(Applies(4096, 4096, d: 64));
        Assert.False(Applies(4096, 4095));
        Assert.False(Applies(4096, 32));
        Assert.False(Applies(4095, 4096));
        Assert.True(Applies(1, 64, minSeqQ: 1));
        foreach (var options in new AttentionOptions[]
                 {
                     new() { Causal = true }, new() { WindowLeft = 100, WindowRight = 100 }, new() { Softcap = 30f }, new() { Scale = -0.1f },
                     new() { AlibiSlopes = new[] { 0.5f, 0.25f, 0.125f, 0.0625f } }, new() { KeyPaddingMask = new bool[2 * 4096] },
                     new() { DropoutP = 0.1f, Seed = 1 }, new() { Variant = AttentionVariant.Cosine },
                 })
            Assert.False(Applies(4096, 4096, options: options), options.ToString());
        var packed = new VarlenLayout(new[] { 0, 4096, 8192 }, new[] { 0, 4096, 8192 }, 4, 2, 128);
        Assert.False(Sm90Forward.Applies(packed, null, true, false, false));
    }

    /// <summary>Nk a multiple of 128 takes the warp-specialised kernel (128 rows a block), else the three-warpgroup one (192).</summary>
    [Theory]
    [InlineData(1024, 8, "Sm90_D128_M128_N128_WS_PP")] // ⌈1000 / 128⌉
    [InlineData(1088, 6, "Sm90_D128_M192_N64_WG3")] // ⌈1000 / 192⌉
    public void Parameters_PutEveryPartialBlockAfterTheFullOnes(int nk, int queryBlocks, string label)
    {
        using var _ = WarpSpecializedOn(pingPong: true);
        Assert.Equal(label, Sm90Forward.Label(Shape(1000, nk)));
        var (p, blocks) = Sm90Forward.Parameters(Shape(1000, nk), 1, 2, 3, 4, 5, 0.25f);
        Assert.Equal(queryBlocks, p.QueryBlocks);
        Assert.Equal(8, p.BatchHeads);
        Assert.Equal(8 * queryBlocks, blocks);
        Assert.Equal((1000, nk, 4, 2, 2), (p.SeqQ, p.SeqK, p.Heads, p.KvHeads, p.GroupSize));
        // The kernel's block → (head, query block) map, written out: every pair once, the last query blocks last.
        var seen = new HashSet<(int, int)>();
        for (int block = 0; block < blocks; block++)
        {
            int full = p.QueryBlocks - 1;
            (int bh, int qb) = block < full * p.BatchHeads ? (block / full, block % full) : (block - full * p.BatchHeads, full);
            Assert.True(seen.Add((bh, qb)));
            Assert.Equal(block >= full * p.BatchHeads, qb == full);
        }
        Assert.Equal(blocks, seen.Count);
    }

    [Fact]
    public void Kernel_IsSm90a_WithoutLocalMemory_AndIssuesOnlyChainedWgmma()
    {
        using var compiler = new KernelCompiler();
        var (ptx, _) = compiler.Compile(typeof(Sm90Forward).GetMethod(nameof(Sm90Forward.Kernel))!, Sm90Forward.Threads);
        Assert.True(KernelCompiler.IsSm90Only(ptx));
        Assert.Contains(".target sm_90a", ptx);
        Assert.Contains(".maxntid 384, 1, 1", ptx);
        Assert.DoesNotContain(".local", ptx);
        // The first S chain, three fused steps (two per loop trip and the odd tail) and two final P·V chains.
        var blocks = ptx.Split('\n').Where(l => l.Contains("wgmma.mma_async", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, blocks.Count);
        Assert.All(blocks, block => Assert.Single(Regex.Matches(block, @"wgmma\.fence\.sync\.aligned")));
    }

    [Theory]
    [InlineData(nameof(Sm90Forward.KernelWarpSpecialized), 0)]
    [InlineData(nameof(Sm90Forward.KernelWarpSpecializedPingpong), 4)] // warpgroup 1's first hand-over, then one per fused step
    public void WarpSpecializedKernels_AreSm90a_WithRegisterReallocation_AndMbarrierStages(string method, int namedBarrierArrives)
    {
        using var compiler = new KernelCompiler();
        var (ptx, _) = compiler.Compile(typeof(Sm90Forward).GetMethod(method)!, Sm90Forward.Threads);
        Assert.Contains(".target sm_90a", ptx);
        Assert.Contains(".maxntid 384, 1, 1", ptx);
        Assert.DoesNotContain(".local", ptx);
        Assert.Single(Regex.Matches(ptx, $@"setmaxnreg\.dec\.sync\.aligned\.u32 {Sm90Forward.ProducerRegisters};"));
        Assert.Single(Regex.Matches(ptx, $@"setmaxnreg\.inc\.sync\.aligned\.u32 {Sm90Forward.ConsumerRegisters};"));
        // Six barriers (full and empty per stage): three init sites unrolled from one loop body, two inits each.
        Assert.Equal(2, Regex.Matches(ptx, @"mbarrier\.init\.shared::cta\.b64").Count);
        // The first S chain, three fused steps (two per loop trip and the odd tail) and two final P·V chains.
        Assert.Equal(6, ptx.Split('\n').Count(l => l.Contains("wgmma.mma_async", StringComparison.Ordinal)));
        // Producer: an empty wait; consumers: the first full wait and one per fused step.
        Assert.Equal(5, Regex.Matches(ptx, @"mbarrier\.try_wait\.parity").Count);
        Assert.Equal(namedBarrierArrives, Regex.Matches(ptx, @"bar\.arrive").Count);
        Assert.Contains(ptx.Split('\n'), l => l.Contains("cp.async.wait_group 1", StringComparison.Ordinal));
        // The per-SM register file holds producer + two consumers at the launch bound of 384 threads.
        Assert.True(Sm90Forward.ProducerRegisters + 2 * Sm90Forward.ConsumerRegisters <= 3 * (65536 / 384 / 8 * 8));
        Assert.True(Sm90Forward.SharedBytesWs <= 227 * 1024);
    }

    /// <summary>
    /// Odd query lengths (1 to past a block), Nq ≠ Nk, GQA, fresh inputs: against float64 and the mma.sync kernel. Nk a
    /// multiple of 128 runs the warp-specialised kernel (both forms), other multiples of 64 the three-warpgroup one.
    /// </summary>
    [Sm90Fact]
    public void MatchesReferenceAndTheMmaSyncKernel()
    {
        foreach (bool? pingPong in new bool?[] { true, false, null })
        {
            using var _ = pingPong is { } form ? WarpSpecializedOn(form) : null;
            {
                foreach (var (b, nq, nk, h, hkv) in new[] { (2, 1, 64, 2, 1), (1, 7, 448, 4, 2), (2, 127, 128, 3, 3), (1, 1000, 1024, 2, 1),
                             (1, 2111, 2112, 2, 2), (2, 129, 256, 4, 1), (1, 300, 384, 2, 2), (1, 1, 640, 1, 1), (1, 2049, 1280, 3, 1) })
                {
                    var shape = new AttentionShape(b, nq, nk, h, hkv, 128);
                    var (output, lse, reference) = Run(shape, new AttentionOptions(), seed: Environment.TickCount + nq, usePublicPath: false);
                    AssertClose(output, lse, reference, $"{Sm90Forward.Label(shape)} B={b} Nq={nq} Nk={nk} H={h}/{hkv}");
                }
            }
        }
    }

    /// <summary>Turns the warp-specialised kernels on (in the given form) until disposed.</summary>
    private static IDisposable WarpSpecializedOn(bool pingPong)
    {
        var saved = (Sm90Forward.WarpSpecialized, Sm90Forward.PingPong);
        (Sm90Forward.WarpSpecialized, Sm90Forward.PingPong) = (true, pingPong);
        return new Restore(() => (Sm90Forward.WarpSpecialized, Sm90Forward.PingPong) = saved);
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    /// <summary>With <see cref="Sm90Forward.MinSeqQ"/> set (opt-in), the public forward takes the kernel from there on: its bits equal the forced call's.</summary>
    [Sm90Fact]
    public void PublicForward_TakesIt_WhenOptedIn_AtLongQueryLengths()
    {
        var shape = new AttentionShape(1, 4101, 4096, 1, 1, 128);
        int seed = Environment.TickCount;
        int saved = Sm90Forward.MinSeqQ;
        Sm90Forward.MinSeqQ = 4096;
        try
        {
            var viaPublic = Run(shape, null, seed, usePublicPath: true);
            var forced = Run(shape, null, seed, usePublicPath: false);
            Assert.Equal(forced.Output.Select(x => (float)x), viaPublic.Output.Select(x => (float)x));
            Assert.Equal(forced.Lse, viaPublic.Lse);
            AssertClose(viaPublic.Output, viaPublic.Lse, viaPublic.Reference, "public path");
        }
        finally
        {
            Sm90Forward.MinSeqQ = saved;
        }
    }

    [Fact]
    public void IsOptIn_UnlessTheEnvironmentSetsAThreshold()
    {
        string? set = Environment.GetEnvironmentVariable("FLASHATTN_SM90_MIN_SEQQ");
        Assert.Equal(set is null ? int.MaxValue : int.Parse(set, System.Globalization.CultureInfo.InvariantCulture), Sm90Forward.MinSeqQ);
    }

    private static (BFloat16[] Output, float[] Lse, ReferenceForward Reference) Run(AttentionShape shape, AttentionOptions? options, int seed, bool usePublicPath)
    {
        var random = new Random(seed);
        var q = GpuChecks.RandomInputs<BFloat16>(shape.QueryLength, random);
        var k = GpuChecks.RandomInputs<BFloat16>(shape.KeyValueLength, random);
        var v = GpuChecks.RandomInputs<BFloat16>(shape.KeyValueLength, random);
        var reference = ReferenceAttention.Forward<BFloat16>(shape, q, k, v, options);
        using var cuda = new CudaAttention();
        if (usePublicPath)
        {
            var (publicOutput, publicLse) = GpuChecks.RunForward(cuda, shape, q, k, v, options ?? new AttentionOptions());
            return (publicOutput, publicLse, reference);
        }

        var acc = cuda.Accelerator;
        using var dq = acc.Allocate1D(q);
        using var dk = acc.Allocate1D(k);
        using var dv = acc.Allocate1D(v);
        using var dout = acc.Allocate1D<BFloat16>(shape.QueryLength);
        using var dlse = acc.Allocate1D<float>(shape.LseLength);
        dout.View.MemSet(0xFF);
        dlse.View.MemSet(0xFF);
        Assert.True(cuda.ForwardSm90(shape, options, dq.View, dk.View, dv.View, dout.View, dlse.View));
        cuda.Synchronize();

        // The mma.sync kernel on the same inputs must be as close to the reference (it is the library's other path).
        var (mmaOutput, mmaLse) = GpuChecks.RunForward(cuda, shape, q, k, v, options ?? new AttentionOptions(), CudaAttention.DefaultVariant(128));
        AssertClose(mmaOutput, mmaLse, reference, "mma.sync kernel");
        return (dout.GetAsArray1D(), dlse.GetAsArray1D(), reference);
    }

    private static void AssertClose(BFloat16[] output, float[] lse, ReferenceForward reference, string what)
    {
        double error = GpuChecks.RelativeError(output, reference.Output, $"{what}: output");
        Assert.True(error <= 1.6e-2, $"{what}: relative error {error:E2}");
        GpuChecks.AssertLse(lse, reference.Lse);
    }
}
