namespace FlashAttention.Tests;

/// <summary>Fresh random inputs and error measures shared by the tests.</summary>
internal static class TestData
{
    public static float[] Random(long length, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var x = new float[length];
        for (long i = 0; i < length; i++)
            x[i] = (float)(rng.NextDouble() * 2 - 1) * scale * 1.7f;
        return x;
    }

    public static T[] Convert<T>(float[] x) where T : unmanaged
    {
        var result = new T[x.Length];
        Cpu.Elements.FromFloat<T>(x, result);
        return result;
    }

    public static float[] ToFloat<T>(T[] x) where T : unmanaged
    {
        var result = new float[x.Length];
        Cpu.Elements.ToFloat<T>(x, result);
        return result;
    }

    /// <summary>‖actual − expected‖ / ‖expected‖ over the finite entries; infinities must match exactly.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        if (actual.Length != expected.Length)
            throw new ArgumentException($"length {actual.Length} vs {expected.Length}");
        double num = 0, den = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            if (double.IsInfinity(expected[i]) || float.IsInfinity(actual[i]))
            {
                if (actual[i] != expected[i])
                    return double.PositiveInfinity;
                continue;
            }
            double diff = actual[i] - expected[i];
            num += diff * diff;
            den += expected[i] * expected[i];
        }
        if (double.IsNaN(num))
            return double.NaN;
        return den == 0 ? Math.Sqrt(num) : Math.Sqrt(num / den);
    }
}
