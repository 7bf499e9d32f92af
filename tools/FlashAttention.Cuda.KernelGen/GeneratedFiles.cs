namespace FlashAttention.Cuda.KernelGen;

/// <summary>Where the generated sources live, relative to the repository root.</summary>
public static class GeneratedFiles
{
    /// <summary>The forward kernels.</summary>
    public const string ForwardKernels = "src/FlashAttention.Cuda/Kernels/ForwardKernels.g.cs";

    /// <summary>The backward kernels (dK/dV and dQ).</summary>
    public const string BackwardKernels = "src/FlashAttention.Cuda/Kernels/BackwardKernels.g.cs";

    /// <summary>The Hopper wgmma dQ kernel of the split backward.</summary>
    public const string Sm90BackwardDqKernel = "src/FlashAttention.Cuda/Kernels/Sm90BackwardDqKernel.g.cs";

    /// <summary>The Hopper wgmma dK/dV kernel of the split backward.</summary>
    public const string Sm90BackwardKvKernel = "src/FlashAttention.Cuda/Kernels/Sm90BackwardKvKernel.g.cs";

    /// <summary>Every generated file with the text its generator writes.</summary>
    public static IEnumerable<(string Path, Func<string> Generate)> All =>
    [
        (ForwardKernels, ForwardKernelGenerator.Generate),
        (BackwardKernels, BackwardKernelGenerator.Generate),
        (Sm90BackwardDqKernel, Sm90BackwardDqGenerator.Generate),
        (Sm90BackwardKvKernel, Sm90BackwardKvGenerator.Generate),
    ];
}
