using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FlashAttention.Cli;

/// <summary>
/// Measures the machine's float32 fused-multiply-add throughput: the ceiling against which <c>bench</c> reports the
/// kernels' GFLOP/s. A roofline needs the peak of this machine as it runs now (clock, SMT and hypervisor included),
/// not a datasheet figure, so it is measured with the same vector width the kernels use.
/// </summary>
internal static class MachinePeak
{
    /// <summary>Independent accumulators per thread: FMA latency (4–5 cycles) × FMA ports (2) needs at least 10 in flight.</summary>
    private const int Chains = 12;

    /// <summary>Inner iterations between clock reads: large enough that the loop overhead vanishes.</summary>
    private const int InnerIterations = 1 << 16;

    /// <summary>The vector width the measurement uses (and the kernels use): 512 with AVX-512, else 256.</summary>
    public static int VectorBits => Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;

    /// <summary>
    /// Runs a tight FMA loop (12 independent vector accumulators, Vector512 when accelerated, else Vector256) on
    /// <paramref name="threads"/> threads at once for about <paramref name="milliseconds"/> ms and returns the
    /// aggregate rate in GFLOP/s (one FMA = 2 FLOPs per lane).
    /// </summary>
    /// <param name="threads">Threads to run concurrently; -1 or 0 means <see cref="Environment.ProcessorCount"/>.</param>
    /// <param name="milliseconds">How long each thread spins; the best of three rounds of a third of it each is kept per thread.</param>
    public static double MeasureGflops(int threads, int milliseconds = 300)
    {
        if (threads <= 0)
            threads = Environment.ProcessorCount;
        var rates = new double[threads];
        using var start = new Barrier(threads);
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                start.SignalAndWait();
                double best = 0;
                for (int round = 0; round < 3; round++)
                {
                    long flops = 0;
                    var clock = Stopwatch.StartNew();
                    while (clock.ElapsedMilliseconds < milliseconds / 3)
                        flops += Spin(InnerIterations);
                    best = Math.Max(best, flops / clock.Elapsed.TotalSeconds);
                }
                rates[id] = best;
            })
            { IsBackground = true, Name = $"fma-peak-{t}" };
        }
        foreach (var w in workers)
            w.Start();
        foreach (var w in workers)
            w.Join();
        double total = 0;
        foreach (double r in rates)
            total += r;
        return total / 1e9;
    }

    /// <summary>Sink for the accumulators so the JIT cannot drop the loop.</summary>
    private static float s_sink;

    /// <summary>Runs <paramref name="iterations"/> × <see cref="Chains"/> vector FMAs; returns the FLOPs done.</summary>
    // AggressiveOptimization: compiled fully optimised at once, so no round times tier-0 code.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static long Spin(int iterations)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var a = Vector512.Create(0.999999f);
            var b = Vector512.Create(1e-7f);
            Vector512<float> x0 = Vector512.Create(1f), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0,
                x6 = x0, x7 = x0, x8 = x0, x9 = x0, x10 = x0, x11 = x0;
            for (int i = 0; i < iterations; i++)
            {
                x0 = Vector512.FusedMultiplyAdd(x0, a, b); x1 = Vector512.FusedMultiplyAdd(x1, a, b);
                x2 = Vector512.FusedMultiplyAdd(x2, a, b); x3 = Vector512.FusedMultiplyAdd(x3, a, b);
                x4 = Vector512.FusedMultiplyAdd(x4, a, b); x5 = Vector512.FusedMultiplyAdd(x5, a, b);
                x6 = Vector512.FusedMultiplyAdd(x6, a, b); x7 = Vector512.FusedMultiplyAdd(x7, a, b);
                x8 = Vector512.FusedMultiplyAdd(x8, a, b); x9 = Vector512.FusedMultiplyAdd(x9, a, b);
                x10 = Vector512.FusedMultiplyAdd(x10, a, b); x11 = Vector512.FusedMultiplyAdd(x11, a, b);
            }
            s_sink = Vector512.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
            return (long)iterations * Chains * Vector512<float>.Count * 2;
        }
        else
        {
            var a = Vector256.Create(0.999999f);
            var b = Vector256.Create(1e-7f);
            Vector256<float> x0 = Vector256.Create(1f), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0,
                x6 = x0, x7 = x0, x8 = x0, x9 = x0, x10 = x0, x11 = x0;
            for (int i = 0; i < iterations; i++)
            {
                x0 = Vector256.FusedMultiplyAdd(x0, a, b); x1 = Vector256.FusedMultiplyAdd(x1, a, b);
                x2 = Vector256.FusedMultiplyAdd(x2, a, b); x3 = Vector256.FusedMultiplyAdd(x3, a, b);
                x4 = Vector256.FusedMultiplyAdd(x4, a, b); x5 = Vector256.FusedMultiplyAdd(x5, a, b);
                x6 = Vector256.FusedMultiplyAdd(x6, a, b); x7 = Vector256.FusedMultiplyAdd(x7, a, b);
                x8 = Vector256.FusedMultiplyAdd(x8, a, b); x9 = Vector256.FusedMultiplyAdd(x9, a, b);
                x10 = Vector256.FusedMultiplyAdd(x10, a, b); x11 = Vector256.FusedMultiplyAdd(x11, a, b);
            }
            s_sink = Vector256.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
            return (long)iterations * Chains * Vector256<float>.Count * 2;
        }
    }
}
