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
    /// <summary>
    /// The attention kernels' block order. The grid is (blocks · G, heads / G, batch) for a head group of G = 2^shift
    /// heads: along grid x, the first block of each of the group's heads, then the second, and so on. Each kernel numbers
    /// its blocks so that the first ones are the longest under a causal mask (the forward and dQ kernels: the latest query
    /// blocks; dK/dV: the earliest key blocks), so long blocks start early and short ones fill the tail of the grid
    /// (longest-processing-time first). A group holds as many heads as their streamed operands fit in L2 together
    /// (<see cref="HeadGroupShift"/>); with shift 0 the order is head by head. A shift and a mask of the block indices,
    /// so the compiler can recompute them where it needs them instead of keeping them in registers.
    /// Returns the position of grid x in its head's order, 0 for the first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int GroupedBlock(int gridX, int shift) => gridX >> shift;

    /// <summary>The head of grid block (<paramref name="gridX"/>, <paramref name="gridY"/>) in the order of <see cref="GroupedBlock"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int GroupedHead(int gridX, int gridY, int shift) => (gridY << shift) | (gridX & ((1 << shift) - 1));

    /// <summary>The L2 share the heads of one group may fill with the operands they stream (H100/H200 have 50 MB).</summary>
    public const long L2BudgetBytes = 32L << 20;

    /// <summary>
    /// log2 of the heads per group of <see cref="GroupedBlock"/>'s order: the largest power of two that divides
    /// <paramref name="heads"/> and whose heads' streamed operands (<paramref name="bytesPerHead"/> each) fit in
    /// <see cref="L2BudgetBytes"/>; 0 when one head alone fills it.
    /// </summary>
    public static int HeadGroupShift(int heads, long bytesPerHead)
    {
        int shift = 0;
        while (heads % (2 << shift) == 0 && (2L << shift) * Math.Max(1L, bytesPerHead) <= L2BudgetBytes)
            shift++;
        return shift;
    }
}
