using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FlashAttention.Cpu;

namespace FlashAttention.Cli;

/// <summary>
/// Standard (materialised) attention, the baseline <c>bench</c> compares the flash kernel against: what PyTorch's math
/// path does — S = scale·Q·Kᵀ for every head into one [B, H, Nq, Nk] float32 tensor allocated for the whole call,
/// a row softmax over it, then O = P·V. It is a fair baseline, not a strawman: both products use the library's own
/// register-blocked <see cref="TileGemm"/>, the softmax uses vectorised <see cref="TensorPrimitives"/>, and every phase
/// runs on all cores. What it cannot avoid is the O(N²) tensor and the memory traffic of writing and re-reading it,
/// which is exactly what FlashAttention removes. Like the math path, causal attention computes every score and masks
/// afterwards. A row that sees no key outputs zeros (the library's convention; PyTorch would give NaN).
/// S lives in native memory, allocated and freed by each call as PyTorch's CPU allocator does (malloc/free, pages
/// faulted in on first touch): in a GC array, the collection of the previous call's gigabyte would land inside the
/// next timed call, a cost the math path does not have.
/// </summary>
internal static unsafe class StandardAttention
{
    /// <summary>Bytes of the materialised score tensor S for <paramref name="shape"/> (its rows padded to whole vectors).</summary>
    /// <param name="shape">The attention shape.</param>
    public static long ScoreBytes(AttentionShape shape) =>
        ((long)shape.Batch * shape.Heads * shape.SeqLenQ + 3) * TileGemm.RoundUp(shape.SeqLenK, TileGemm.Lanes) * sizeof(float);

    /// <summary>
    /// O = softmax(scale·Q·Kᵀ [causal mask])·V with S materialised. Layouts as in <c>Attention.Forward</c>;
    /// key/value heads may be fewer than query heads (GQA/MQA). Causal is aligned bottom-right like the library.
    /// </summary>
    /// <typeparam name="T">float, Half or BFloat16 storage; arithmetic is float32.</typeparam>
    /// <param name="shape">The shape.</param>
    /// <param name="q">Queries [B, Nq, H, D].</param>
    /// <param name="k">Keys [B, Nk, Hkv, D].</param>
    /// <param name="v">Values [B, Nk, Hkv, D].</param>
    /// <param name="output">Receives the output [B, Nq, H, D].</param>
    /// <param name="causal">Whether query i sees only keys j ≤ i + Nk − Nq.</param>
    /// <param name="threads">Worker threads; -1 for every core.</param>
    /// <param name="scale">Softmax scale; null for 1/√D.</param>
    /// <returns>Bytes of native memory the call allocated (and freed): the score tensor. Managed allocations (the
    /// per-thread staging buffers) are not included; <c>GC.GetTotalAllocatedBytes</c> counts those.</returns>
    public static long Forward<T>(AttentionShape shape, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, Span<T> output,
        bool causal, int threads = -1, float? scale = null) where T : unmanaged
    {
        if (!Elements.IsSupported<T>())
            throw new NotSupportedException($"Element type {typeof(T)} is not supported; use float, Half or BFloat16.");
        if (q.Length != shape.QueryLength || output.Length != shape.QueryLength)
            throw new ArgumentException($"q and output need {shape.QueryLength} elements for {shape}.", nameof(q));
        if (k.Length != shape.KeyValueLength || v.Length != shape.KeyValueLength)
            throw new ArgumentException($"k and v need {shape.KeyValueLength} elements for {shape}.", nameof(k));
        if (shape.Heads % shape.KvHeads != 0)
            throw new ArgumentException($"Heads {shape.Heads} must be a multiple of KvHeads {shape.KvHeads}.", nameof(shape));

        int nq = shape.SeqLenQ, nk = shape.SeqLenK, d = shape.HeadDim, heads = shape.Heads;
        int units = shape.Batch * heads;
        if (units == 0 || nq == 0)
            return 0;
        int nkp = TileGemm.RoundUp(Math.Max(nk, 1), TileGemm.Lanes), dp = TileGemm.RoundUp(d, TileGemm.Lanes), nq4 = TileGemm.RoundUp(nq, 4);
        long headStride = (long)nq * nkp;
        // S for the whole call, as the math path's bmm output. Three spare rows at the end let the P·V product read
        // whole groups of four rows for the last head (the extra rows' results are discarded). Uninitialised like
        // torch.empty: every element that is read is written first.
        long scoreLength = (long)units * headStride + 3L * nkp;
        nuint scoreBytes = (nuint)scoreLength * sizeof(float);
        float* s = (float*)NativeMemory.AlignedAlloc(scoreBytes, 64);
        float sigma = scale ?? 1f / MathF.Sqrt(d);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads <= 0 ? Environment.ProcessorCount : threads };

