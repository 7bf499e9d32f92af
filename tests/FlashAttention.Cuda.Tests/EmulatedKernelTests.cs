using Xunit;

namespace FlashAttention.Cuda.Tests;

/// <summary>
/// The GPU kernels themselves, run on the host emulation against the float64 reference: no GPU needed, so CI checks
/// every kernel's index arithmetic, fragment layouts, masking, dropout and pipelining on fresh random inputs of odd
/// sizes. Sizes are small (the emulation runs one host thread per GPU thread) but cross tile boundaries.
/// </summary>
public class EmulatedKernelTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>Named option sets; the shapes and element types are in the test data.</summary>
    private static AttentionOptions Options(string name, AttentionShape shape) => name switch
    {
        "plain" => new AttentionOptions(),
        "causal" => new AttentionOptions { Causal = true },
        "window" => new AttentionOptions { WindowLeft = 20, WindowRight = 7 },
        "softcap" => new AttentionOptions { Softcap = 5f, Scale = 0.3f, Causal = true },
        "negative-scale" => new AttentionOptions { Scale = -0.1f },
        "alibi" => new AttentionOptions { AlibiSlopes = Enumerable.Range(0, shape.Heads).Select(h => 0.5f / (h + 1)).ToArray(), Causal = true },
        "padding" => new AttentionOptions { KeyPaddingMask = Enumerable.Range(0, shape.Batch * shape.SeqLenK).Select(i => i % 7 != 3 && i % shape.SeqLenK < shape.SeqLenK - 5).ToArray() },
        "dropout" => new AttentionOptions { DropoutP = 0.3f, Seed = 0x1234_5678_9ABC_DEF0UL, Offset = (3UL << 32) | 5 },
        "everything" => new AttentionOptions
        {
            WindowLeft = 30, WindowRight = 0, Softcap = 10f,
            AlibiSlopes = Enumerable.Range(0, shape.Batch * shape.Heads).Select(h => 0.1f * (h + 1)).ToArray(),
            KeyPaddingMask = Enumerable.Range(0, shape.Batch * shape.SeqLenK).Select(i => i % 5 != 0).ToArray(),
            DropoutP = 0.2f, Seed = 99,
        },
        _ => throw new ArgumentException(name),
    };

    public static TheoryData<string, string, int, int, int, int, int, int> Cases() => new()
    {
        // options, dtype, B, Nq, Nk, H, Hkv, D
        { "plain", "fp16", 1, 1, 1, 1, 1, 64 },
        { "causal", "fp16", 2, 7, 7, 3, 3, 64 },
        { "plain", "bf16", 1, 127, 77, 2, 1, 128 },
        { "causal", "bf16", 1, 130, 200, 2, 1, 128 },
        { "causal", "fp16", 1, 200, 70, 1, 1, 64 },
        { "window", "fp16", 1, 150, 170, 1, 1, 64 },
        { "softcap", "bf16", 1, 90, 100, 1, 1, 128 },
        { "negative-scale", "fp16", 1, 70, 90, 1, 1, 64 },
        { "alibi", "fp16", 1, 100, 80, 2, 2, 64 },
        { "padding", "bf16", 2, 60, 75, 1, 1, 64 },
        { "dropout", "fp16", 1, 70, 130, 2, 1, 64 },
        { "everything", "fp16", 2, 80, 90, 2, 1, 128 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward(string options, string dtype, int b, int nq, int nk, int h, int hkv, int d)
    {
        var shape = new AttentionShape(b, nq, nk, h, hkv, d);
        if (dtype == "fp16")
            GpuChecks.Forward<Half>(Backends.Shared, shape, Options(options, shape), 2e-3, Seed(options, nq));
        else
            GpuChecks.Forward<BFloat16>(Backends.Shared, shape, Options(options, shape), 1.6e-2, Seed(options, nq));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward(string options, string dtype, int b, int nq, int nk, int h, int hkv, int d) =>
        BackwardBoth(options, dtype, new AttentionShape(b, nq, nk, h, hkv, d), deterministic: false);

    private void BackwardBoth(string options, string dtype, AttentionShape shape, bool deterministic)
    {
        // The default backward is the split (deterministic) path either way; Deterministic only matters with UseAtomicDq.
        var o = Options(options, shape) with { Deterministic = deterministic };
        var errors = dtype == "fp16"
            ? GpuChecks.Backward<Half>(Backends.Shared, shape, o, 2e-3, Seed(options, shape.SeqLenQ))
            : GpuChecks.Backward<BFloat16>(Backends.Shared, shape, o, 1.6e-2, Seed(options, shape.SeqLenQ));
        output.WriteLine($"{options} {dtype} {shape}: dq {errors.Dq:E2} dk {errors.Dk:E2} dv {errors.Dv:E2}");
    }

    public static TheoryData<string> ForwardKernelNames()
    {
        var data = new TheoryData<string>();
        foreach (var variant in Kernels.ForwardKernels.Variants)
            data.Add(variant.Name);
        return data;
    }

    /// <summary>Every generated forward kernel: causal with softcap and dropout, rows longer than one tile of keys.</summary>
    [Theory]
    [MemberData(nameof(ForwardKernelNames))]
    public void EveryForwardKernel(string name)
    {
        var variant = Kernels.ForwardVariant.Find(name);
        var shape = new AttentionShape(1, 140, 300, 2, 1, variant.HeadDim);
        var options = new AttentionOptions { Causal = true, Softcap = 8f, DropoutP = 0.2f, Seed = 11 };
        GpuChecks.Forward<Half>(Backends.Shared, shape, options, 2e-3, Seed(name, 140), variant);
        // Peaky scores: row maxima keep growing from tile to tile by more than the lazy-rescale threshold.
        GpuChecks.Forward<Half>(Backends.Shared, shape, new AttentionOptions { Scale = 1.5f }, 2e-3, Seed(name, 141), variant);
        // A narrow window with more queries than keys: warps of one block see different key tiles, some none at all,
        // and whole blocks see no key.
        var tall = new AttentionShape(1, 300, 140, 2, 1, variant.HeadDim);
        GpuChecks.Forward<Half>(Backends.Shared, tall, new AttentionOptions { WindowLeft = 21, WindowRight = 3 }, 2e-3, Seed(name, 142), variant);
        // A head dim below the kernel's (its last column chunk is neither read nor stored), rows not a multiple of 16.
        var narrow = new AttentionShape(1, 37, 53, 2, 2, variant.HeadDim - 8);
        GpuChecks.Forward<Half>(Backends.Shared, narrow, new AttentionOptions(), 2e-3, Seed(name, 143), variant);
        // Keys ending 29 into a 48-key tile (125 = 2·48 + 29; 53 and 300 end 5 and 12 in), with ALiBi and dropout:
        // every tail-sized step of the _TT kernels runs.
        var tail = new AttentionShape(2, 77, 125, 2, 1, variant.HeadDim);
        GpuChecks.Forward<Half>(Backends.Shared, tail, new AttentionOptions { DropoutP = 0.1f, Seed = 3, AlibiSlopes = new float[] { 0.3f, 0.1f } },
            2e-3, Seed(name, 144), variant);
    }

    /// <summary>A 16-bit sub-view that does not start on 16 bytes is refused before any launch, naming the argument.</summary>
    [Fact]
    public void MisalignedSubViewIsAnArgumentError()
    {
        var cuda = Backends.Shared;
        var shape = new AttentionShape(1, 8, 8, 1, 64);
        using var buffer = cuda.Accelerator.Allocate1D<Half>(shape.QueryLength + 8);
        using var good = cuda.Accelerator.Allocate1D<Half>(shape.QueryLength);
        using var lse = cuda.Accelerator.Allocate1D<float>(shape.LseLength);
        Assert.Equal(0UL, CudaAttention.AddressOf(good.View) % 16);
        var shifted = buffer.View.SubView(1, shape.QueryLength);
        var e = Assert.Throws<ArgumentException>(() => cuda.Forward(shape, shifted, good.View, good.View, good.View, lse.View));
        Assert.Equal("q", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => cuda.Forward(shape, good.View, good.View, good.View, shifted, lse.View));
        Assert.Equal("output", e.ParamName);
        // Eight elements in is 16 bytes: accepted.
        cuda.Forward(shape, buffer.View.SubView(8, shape.QueryLength), good.View, good.View, good.View, lse.View);
    }

    public static TheoryData<string> BackwardKernelNames()
    {
        var data = new TheoryData<string>();
        foreach (var variant in Kernels.BackwardKernels.KvVariants.Concat(Kernels.BackwardKernels.DqVariants))
            data.Add(variant.Name);
        return data;
    }

    /// <summary>Every generated backward kernel, not only the defaults: a causal GQA case with dropout, crossing tile edges.</summary>
    [Theory]
    [MemberData(nameof(BackwardKernelNames))]
    public void EveryBackwardKernel(string name)
    {
        var variant = Kernels.BackwardVariant.Find(name);
        int d = variant.HeadDim;
        var defaults = CudaAttention.DefaultBackward(d, atomicDq: false);
        if (variant.Outputs != Kernels.KvOutputs.Both)
            return; // the dV-only and dK-only passes run as a pair: the head-dim 256 cases of the other tests
        var (kv, dq) = variant.Name.StartsWith("DQ", StringComparison.Ordinal)
            ? (defaults.Kv.Length == 1 ? defaults.Kv[0] : null, variant)
            : (variant, variant.FusedDq ? null : defaults.Dq);
        if (kv is null)
            return;
        var shape = new AttentionShape(1, 130, 100, 2, 1, d);
        var options = new AttentionOptions { Causal = true, DropoutP = 0.25f, Seed = 5 };
        var errors = GpuChecks.Backward<Half>(Backends.Shared, shape, options, 2e-3, Seed(name, 140), kv, dq);
        output.WriteLine($"{name}: dq {errors.Dq:E2} dk {errors.Dk:E2} dv {errors.Dv:E2}");
    }

    private static int Seed(string options, int nq) => HashCode.Combine(options, nq, Environment.TickCount);
}
