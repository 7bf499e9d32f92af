using ILGPU;
using ILGPU.Runtime;

namespace FlashAttention.Cuda.Probe;

/// <summary>Random inputs, conversions and buffer helpers shared by check and bench.</summary>
internal static class DeviceData
{
    /// <summary>Standard normal values (Box-Muller), deterministic for a seed.</summary>
    public static float[] Normal(long count, int seed)
    {
        var values = new float[count];
        var random = new Random(seed);
        for (long i = 0; i < count; i += 2)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            values[i] = (float)(r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < count)
                values[i + 1] = (float)(r * Math.Sin(2 * Math.PI * u2));
        }
        return values;
    }

    /// <summary>Standard normal values drawn in parallel (for the large benchmark tensors).</summary>
    public static float[] NormalParallel(long count, int seed)
    {
        var values = new float[count];
        const int Chunk = 1 << 20;
        int chunks = (int)((count + Chunk - 1) / Chunk);
        Parallel.For(0, chunks, c =>
        {
            long start = (long)c * Chunk, end = Math.Min(count, start + Chunk);
            var part = Normal(end - start, seed * 7919 + c);
            Array.Copy(part, 0, values, start, end - start);
        });
        return values;
    }

    public static T[] Convert<T>(float[] values) where T : unmanaged
    {
        var result = new T[values.Length];
        if (typeof(T) == typeof(Half))
        {
            var r = (Half[])(object)result;
            for (int i = 0; i < values.Length; i++)
                r[i] = (Half)values[i];
        }
        else if (typeof(T) == typeof(BFloat16))
        {
            var r = (BFloat16[])(object)result;
            for (int i = 0; i < values.Length; i++)
                r[i] = (BFloat16)values[i];
        }
        else
        {
            throw new NotSupportedException(typeof(T).Name);
        }
        return result;
    }

    public static double ToDouble<T>(T value) where T : unmanaged =>
        value switch
        {
            Half h => (double)h,
            BFloat16 b => (float)b,
            _ => throw new NotSupportedException(typeof(T).Name),
        };

    public static MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(Accelerator accelerator, T[] values) where T : unmanaged
    {
        var buffer = accelerator.Allocate1D<T>(Math.Max(1, values.Length));
        if (values.Length > 0)
            buffer.View.SubView(0, values.Length).CopyFromCPU(values);
        return buffer;
    }

    public static string Name<T>() => typeof(T) == typeof(Half) ? "fp16" : "bf16";
}