        try
        {
            fixed (T* pq = q, pk = k, pv = v, po = output)
            {
                // Pointers cannot be captured by lambdas; carry them as integers.
                nint qAt = (nint)pq, kAt = (nint)pk, vAt = (nint)pv, oAt = (nint)po, sAt = (nint)s;

                // Phase 1: S[b, h] = (scale·Q) · Kᵀ for every head.
                Parallel.For(0, units, parallel, () => new Buffers(nq4 * dp, dp * nkp, 4 * nkp), (unit, _, buf) =>
                {
                    int b = unit / heads, h = unit % heads, hk = h / (heads / shape.KvHeads);
                    LoadRows((T*)qAt, b, h, heads, nq, d, buf.A, dp, sigma);
                    LoadTransposed((T*)kAt, b, hk, shape.KvHeads, nk, d, buf.B, nkp, buf.Tail);
                    float* sh = (float*)sAt + unit * headStride;
                    int m0 = nq & ~3;
                    if (m0 > 0)
                        TileGemm.Multiply(buf.A, dp, 1, buf.B, nkp, sh, nkp, m0, nkp, d, accumulate: false);
                    if (m0 < nq)
                    {
                        // The last one to three rows go through a four-row scratch so no row of the next head is written.
                        TileGemm.Multiply(buf.A + (long)m0 * dp, dp, 1, buf.B, nkp, buf.Tail, nkp, 4, nkp, d, accumulate: false);
                        Buffer.MemoryCopy(buf.Tail, sh + (long)m0 * nkp, (nq - m0) * (long)nkp * 4, (nq - m0) * (long)nkp * 4);
                    }
                    return buf;
                }, _ => { });

                // Phase 2: row softmax over all of S, masked entries and row padding set to 0.
                Parallel.For(0, units, parallel, unit =>
                {
                    float* sh = (float*)sAt + unit * headStride;
                    for (int i = 0; i < nq; i++)
                    {
                        var row = new Span<float>(sh + (long)i * nkp, nkp);
                        int visible = causal ? Math.Clamp(i + nk - nq + 1, 0, nk) : nk;
                        if (visible == 0)
                        {
                            row.Clear();
                            continue;
                        }
                        var live = row[..visible];
                        float max = TensorPrimitives.Max(live);
                        TensorPrimitives.Subtract(live, max, live);
                        TensorPrimitives.Exp(live, live);
                        TensorPrimitives.Multiply(live, 1f / TensorPrimitives.Sum(live), live);
                        row[visible..].Clear();
                    }
                });

                // Phase 3: O[b, :, h] = P[b, h] · V.
                Parallel.For(0, units, parallel, () => new Buffers(nkp * dp, nq4 * dp, 0), (unit, _, buf) =>
                {
                    int b = unit / heads, h = unit % heads, hk = h / (heads / shape.KvHeads);
                    LoadRows((T*)vAt, b, hk, shape.KvHeads, nk, d, buf.A, dp, 1f);
                    new Span<float>(buf.A + (long)nk * dp, (nkp - nk) * dp).Clear(); // P's padding columns are 0, but 0·NaN is not
                    float* sh = (float*)sAt + unit * headStride;
                    TileGemm.Multiply(sh, nkp, 1, buf.A, dp, buf.B, dp, nq4, dp, nkp, accumulate: false);
                    T* o = (T*)oAt;
                    for (int i = 0; i < nq; i++)
                        Elements.FromFloat(buf.B + (long)i * dp, o + (((long)b * nq + i) * heads + h) * d, d);
                    return buf;
                }, _ => { });
            }
        }
        finally
        {
            NativeMemory.AlignedFree(s);
        }
        return (long)scoreBytes;
    }

    /// <summary>Rows of one head of a [B, N, heads, D] tensor → dst[i·dp + x] as float times <paramref name="factor"/>; padding columns 0.</summary>
    private static void LoadRows<T>(T* src, int b, int h, int heads, int n, int d, float* dst, int dp, float factor) where T : unmanaged
    {
        for (int i = 0; i < n; i++)
        {
            float* row = dst + (long)i * dp;
            Elements.ToFloat(src + (((long)b * n + i) * heads + h) * d, row, d);
            if (factor != 1f)
                TensorPrimitives.Multiply(new Span<float>(row, d), factor, new Span<float>(row, d));
            new Span<float>(row + d, dp - d).Clear();
        }
        // Rows n..RoundUp(n, 4) feed discarded results only, but must not hold NaN-producing garbage either.
        int n4 = TileGemm.RoundUp(n, 4);
        new Span<float>(dst + (long)n * dp, (n4 - n) * dp).Clear();
    }

    /// <summary>Keys of one head → dst[x·ld + j] (Kᵀ, row-major), padding columns 0; <paramref name="row"/> is scratch of at least D floats.</summary>
    private static void LoadTransposed<T>(T* src, int b, int h, int heads, int n, int d, float* dst, int ld, float* row) where T : unmanaged
    {
        for (int j = 0; j < n; j++)
        {
            Elements.ToFloat(src + (((long)b * n + j) * heads + h) * d, row, d);
            for (int x = 0; x < d; x++)
                dst[(long)x * ld + j] = row[x];
        }
        for (int x = 0; x < d; x++)
            new Span<float>(dst + (long)x * ld + n, ld - n).Clear();
    }

    /// <summary>One worker's pinned float buffers (allocated once per worker per phase, never in the per-head loop).</summary>
    private sealed class Buffers
    {
        private readonly float[] _storage;
        public readonly float* A, B, Tail;

        public Buffers(long a, long b, long tail)
        {
            // 64 floats of slack per region keep every region 64-byte aligned.
            long total = a + b + Math.Max(tail, 256) + 3 * 64;
            _storage = GC.AllocateArray<float>(checked((int)total), pinned: true);
            float* raw = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
            float* p = (float*)(((nint)raw + 63) & ~(nint)63);
            A = p;
            B = A + RoundUp64(a);
            Tail = B + RoundUp64(b);
        }

        private static long RoundUp64(long n) => (n + 63) & ~63L;
    }
}
