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

/// <summary>
/// The bf16 tensors of one backward benchmark, sized for <paramref name="elements"/> values per tensor: q, k, v and dO
/// drawn from the standard normal (seeds <paramref name="seed"/>…+3), o, dq, dk, dv allocated, and an LSE of
/// <paramref name="lseLength"/> floats. Views are cut to a shape with <see cref="Cut"/>.
/// </summary>
internal sealed class BackwardBuffers(Accelerator accelerator, long elements, long lseLength, int seed) : IDisposable
{
    public MemoryBuffer1D<BFloat16, Stride1D.Dense> Q { get; } = Random(accelerator, elements, seed);
    public MemoryBuffer1D<BFloat16, Stride1D.Dense> K { get; } = Random(accelerator, elements, seed + 1);
    public MemoryBuffer1D<BFloat16, Stride1D.Dense> V { get; } = Random(accelerator, elements, seed + 2);
    public MemoryBuffer1D<BFloat16, Stride1D.Dense> DO { get; } = Random(accelerator, elements, seed + 3);
    public MemoryBuffer1D<BFloat16, Stride1D.Dense> O { get; } = accelerator.Allocate1D<BFloat16>(elements);
    public MemoryBuffer1D<float, Stride1D.Dense> Lse { get; } = accelerator.Allocate1D<float>(lseLength);
    public MemoryBuffer1D<BFloat16, Stride1D.Dense> DQ { get; } = accelerator.Allocate1D<BFloat16>(elements);
    public MemoryBuffer1D<BFloat16, Stride1D.Dense> DK { get; } = accelerator.Allocate1D<BFloat16>(elements);
    public MemoryBuffer1D<BFloat16, Stride1D.Dense> DV { get; } = accelerator.Allocate1D<BFloat16>(elements);

    private static MemoryBuffer1D<BFloat16, Stride1D.Dense> Random(Accelerator accelerator, long elements, int seed) =>
        DeviceData.Upload(accelerator, DeviceData.Convert<BFloat16>(DeviceData.NormalParallel(elements, seed)));

    /// <summary>The views of one call's shape: q, k, v, o, lse, dO, dq, dk, dv.</summary>
    public ShapeViews Cut(AttentionShape shape) => new(
        Q.View.SubView(0, shape.QueryLength), K.View.SubView(0, shape.KeyValueLength), V.View.SubView(0, shape.KeyValueLength),
        O.View.SubView(0, shape.QueryLength), Lse.View.SubView(0, shape.LseLength), DO.View.SubView(0, shape.QueryLength),
        DQ.View.SubView(0, shape.QueryLength), DK.View.SubView(0, shape.KeyValueLength), DV.View.SubView(0, shape.KeyValueLength));

    public void Dispose()
    {
        foreach (var buffer in new MemoryBuffer[] { Q, K, V, DO, O, Lse, DQ, DK, DV })
            buffer.Dispose();
    }
}

/// <summary>One call's views into <see cref="BackwardBuffers"/>.</summary>
internal readonly record struct ShapeViews(
    ArrayView1D<BFloat16, Stride1D.Dense> Q, ArrayView1D<BFloat16, Stride1D.Dense> K, ArrayView1D<BFloat16, Stride1D.Dense> V,
    ArrayView1D<BFloat16, Stride1D.Dense> O, ArrayView1D<float, Stride1D.Dense> Lse, ArrayView1D<BFloat16, Stride1D.Dense> DO,
    ArrayView1D<BFloat16, Stride1D.Dense> DQ, ArrayView1D<BFloat16, Stride1D.Dense> DK, ArrayView1D<BFloat16, Stride1D.Dense> DV);
