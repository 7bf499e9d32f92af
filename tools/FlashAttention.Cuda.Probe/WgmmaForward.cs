using System.Text.Json.Nodes;
using FlashAttention.Cuda.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace FlashAttention.Cuda.Probe;

/// <summary>The host side of the wgmma forward prototype (<c>WgmmaForward.g.cs</c>): check, then time beside the library's kernel.</summary>
internal static partial class WgmmaForward
{
    public static int Run(CudaAttention cuda, string defaultVariant, int[] lengths, string[]? only = null)
    {
        var acc = cuda.Accelerator;
        // P·V as two m64n64k16 halves or one m64n128k16, or both products as one chained intrinsic each; ptxas free to use
        // 255 registers (1 block per SM) or capped for 2.
        var kernels = new List<(string Name, LoadedKernel Kernel, int Rows)>();
        foreach (var (method, label, shared, threads, rows) in new[] { (nameof(Kernel), "pv2xn64", SharedBytes, Threads, BlockM), (nameof(KernelPvN128), "pvn128", SharedBytes, Threads, BlockM),
                     (nameof(KernelChained), "chained", SharedBytes, Threads, BlockM), (nameof(KernelPipelined), "pipelined", SharedBytesPipelined, Threads, BlockM),
                     (nameof(KernelFused), "fused", SharedBytesPipelined, Threads, BlockM), (nameof(KernelUnrolled), "unrolled", SharedBytesPipelined, Threads, BlockM),
                     (nameof(KernelUnrolled3), "unrolled3wg", SharedBytes3, Threads3, BlockM3), (nameof(KernelFused128), "fused128", SharedBytes128, Threads, BlockM),
                     (nameof(KernelUnrolled128), "unrolled128", SharedBytes128, Threads, BlockM), (nameof(KernelWs128), "ws128", SharedBytesWs, ThreadsWs, BlockM),
                     (nameof(KernelWs128Pingpong), "ws128pp", SharedBytesWs, ThreadsWs, BlockM) }
                     .Where(k => only is null || only.Contains(k.Item2)))
            foreach (int minBlocks in shared == SharedBytes ? new[] { 1, 2 } : new[] { 1 })
            {
                string name = $"wgmma-{label}-min{minBlocks}";
                var kernel = cuda.GetKernel(typeof(WgmmaForward).GetMethod(method)!, name, threads, shared, minBlocks);
                Console.WriteLine($"{name} (D128, bf16, non-causal): {kernel.Module?.Registers} registers, {kernel.Module?.LocalBytes} B local, " +
                                  $"{kernel.Module?.BlocksPerMultiprocessor(threads, shared)} blocks per SM");
                foreach (var line in (kernel.Module?.JitLog ?? "").Split('\n').Where(l => l.Contains("wgmma", StringComparison.OrdinalIgnoreCase) || l.Contains("spill", StringComparison.OrdinalIgnoreCase)))
                    Console.WriteLine($"  JIT: {line.Trim()}");
                kernels.Add((name, kernel, rows));
            }
        var variant = ForwardVariant.Find(defaultVariant);

        // Correctness against double precision (and the library's kernel against the same), fresh inputs.
        int seed = new Random().Next();
        bool passed = true;
        foreach (var (b, n, h) in new[] { (2, 384, 3), (1, 1024, 2) })
        {
            var shape = new AttentionShape(b, n, n, h, HeadDim);
            var q = DeviceData.Convert<BFloat16>(DeviceData.Normal(shape.QueryLength, seed));
            var k = DeviceData.Convert<BFloat16>(DeviceData.Normal(shape.KeyValueLength, seed + 1));
            var v = DeviceData.Convert<BFloat16>(DeviceData.Normal(shape.KeyValueLength, seed + 2));
            var reference = ReferenceAttention.Forward<BFloat16>(shape, q, k, v);
            using var dq = DeviceData.Upload(acc, q);
            using var dk = DeviceData.Upload(acc, k);
            using var dv = DeviceData.Upload(acc, v);
            using var dout = acc.Allocate1D<BFloat16>(shape.QueryLength);
            using var dlse = acc.Allocate1D<float>(shape.LseLength);
            cuda.Forward(variant, shape, new AttentionOptions(), dq.View, dk.View, dv.View, dout.View, dlse.View);
            cuda.Synchronize();
            var (libErr, libLseErr) = Errors(dout.GetAsArray1D(), dlse.GetAsArray1D(), reference);
            // The library's own wgmma kernels (Sm90Forward: three warpgroups, warp-specialised, ping-pong), forced at any length.
            foreach (var form in LibraryForms)
            {
                (Sm90Forward.WarpSpecialized, Sm90Forward.PingPong) = (form.WarpSpecialized, form.PingPong);
                dout.View.MemSetToZero();
                bool took = cuda.ForwardSm90(shape, null, dq.View, dk.View, dv.View, dout.View, dlse.View);
                cuda.Synchronize();
                var (sm90Err, sm90LseErr) = Errors(dout.GetAsArray1D(), dlse.GetAsArray1D(), reference);
                bool sm90Ok = took && sm90Err <= 1.6e-2 && sm90LseErr <= 2e-3;
                passed &= sm90Ok;
                Console.WriteLine($"  check library {Sm90Forward.Label(shape)} B={b} N={n} H={h} (seed {seed}): O error {sm90Err:E2}, LSE error {sm90LseErr:E2} {(sm90Ok ? "PASS" : "FAIL")}");
            }
            foreach (var (name, kernel, rows) in kernels)
            {
                dout.View.MemSetToZero();
                dlse.View.MemSetToZero();
                cuda.Launch(kernel, ((n + rows - 1) / rows, b * h, 1), Params(shape, dq, dk, dv, dout, dlse), []);
                cuda.Synchronize();
                var (err, lseErr) = Errors(dout.GetAsArray1D(), dlse.GetAsArray1D(), reference);
                bool ok = err <= 1.6e-2 && lseErr <= 2e-3;
                passed &= ok;
                Console.WriteLine($"  check {name} B={b} N={n} H={h} (seed {seed}): O error {err:E2} (library {libErr:E2}), LSE error {lseErr:E2} (library {libLseErr:E2}) {(ok ? "PASS" : "FAIL")}");
            }
        }
        if (!passed)
            return 1;

        // Timing: FlashAttention's grid (16k tokens, model dim 2048 → 16 heads of 128), non-causal.
        var values = new[] { DeviceData.NormalParallel(16384L * 2048, 1), DeviceData.NormalParallel(16384L * 2048, 2), DeviceData.NormalParallel(16384L * 2048, 3) };
        using var bq = DeviceData.Upload(acc, DeviceData.Convert<BFloat16>(values[0]));
        using var bk = DeviceData.Upload(acc, DeviceData.Convert<BFloat16>(values[1]));
        using var bv = DeviceData.Upload(acc, DeviceData.Convert<BFloat16>(values[2]));
        using var bo = acc.Allocate1D<BFloat16>(bq.Length);
        using var bl = acc.Allocate1D<float>(16384 * 16);
        foreach (int n in lengths)
        {
            int b = 16384 / n, h = 16;
            var shape = new AttentionShape(b, n, n, h, HeadDim);
            double flops = 4.0 * b * h * n * (double)n * HeadDim;
            var parameters = Params(shape, bq, bk, bv, bo, bl);
            double library = Bench.Median(cuda, () => cuda.Forward(variant, shape, new AttentionOptions(), bq.View, bk.View, bv.View, bo.View, bl.View.SubView(0, shape.LseLength)));
            var line = $"  N={n,6} B={b,3}: {variant.Name} {library:F3} ms {flops / library / 1e9,6:F1} TFLOP/s";
            foreach (var form in LibraryForms)
            {
                (Sm90Forward.WarpSpecialized, Sm90Forward.PingPong) = (form.WarpSpecialized, form.PingPong);
                double sm90 = Bench.Median(cuda, () => cuda.ForwardSm90(shape, null, bq.View, bk.View, bv.View, bo.View, bl.View.SubView(0, shape.LseLength)));
                line += $" | library {Sm90Forward.Label(shape)} {flops / sm90 / 1e9,6:F1} ({library / sm90:F2}x)";
            }
            foreach (var (name, kernel, rows) in kernels)
            {
                double wgmma = Bench.Median(cuda, () => cuda.Launch(kernel, ((n + rows - 1) / rows, b * h, 1), parameters, []));
                line += $" | {name} {flops / wgmma / 1e9,6:F1} ({library / wgmma:F2}x)";
            }
            Console.WriteLine(line);
        }
        return 0;
    }

