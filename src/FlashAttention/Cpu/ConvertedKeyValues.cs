using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FlashAttention.Cpu;

/// <summary>
/// K and V of the key/value heads the forward workers are on, widened from 16-bit storage to float32 once per call and
/// shared, instead of once per query block: every query block of a head visits the same key tiles, and on the Xeon host
/// the per-block widening made fp16 storage 10–16 % slower than fp32 at head dim 64 (docs/benchmarks.md run 26).
/// A tile is widened when a worker first needs it (lazily, so tiles a causal or local mask skips never are) by every
/// worker that arrives before it is done, in chunks of rows each claims (<see cref="EnsureTile"/>), and read in place
/// after that; a head's buffers go back to a free list when its last query block is done.
/// Memory: <see cref="Sharing.BudgetBytes"/> at most. A head larger than half of it is widened per query block as before, so the
/// forward pass keeps its flat, N-independent extra memory (MemoryTests).
/// </summary>
internal sealed unsafe class ConvertedKeyValues<T> where T : unmanaged
{
    /// <summary>The Done count of a tile whose widening threw: the workers waiting on it throw too instead of spinning forever.</summary>
    private const int Failed = int.MinValue;

    private readonly AttentionProblem _p;
    private readonly T* _k, _v;
    private readonly int _dp, _blockK, _chunkRows = Sharing.ChunkRows;
    private readonly long _bufferFloats;
    private readonly Entry?[] _entries;
    /// <summary>Per (batch, key/value head): how many of its tasks have called <see cref="Acquire"/>.</summary>
    private readonly int[] _started;
    private readonly Stack<KeyValueBuffer> _free = new();
    private readonly object _lock = new();
    private int _buffers;
    private readonly int _maxBuffers;

    /// <summary>One (batch, key/value head): its float32 K and V rows [RoundUp(Nk, BlockK), Dp] and, per key tile, the
    /// chunks claimed and the chunks done.</summary>
    public sealed class Entry
    {
        internal KeyValueBuffer Storage = null!;
        internal int[] Claimed = [], Done = [];
        internal int Remaining;

        /// <summary>Key row 0 of the head, float32, row stride Dp.</summary>
        public float* K => Storage.K;

        /// <summary>Value row 0 of the head, float32, row stride Dp.</summary>
        public float* V => Storage.V;
    }

    private readonly List<KeyValueBuffer> _pooled;
    private readonly List<KeyValueBuffer> _allocated = [];

    private ConvertedKeyValues(AttentionProblem p, T* k, T* v, int dp, int blockK, int maxBuffers)
    {
        _p = p;
        _k = k;
        _v = v;
        _dp = dp;
        _blockK = blockK;
        _bufferFloats = (long)BlockInfo.BlockCount(p.MaxSeqK, blockK) * blockK * dp;
        _entries = new Entry?[p.Batch * p.KvHeads];
        _started = new int[p.Batch * p.KvHeads];
        _maxBuffers = maxBuffers;
        _pooled = KeyValueBufferPool.Take();
    }

    /// <summary>Offers every buffer of this call to the next call (after the workers are done).</summary>
    public void ReturnBuffers()
    {
        _pooled.AddRange(_allocated);
        // Keep the largest within the budget: a call never uses more, and smaller ones would pile up.
        _pooled.Sort((a, b) => b.Floats.CompareTo(a.Floats));
        long bytes = 0;
        int keep = 0;
        while (keep < _pooled.Count && (bytes += 2 * _pooled[keep].Floats * sizeof(float)) <= Sharing.BudgetBytes)
            keep++;
        _pooled.RemoveRange(keep, _pooled.Count - keep);
        KeyValueBufferPool.Give(_pooled);
    }

    /// <summary>
    /// The shared copies for a call, or null where they would not pay: a key/value
    /// head served by a single query block (each tile is widened once anyway), or not two heads within the budget.
    /// </summary>
    public static ConvertedKeyValues<T>? Create(AttentionProblem p, T* k, T* v, int dp, int blockK, int blockQ)
    {
        if (!Sharing.Enabled)
            return null;
        int minQueryBlocks = int.MaxValue;
        for (int b = 0; b < p.Batch; b++)
            minQueryBlocks = Math.Min(minQueryBlocks, BlockInfo.BlockCount(p.SeqQ(b), blockQ));
        if ((long)minQueryBlocks * p.GroupSize < 2)
            return null;
        long bufferBytes = 2L * BlockInfo.BlockCount(p.MaxSeqK, blockK) * blockK * dp * sizeof(float);
        // At least two heads' copies, so a head's first tasks need not wait for the previous head's last ones; a head
        // larger than half the budget is widened per query block (and the forward's extra memory stays flat in N).
        long withinBudget = Sharing.BudgetBytes / Math.Max(bufferBytes, 1);
        if (withinBudget < 2)
            return null;
        int maxBuffers = (int)Math.Min(withinBudget, p.Batch * (long)p.KvHeads);
        return new ConvertedKeyValues<T>(p, k, v, dp, blockK, maxBuffers);
    }

