namespace FlashAttention.Cuda.KernelGen;

/// <summary>Where the generated sources live, relative to the repository root.</summary>
public static class GeneratedFiles
{
    /// <summary>The forward kernels.</summary>
    public const string ForwardKernels = "src/FlashAttention.Cuda/Kernels/ForwardKernels.g.cs";

    /// <summary>The backward kernels (dK/dV and dQ).</summary>
    public const string BackwardKernels = "src/FlashAttention.Cuda/Kernels/BackwardKernels.g.cs";

    /// <summary>Every generated file with the text its generator writes.</summary>
    public static IEnumerable<(string Path, Func<string> Generate)> All =>
    [
        (ForwardKernels, ForwardKernelGenerator.Generate),
        (BackwardKernels, BackwardKernelGenerator.Generate),
    ];
}
