using System.Reflection;

namespace FlashAttention.Cuda.Kernels;

/// <summary>A generated forward kernel: its method in <see cref="ForwardKernels"/> and its launch shape.</summary>
/// <param name="Name">Method name, e.g. D128_M64_N64_W4.</param>
/// <param name="HeadDim">Head dimension it handles.</param>
/// <param name="BlockM">Query rows per thread block.</param>
/// <param name="BlockN">Keys per tile.</param>
/// <param name="Threads">Threads per block.</param>
/// <param name="SharedBytes">Dynamic shared memory per block.</param>
/// <remarks>Each kernel serves every head dim that is a multiple of 8 up to <paramref name="HeadDim"/> (columns past the tensors' are zero-filled).</remarks>
internal sealed record ForwardVariant(string Name, int HeadDim, int BlockM, int BlockN, int Threads, int SharedBytes)
{
    /// <summary>The kernel method instantiated for an element kind and a score mode, without optional features.</summary>
    public MethodInfo Method(Type kind, Type sign) => Method(kind, sign, typeof(NoFeatures));

    /// <summary>The kernel method instantiated for an element kind, a score mode and a set of optional features, without user mods.</summary>
    public MethodInfo Method(Type kind, Type sign, Type features) => Method(kind, sign, features, typeof(NoCudaScoreMod), typeof(NoCudaMaskMod));

    /// <summary>
    /// The kernel method instantiated for an element kind, a score mode, optional features, the caller's modifiers and a
    /// token layout (<see cref="DenseLayout"/> when none is given, <see cref="PackedLayout"/> for cu_seqlens).
    /// </summary>
    public MethodInfo Method(Type kind, Type sign, Type features, Type scoreMod, Type maskMod, Type? layout = null) =>
        typeof(ForwardKernels).GetMethod(Name, BindingFlags.Public | BindingFlags.Static)!
            .MakeGenericMethod(kind, sign, features, scoreMod, maskMod, layout ?? typeof(DenseLayout));

    /// <summary>Finds a variant by name.</summary>
    public static ForwardVariant Find(string name) =>
        ForwardKernels.Variants.FirstOrDefault(v => v.Name == name)
        ?? throw new ArgumentException($"No forward kernel named '{name}'; known: {string.Join(", ", ForwardKernels.Variants.Select(v => v.Name))}.", nameof(name));
}
