using System.Diagnostics;
using System.Text.RegularExpressions;
using FlashAttention.Cuda.Kernels;
using FlashAttention.Cuda.Ptx;

namespace FlashAttention.Cuda.Probe;

/// <summary>Compiles every kernel variant to PTX (no GPU needed) and writes the files with a one-line summary each.</summary>
internal static class PtxDump
{
    /// <param name="directory">Where the .ptx files go.</param>
    /// <param name="everyVariantWithFeatures">Also every forward variant (not just the defaults) with each feature set.</param>
    /// <param name="only">When set, only the variants whose name contains it (a quick ptxas loop on one kernel).</param>
    public static int Run(string directory, bool everyVariantWithFeatures = false, string? only = null)
    {
        Directory.CreateDirectory(directory);
        using var compiler = new KernelCompiler();
        // Every variant without features, and the defaults with each optional feature set (ALiBi, dropout).
        var jobs = ForwardKernels.Variants.Select(v => (Variant: v, Features: typeof(NoFeatures)))
            .Concat(CudaAttention.KernelHeadDims.SelectMany(d => new[] { typeof(AlibiFeature), typeof(DropoutFeature), typeof(AlibiDropoutFeatures) }
                .Select(f => (Variant: CudaAttention.DefaultVariant(d, dropout: f == typeof(DropoutFeature) || f == typeof(AlibiDropoutFeatures), alibi: f == typeof(AlibiFeature) || f == typeof(AlibiDropoutFeatures)), Features: f))))
            .Concat(everyVariantWithFeatures
                ? ForwardKernels.Variants.Where(v => !CudaAttention.KernelHeadDims.Any(d => CudaAttention.DefaultVariant(d, dropout: true) == v))
                    .SelectMany(v => new[] { typeof(DropoutFeature), typeof(AlibiFeature) }.Select(f => (Variant: v, Features: f)))
                : []);
        foreach (var (variant, features) in jobs.Where(j => only is null || j.Variant.Name.Contains(only, StringComparison.Ordinal)))
            foreach (var kind in new[] { typeof(Fp16Kind), typeof(Bf16Kind) })
            {
                var clock = Stopwatch.StartNew();
                var (ptx, entry) = compiler.Compile(variant.Method(kind, typeof(PositiveScale), features), variant.Threads);
                string suffix = features == typeof(NoFeatures) ? "" : "_" + features.Name;
                string file = Path.Combine(directory, $"{variant.Name}_{(kind == typeof(Fp16Kind) ? "f16" : "bf16")}{suffix}.ptx");
                File.WriteAllText(file, ptx);
                Console.WriteLine($"{Path.GetFileName(file),-34} {clock.Elapsed.TotalSeconds,6:F2} s  entry {entry}  " +
                    $"mma {Count(ptx, "mma.sync")}  ldmatrix {Count(ptx, "ldmatrix")}  cp.async {Count(ptx, "cp.async.cg")}  " +
                    $"mul.hi {Count(ptx, "mul.hi.u32")}  .local {Count(ptx, ".local")}  call {Regex.Matches(ptx, @"\bcall").Count}");
            }
        foreach (var variant in BackwardKernels.KvVariants.Concat(BackwardKernels.DqVariants).Concat(BackwardKernels.SoftmaxVariants)
                     .Where(v => only is null || v.Name.Contains(only, StringComparison.Ordinal)))
            foreach (var (mode, features) in new[] { (typeof(PositiveScale), typeof(NoFeatures)), (typeof(SoftcapScore), typeof(NoFeatures)), (typeof(PositiveScale), typeof(AlibiFeature)), (typeof(PositiveScale), typeof(DropoutFeature)), (typeof(SoftcapScore), typeof(AlibiDropoutFeatures)) })
            {
                var clock = Stopwatch.StartNew();
                var (ptx, entry) = compiler.Compile(variant.Method(typeof(Bf16Kind), mode, features), variant.Threads);
                string suffix = (mode == typeof(SoftcapScore) ? "_cap" : "") + (features == typeof(NoFeatures) ? "" : "_" + features.Name);
                string file = Path.Combine(directory, $"{variant.Name}_bf16{suffix}.ptx");
                File.WriteAllText(file, ptx);
                Console.WriteLine($"{Path.GetFileName(file),-34} {clock.Elapsed.TotalSeconds,6:F2} s  entry {entry}  " +
                    $"mma {Count(ptx, "mma.sync")}  ldmatrix {Count(ptx, "ldmatrix")}  cp.async {Count(ptx, "cp.async.cg")}  red {Count(ptx, "red.global")}  " +
                    $"mul.hi {Count(ptx, "mul.hi.u32")}  .local {Count(ptx, ".local")}  call {Regex.Matches(ptx, @"\bcall").Count}");
            }
        foreach (var form in Sm90BackwardDq.Forms.Select(f => (f.Label, f.Kernel, f.Threads, f.MinBlocksPerSm))
                     .Concat(Sm90BackwardKv.Forms.Select(f => (f.Label, f.Kernel, f.Threads, f.MinBlocksPerSm)))
                     .Where(f => only is null || f.Label.Contains(only, StringComparison.Ordinal)))
        {
            var (ptx, entry) = compiler.Compile(form.Kernel, form.Threads, form.MinBlocksPerSm);
            string file = Path.Combine(directory, $"{form.Label}_bf16.ptx");
            File.WriteAllText(file, ptx);
            Console.WriteLine($"{Path.GetFileName(file),-34} entry {entry}  wgmma {Count(ptx, "wgmma.mma_async")}  cp.async {Count(ptx, "cp.async.cg")}  .local {Count(ptx, ".local")}");
        }
        return 0;
    }

    private static int Count(string text, string what) => Regex.Matches(text, Regex.Escape(what)).Count;
}
