namespace FlashAttention;

/// <summary>
/// Which tiles a causal or sliding-window call must visit, shared by every backend: for a block of query rows, the
/// range of key blocks that can hold a visible key (forward), and for a block of keys, the range of query blocks
/// (backward). Tiles outside are never touched; tiles inside are then classified by the mask (empty, partial, full).
/// Window bounds are relative to the bottom-right aligned diagonal; a negative bound is unlimited.
/// </summary>
public static class BlockInfo
{
    /// <summary>Key blocks [First, End) that query rows [queryStart, queryEnd) may see.</summary>
    /// <param name="windowLeft">Keys visible left of the diagonal, negative for unlimited.</param>
    /// <param name="windowRight">Keys visible right of the diagonal, negative for unlimited.</param>
    /// <param name="queryStart">First query row.</param>
    /// <param name="queryEnd">One past the last query row.</param>
    /// <param name="seqLenQ">Query length of the sequence.</param>
    /// <param name="seqLenK">Key length of the sequence.</param>
    /// <param name="keyBlock">Keys per block.</param>
    public static (int First, int End) KeyBlocks(int windowLeft, int windowRight, int queryStart, int queryEnd, int seqLenQ, int seqLenK, int keyBlock)
    {
        long diagonalShift = (long)seqLenK - seqLenQ;
        long first = windowLeft < 0 ? 0 : Math.Max(0, queryStart + diagonalShift - windowLeft);
        long last = windowRight < 0 ? seqLenK - 1 : Math.Min(seqLenK - 1, queryEnd - 1 + diagonalShift + windowRight);
        if (queryEnd <= queryStart || last < first)
            return (0, 0);
        return ((int)(first / keyBlock), (int)(last / keyBlock) + 1);
    }

    /// <summary>Query blocks [First, End) whose rows may see keys [keyStart, keyEnd).</summary>
    /// <param name="windowLeft">Keys visible left of the diagonal, negative for unlimited.</param>
    /// <param name="windowRight">Keys visible right of the diagonal, negative for unlimited.</param>
    /// <param name="keyStart">First key.</param>
    /// <param name="keyEnd">One past the last key.</param>
    /// <param name="seqLenQ">Query length of the sequence.</param>
    /// <param name="seqLenK">Key length of the sequence.</param>
    /// <param name="queryBlock">Query rows per block.</param>
    public static (int First, int End) QueryBlocks(int windowLeft, int windowRight, int keyStart, int keyEnd, int seqLenQ, int seqLenK, int queryBlock)
    {
        long diagonalShift = (long)seqLenK - seqLenQ;
        long first = windowRight < 0 ? 0 : Math.Max(0, keyStart - diagonalShift - windowRight);
        long last = windowLeft < 0 ? seqLenQ - 1 : Math.Min(seqLenQ - 1, keyEnd - 1 - diagonalShift + windowLeft);
        if (keyEnd <= keyStart || last < first)
            return (0, 0);
        return ((int)(first / queryBlock), (int)(last / queryBlock) + 1);
    }

    /// <summary>Number of blocks of <paramref name="blockSize"/> covering <paramref name="length"/>.</summary>
    /// <param name="length">Elements to cover.</param>
    /// <param name="blockSize">Block size.</param>
    public static int BlockCount(int length, int blockSize) => (length + blockSize - 1) / blockSize;
}
