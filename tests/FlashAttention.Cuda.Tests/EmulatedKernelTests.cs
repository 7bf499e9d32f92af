using Xunit;

namespace FlashAttention.Cuda.Tests;

/// <summary>The GPU kernels themselves, run on the host emulation against the float64 reference (no GPU needed).</summary>
public class EmulatedKernelTests
{
    [Theory]
    [InlineData(64, false)]
    [InlineData(64, true)]
    public void ForwardSmall(int d, bool causal) =>
        GpuChecks.Forward<Half>(Backends.Emulation, new AttentionShape(1, 7, 7, 1, d), new AttentionOptions { Causal = causal }, 2e-3, 1);

    [Fact]
    public void ForwardD128Gqa() =>
        GpuChecks.Forward<BFloat16>(Backends.Emulation, new AttentionShape(1, 130, 200, 2, 1, 128), new AttentionOptions { Causal = true }, 1.6e-2, 2);
}
