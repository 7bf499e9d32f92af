using System.Runtime.CompilerServices;

namespace FlashAttention.Cuda.Kernels;

/// <summary>
/// Index arithmetic shared by the kernels and the host: which key blocks a query block visits (the rule of
/// <see cref="BlockInfo.KeyBlocks"/>, restated with plain integer arithmetic so ILGPU can compile it), the swizzled
/// shared-memory layout of a tile.
/// </summary>
internal static class TileMath
{
    /// <summary>First key block that query rows [queryStart, queryEnd) can see (0 when they see none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int KeyBlockFirst(int windowLeft, int windowRight, int queryStart, int queryEnd, int seqLenQ, int seqLenK, int keyBlock)
    {
        long shift = (long)seqLenK - seqLenQ;
        long first = windowLeft < 0 ? 0 : queryStart + shift - windowLeft;
        if (first < 0)
            first = 0;
        long last = LastKey(windowRight, queryEnd, shift, seqLenK);
        return queryEnd <= queryStart || last < first ? 0 : (int)(first / keyBlock);
    }

    /// <summary>One past the last key block that query rows [queryStart, queryEnd) can see (0 when they see none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int KeyBlockEnd(int windowLeft, int windowRight, int queryStart, int queryEnd, int seqLenQ, int seqLenK, int keyBlock)
    {
        long shift = (long)seqLenK - seqLenQ;
        long first = windowLeft < 0 ? 0 : queryStart + shift - windowLeft;
        if (first < 0)
            first = 0;
        long last = LastKey(windowRight, queryEnd, shift, seqLenK);
        return queryEnd <= queryStart || last < first ? 0 : (int)(last / keyBlock) + 1;
    }

    /// <summary>First query block whose rows can see a key of [keyStart, keyEnd) (0 when none can).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int QueryBlockFirst(int windowLeft, int windowRight, int keyStart, int keyEnd, int seqLenQ, int seqLenK, int queryBlock)
    {
        long shift = (long)seqLenK - seqLenQ;
        long first = windowRight < 0 ? 0 : keyStart - shift - windowRight;
        if (first < 0)
            first = 0;
        long last = LastQuery(windowLeft, keyEnd, shift, seqLenQ);
        return keyEnd <= keyStart || last < first ? 0 : (int)(first / queryBlock);
    }

    /// <summary>One past the last query block whose rows can see a key of [keyStart, keyEnd) (0 when none can).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int QueryBlockEnd(int windowLeft, int windowRight, int keyStart, int keyEnd, int seqLenQ, int seqLenK, int queryBlock)
    {
        long shift = (long)seqLenK - seqLenQ;
        long first = windowRight < 0 ? 0 : keyStart - shift - windowRight;
        if (first < 0)
            first = 0;
        long last = LastQuery(windowLeft, keyEnd, shift, seqLenQ);
        return keyEnd <= keyStart || last < first ? 0 : (int)(last / queryBlock) + 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long LastQuery(int windowLeft, int keyEnd, long shift, int seqLenQ)
    {
        long last = seqLenQ - 1;
        if (windowLeft >= 0)
        {
            long bound = keyEnd - 1 - shift + windowLeft;
            if (bound < last)
                last = bound;
        }
        return last;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long LastKey(int windowRight, int queryEnd, long shift, int seqLenK)
    {
        long last = seqLenK - 1;
        if (windowRight >= 0)
        {
            long bound = queryEnd - 1 + shift + windowRight;
            if (bound < last)
                last = bound;
        }
        return last;
    }

    /// <summary>
    /// Whether key block <paramref name="block"/> holds a key that some row of the query block must not see
    /// (past the end of the keys, right of the window or left of it); other tiles skip the per-element mask.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TileNeedsMask(int block, int keyBlock, int windowLeft, int windowRight, int queryStart, int queryEnd, int seqLenQ, int seqLenK)
    {
        long shift = (long)seqLenK - seqLenQ;
        long firstKey = (long)block * keyBlock;
        long lastKey = firstKey + keyBlock - 1;
        bool pastEnd = lastKey >= seqLenK;
        bool rightOfWindow = windowRight >= 0 && lastKey > queryStart + shift + windowRight;
        bool leftOfWindow = windowLeft >= 0 && firstKey < queryEnd - 1 + shift - windowLeft;
        return pastEnd || rightOfWindow || leftOfWindow;
    }

    /// <summary>
    /// Byte offset of 16-byte chunk <paramref name="chunk"/> of row <paramref name="row"/> in a swizzled tile whose rows
    /// are <paramref name="rowBytes"/> long (at least 128): the chunk index is xor-ed with the row's low three bits, so the
    /// eight rows an ldmatrix phase reads at one logical column fall into eight different bank groups.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SwizzledOffset(int row, int chunk, int rowBytes) => row * rowBytes + ((chunk ^ (row & 7)) << 4);
}
