using System.Text.Json.Nodes;
using FlashAttention.Cuda.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace FlashAttention.Cuda.Probe;

/// <summary>
/// Correctness of every kernel variant on fresh random inputs against the float64 reference, with the CPU backend's
/// error on the same inputs printed beside it. Outputs are poisoned (all bits set: NaN in fp16, bf16 and fp32) before
/// each launch, so an element the kernel fails to write shows up as NaN.
/// </summary>
internal static class Check
{
    /// <summary>One check case.</summary>
    private sealed record Case(int B, int Nq, int Nk, int H, int Hkv, int D, bool Causal, int WindowLeft = -1, int WindowRight = -1,
        float Softcap = 0, float? Scale = null, bool Padding = false)
    {
        public AttentionShape Shape => new(B, Nq, Nk, H, Hkv, D);

        public AttentionOptions Options(int seed)
        {
            var options = new AttentionOptions { Causal = Causal, WindowLeft = WindowLeft, WindowRight = WindowRight, Softcap = Softcap, Scale = Scale };
            if (!Padding)
                return options;
            // Keep each key with probability 0.7; the last sequence keeps none (its rows must come out 0 with LSE +inf).
            var random = new Random(seed);
            var mask = new bool[B * Nk];
            for (int i = 0; i < mask.Length; i++)
                mask[i] = i < (B - 1) * Nk && random.NextDouble() < 0.7;
            return options with { KeyPaddingMask = mask };
        }

        public override string ToString() =>
            $"B{B} Nq{Nq} Nk{Nk} H{H}/{Hkv} D{D}{(Causal ? " causal" : "")}" +
            $"{(WindowLeft >= 0 || WindowRight >= 0 ? $" win({WindowLeft},{WindowRight})" : "")}" +
            $"{(Softcap > 0 ? $" cap{Softcap}" : "")}{(Scale is { } sc ? $" scale{sc}" : "")}{(Padding ? " pad" : "")}";
    }

    private static readonly Case[] Cases =
    [
        new(1, 1, 1, 1, 1, 64, false),
        new(2, 7, 7, 3, 3, 64, true),
        new(1, 127, 127, 2, 2, 64, false),
        new(1, 127, 127, 2, 2, 128, true),
        new(2, 1000, 1000, 4, 2, 64, true),
        new(1, 1000, 1000, 2, 2, 128, false),
        new(1, 128, 1000, 2, 1, 128, true),
        new(1, 1000, 128, 2, 2, 64, true),
        new(1, 257, 513, 3, 3, 64, false),
        new(2, 512, 512, 2, 2, 128, true),
        new(1, 300, 400, 2, 2, 64, false, 32, 16),
        new(1, 1, 1000, 2, 2, 128, true),
        new(2, 300, 333, 2, 2, 128, true, Softcap: 5f, Scale: 0.3f),
        new(1, 200, 250, 2, 2, 64, false, Softcap: 30f),
        new(3, 190, 260, 2, 1, 128, false, Padding: true),
        new(2, 260, 190, 2, 2, 64, true, Padding: true),
        new(1, 100, 150, 2, 2, 64, false, Scale: -0.2f),
        new(1, 100, 150, 2, 2, 128, true, Scale: 0f),
    ];

    public static (bool Passed, JsonArray Rows) Run(CudaAttention cuda, IReadOnlyList<ForwardVariant> variants)
    {
        var rows = new JsonArray();
        bool allPassed = true;
        int seed = Environment.TickCount;
        Console.WriteLine($"check: seed {seed}; error = ||out - ref|| / ||ref|| against float64; lse = max |lse - ref| over finite rows");
        Console.WriteLine($"{"case",-34} {"dtype",-5} {"kernel",-22} {"gpu err",9} {"cpu err",9} {"lse err",9} {"inf rows",8}  result");
        foreach (var c in Cases)
        {
            RunCase<Half>(cuda, variants, c, seed++, rows, ref allPassed);
            RunCase<BFloat16>(cuda, variants, c, seed++, rows, ref allPassed);
        }
        Console.WriteLine(allPassed ? "check: all passed" : "check: FAILURES above");
        return (allPassed, rows);
    }

