using System.Text.Json.Nodes;
using FlashAttention.Cuda.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace FlashAttention.Cuda.Probe;

/// <summary>
/// The backward kernels on the GPU against the float64 reference gradients, with the CPU backend's error on the same
/// inputs beside them: every dK/dV kernel (fused dQ by atomics, or split with a dQ kernel), fresh random inputs, odd
/// sizes, every option. Gradients are poisoned (NaN) before each launch. The GPU backward is fed the GPU forward's
/// output and LSE, as a training step would be. Also: the deterministic path is bit-identical across repeated calls.
/// </summary>
internal static class BackwardCheck
{
    private sealed record Case(string Name, AttentionShape Shape, Func<int, AttentionOptions> Options);

    private static AttentionOptions Dropout(int seed, float p) => new() { DropoutP = p, Seed = (ulong)seed * 0x9E3779B97F4A7C15UL, Offset = (ulong)seed << 20 };

    private static readonly Case[] Cases =
    [
        new("B1 Nq1 Nk1 H1 D64", new(1, 1, 1, 1, 1, 64), _ => new()),
        new("B2 Nq7 Nk7 H3 D64 causal", new(2, 7, 7, 3, 3, 64), _ => new() { Causal = true }),
        new("B1 Nq127 Nk127 H2 D128", new(1, 127, 127, 2, 2, 128), _ => new()),
        new("B2 Nq1000 Nk1000 H4/2 D64 causal", new(2, 1000, 1000, 4, 2, 64), _ => new() { Causal = true }),
        new("B1 Nq1000 Nk1000 H2 D128", new(1, 1000, 1000, 2, 2, 128), _ => new()),
        new("B1 Nq128 Nk1000 H2/1 D128 causal", new(1, 128, 1000, 2, 1, 128), _ => new() { Causal = true }),
        new("B1 Nq1000 Nk128 H2 D64 causal", new(1, 1000, 128, 2, 2, 64), _ => new() { Causal = true }),
        new("B1 Nq257 Nk513 H3 D64", new(1, 257, 513, 3, 3, 64), _ => new()),
        new("B1 Nq300 Nk400 H2 D64 win(32,16)", new(1, 300, 400, 2, 2, 64), _ => new() { WindowLeft = 32, WindowRight = 16 }),
        new("B2 Nq300 Nk333 H2 D128 causal cap5 s0.3", new(2, 300, 333, 2, 2, 128), _ => new() { Causal = true, Softcap = 5f, Scale = 0.3f }),
        new("B1 Nq100 Nk150 H2 D64 scale -0.2", new(1, 100, 150, 2, 2, 64), _ => new() { Scale = -0.2f }),
        new("B3 Nq190 Nk260 H2/1 D128 pad", new(3, 190, 260, 2, 1, 128), s => new() { KeyPaddingMask = Padding(s, 3, 260) }),
        new("B2 Nq300 Nk333 H4/2 D64 causal alibi", new(2, 300, 333, 4, 2, 64), _ => new() { Causal = true, AlibiSlopes = Slopes(4) }),
        new("B2 Nq300 Nk333 H2/1 D64 drop0.1", new(2, 300, 333, 2, 1, 64), s => Dropout(s, 0.1f)),
        new("B1 Nq500 Nk700 H2 D128 causal drop0.3", new(1, 500, 700, 2, 2, 128), s => Dropout(s, 0.3f) with { Causal = true }),
        new("B2 Nq300 Nk300 H2 D128 everything", new(2, 300, 300, 2, 2, 128),
            s => Dropout(s, 0.2f) with { WindowLeft = 64, WindowRight = 0, Softcap = 10f, AlibiSlopes = Slopes(4), KeyPaddingMask = Padding(s, 2, 300) }),
        new("B2 Nq300 Nk333 H2/1 D96 causal alibi drop0.1", new(2, 300, 333, 2, 1, 96), s => Dropout(s, 0.1f) with { Causal = true, AlibiSlopes = Slopes(2) }),
        new("B1 Nq257 Nk190 H3 D80 softcap8", new(1, 257, 190, 3, 3, 80), _ => new() { Softcap = 8f }),
        new("B1 Nq200 Nk250 H2 D256 causal alibi drop0.1", new(1, 200, 250, 2, 2, 256), s => Dropout(s, 0.1f) with { Causal = true, AlibiSlopes = Slopes(2) }),
        new("B1 Nq130 Nk129 H2/1 D200 softcap5", new(1, 130, 129, 2, 1, 200), _ => new() { Softcap = 5f }),
    ];

    private static float[] Slopes(int n) => Enumerable.Range(0, n).Select(i => (float)Math.Pow(2, -8.0 * (i + 1) / n)).ToArray();

