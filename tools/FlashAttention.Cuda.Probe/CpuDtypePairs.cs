using System.Diagnostics;
using FlashAttention;

namespace FlashAttention.Cuda.Probe;

/// <summary>
/// fp16 and bf16 storage against fp32, call by call: the three storage types alternate within one triple of adjacent
/// calls (the order rotating per triple), so a drift of the host's state over seconds, which is larger than the
/// differences asked about on the GPU machine's CPU, hits all three alike. Per config it prints the median of the
/// per-triple ratios, their interquartile range and how many triples had the 16-bit type at least as fast. Each
/// round runs every type twice, with and without widening the next K/V tile ahead (the library's Sharing.Lookahead),
/// so a round is six adjacent calls. Usage: probe cpu-pairs ROUNDS [THREADS].
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
            // Arm a = type + 3·(lookahead off): six calls per round, the order rotating with the round.
            var seconds = new double[6, triples];
            for (int t = 0; t < triples; t++)
                for (int j = 0; j < 6; j++)
                {
                    int arm = (j + t) % 6;
                    SetLookahead(arm < 3);
                    long start = Stopwatch.GetTimestamp();
                    calls[arm % 3]();
                    seconds[arm, t] = Stopwatch.GetElapsedTime(start).TotalSeconds;
                }
            SetLookahead(true);
            string config = $"H={h} N={n} D={d} causal={causal}";
            string[] names = ["fp32", "fp16", "bf16", "fp32-nolookahead", "fp16-nolookahead", "bf16-nolookahead"];
            for (int arm = 0; arm < 6; arm++)
            {
                var own = Enumerable.Range(0, triples).Select(t => seconds[arm, t]).Order().ToArray();
                Console.WriteLine($"pairs {config} {names[arm]} median {flops / own[triples / 2] / 1e9:F1} best {flops / own[0] / 1e9:F1} GFLOP/s");
            }
            // Speed ratios within a round (> 1: the first arm faster than the second).
            foreach (var (fast, slow) in new[] { (1, 0), (2, 0), (4, 3), (5, 3), (0, 3), (1, 4), (2, 5) })
            {
                var ratios = Enumerable.Range(0, triples).Select(t => seconds[slow, t] / seconds[fast, t]).Order().ToArray();
                int atLeast = ratios.Count(r => r >= 1);
                Console.WriteLine($"pairs {config} {names[fast]}/{names[slow]} median {ratios[triples / 2]:F3} " +
                                  $"IQR {ratios[triples / 4]:F3}-{ratios[3 * triples / 4]:F3}, {atLeast}/{triples} rounds at least as fast");
            }
        }
        return 0;
    }

    /// <summary>The library's internal switch (a diagnostic: by reflection, not public API).</summary>
    private static void SetLookahead(bool enabled) =>
        typeof(Attention).Assembly.GetType("FlashAttention.Cpu.Sharing", throwOnError: true)!.GetProperty("Lookahead")!.SetValue(null, enabled);

    private static float[] Uniform(Random random, int length)
    {
        var x = new float[length];
        for (int i = 0; i < x.Length; i++)
            x[i] = random.NextSingle() * 2 - 1;
        return x;
    }
}
