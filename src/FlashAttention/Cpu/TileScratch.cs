using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FlashAttention.Cpu;

/// <summary>
/// One worker's tiles: pinned, 64-byte aligned float buffers carved from a single array, allocated once per call
/// per worker, so the tile loops never allocate and never move.
/// </summary>
internal sealed unsafe class TileScratch
{
    private readonly float[] _storage;
    private readonly float* _base;
    private long _used;

    public TileScratch(long floats)
    {
        _storage = GC.AllocateArray<float>((int)(floats + 16 * 32), pinned: true);
        float* raw = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
        _base = (float*)(((nint)raw + 63) & ~(nint)63);
    }

    /// <summary>A zeroed region of <paramref name="floats"/> floats, 64-byte aligned.</summary>
    public float* Take(int floats)
    {
        float* p = _base + _used;
        _used += (floats + 15) & ~15;
        if (_used + 16 > _storage.Length)
            throw new InvalidOperationException("Tile scratch sized too small (internal error).");
        return p;
    }

    public static long Size(params ReadOnlySpan<int> regions)
    {
        long total = 0;
        foreach (int r in regions)
            total += (r + 15) & ~15;
        return total;
    }
}
