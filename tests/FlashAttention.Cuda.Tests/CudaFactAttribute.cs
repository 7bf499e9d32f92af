using Xunit;

namespace FlashAttention.Cuda.Tests;

/// <summary>A fact that needs a CUDA device: skipped, with the reason shown, where none is present (as in CI).</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when no CUDA device is found.</summary>
    public CudaFactAttribute()
    {
        if (!CudaAttention.IsAvailable)
            Skip = $"needs a CUDA device ({CudaAttention.UnavailableReason})";
    }
}

/// <summary>A fact about behaviour without a CUDA device: skipped where one is present.</summary>
public sealed class NoCudaFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when a CUDA device is found.</summary>
    public NoCudaFactAttribute()
    {
        if (CudaAttention.IsAvailable)
            Skip = "a CUDA device is present";
    }
}

/// <summary>A fact that needs NVIDIA's ptxas (on PATH or in FLASHATTN_PTXAS); skipped otherwise.</summary>
public sealed class PtxasFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when ptxas is not found.</summary>
    public PtxasFactAttribute()
    {
        if (Ptxas.Path is null)
            Skip = "needs ptxas (set FLASHATTN_PTXAS or put it on PATH)";
    }
}

/// <summary>Locates NVIDIA's PTX assembler.</summary>
internal static class Ptxas
{
    public static string? Path { get; } = Find();

    private static string? Find()
    {
        var configured = Environment.GetEnvironmentVariable("FLASHATTN_PTXAS");
        if (!string.IsNullOrEmpty(configured) && File.Exists(configured))
            return configured;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator))
        {
            if (dir.Length == 0)
                continue;
            var candidate = System.IO.Path.Combine(dir, OperatingSystem.IsWindows() ? "ptxas.exe" : "ptxas");
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }
}