    private static void RunCase<T>(CudaAttention cuda, IReadOnlyList<ForwardVariant> variants, Case c, int seed, JsonArray rows, ref bool allPassed)
        where T : unmanaged
    {
        var shape = c.Shape;
        var options = c.Options(seed);
        var q = DeviceData.Convert<T>(DeviceData.Normal(shape.QueryLength, seed));
        var k = DeviceData.Convert<T>(DeviceData.Normal(shape.KeyValueLength, seed + 1_000_003));
        var v = DeviceData.Convert<T>(DeviceData.Normal(shape.KeyValueLength, seed + 2_000_003));
        var reference = ReferenceAttention.Forward<T>(shape, q, k, v, options);

        var cpuOut = new T[shape.QueryLength];
        var cpuLse = new float[shape.LseLength];
        Attention.Forward<T>(shape, q, k, v, cpuOut, cpuLse, options);
        double cpuErr = RelativeError(cpuOut, reference.Output);

        var acc = cuda.Accelerator;
        using var dq = DeviceData.Upload(acc, q);
        using var dk = DeviceData.Upload(acc, k);
        using var dv = DeviceData.Upload(acc, v);
        using var dout = acc.Allocate1D<T>(shape.QueryLength);
        using var dlse = acc.Allocate1D<float>(shape.LseLength);
        foreach (var variant in variants.Where(x => x.HeadDim == c.D))
        {
            var row = new JsonObject
            {
                ["case"] = c.ToString(), ["dtype"] = DeviceData.Name<T>(), ["kernel"] = variant.Name, ["seed"] = seed,
                ["cpu_err"] = cpuErr,
            };
            string result;
            try
            {
                dout.View.MemSet(0xFF);
                dlse.View.MemSet(0xFF);
                cuda.Forward(variant, shape, options,
                    dq.View.SubView(0, q.Length), dk.View.SubView(0, k.Length), dv.View.SubView(0, v.Length), dout.View, dlse.View);
                cuda.Synchronize();
                var gpuOut = dout.GetAsArray1D();
                var gpuLse = dlse.GetAsArray1D();
                int nan = gpuOut.Count(x => double.IsNaN(DeviceData.ToDouble(x))) + gpuLse.Count(float.IsNaN);
                double err = RelativeError(gpuOut, reference.Output);
                var (lseErr, infRows, infMismatch) = LseError(gpuLse, reference.Lse);
                double tolerance = typeof(T) == typeof(Half) ? 2e-3 : 1.6e-2;
                bool ok = nan == 0 && infMismatch == 0 && err <= tolerance && lseErr <= 2e-3;
                result = ok ? "PASS" : $"FAIL{(nan > 0 ? $" ({nan} NaN/unwritten)" : "")}{(infMismatch > 0 ? $" ({infMismatch} inf mismatches)" : "")}";
                allPassed &= ok;
                row["gpu_err"] = err;
                row["lse_err"] = lseErr;
                row["inf_rows"] = infRows;
                row["nan"] = nan;
                row["passed"] = ok;
                Console.WriteLine($"{c,-34} {DeviceData.Name<T>(),-5} {variant.Name,-22} {err,9:E2} {cpuErr,9:E2} {lseErr,9:E2} {infRows,8}  {result}");
            }
            catch (Exception e)
            {
                allPassed = false;
                row["passed"] = false;
                row["error"] = e.Message;
                Console.WriteLine($"{c,-34} {DeviceData.Name<T>(),-5} {variant.Name,-22} ERROR {e.GetType().Name}: {e.Message}");
            }
            rows.Add(row);
        }
    }

    private static double RelativeError<T>(T[] actual, double[] expected) where T : unmanaged
    {
        double num = 0, den = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double a = DeviceData.ToDouble(actual[i]), e = expected[i];
            num += (a - e) * (a - e);
            den += e * e;
        }
        return den == 0 ? Math.Sqrt(num) : Math.Sqrt(num / den);
    }

    private static (double MaxError, int InfRows, int Mismatch) LseError(float[] actual, double[] expected)
    {
        double max = 0;
        int inf = 0, mismatch = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (double.IsPositiveInfinity(expected[i]))
            {
                inf++;
                if (!float.IsPositiveInfinity(actual[i]))
                    mismatch++;
                continue;
            }
            double d = Math.Abs(actual[i] - expected[i]);
            if (double.IsNaN(d))
                mismatch++;
            else
                max = Math.Max(max, d);
        }
        return (max, inf, mismatch);
    }
}
