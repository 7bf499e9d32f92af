namespace FlashAttention.Cuda.KernelGen;

/// <summary>Where the generated sources live, relative to the repository root.</summary>
public static class GeneratedFiles
{
    /// <summary>The forward kernels.</summary>
    public const string ForwardKernels = "src/FlashAttention.Cuda/Kernels/ForwardKernels.g.cs";
}