    /// <summary>
    /// The entry of key/value head <paramref name="hk"/> of sequence <paramref name="b"/> for one query block's task, or
    /// null when no buffer is free (the task then widens its own tiles). A task that finds none does not decide for the
    /// head: the next task of the head asks again, and an entry made then serves the head's remaining tasks. Where the
    /// budget holds few heads (D128 at 4096 keys: 4 MiB a head, two), the first tasks of a head can start while earlier
    /// heads' last tasks still hold every buffer; deciding per head sent whole heads to per-block widening (run 37).
    /// Release every non-null result once.
    /// </summary>
    /// <param name="b">The sequence.</param>
    /// <param name="hk">The key/value head.</param>
    /// <param name="tasks">The number of tasks (query heads of the group × query blocks) of this head in the call.</param>
    public Entry? Acquire(int b, int hk, int tasks)
    {
        int index = b * _p.KvHeads + hk;
        lock (_lock)
        {
            int started = _started[index]++;
            if (_entries[index] is { } existing)
                return existing;
            KeyValueBuffer storage;
            if (_free.Count > 0)
                storage = _free.Pop();
            else if (_buffers < _maxBuffers)
            {
                int reuse = _pooled.FindIndex(x => x.Floats >= _bufferFloats);
                if (reuse >= 0)
                {
                    storage = _pooled[reuse];
                    _pooled.RemoveAt(reuse);
                }
                else
                    storage = new KeyValueBuffer(_bufferFloats);
                storage.Prepare(_p.HeadDim, _dp);
                _allocated.Add(storage);
                _buffers++;
            }
            else
                return null;
            int tiles = BlockInfo.BlockCount(_p.SeqK(b), _blockK);
            var entry = new Entry { Storage = storage, Claimed = new int[tiles], Done = new int[tiles], Remaining = tasks - started };
            _entries[index] = entry;
            return entry;
        }
    }

    /// <summary>One task of the entry's head is done; the last one returns the buffers to the free list.</summary>
    public void Release(Entry entry, int b, int hk)
    {
        if (Interlocked.Decrement(ref entry.Remaining) != 0)
            return;
        lock (_lock)
        {
            _entries[b * _p.KvHeads + hk] = null;
            _free.Push(entry.Storage);
        }
    }