    /// <summary>Keeps ~70 % of the keys; the last sequence keeps none (its rows and gradients must be exactly 0).</summary>
    private static bool[] Padding(int seed, int batch, int n)
    {
        var random = new Random(seed);
        var mask = new bool[batch * n];
        for (int i = 0; i < mask.Length; i++)
            mask[i] = i < (batch - 1) * n && random.NextDouble() < 0.7;
        return mask;
    }

    public static (bool Passed, JsonArray Rows) Run(CudaAttention cuda)
    {
        var rows = new JsonArray();
        bool passed = true;
        int seed = Environment.TickCount;
        Console.WriteLine($"backward check: seed {seed}; relative errors of dq, dk, dv against float64 (cpu = the CPU backend on the same inputs)");
        Console.WriteLine($"{"case",-42} {"dtype",-5} {"kernels",-40} {"dq",9} {"dk",9} {"dv",9} {"cpu worst",9}  result");
        foreach (var c in Cases)
        {
            passed &= RunCase<Half>(cuda, c, seed++, rows);
            passed &= RunCase<BFloat16>(cuda, c, seed++, rows);
        }
        passed &= DeterminismCheck(cuda, rows);
        Console.WriteLine(passed ? "backward check: all passed" : "backward check: FAILURES above");
        return (passed, rows);
    }

    private static IEnumerable<CudaAttention.BackwardKernelSet> KernelPairs(int d)
    {
        var split = CudaAttention.DefaultBackward(d, atomicDq: false);
        yield return split;
        int kernelDim = split.Kv[0].HeadDim;
        foreach (var kv in BackwardKernels.KvVariants.Where(v => v.HeadDim == kernelDim && v.Outputs == KvOutputs.Both && v != split.Kv[0]))
            yield return new([kv], kv.FusedDq ? null : split.Dq);
        foreach (var dq in BackwardKernels.DqVariants.Where(v => v.HeadDim == kernelDim && v != split.Dq))
            yield return new(split.Kv, dq);
    }

    private static bool RunCase<T>(CudaAttention cuda, Case c, int seed, JsonArray rows) where T : unmanaged
    {
        var shape = c.Shape;
        var options = c.Options(seed);
        var q = DeviceData.Convert<T>(DeviceData.Normal(shape.QueryLength, seed));
        var k = DeviceData.Convert<T>(DeviceData.Normal(shape.KeyValueLength, seed + 1_000_003));
        var v = DeviceData.Convert<T>(DeviceData.Normal(shape.KeyValueLength, seed + 2_000_003));
        var dO = DeviceData.Convert<T>(DeviceData.Normal(shape.QueryLength, seed + 3_000_017));
        var reference = ReferenceAttention.Backward<T>(shape, q, k, v, dO, options);

        var cpuOut = new T[shape.QueryLength];
        var cpuLse = new float[shape.LseLength];
        var cdq = new T[shape.QueryLength];
        var cdk = new T[shape.KeyValueLength];
        var cdv = new T[shape.KeyValueLength];
        Attention.Forward<T>(shape, q, k, v, cpuOut, cpuLse, options);
        Attention.Backward<T>(shape, q, k, v, cpuOut, cpuLse, dO, cdq, cdk, cdv, options);
        double cpuWorst = Math.Max(Error(cdq, reference.DQ), Math.Max(Error(cdk, reference.DK), Error(cdv, reference.DV)));

        var acc = cuda.Accelerator;
        using var bq = DeviceData.Upload(acc, q);
        using var bk = DeviceData.Upload(acc, k);
        using var bv = DeviceData.Upload(acc, v);
        using var bdo = DeviceData.Upload(acc, dO);
        using var bout = acc.Allocate1D<T>(shape.QueryLength);
        using var blse = acc.Allocate1D<float>(shape.LseLength);
        using var bdq = acc.Allocate1D<T>(shape.QueryLength);
        using var bdk = acc.Allocate1D<T>(shape.KeyValueLength);
        using var bdv = acc.Allocate1D<T>(shape.KeyValueLength);
        cuda.Forward(shape, View(bq, q.Length), View(bk, k.Length), View(bv, v.Length), bout.View, blse.View, options);
        bool passed = true;
        double tolerance = typeof(T) == typeof(Half) ? 2e-3 : 1.6e-2;
        foreach (var set in KernelPairs(shape.HeadDim))
        {
            string kernels = string.Join("+", set.Kv.Select(x => x.Name)) + (set.Dq is null ? "" : "+" + set.Dq.Name);
            var row = new JsonObject { ["case"] = c.Name, ["dtype"] = DeviceData.Name<T>(), ["kernels"] = kernels, ["seed"] = seed, ["cpu_worst"] = cpuWorst };
            try
            {
                bdq.View.MemSet(0xFF);
                bdk.View.MemSet(0xFF);
                bdv.View.MemSet(0xFF);
                cuda.Backward(set, shape, options, View(bq, q.Length), View(bk, k.Length), View(bv, v.Length), bout.View, blse.View,
                    View(bdo, dO.Length), bdq.View, bdk.View, bdv.View);
                cuda.Synchronize();
                double eq = Error(bdq.GetAsArray1D(), reference.DQ), ek = Error(bdk.GetAsArray1D(), reference.DK), ev = Error(bdv.GetAsArray1D(), reference.DV);
                bool ok = eq <= tolerance && ek <= tolerance && ev <= tolerance;
                passed &= ok;
                row["dq_err"] = eq;
                row["dk_err"] = ek;
                row["dv_err"] = ev;
                row["passed"] = ok;
                Console.WriteLine($"{c.Name,-42} {DeviceData.Name<T>(),-5} {kernels,-40} {eq,9:E2} {ek,9:E2} {ev,9:E2} {cpuWorst,9:E2}  {(ok ? "PASS" : "FAIL")}");
            }
            catch (Exception e)
            {
                passed = false;
                row["passed"] = false;
                row["error"] = e.Message;
                Console.WriteLine($"{c.Name,-42} {DeviceData.Name<T>(),-5} {kernels,-40} ERROR {e.GetType().Name}: {e.Message}");
            }
            rows.Add(row);
        }
        return passed;
    }

