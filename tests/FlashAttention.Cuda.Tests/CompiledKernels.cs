using System.Collections.Concurrent;
using FlashAttention.Cuda.Kernels;
using FlashAttention.Cuda.Ptx;

namespace FlashAttention.Cuda.Tests;

/// <summary>PTX of the generated kernels, compiled once per test run with ILGPU's PTX backend (no GPU involved).</summary>
internal static class CompiledKernels
{
    private static readonly Lazy<KernelCompiler> Compiler = new(() => new KernelCompiler());
    private static readonly ConcurrentDictionary<(string, Type, Type), (string Ptx, string Entry)> Cache = new();

    public static (string Ptx, string Entry) Get(ForwardVariant variant, Type kind, Type sign) =>
        Cache.GetOrAdd((variant.Name, kind, sign), _ => Compiler.Value.Compile(variant.Method(kind, sign), variant.Threads));

    public static Type Kind(string name) => name == "fp16" ? typeof(Fp16Kind) : typeof(Bf16Kind);
}