    /// <summary>
    /// Key tile <paramref name="kb"/> of the entry's head (keys kb·BlockK … + <paramref name="cols"/>), widened (and for
    /// cosine attention L2-normalised, as <see cref="TileLoad.Rows{T}"/> does) by the workers that need it before it is
    /// ready: each claims chunks of <see cref="Sharing.ChunkRows"/> K or V rows until none is left, then waits for the
    /// chunks others claimed. By default a chunk is the whole K or V tile (two workers at most): 16-row chunks, shared out
    /// among all the workers that arrive together, were 7–21 % slower at fp32 D64 on the 16-core Xeon (benchmarks run 29).
    /// </summary>
    public void EnsureTile(Entry entry, int b, int hk, int kb, int cols)
    {
        int chunks = 2 * ChunksPerTensor(cols);
        ref int done = ref entry.Done[kb];
        if (Volatile.Read(ref done) == chunks)
            return;
        WidenUnclaimed(entry, b, hk, kb, cols);
        var spinner = new SpinWait();
        int seen;
        while ((seen = Volatile.Read(ref done)) != chunks)
        {
            if (seen < 0)
                throw new InvalidOperationException("Another worker failed while widening a key/value tile of this call.");
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>
    /// Widens what nobody has claimed of key tile <paramref name="kb"/> yet and returns without waiting for the rest: a
    /// worker about to compute tile kb − 1 calls it for the next tile it will visit, so that the tile is ready when the
    /// workers that run in step with it get there, instead of all of them waiting while one or two widen it
    /// (<see cref="Sharing.Lookahead"/>). Call it only for a tile inside the caller's visible key range, so that
    /// tiles a causal or local mask hides from every query block stay unwidened.
    /// </summary>
    public void Prefetch(Entry entry, int b, int hk, int kb, int cols)
    {
        if (Volatile.Read(ref entry.Claimed[kb]) < 2 * ChunksPerTensor(cols))
            WidenUnclaimed(entry, b, hk, kb, cols);
    }

    private int ChunksPerTensor(int cols) => (cols + _chunkRows - 1) / _chunkRows;

    /// <summary>Claims chunks of tile <paramref name="kb"/> until none is left, widening each one claimed.</summary>
    private void WidenUnclaimed(Entry entry, int b, int hk, int kb, int cols)
    {
        int chunksPerTensor = ChunksPerTensor(cols), chunks = 2 * chunksPerTensor;
        ref int done = ref entry.Done[kb];
        ref int claimed = ref entry.Claimed[kb];
        int chunk;
        while ((chunk = Interlocked.Increment(ref claimed) - 1) < chunks)
        {
            bool keys = chunk < chunksPerTensor;
            int first = (keys ? chunk : chunk - chunksPerTensor) * _chunkRows, rows = Math.Min(_chunkRows, cols - first);
            long offset = ((long)kb * _blockK + first) * _dp;
            try
            {
                TileLoad.Rows(_p, keys ? _k : _v, b, hk, kb * _blockK + first, rows, (keys ? entry.K : entry.V) + offset, _dp, normalize: keys);
            }
            catch
            {
                Volatile.Write(ref done, Failed);
                throw;
            }
            Interlocked.Increment(ref done);
        }
    }
}

/// <summary>Float32 K and V rows of one key/value head (<see cref="ConvertedKeyValues{T}"/>), 64-byte aligned and pinned.</summary>
internal sealed unsafe class KeyValueBuffer
{
    private readonly float[] _storage;
    public readonly float* K, V;
    public readonly long Floats;

    /// <summary>The (head dim, padded head dim) of the rows last written, or (0, 0) while all zero.</summary>
    public (int HeadDim, int Dp) Layout;

    public KeyValueBuffer(long floats)
    {
        // Zeroed: the columns past the head dim stay zero (the GEMMs read Dp columns), as in the per-worker tiles.
        _storage = GC.AllocateArray<float>(checked((int)(2 * floats + 16)), pinned: true);
        float* raw = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
        K = (float*)(((nint)raw + 63) & ~(nint)63);
        V = K + floats;
        Floats = floats;
    }

    /// <summary>Readies a buffer for rows of this layout: one written with another has to be zeroed again.</summary>
    public void Prepare(int headDim, int dp)
    {
        if (Layout != (0, 0) && Layout != (headDim, dp))
            Array.Clear(_storage);
        Layout = (headDim, dp);
    }
}

/// <summary>
/// The K/V buffers of earlier forward calls, kept behind a weak reference as the backward workspace is
/// (BackwardWorkspace): fresh megabytes would be page-faulted in on every call, and the GC may take them back whenever
/// it wants. One pool for every storage type (the buffers hold float32 whatever the inputs are), so fp32, fp16 and bf16
/// calls reuse the same memory instead of each keeping their own.
/// </summary>
internal static class KeyValueBufferPool
{
    private static WeakReference<List<KeyValueBuffer>>? s_pool;

    /// <summary>The pooled buffers, now owned by the caller (empty when none or when the GC took them).</summary>
    public static List<KeyValueBuffer> Take() =>
        Interlocked.Exchange(ref s_pool, null) is { } weak && weak.TryGetTarget(out var list) ? list : [];

    /// <summary>Hands buffers back for the next call.</summary>
    public static void Give(List<KeyValueBuffer> buffers) =>
        Interlocked.Exchange(ref s_pool, new WeakReference<List<KeyValueBuffer>>(buffers));
}

/// <summary>The switch for tests that compare the shared copies with per-block widening (results must be bit-identical).</summary>
internal static class Sharing
{
    /// <summary>Whether forward calls share their widened K/V (the default).</summary>
    public static bool Enabled { get; set; } = true;

    /// <summary>
    /// Rows of K or of V one worker widens at a time: <see cref="CpuForward.BlockK"/> (the default) makes one chunk per
    /// tensor and tile. Tests and the probe's A/B set other sizes.
    /// </summary>
    public static int ChunkRows { get; set; } = CpuForward.BlockK;

    /// <summary>
    /// The most memory the shared K/V copies may take in one call: 8 MiB, and only heads whose copies take at most half
    /// of it share (the same heads as under run 37's 4 MiB budget, so the extra memory at long N is unchanged), two at a
    /// time at D128 and 4096 keys, so the next head need not wait for the previous one's last tasks. With one buffer
    /// fp16 storage there was 0.95× fp32 (heads widened per query block at the boundaries, and fp16's widening costs
    /// more than bf16's shift); with two 0.98×, with four no better (docs/benchmarks.md run 39). The probe's A/B sets others.
    /// </summary>
    public static long BudgetBytes { get; set; } = 8L << 20;

    /// <summary>Whether a worker widens the next key tile it will visit before computing the current one (<see cref="ConvertedKeyValues{T}.Prefetch"/>).</summary>
    public static bool Lookahead { get; set; } = true;
}