    /// <summary>The deterministic path twice on the same inputs: bit-identical gradients; the atomic path's run-to-run difference is reported.</summary>
    private static bool DeterminismCheck(CudaAttention cuda, JsonArray rows)
    {
        var shape = new AttentionShape(2, 2048, 2048, 8, 2, 128);
        var acc = cuda.Accelerator;
        var q = DeviceData.Convert<BFloat16>(DeviceData.NormalParallel(shape.QueryLength, 5));
        var k = DeviceData.Convert<BFloat16>(DeviceData.NormalParallel(shape.KeyValueLength, 6));
        var v = DeviceData.Convert<BFloat16>(DeviceData.NormalParallel(shape.KeyValueLength, 7));
        var dO = DeviceData.Convert<BFloat16>(DeviceData.NormalParallel(shape.QueryLength, 8));
        using var bq = DeviceData.Upload(acc, q);
        using var bk = DeviceData.Upload(acc, k);
        using var bv = DeviceData.Upload(acc, v);
        using var bdo = DeviceData.Upload(acc, dO);
        using var bout = acc.Allocate1D<BFloat16>(shape.QueryLength);
        using var blse = acc.Allocate1D<float>(shape.LseLength);
        using var bdq = acc.Allocate1D<BFloat16>(shape.QueryLength);
        using var bdk = acc.Allocate1D<BFloat16>(shape.KeyValueLength);
        using var bdv = acc.Allocate1D<BFloat16>(shape.KeyValueLength);
        bool passed = true;
        foreach (bool deterministic in new[] { true, false })
        {
            var options = new AttentionOptions { Causal = true, Deterministic = deterministic };
            cuda.Forward(shape, View(bq, q.Length), View(bk, k.Length), View(bv, v.Length), bout.View, blse.View, options);
            ushort[][] Run()
            {
                cuda.Backward(shape, View(bq, q.Length), View(bk, k.Length), View(bv, v.Length), bout.View, blse.View, View(bdo, dO.Length),
                    bdq.View, bdk.View, bdv.View, options);
                cuda.Synchronize();
                return [bdq.GetAsArray1D().Select(x => x.Bits).ToArray(), bdk.GetAsArray1D().Select(x => x.Bits).ToArray(), bdv.GetAsArray1D().Select(x => x.Bits).ToArray()];
            }
            var first = Run();
            int differing = 0;
            for (int r = 0; r < 3; r++)
            {
                var again = Run();
                for (int t = 0; t < 3; t++)
                    for (int i = 0; i < first[t].Length; i++)
                        differing += first[t][i] != again[t][i] ? 1 : 0;
            }
            bool ok = !deterministic || differing == 0;
            passed &= ok;
            Console.WriteLine($"determinism {(deterministic ? "deterministic" : "atomic dQ"),-14} B2 N2048 H8/2 D128 causal bf16: {differing} differing gradient elements over 3 repeats  {(ok ? "PASS" : "FAIL")}");
            rows.Add(new JsonObject { ["case"] = "determinism", ["deterministic"] = deterministic, ["differing"] = differing, ["passed"] = ok });
        }
        return passed;
    }

    private static ArrayView1D<T, Stride1D.Dense> View<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer, long length) where T : unmanaged =>
        buffer.View.SubView(0, length);

    private static double Error<T>(T[] actual, double[] expected) where T : unmanaged
    {
        double num = 0, den = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double a = DeviceData.ToDouble(actual[i]), e = expected[i];
            if (double.IsNaN(a))
                return double.NaN;
            num += (a - e) * (a - e);
            den += e * e;
        }
        return den == 0 ? Math.Sqrt(num) : Math.Sqrt(num / den);
    }
}
