using System.Diagnostics;
using FlashAttention;

namespace FlashAttention.Cuda.Probe;

/// <summary>
/// fp16 and bf16 storage against fp32, call by call: the three storage types alternate within one triple of adjacent
/// calls (the order rotating per triple), so a drift of the host's state over seconds, which is larger than the
/// differences asked about on the GPU machine's CPU, hits all three alike. Per config it prints the median of the
/// per-triple ratios, their interquartile range and how many triples had the 16-bit type at least as fast.
/// Usage: probe cpu-pairs TRIPLES [THREADS].
/// </summary>
internal static class CpuDtypePairs
{
    public static int Run(int triples, int threads = -1)
    {
        (int H, int N, int D, bool Causal)[] configs = [(16, 2048, 64, false), (16, 2048, 64, true), (32, 4096, 128, true)];
        foreach (var (h, n, d, causal) in configs)
        {
            var shape = new AttentionShape(1, n, n, h, d);
            var random = new Random(1);
            int length = n * h * d;
            float[] q = Uniform(random, length), k = Uniform(random, length), v = Uniform(random, length);
            float[] o = new float[length], lse = new float[h * n];
            Half[] qh = Array.ConvertAll(q, x => (Half)x), kh = Array.ConvertAll(k, x => (Half)x), vh = Array.ConvertAll(v, x => (Half)x), oh = new Half[length];
            BFloat16[] qb = Array.ConvertAll(q, x => (BFloat16)x), kb = Array.ConvertAll(k, x => (BFloat16)x), vb = Array.ConvertAll(v, x => (BFloat16)x), ob = new BFloat16[length];
            var options = new AttentionOptions { Causal = causal, MaxDegreeOfParallelism = threads };
            double flops = 4.0 * h * n * (double)n * d * (causal ? 0.5 : 1);
            Action[] calls =
            [
                () => Attention.Forward<float>(shape, q, k, v, o, lse, options),
                () => Attention.Forward<Half>(shape, qh, kh, vh, oh, lse, options),
                () => Attention.Forward<BFloat16>(shape, qb, kb, vb, ob, lse, options),
            ];
            for (int warm = 0; warm < 3; warm++)
                foreach (var call in calls)
                    call();
            var seconds = new double[3, triples];
            for (int t = 0; t < triples; t++)
                for (int j = 0; j < 3; j++)
                {
                    int type = (j + t) % 3;
                    long start = Stopwatch.GetTimestamp();
                    calls[type]();
                    seconds[type, t] = Stopwatch.GetElapsedTime(start).TotalSeconds;
                }
            string config = $"H={h} N={n} D={d} causal={causal}";
            string[] names = ["fp32", "fp16", "bf16"];
            for (int type = 0; type < 3; type++)
            {
                var own = Enumerable.Range(0, triples).Select(t => seconds[type, t]).Order().ToArray();
                Console.WriteLine($"pairs {config} {names[type]} median {flops / own[triples / 2] / 1e9:F1} best {flops / own[0] / 1e9:F1} GFLOP/s");
            }
            for (int type = 1; type < 3; type++)
            {
                // Speed ratio of the 16-bit type to fp32 in the same triple (> 1: faster than fp32).
                var ratios = Enumerable.Range(0, triples).Select(t => seconds[0, t] / seconds[type, t]).Order().ToArray();
                int atLeast = ratios.Count(r => r >= 1);
                Console.WriteLine($"pairs {config} {names[type]}/fp32 median {ratios[triples / 2]:F3} " +
                                  $"IQR {ratios[triples / 4]:F3}-{ratios[3 * triples / 4]:F3}, {atLeast}/{triples} triples at least as fast");
            }
        }
        return 0;
    }

    private static float[] Uniform(Random random, int length)
    {
        var x = new float[length];
        for (int i = 0; i < x.Length; i++)
            x[i] = random.NextSingle() * 2 - 1;
        return x;
    }
}
