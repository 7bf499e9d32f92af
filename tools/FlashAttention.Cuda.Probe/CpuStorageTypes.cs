using FlashAttention;

namespace FlashAttention.Cuda.Probe;

/// <summary>What the CPU storage-type probes (cpu-dtypes, cpu-pairs) share: the configs, the three calls on the same values, and the library's sharing switches.</summary>
internal static class CpuStorageTypes
{
    /// <summary>Issue 2's three forward points: B=1 H=16 N=2048 D=64, the same causal, B=1 H=32 N=4096 D=128 causal.</summary>
    public static readonly (int H, int N, int D, bool Causal)[] Configs = [(16, 2048, 64, false), (16, 2048, 64, true), (32, 4096, 128, true)];

    /// <summary>The forward of one config as fp32, fp16 and bf16 storage (the same uniform values rounded), and its FLOP count.</summary>
    public static (Action[] Calls, double Flops) Calls(int h, int n, int d, bool causal, int threads)
    {
        var shape = new AttentionShape(1, n, n, h, d);
        var random = new Random(1);
        int length = n * h * d;
        float[] q = Uniform(random, length), k = Uniform(random, length), v = Uniform(random, length);
        float[] o = new float[length], lse = new float[h * n];
        Half[] qh = Array.ConvertAll(q, x => (Half)x), kh = Array.ConvertAll(k, x => (Half)x), vh = Array.ConvertAll(v, x => (Half)x), oh = new Half[length];
        BFloat16[] qb = Array.ConvertAll(q, x => (BFloat16)x), kb = Array.ConvertAll(k, x => (BFloat16)x), vb = Array.ConvertAll(v, x => (BFloat16)x), ob = new BFloat16[length];
        var options = new AttentionOptions { Causal = causal, MaxDegreeOfParallelism = threads };
        Action[] calls =
        [
            () => Attention.Forward<float>(shape, q, k, v, o, lse, options),
            () => Attention.Forward<Half>(shape, qh, kh, vh, oh, lse, options),
            () => Attention.Forward<BFloat16>(shape, qb, kb, vb, ob, lse, options),
        ];
        return (calls, 4.0 * h * n * (double)n * d * (causal ? 0.5 : 1));
    }

    /// <summary>Sets a property of the library's internal FlashAttention.Cpu.Sharing switch (a diagnostic: by reflection, not public API).</summary>
    public static void SetSharing(string property, object value) =>
        typeof(Attention).Assembly.GetType("FlashAttention.Cpu.Sharing", throwOnError: true)!.GetProperty(property)!.SetValue(null, value);

    private static float[] Uniform(Random random, int length)
    {
        var x = new float[length];
        for (int i = 0; i < x.Length; i++)
            x[i] = random.NextSingle() * 2 - 1;
        return x;
    }
}
