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
        float Softcap = 0, float? Scale = null, bool Padding = false, int Alibi = 0, float Dropout = 0)
    {
        public AttentionShape Shape => new(B, Nq, Nk, H, Hkv, D);

        public AttentionOptions Options(int seed)
        {
            var options = new AttentionOptions
            {
                Causal = Causal, WindowLeft = WindowLeft, WindowRight = WindowRight, Softcap = Softcap, Scale = Scale,
                DropoutP = Dropout, Seed = (ulong)seed * 0x9E3779B97F4A7C15UL, Offset = (ulong)seed << 20,
            };
            // ALiBi: 1 = slopes [H] (the usual geometric series), 2 = slopes [B, H] (varied per sequence).
            if (Alibi > 0)
                options = options with
                {
                    AlibiSlopes = Enumerable.Range(0, (Alibi == 2 ? B : 1) * H)
                        .Select(i => (float)Math.Pow(2, -8.0 * (i % H + 1) / H) * (1 + i / H)).ToArray(),
                };
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
            $"{(Softcap > 0 ? $" cap{Softcap}" : "")}{(Scale is { } sc ? $" scale{sc}" : "")}{(Padding ? " pad" : "")}" +
            $"{(Alibi == 1 ? " alibi" : Alibi == 2 ? " alibiBH" : "")}{(Dropout > 0 ? $" drop{Dropout}" : "")}";
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
        new(2, 300, 333, 4, 2, 64, true, Alibi: 1),
        new(2, 257, 190, 2, 2, 128, false, Alibi: 2),
        new(1, 200, 250, 2, 2, 64, false, Softcap: 30f, Alibi: 1),
        new(1, 150, 200, 2, 2, 128, true, Scale: -0.1f, Alibi: 1),
        new(2, 300, 333, 2, 1, 64, false, Dropout: 0.1f),
        new(1, 500, 700, 2, 2, 128, true, Dropout: 0.3f),
        new(2, 190, 260, 2, 2, 64, false, Padding: true, Dropout: 0.5f),
        new(2, 300, 300, 2, 2, 128, false, 64, 0, Softcap: 10f, Alibi: 2, Dropout: 0.2f),
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
        allPassed &= MaskCheck<Half>(cuda, variants, rows);
        allPassed &= MaskCheck<BFloat16>(cuda, variants, rows);
        Console.WriteLine(allPassed ? "check: all passed" : "check: FAILURES above");
        return (allPassed, rows);
    }

    /// <summary>
    /// The dropout mask bit for bit: q = k = 0 and a window of one key (the diagonal j = i + Nk − Nq) make each row's
    /// probability exactly 1 on one key, so the output is 1/(1 − p) (all ones in V) where the GPU kept it and 0 where it
    /// dropped it; every (b, h, i) is compared with the CPU's <see cref="DropoutMask"/>.
    /// </summary>
    private static bool MaskCheck<T>(CudaAttention cuda, IReadOnlyList<ForwardVariant> variants, JsonArray rows) where T : unmanaged
    {
        bool passed = true;
        foreach (var (nq, nk) in new[] { (1000, 1000), (300, 1500) })
            foreach (var variant in variants)
            {
                var shape = new AttentionShape(2, nq, nk, 3, 3, variant.HeadDim);
                var options = new AttentionOptions
                {
                    WindowLeft = 0, WindowRight = 0, DropoutP = 0.37f, Seed = 0xFEDC_BA98_7654_3210UL, Offset = 0x0000_0003_0000_0011UL,
                };
                var acc = cuda.Accelerator;
                using var dq = acc.Allocate1D<T>(shape.QueryLength);
                using var dk = acc.Allocate1D<T>(shape.KeyValueLength);
                using var dv = DeviceData.Upload(acc, DeviceData.Convert<T>(Enumerable.Repeat(1f, (int)shape.KeyValueLength).ToArray()));
                using var dout = acc.Allocate1D<T>(shape.QueryLength);
                using var dlse = acc.Allocate1D<float>(shape.LseLength);
                dq.View.MemSetToZero();
                dk.View.MemSetToZero();
                cuda.Forward(variant, shape, options, dq.View, dk.View, dv.View.SubView(0, shape.KeyValueLength), dout.View, dlse.View);
                cuda.Synchronize();
                var output = dout.GetAsArray1D();
                var mask = new DropoutMask(options.DropoutP, options.Seed, options.Offset, shape.Heads);
                int mismatches = 0, kept = 0, wrongValue = 0;
                double keepValue = 1.0 / (1 - options.DropoutP);
                for (int b = 0; b < shape.Batch; b++)
                    for (int i = 0; i < nq; i++)
                        for (int h = 0; h < shape.Heads; h++)
                        {
                            long at = ((long)(b * nq + i) * shape.Heads + h) * shape.HeadDim;
                            double value = DeviceData.ToDouble(output[at]);
                            bool cpu = mask.IsKept(b, h, i, i + nk - nq);
                            kept += cpu ? 1 : 0;
                            if ((value != 0) != cpu)
                                mismatches++;
                            else if (cpu && Math.Abs(value - keepValue) > 1e-2 * keepValue)
                                wrongValue++;
                        }
                bool ok = mismatches == 0 && wrongValue == 0;
                passed &= ok;
                string name = $"dropout mask B2 Nq{nq} Nk{nk} H3 D{variant.HeadDim}";
                Console.WriteLine($"{name,-34} {DeviceData.Name<T>(),-5} {variant.Name,-22} mismatches {mismatches} of {2 * nq * 3} (kept {kept}), wrong scale {wrongValue}  {(ok ? "PASS" : "FAIL")}");
                rows.Add(new JsonObject
                {
                    ["case"] = name, ["dtype"] = DeviceData.Name<T>(), ["kernel"] = variant.Name, ["mask_mismatches"] = mismatches,
                    ["kept"] = kept, ["wrong_scale"] = wrongValue, ["passed"] = ok,
                });
            }
        return passed;
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
