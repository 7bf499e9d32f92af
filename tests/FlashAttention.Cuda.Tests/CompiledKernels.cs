using System.Collections.Concurrent;
using FlashAttention.Cuda.Kernels;
using FlashAttention.Cuda.Ptx;

namespace FlashAttention.Cuda.Tests;

/// <summary>PTX of the generated kernels, compiled once per test run with ILGPU's PTX backend (no GPU involved).</summary>
internal static class CompiledKernels
{
    private static readonly Lazy<KernelCompiler> Compiler = new(() => new KernelCompiler());
    private static readonly ConcurrentDictionary<(string, Type, Type, Type), (string Ptx, string Entry)> Cache = new();

    public static (string Ptx, string Entry) Get(ForwardVariant variant, Type kind, Type sign) => Get(variant, kind, sign, typeof(NoFeatures));

    public static (string Ptx, string Entry) Get(ForwardVariant variant, Type kind, Type sign, Type features) =>
        Cache.GetOrAdd((variant.Name, kind, sign, features), _ => Compiler.Value.Compile(variant.Method(kind, sign, features), variant.Threads));

    public static Type Kind(string name) => name == "fp16" ? typeof(Fp16Kind) : typeof(Bf16Kind);
}