    /// <summary>The library's sm_90a kernels: three warpgroups, warp-specialised, warp-specialised ping-pong.</summary>
    private static readonly (bool WarpSpecialized, bool PingPong)[] LibraryForms = [(false, false), (true, false), (true, true)];

    private static WgmmaForwardParams Params(AttentionShape shape, ILGPU.Runtime.MemoryBuffer1D<BFloat16, ILGPU.Stride1D.Dense> q,
        ILGPU.Runtime.MemoryBuffer1D<BFloat16, ILGPU.Stride1D.Dense> k, ILGPU.Runtime.MemoryBuffer1D<BFloat16, ILGPU.Stride1D.Dense> v,
        ILGPU.Runtime.MemoryBuffer1D<BFloat16, ILGPU.Stride1D.Dense> o, ILGPU.Runtime.MemoryBuffer1D<float, ILGPU.Stride1D.Dense> lse) => new()
    {
        Q = CudaAttention.AddressOf(q.View), K = CudaAttention.AddressOf(k.View), V = CudaAttention.AddressOf(v.View),
        O = CudaAttention.AddressOf(o.View), Lse = CudaAttention.AddressOf(lse.View), SeqLen = shape.SeqLenQ, Heads = shape.Heads,
        ScaleLog2 = (float)(1.0 / Math.Sqrt(HeadDim) / Math.Log(2)),
    };

    private static (double Output, double Lse) Errors(BFloat16[] output, float[] lse, ReferenceForward reference)
    {
        double maxError = 0, maxValue = 0, lseError = 0;
        for (int i = 0; i < output.Length; i++)
        {
            double x = (float)output[i];
            maxError = Math.Max(maxError, double.IsNaN(x) ? double.PositiveInfinity : Math.Abs(x - reference.Output[i]));
            maxValue = Math.Max(maxValue, Math.Abs(reference.Output[i]));
        }
        for (int i = 0; i < lse.Length; i++)
            lseError = Math.Max(lseError, float.IsNaN(lse[i]) ? double.PositiveInfinity : Math.Abs(lse[i] - reference.Lse[i]));
        return (maxError / maxValue, lseError);
    }
}
